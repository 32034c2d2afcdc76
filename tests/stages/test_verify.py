"""Verification: what the model is sent, and what code does with its answer."""

import asyncio
import json
import math
import re

import httpx2
import openai
import pytest
from scripted import run_scripted
from recording import SEED as SEED_FILE

from pipeline.llm.client import LLM
from pipeline.stages import verify as verify_stage
from pipeline.stages.verify import _finished
from pipeline.testing.fake_openai import completion
from pipeline.text.document import windows
from schemas import ArticleResult, Claim, ClaimKind, Denial, DenialKind
from schemas.verdicts import RATIONALE_CHARS

SEED = SEED_FILE.read_text(encoding="utf-8")
CLAIMED = "Technology mogul Elon Musk allegedly spoke to Russian President Vladimir Putin"
DENIAL = "I have spoken to Putin only once and that was about 18 months ago."
OTHER = "Putin has resolved to absorb the self-declared independent republics"


def _span(text: str) -> dict[str, object]:
    start = SEED.index(text)
    return {"start": start, "end": start + len(text), "text": text}


def _claim(claim_id: str, sentence: str) -> Claim:
    return Claim(id=claim_id, statement=sentence, claimant="Bremmer", cue="said", kind=ClaimKind.fact,
                 checkworthiness=0.8, spans=[_span(sentence)])  # type: ignore[list-item]


def test_each_verdict_class_is_defined_once_in_the_tool_schema_and_denied_claims_are_disputed() -> None:
    sent: list[dict[str, object]] = []
    answer = {
        "c1": {"rationale": "Bremmer asserts it; Musk denies it.", "verdict": "disputed", "confidence": 0.7},
        **{f"c{i}": {"rationale": "Only reported.", "verdict": "unverified", "confidence": 0.6} for i in (2, 3, 4)},
    }

    def answer_with(body: dict[str, object]) -> str:
        sent.append(body)
        return json.dumps(answer)

    claims = [_claim("c1", CLAIMED), *(_claim(f"c{i}", OTHER) for i in (2, 3, 4))]
    denial = Denial(id="d1", speaker="Musk", disputes="the call", kind=DenialKind.explicit_denial,
                    claim_ids=["c1"], spans=[_span(DENIAL)])  # type: ignore[list-item]

    verdicts = run_scripted(
        answer_with, lambda llm: verify_stage.verify_claims(llm, windows(SEED)[0], claims, [denial])
    ).value
    [body] = sent
    schema = body["tools"][0]["function"]["parameters"]  # type: ignore[index]
    # Four claims, two kinds of verdict: the schema the model reads every call stays short.
    assert sorted(schema["$defs"]) == ["DeniedClaimVerdict", "UndeniedClaimVerdict"]
    assert schema["$defs"]["DeniedClaimVerdict"]["properties"]["verdict"]["const"] == "disputed"
    assert schema["properties"]["c1"] == {"$ref": "#/$defs/DeniedClaimVerdict"}
    assert schema["properties"]["c4"] == {"$ref": "#/$defs/UndeniedClaimVerdict"}
    assert [v.verdict for v in verdicts] == ["disputed", "unverified", "unverified", "unverified"]
    assert [s.text for s in verdicts[0].contradicting] == [DENIAL] and verdicts[1].contradicting == []


def test_a_rationale_cut_by_the_length_cap_ends_at_a_whole_sentence_or_word() -> None:
    # What the 1.5B wrote on the seed, cut at 200 characters by the schema's maxLength.
    cut = ("The Eurasia Group's Ian Bremmer, who is an expert on Russia-Ukraine relations, is quoted as saying "
           "Elon Musk spoke to Putin around two weeks ago regarding a negotiated end to the war. Elon Musk denied")
    assert len(cut) == RATIONALE_CHARS
    assert _finished(cut) == cut[: cut.index(" Elon Musk denied")]
    no_stop = "Bremmer says the meeting happened " * 10
    kept = _finished(no_stop[:RATIONALE_CHARS])
    assert kept.endswith("…") and no_stop.startswith(kept[:-1]) and no_stop[len(kept) - 1] == " "  # whole words only
    assert _finished("Musk denies it.") == "Musk denies it."


def test_a_label_probability_confidence_is_that_probability_and_the_stated_one_is_kept_apart() -> None:
    prefix = '{"c2": {"rationale": "The filing says otherwise.", "verdict": "'
    label = {"token": "ref", "logprob": -0.5, "bytes": None, "top_logprobs": [
        {"token": t, "logprob": lp, "bytes": None} for t, lp in (("ref", -0.5), ("un", -1.5), ("supported", -2.0))]}
    rest = 'uted", "confidence": 0.9}}'

    def server(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        assert body.get("logprobs") is True  # asked for, since this LLM wants label probabilities
        answer = completion(body, prefix + "ref" + rest)  # the tokens spell the arguments exactly
        answer["choices"][0]["logprobs"] = {"content": [  # type: ignore[index]
            {"token": prefix, "logprob": 0.0, "bytes": None, "top_logprobs": []}, label,
            {"token": rest, "logprob": 0.0, "bytes": None, "top_logprobs": []}]}
        return httpx2.Response(200, json=answer)

    llm = LLM(backend="openai", base_url="http://model.test/v1", api_key="test", model="fake", top_logprobs=8,
              http_client=openai.DefaultAsyncHttpxClient(transport=httpx2.MockTransport(server)))

    async def go() -> list[object]:
        try:
            return (await verify_stage.verify_claims(llm, windows(SEED)[0], [_claim("c2", OTHER)], [])).value
        finally:
            await llm.close()

    [verdict] = asyncio.run(go())
    masses = [math.exp(x) for x in (-0.5, -1.5, -2.0)]
    assert verdict.verdict == "refuted"
    assert verdict.confidence_basis == "label_probability"
    assert verdict.confidence == pytest.approx(round(masses[0] / sum(masses), 3))
    assert verdict.stated_confidence == 0.9 and verdict.confidence != 0.9


def test_the_model_reads_each_claim_and_denial_with_the_sentences_that_state_them() -> None:
    sent: list[dict[str, object]] = []

    def answer_with(body: dict[str, object]) -> str:
        sent.append(body)
        return json.dumps({"c1": {"rationale": "Musk denies it.", "verdict": "disputed", "confidence": 0.7},
                           "c2": {"rationale": "Only reported.", "verdict": "unverified", "confidence": 0.6}})

    two_sentences = _claim("c1", CLAIMED).model_copy(
        update={"spans": [*_claim("c1", CLAIMED).spans, *_claim("c1", "Bremmer claimed Musk told him").spans]})
    denial = Denial(id="d1", speaker="Musk", disputes="the call", kind=DenialKind.explicit_denial,
                    claim_ids=["c1"], spans=[_span(DENIAL)])  # type: ignore[list-item]
    run_scripted(answer_with, lambda llm: verify_stage.verify_claims(
        llm, windows(SEED)[0], [two_sentences, _claim("c2", OTHER)], [denial]))
    [body] = sent
    system, task = (str(m["content"]) for m in body["messages"])  # type: ignore[attr-defined]
    # The numbers as the model reads them in the numbered article of the system message.
    number = {text: int(n) for n, text in re.findall(r"^\[(\d+)\] (.*)$", system, re.MULTILINE)}

    def sentence_of(words: str) -> int:
        [found] = [n for text, n in number.items() if words in text]
        return found

    claimed, bremmer, other, denied = (
        sentence_of(w) for w in (CLAIMED, "Bremmer claimed Musk told him", OTHER, DENIAL)
    )
    assert claimed + 1 == bremmer  # two neighbouring sentences, both listed, and no other
    assert f"asserted by: Bremmer, sentence {claimed}, {bremmer}\n" in task
    assert f'   denied by: Musk (explicit_denial), sentence {denied}: "{DENIAL}"\n' in task
    assert f"asserted by: Bremmer, sentence {other}\n   denied by: nobody\n" in task


def _cut_with_a_stop_at(index: int) -> str:
    """A rationale the cap cut off mid-word, whose last sentence ends at ``index``."""
    head = ("Bremmer says Musk spoke to Putin " * 10)[:index].rstrip().ljust(index, "s")
    return (head + ". Musk denies it and the article quotes " + "nothing more " * 20)[:RATIONALE_CHARS]


@pytest.mark.parametrize("index", [RATIONALE_CHARS // 2, RATIONALE_CHARS // 2 + 1, RATIONALE_CHARS - 30])
def test_a_cut_rationale_ends_at_its_last_sentence_when_that_is_in_the_second_half(index: int) -> None:
    cut = _cut_with_a_stop_at(index)
    assert cut.rfind(". ") == index and len(cut) == RATIONALE_CHARS
    assert _finished(cut) == cut[: index + 1]


def test_a_cut_rationale_whose_last_sentence_ends_in_the_first_half_ends_at_its_last_word() -> None:
    cut = _cut_with_a_stop_at(RATIONALE_CHARS // 2 - 1).strip()
    assert cut.rfind(". ") == RATIONALE_CHARS // 2 - 1
    assert _finished(cut) == cut[: cut.rindex(" ")] + "…"  # only the last, partly cut word goes


def test_a_rationale_shorter_than_the_cap_is_whole_even_without_a_full_stop() -> None:
    words = "Bremmer asserts it and nobody in the article denies it " * 5
    short = words[: RATIONALE_CHARS - 2].rstrip().ljust(RATIONALE_CHARS - 2, "s")
    assert _finished(short) == short
    # One character short of the cap: a cut whose trailing space was stripped, so it was cut.
    at_cap = words[: RATIONALE_CHARS - 1].rstrip().ljust(RATIONALE_CHARS - 1, "s")
    assert _finished(at_cap) == at_cap[: at_cap.rindex(" ")] + "…"


def test_verify_stays_under_the_grammar_when_the_llm_writes_json_as_text() -> None:
    # The embedded model writes JSON as text; verify keeps the grammar (response_format's JSON schema,
    # which llama.cpp's server applies: it made no tool call), holding the answer to the listed claim
    # ids and the labels their schema allows.
    sent: list[dict[str, object]] = []

    def answer_with(body: dict[str, object]) -> str:
        sent.append(body)
        return json.dumps({"c2": {"rationale": "Only reported.", "verdict": "unverified", "confidence": 0.6}})

    [verdict] = run_scripted(
        answer_with, lambda llm: verify_stage.verify_claims(llm, windows(SEED)[0], [_claim("c2", OTHER)], []),
        json_as_text=True,
    ).value
    [body] = sent
    assert "tools" not in body
    assert body["response_format"]["type"] == "json_schema"  # type: ignore[index]
    assert body["response_format"]["json_schema"]["name"] == "VerdictsResponse"  # type: ignore[index]
    assert verdict.verdict == "unverified"


def test_an_unusable_verify_answer_leaves_the_stance_models_verdicts_not_a_failed_article() -> None:
    """--verifier llm: an answer nothing survives of (here, tool arguments that break the schema on
    every attempt; on the embedded 1.5B, an answer cut at max_tokens) failed the whole article. Now
    every claim has a verdict, the stance model's, and a warning says so."""
    from pipeline.stages.analyze import analyze
    from pipeline.stages.options import AnalysisOptions
    from pipeline.testing.fake_openai import FakeOpenAI, Faults
    from pipeline.text.ingest import make_article
    from schemas.verdicts import ConfidenceBasis

    faults = Faults(by_target={"VerdictsResponse": "bad_tool_call"}, max_faults_per_request=10)
    with FakeOpenAI(faults=faults) as fake:

        async def go() -> ArticleResult:
            llm = LLM(
                backend="openai", base_url=fake.base_url, api_key="test", model="fake", timeout=10, max_attempts=2
            )
            try:
                return await analyze(llm, make_article(SEED, "seed"), AnalysisOptions(verifier="llm"))
            finally:
                await llm.close()

        result = asyncio.run(go())
        assert fake.stats.by_tool["VerdictsResponse"] >= 1
    assert result.claims and {v.claim_id for v in result.verdicts} == {c.id for c in result.claims}
    assert all(v.confidence_basis is ConfidenceBasis.stance_model for v in result.verdicts)
    assert any("the stance model judges these claims" in w for w in result.warnings)
    assert result.run.usage["verify"].calls >= 1  # the unusable answers were paid for: they are counted
