"""Salvaging model output after re-asks: whole items survive, broken ones do not."""

import json

import jiter
import pytest
from scripted import Body, run_scripted

from pipeline import claims as claims_stage
from pipeline.document import windows
from pipeline.llm import _valid_items
from pipeline.testing.fake_openai import tool_arguments
from schemas import ClaimsResponse

BRIDGE = "Mayor Ana Ruiz said the bridge reopens in May."
GOOD = '{"statement": "A", "claimant": "B", "via": [], "cue": "said", "sentences": [2], "kind": "fact", "checkworthiness": 0.5}'


def test_output_cut_off_mid_item_keeps_the_complete_items() -> None:
    raw = '{"claims": [' + GOOD + ', {"statement": "C", "claimant": "D", "cue": "sa'
    kept = _valid_items(ClaimsResponse, jiter.from_json(raw.encode(), partial_mode="trailing-strings"))
    assert [c.statement for c in kept.claims] == ["A"]


@pytest.mark.parametrize("raw", ['{}', '{"claims": [{"statement": "only"}]}', '[]'])
def test_nothing_valid_is_an_error_not_an_empty_answer(raw: str) -> None:
    with pytest.raises(ValueError):
        _valid_items(ClaimsResponse, jiter.from_json(raw.encode()))


def test_a_reask_counts_as_a_second_call() -> None:
    # The server's first answer breaks the schema; instructor re-asks, and the stage's usage
    # must show both calls, not the one that finally validated.
    answers = ['{"claims": [{"statement": "no sentences"}]}', None]

    def answer(body: Body) -> str:
        return answers.pop(0) or json.dumps(tool_arguments(body))

    outcome = run_scripted(answer, lambda llm: claims_stage.extract_claims(llm, windows(BRIDGE)[0]))
    assert answers == []
    assert outcome.usage.calls == 2


def test_article_text_with_template_syntax_reaches_the_model_verbatim() -> None:
    # instructor renders messages as Jinja templates; an article is data and must arrive unchanged.
    text = "The post read {{ user.name }} and {% if admin %}grant access{% endif %}, the council said. {# note #}"
    sent: list[str] = []

    def answer(body: Body) -> str:
        sent.append(body["messages"][0]["content"])  # type: ignore[index]
        return json.dumps(tool_arguments(body))

    window = windows(text)[0]
    run_scripted(answer, lambda llm: claims_stage.extract_claims(llm, window))
    assert sent and sent[0] == window.system_message
    assert "{{ user.name }}" in sent[0] and "{% if admin %}" in sent[0] and "{# note #}" in sent[0]


def test_output_still_invalid_after_reasks_is_salvaged_with_a_warning_naming_the_fault() -> None:
    # Every answer holds one good claim and one without its sentences: the good one is kept,
    # and the desk's warning says what was wrong, not instructor's XML dump of the attempts.
    broken = '{"claims": [' + GOOD.replace('"sentences": [2]', '"sentences": [1]') + ', {"statement": "no sentences"}]}'
    requests: list[Body] = []

    def answer(body: Body) -> str:
        requests.append(body)
        return broken

    outcome = run_scripted(answer, lambda llm: claims_stage.extract_claims(llm, windows(BRIDGE)[0]))
    assert len(requests) == 2
    assert [claim.statement for claim in outcome.value] == ["A"]
    [warning] = [w for w in outcome.warnings if "still invalid" in w]
    assert "<failed_attempts>" not in warning
    assert "claims.1." in warning and "Field required" in warning
