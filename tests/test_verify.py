"""Verification post-processing and what the model is shown: hedges, and labels fixed by denials."""

import asyncio
import json
from pathlib import Path

import httpx2
import openai

from pipeline import verify as verify_stage
from pipeline.document import windows
from pipeline.hedges import hedges_in
from pipeline.llm import LLM
from pipeline.testing.fake_openai import completion
from pipeline.verify import _finished
from schemas import Claim, ClaimKind, Verdict
from schemas.verdicts import RATIONALE_CHARS

SEED = (Path(__file__).parent.parent / "seeds" / "musk-putin-bremmer.txt").read_text(encoding="utf-8")
HEDGED = "Technology mogul Elon Musk allegedly spoke to Russian President Vladimir Putin"
PLAIN = "Putin has resolved to absorb the self-declared independent republics"


def test_hedges_are_found_once_each_in_order() -> None:
    text = "He allegedly met them. A rumor says so; it is said to be true. Reportedly, allegedly."
    assert hedges_in(text) == ("allegedly", "rumor", "is said to", "reportedly")
    assert hedges_in("The committee said the dam was unsafe.") == ()


def _claim(claim_id: str, sentence: str) -> Claim:
    start = SEED.index(sentence)
    return Claim(
        id=claim_id, statement=sentence, claimant="the article", cue="none", kind=ClaimKind.fact, checkworthiness=0.8,
        spans=[{"start": start, "end": start + len(sentence), "text": sentence}],  # type: ignore[list-item]
    )


def test_the_model_is_told_which_claims_the_article_only_hedges() -> None:
    shown: list[str] = []
    answer = {c: {"rationale": "Only reported.", "verdict": "unverified", "confidence": 0.6} for c in ("c1", "c2")}

    def server(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        shown.append(body["messages"][-1]["content"])
        return httpx2.Response(200, json=completion(body, json.dumps(answer)))

    llm = LLM(backend="openai", base_url="http://model.test/v1", api_key="test", model="fake",
              http_client=openai.DefaultAsyncHttpxClient(transport=httpx2.MockTransport(server)))

    async def go() -> list[Verdict]:
        try:
            return (await verify_stage.verify_claims(llm, windows(SEED)[0], [_claim("c1", HEDGED), _claim("c2", PLAIN)], [])).value
        finally:
            await llm.close()

    verdicts = asyncio.run(go())
    [prompt] = shown
    hedged, plain = prompt.split("\nc2: ")
    assert "hedged by the article: allegedly" in hedged
    assert "hedged by the article" not in plain.split("\nThe verdicts:")[0]
    assert [v.verdict for v in verdicts] == ["unverified", "unverified"]
    assert verdicts[0].supporting[0].text == HEDGED


def test_a_rationale_cut_by_the_length_cap_ends_at_a_whole_sentence_or_word() -> None:
    # What the 1.5B wrote on the seed, cut at 200 characters by the schema's maxLength.
    cut = ("The Eurasia Group's Ian Bremmer, who is an expert on Russia-Ukraine relations, is quoted as saying Elon Musk "
           "spoke to Putin around two weeks ago regarding a negotiated end to the war. Elon Musk denied")
    assert len(cut) == RATIONALE_CHARS
    assert _finished(cut) == cut[: cut.index(" Elon Musk denied")]
    no_stop = "Bremmer says the meeting happened " * 10
    kept = _finished(no_stop[:RATIONALE_CHARS])
    assert kept.endswith("…") and no_stop.startswith(kept[:-1]) and no_stop[len(kept) - 1] == " "  # whole words only
    assert _finished("Musk denies it.") == "Musk denies it."
