"""Salvaging model output after re-asks: whole items survive, broken ones do not."""

import json

import jiter
import pytest
from scripted import Body, run_scripted

from pipeline import claims as claims_stage
from pipeline import denials as denials_stage
from pipeline.document import windows
from pipeline.llm import LLM, _valid_items
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


FREE_GOOD = '{"statement": "Ana Ruiz said the bridge reopens in May.", "claimant": "Ana Ruiz", "via": [], "sentences": [1], "kind": "fact", "checkworthiness": 0.5}'


def test_free_json_keeps_the_article_prefix_shared_and_puts_the_shape_in_the_task() -> None:
    # The embedded model writes the claims' JSON as text (no grammar: about 3x faster here). The
    # system message holds the article, whose processed tokens llama.cpp reuses across stages; each
    # stage's JSON shape goes at the end of its task, not into that prefix.
    bodies: list[Body] = []

    def answer(body: Body) -> str:
        bodies.append(body)
        return "```json\n" + '{"claims": [' + FREE_GOOD + "]}" + "\n```" if len(bodies) == 1 else '{"denials": []}'

    async def both(llm: LLM) -> object:
        window = windows(BRIDGE)[0]
        found = await claims_stage.extract_claims(llm, window)
        assert [c.claimant for c in found.value] == ["Ana Ruiz"]
        return await denials_stage.find_denials(llm, window, found.value)

    run_scripted(answer, both, json_as_text=True)
    claims_body, denials_body = bodies
    assert not claims_body.get("tools") and not claims_body.get("response_format")
    assert '{"claims": [{"statement": "...", "claimant": "...", "via": ["..."], "sentences": [1]' in claims_body["messages"][-1]["content"]  # type: ignore[index]
    # Denials stay a tool call under the grammar (ids restricted to the claims'; the 1.5B looped without it).
    assert denials_body["tools"][0]["function"]["name"] == "DenialsResponse"  # type: ignore[index]
    # instructor appends its JSON instruction after the article: the tokens up to the article's
    # end are the same in both requests, which is what llama.cpp's prefix cache reuses.
    shared = denials_body["messages"][0]["content"]  # type: ignore[index]
    assert shared.endswith(BRIDGE) and claims_body["messages"][0]["content"].startswith(shared)  # type: ignore[index]


def test_free_json_that_breaks_the_schema_is_reasked_and_a_broken_last_answer_salvaged() -> None:
    answers = ['{"claims": [{"statement": "no sentences"}]}', '```json\n{"claims": [' + FREE_GOOD + "]}\n```"]
    outcome = run_scripted(lambda body: answers.pop(0), lambda llm: claims_stage.extract_claims(llm, windows(BRIDGE)[0]), json_as_text=True)
    assert outcome.usage.calls == 2 and [c.claimant for c in outcome.value] == ["Ana Ruiz"]

    # Cut off at max_tokens both times: no closing fence, the last item half written.
    cut = '```json\n{"claims": [' + FREE_GOOD + ', {"statement": "The br'
    salvaged = run_scripted(lambda body: cut, lambda llm: claims_stage.extract_claims(llm, windows(BRIDGE)[0]), json_as_text=True)
    assert [c.claimant for c in salvaged.value] == ["Ana Ruiz"]
    assert any("still invalid" in w for w in salvaged.warnings)


@pytest.mark.parametrize("json_as_text", [False, True])
def test_an_answer_cut_off_at_max_tokens_keeps_its_complete_items(json_as_text: bool) -> None:
    # A small model that loops (listing every sentence as a claim) reaches max_tokens; instructor
    # raises IncompleteOutputException, which failed the whole article before.
    requests: list[Body] = []

    def answer(body: Body) -> str:
        requests.append(body)
        return ("```json\n" if json_as_text else "") + '{"claims": [' + FREE_GOOD + ", " + FREE_GOOD[:50]

    outcome = run_scripted(
        answer, lambda llm: claims_stage.extract_claims(llm, windows(BRIDGE)[0], max_claims=3), json_as_text=json_as_text, cut_off=True
    )
    assert [c.claimant for c in outcome.value] == ["Ana Ruiz"]
    assert outcome.warnings == ["claims: answer cut off at 600 tokens; its complete items kept"]
    assert [b["max_tokens"] for b in requests] == [600]  # the claims stage's cap: 160 a claim + 120
