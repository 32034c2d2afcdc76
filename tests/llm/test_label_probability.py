"""Verdict confidence from token probabilities: the label's share among the labels allowed."""

import math

import pytest
from openai.types.chat import ChatCompletionTokenLogprob
from openai.types.chat.chat_completion_token_logprob import TopLogprob

from pipeline.llm._label_probability import label_probabilities

ALL = ["disputed", "refuted", "supported", "unverified"]


def _token(text: str, alternatives: dict[str, float] | None = None) -> ChatCompletionTokenLogprob:
    top = alternatives or {text: 0.0}
    return ChatCompletionTokenLogprob(
        token=text, logprob=top.get(text, 0.0), bytes=None,
        top_logprobs=[TopLogprob(token=t, logprob=lp, bytes=None) for t, lp in top.items()],
    )


def _answer(*parts: ChatCompletionTokenLogprob | str) -> list[ChatCompletionTokenLogprob]:
    return [p if isinstance(p, ChatCompletionTokenLogprob) else _token(p) for p in parts]


# The shape llama.cpp's server returned for a real tool call (log-probabilities as given).
LABEL_TOKEN = _token("ref", {"ref": -0.762, "dis": -1.0, "supported": -2.67, "un": -2.69, "unsupported": -3.98})


def test_probability_of_the_chosen_label_among_all_labels() -> None:
    tokens = _answer(
        '{"', "c1", '":', ' {"', "rationale", '":', ' "', "No", '.",', ' "', "verdict", '":', ' "', LABEL_TOKEN, "uted",
        '"}}',
    )
    [p] = label_probabilities(tokens, ["refuted"], [ALL])
    masses = [math.exp(x) for x in (-0.762, -1.0, -2.67, -2.69)]  # "unsupported" is no label
    assert p == pytest.approx(masses[0] / sum(masses))


def test_only_the_labels_the_claim_could_take_share_the_probability() -> None:
    tokens = _answer('{"verdict": "', LABEL_TOKEN, 'uted"}')
    [p] = label_probabilities(tokens, ["refuted"], [["unverified", "supported", "refuted"]])
    masses = [math.exp(x) for x in (-0.762, -2.67, -2.69)]
    assert p == pytest.approx(masses[0] / sum(masses))


def test_each_verdict_in_order_and_a_token_that_also_holds_the_quote() -> None:
    quoted = _token(' "dis', {' "dis': -0.1, ' "ref': -2.5, ' "un': -4.0})
    tokens = _answer('{"c1": {"verdict": "', LABEL_TOKEN, 'uted"}, "c2": {"verdict":', quoted, 'puted"}}')
    first, second = label_probabilities(tokens, ["refuted", "disputed"], [ALL, ["disputed", "refuted", "supported"]])
    assert first is not None and second is not None
    assert second == pytest.approx(math.exp(-0.1) / (math.exp(-0.1) + math.exp(-2.5)))


def test_unknown_when_the_server_gives_no_probabilities_or_the_tokens_disagree() -> None:
    assert label_probabilities([], ["refuted"], [ALL]) == [None]
    tokens = _answer('{"verdict": "', LABEL_TOKEN, 'uted"}')
    assert label_probabilities(tokens, ["disputed"], [ALL]) == [None]  # the text says refuted
    lone = _token("ref", {"ref": -0.5})
    assert label_probabilities(_answer('{"verdict": "', lone, 'uted"}'), ["refuted"], [ALL]) == [pytest.approx(1.0)]


def test_a_label_the_schema_imposed_has_no_probability() -> None:
    tokens = _answer('{"verdict": "', _token("dis", {"dis": -0.2, "ref": -1.0}), 'puted"}')
    assert label_probabilities(tokens, ["disputed"], [["disputed"]]) == [None]
