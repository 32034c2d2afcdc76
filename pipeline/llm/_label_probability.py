"""How sure the model was of each verdict label, read from the answer's token probabilities.

A small model writes confidence 1 for nearly everything; the probability its own next-token
distribution gave the chosen label, among the labels the claim could take, says much more.
The labels' first tokens differ ("dis", "ref", "supported", "un"), so the token where a label
begins carries the whole choice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the openai SDK loads for code that calls a model
    from openai.types.chat import ChatCompletionTokenLogprob


LABEL_LOGPROBS = 8  # alternatives per token asked for: enough to hold every verdict label at the label's first token
_VERDICT_VALUE = re.compile(r'(?<!\\)"verdict"\s*:\s*"')


def label_probabilities(
    tokens: Sequence[ChatCompletionTokenLogprob], chosen: Sequence[str], allowed: Sequence[Sequence[str]]
) -> list[float | None]:
    """For the k-th ``"verdict"`` value in the answer: the probability of ``chosen[k]`` among
    ``allowed[k]``. None where the tokens do not show it (no logprobs, or the label's first
    token is not among the alternatives the server returned)."""
    found: list[float | None] = [None] * len(chosen)
    if not tokens:
        return found
    text = "".join(t.token for t in tokens)
    starts = [0]
    for t in tokens:
        starts.append(starts[-1] + len(t.token))
    for k, match in enumerate(_VERDICT_VALUE.finditer(text)):
        if k >= len(chosen):
            break
        if len(allowed[k]) < 2:
            continue  # a label the schema imposed says nothing about the model's certainty
        value_start = match.end()
        if text[value_start : value_start + len(chosen[k])] != chosen[k]:
            continue  # the tokens do not spell the parsed answer: do not guess
        i = max(j for j in range(len(tokens)) if starts[j] <= value_start)
        already = text[starts[i] : value_start]  # e.g. a token that holds the opening quote too
        mass = _label_mass(tokens[i], already, allowed[k])
        total = sum(mass.values())
        if total > 0 and mass[chosen[k]] > 0:
            found[k] = mass[chosen[k]] / total
    return found


def _label_mass(token: ChatCompletionTokenLogprob, already: str, labels: Sequence[str]) -> dict[str, float]:
    mass = dict.fromkeys(labels, 0.0)
    alternatives = {a.token: a.logprob for a in token.top_logprobs}
    alternatives.setdefault(token.token, token.logprob)
    for alternative, logprob in alternatives.items():
        if not alternative.startswith(already) or len(alternative) == len(already):
            continue
        rest = alternative[len(already) :]
        matching = [label for label in labels if label.startswith(rest) or rest.startswith(label)]
        for label in matching:  # a token that begins several labels is shared between them
            mass[label] += math.exp(logprob) / len(matching)
    return mass
