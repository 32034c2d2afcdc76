"""Salvaging model output after re-asks: whole items survive, broken ones do not."""

import json

import jiter
import pytest
from pydantic import BaseModel, Field
from scripted import Body, run_scripted

from pipeline.llm.client import LLM, _valid_items
from pipeline.stages import claims as claims_stage
from pipeline.stages import denials as denials_stage
from pipeline.stages._stage import messages
from pipeline.testing.fake_openai import tool_arguments
from pipeline.text.document import windows
from schemas import Claim

BRIDGE = "Mayor Ana Ruiz said the bridge reopens in May."


class Item(BaseModel):
    """A list-shaped answer's item, as the client salvages them (denials are one such list)."""

    statement: str
    claimant: str
    via: list[str] = Field(default_factory=list)
    sentences: list[int] = Field(min_length=1)
    kind: str
    checkworthiness: float | None = None


class ClaimsResponse(BaseModel):
    claims: list[Item]


def _ask(llm: LLM, max_tokens: int | None = None):  # type: ignore[no-untyped-def]
    window = windows(BRIDGE)[0]
    return llm.ask(
        "claims", messages(window, "List the claims."), ClaimsResponse, window.context(), max_tokens=max_tokens
    )
GOOD = (
    '{"statement": "A", "claimant": "B", "via": [], "cue": "said", "sentences": [2], "kind": "fact", '
    '"checkworthiness": 0.5}'
)


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
    answers = ['{"statements": {"c1": "no drop, no disputes"}}', None]

    def answer(body: Body) -> str:
        return answers.pop(0) or json.dumps(tool_arguments(body))

    outcome = run_scripted(answer, lambda llm: claims_stage.write_claims(llm, windows(BRIDGE)[0]))
    assert answers == []
    assert outcome.usage.calls == 2


def test_article_text_with_template_syntax_reaches_the_model_verbatim() -> None:
    # instructor renders messages as Jinja templates; an article is data and must arrive unchanged.
    text = "The post read {{ user.name }} and {% if admin %}grant access{% endif %}, the council said. {# note #}"
    sent: list[str] = []

    def answer(body: Body) -> str:
        sent.append(body["messages"][-1]["content"])  # type: ignore[index]
        return json.dumps(tool_arguments(body))

    window = windows(text)[0]
    run_scripted(answer, lambda llm: claims_stage.write_claims(llm, window))
    assert sent and "The post read {{ user.name }} and {% if admin %}grant access{% endif %}" in sent[0]


def test_output_still_invalid_after_reasks_is_salvaged_with_a_warning_naming_the_fault() -> None:
    # Every answer holds one good claim and one without its sentences: the good one is kept,
    # and the desk's warning says what was wrong, not instructor's XML dump of the attempts.
    broken = '{"claims": [' + GOOD.replace('"sentences": [2]', '"sentences": [1]') + ', {"statement": "no sentences"}]}'
    requests: list[Body] = []

    def answer(body: Body) -> str:
        requests.append(body)
        return broken

    outcome = run_scripted(answer, _ask)
    assert len(requests) == 2
    assert [claim.statement for claim in outcome.value.claims] == ["A"]
    [warning] = [w for w in outcome.warnings if "still invalid" in w]
    assert "<failed_attempts>" not in warning
    assert "claims.1." in warning and "Field required" in warning


FREE_GOOD = (
    '{"statement": "Ana Ruiz said the bridge reopens in May.", "claimant": "Ana Ruiz", "via": [], "sentences": [1], '
    '"kind": "fact", "checkworthiness": 0.5}'
)


@pytest.mark.parametrize("json_as_text", [True, False])
def test_checks_denials_call_keeps_the_grammar_without_the_tool_schema_in_the_prompt(json_as_text: bool) -> None:
    # check's one call: the same grammar from the schema, given as response_format, so llama.cpp's
    # chat template writes no tool schema into the prompt (1,448 -> 1,142 tokens on the seed).
    # A hosted API (JSON not as text) still gets a tool call.
    bodies: list[Body] = []
    quote = "Ana Ruiz said the bridge reopens in May."
    answer = {
        "denials": [
            {
                "speaker": "Ana Ruiz", "disputes": "x", "kind": "non_denial", "claim_ids": [], "sentence": [1],
                "quote": quote,
            }
        ]
    }

    def reply(body: Body) -> str:
        bodies.append(body)
        return json.dumps(answer)

    claim = Claim(
        id="c1", statement="The bridge reopens in May.", claimant="Ana Ruiz", cue="said", kind="fact",
        checkworthiness=0.5,
        spans=[windows(BRIDGE)[0].span(1)],
    )
    found = run_scripted(
        reply, lambda llm: denials_stage.find_denials(llm, windows(BRIDGE)[0], [claim], grammar="schema"),
        json_as_text=json_as_text,
    )
    [body] = bodies
    assert [d.speaker for d in found.value] == ["Ana Ruiz"]
    if not json_as_text:
        assert body["tools"][0]["function"]["name"] == "DenialsResponse" and "response_format" not in body  # type: ignore[index]
        return
    # OpenAI's json_schema form, which llama.cpp's server turns into its grammar
    assert not body.get("tools") and body["response_format"]["type"] == "json_schema"  # type: ignore[index]
    schema = body["response_format"]["json_schema"]["schema"]  # type: ignore[index]
    assert schema["$defs"]["DenialDraft"]["properties"]["claim_ids"]["items"] == {"const": "c1", "type": "string"}  # type: ignore[index]
    assert '"sentence": [1], "quote": "..."}]}' in body["messages"][-1]["content"]  # type: ignore[index]


def test_free_json_that_breaks_the_schema_is_reasked_and_a_broken_last_answer_salvaged() -> None:
    answers = ['{"claims": [{"statement": "no sentences"}]}', '```json\n{"claims": [' + FREE_GOOD + "]}\n```"]
    outcome = run_scripted(lambda body: answers.pop(0), _ask, json_as_text=True)
    assert outcome.usage.calls == 2 and [c.claimant for c in outcome.value.claims] == ["Ana Ruiz"]

    # Cut off at max_tokens both times: no closing fence, the last item half written.
    cut = '```json\n{"claims": [' + FREE_GOOD + ', {"statement": "The br'
    salvaged = run_scripted(lambda body: cut, _ask, json_as_text=True)
    assert [c.claimant for c in salvaged.value.claims] == ["Ana Ruiz"]
    assert any("still invalid" in w for w in salvaged.warnings)


@pytest.mark.parametrize("json_as_text", [False, True])
def test_an_answer_cut_off_at_max_tokens_keeps_its_complete_items(json_as_text: bool) -> None:
    # A small model that loops (listing every sentence as a claim) reaches max_tokens; instructor
    # raises IncompleteOutputException, which failed the whole article before.
    requests: list[Body] = []

    def answer(body: Body) -> str:
        requests.append(body)
        return ("```json\n" if json_as_text else "") + '{"claims": [' + FREE_GOOD + ", " + FREE_GOOD[:50]

    outcome = run_scripted(answer, lambda llm: _ask(llm, max_tokens=600), json_as_text=json_as_text, cut_off=True)
    assert [c.claimant for c in outcome.value.claims] == ["Ana Ruiz"]
    assert outcome.warnings == ["claims: answer cut off at 600 tokens; its complete items kept"]
    assert [b["max_tokens"] for b in requests] == [600]


def test_a_free_json_request_is_billed_to_the_stage_that_asked() -> None:
    # Free JSON names no tool in the request, which the meter used to bill by: the embedded
    # model's claims calls went to "other" in usage.jsonl and run.json.
    import asyncio

    import httpx2
    import openai

    from pipeline.llm.costs import MeteringTransport, Tally, current_tally
    from pipeline.testing.fake_openai import completion

    answer = "```json\n" + '{"claims": [' + FREE_GOOD + "]}" + "\n```"
    transport = MeteringTransport(
        httpx2.MockTransport(lambda r: httpx2.Response(200, json=completion(json.loads(r.content), answer))), None, {}
    )
    llm = LLM(backend="openai", base_url="http://model.test/v1", api_key="test", model="fake", json_as_text=True,
              http_client=openai.DefaultAsyncHttpxClient(transport=transport))  # fmt: skip
    tally = Tally()

    async def go() -> None:
        token = current_tally.set(tally)
        try:
            await _ask(llm)
        finally:
            current_tally.reset(token)
            await llm.close()

    asyncio.run(go())
    assert list(tally.stages) == ["claims"] and tally.stages["claims"].calls == 1
