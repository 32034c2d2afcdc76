"""One lettered multiple-choice question to the model, answered by one token and its probability.

A small model rewrites badly, but it can pick among options that code found; the probability its
next-token distribution gives each option's letter (renormalised over the letters) says how sure it
is, so its choice can be taken only above a threshold fitted on labelled questions (``decide``).

Small models lean towards the first letters. The options are asked in two orders, the second the
reverse of the first, and each option's probability is the mean of its two: a letter bias then
falls on different options in each order and no longer passes for a choice (docs/model-questions.md
measures this against one order).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # types only: the openai SDK loads for code that calls a model
    import openai

LETTERS = "ABCDEFGHIJ"
CHOICE_LOGPROBS = 20  # alternatives asked for at the answer's one token: room for every letter and the usual openers
SYSTEM = "You answer multiple-choice questions about a news article with the letter of one option only."

T = TypeVar("T")


@dataclass(frozen=True)
class Question:
    context: str  # the article's words the question is about (a few sentences)
    question: str
    options: Sequence[str]

    def __post_init__(self) -> None:
        if not 2 <= len(self.options) <= len(LETTERS):
            raise ValueError(f"a question needs 2 to {len(LETTERS)} options, got {len(self.options)}")


@dataclass(frozen=True)
class Choice:
    index: int  # into Question.options
    probability: float  # the chosen option's share of the letters' probability mass
    probabilities: tuple[float, ...]  # every option's share, in Question.options' order


def orders(question: Question, seed: str) -> list[list[int]]:
    """The two orders the options are asked in: a shuffle fixed by ``seed`` (so that the position
    of code's own answer tells the model nothing, and a rerun asks the same prompt), and its reverse."""
    first = list(range(len(question.options)))
    random.Random(seed).shuffle(first)
    return [first, first[::-1]]


def messages(question: Question, order: Sequence[int]) -> list[dict[str, str]]:
    lettered = "\n".join(f"{LETTERS[k]}. {question.options[i]}" for k, i in enumerate(order))
    letters = ", ".join(LETTERS[: len(order)])
    user = (
        f"Article:\n{question.context}\n\nQuestion: {question.question}\n{lettered}\n\n"
        f"Answer with one letter ({letters})."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def letter_shares(top_logprobs: Mapping[str, float], count: int) -> list[float] | None:
    """Each of the first ``count`` letters' share of the letters' probability, from one token's
    alternatives (token -> logprob; " B" and "B" are the same letter). None when no letter is among them."""
    mass = [0.0] * count
    for token, logprob in top_logprobs.items():
        letter = token.strip().rstrip(".)")  # not upper(): a lower-case "a" is the article
        if len(letter) == 1 and letter in LETTERS[:count]:
            mass[LETTERS.index(letter)] += math.exp(logprob)
    total = sum(mass)
    return [m / total for m in mass] if total > 0 else None


def combine(shares_by_order: Sequence[tuple[Sequence[int], Sequence[float] | None]], count: int) -> Choice | None:
    """The mean, over the orders the model answered, of each option's share; None if it answered none."""
    answered = [(order, shares) for order, shares in shares_by_order if shares is not None]
    if not answered:
        return None
    probabilities = [0.0] * count
    for order, shares in answered:
        for k, option in enumerate(order):
            probabilities[option] += shares[k] / len(answered)
    best = max(range(count), key=lambda i: probabilities[i])
    return Choice(best, probabilities[best], tuple(probabilities))


async def ask_choice(client: openai.AsyncOpenAI, model: str, question: Question, *, seed: str = "") -> Choice | None:
    """Ask ``question`` in both orders (one token each) and combine the letters' probabilities."""
    answers = []
    for order in orders(question, seed or question.question + question.context):
        completion = await client.chat.completions.create(
            model=model, messages=messages(question, order), max_tokens=1, temperature=0.0,  # type: ignore[arg-type]
            logprobs=True, top_logprobs=CHOICE_LOGPROBS,
        )  # fmt: skip
        answers.append((order, letter_shares(first_token_alternatives(completion), len(order))))
    return combine(answers, len(question.options))


def first_token_alternatives(completion: openai.types.chat.ChatCompletion) -> dict[str, float]:
    choice = completion.choices[0] if completion.choices else None
    content = choice.logprobs.content if choice is not None and choice.logprobs is not None else None
    if not content:
        return {}
    token = content[0]
    alternatives = {a.token: a.logprob for a in token.top_logprobs}
    alternatives.setdefault(token.token, token.logprob)
    return alternatives


def decide(model_choice: Choice | None, code_answer: T, threshold: float, options: Sequence[T]) -> T:
    """The model's option when it is at least ``threshold`` sure (the kind's threshold, fitted on
    labelled questions in docs/model-questions.md); otherwise code's answer stands."""
    if model_choice is not None and model_choice.probability >= threshold:
        return options[model_choice.index]
    return code_answer
