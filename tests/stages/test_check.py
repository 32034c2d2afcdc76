"""``factcheck check``: locating the given claim, pairs input, the call budget (one LLM call, or none), bad input."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from recording import SAMPLES, SEED

from pipeline.cli import app
from pipeline.llm.client import LLM
from pipeline.stages.check import (
    ARTICLE_VOICE,
    GIVEN_CLAIM_ID,
    best_window,
    check_claim,
    given_claim,
    read_article,
    read_pairs,
    similar_sentences,
)
from pipeline.stages.options import AnalysisOptions
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.document import windows
from pipeline.text.ingest import InputError, make_article
from schemas import ClaimKind
from schemas.check import CheckResult, ClaimOrigin
from schemas.verdicts import ConfidenceBasis, VerdictLabel

LIBRARY = (SAMPLES / "fnc_sample" / "b2.txt").read_text(encoding="utf-8")


def test_the_given_claim_is_built_on_its_most_similar_sentence() -> None:
    window = windows(LIBRARY)[0]
    claim = given_claim(window, "The building cost 14 million dollars")
    assert (claim.id, claim.claimant, claim.kind, claim.checkworthiness) == (
        GIVEN_CLAIM_ID, ARTICLE_VOICE, ClaimKind.fact, 1.0
    )
    assert (claim.cue, claim.claimant_span) == ("none", None)  # the article says it in its own voice
    assert len(claim.spans) == 1
    span = claim.spans[0]
    assert "14 million" in span.text
    assert LIBRARY[span.start : span.end] == span.text


def test_a_given_claim_is_credited_to_whoever_the_article_credits_at_its_sentence() -> None:
    claim = given_claim(windows(LIBRARY)[0], "The library issued 412 new cards on its first day")
    assert "412 new cards" in claim.spans[0].text
    assert claim.cue == "according to"
    assert (
        claim.claimant_span is not None
        and LIBRARY[claim.claimant_span.start : claim.claimant_span.end] == claim.claimant
    )
    opening = given_claim(windows(LIBRARY)[0], "The opening went smoothly")
    assert (opening.claimant, opening.cue) == ("Head librarian Omar Haddad", "said")


def test_a_long_article_is_checked_in_the_window_closest_to_the_claim() -> None:
    text = " ".join(f"Filler sentence number {i} about the weather in town." for i in range(60))
    text += " The harbor bridge will close for repairs in March."
    parts = windows(text, max_chars=600)
    assert len(parts) > 1
    chosen = best_window(parts, "The Harbor Bridge will close for repairs in March")
    assert chosen is parts[-1]
    assert "harbor bridge" in similar_sentences(chosen, "The Harbor Bridge will close for repairs in March")[0].text


def test_pairs_are_read_with_inline_text_or_a_relative_text_file(tmp_path: Path) -> None:
    (tmp_path / "body.txt").write_text(LIBRARY, encoding="utf-8")
    pairs_file = tmp_path / "pairs.jsonl"
    pairs_file.write_text(
        json.dumps({"id": "p1", "claim": "The library opened", "text_file": "body.txt"})
        + "\n\n"
        + json.dumps({"claim": "A second claim", "text": "Some article text. It has two sentences."})
        + "\n",
        encoding="utf-8",
    )
    pairs = read_pairs(pairs_file)
    assert [(p.id, p.claim) for p in pairs] == [("p1", "The library opened"), (None, "A second claim")]
    assert pairs[0].article.text == LIBRARY
    assert pairs[1].article.meta.source == f"{pairs_file}:3"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # was a RecursionError traceback
        (json.dumps({"text": "An article."}), "no string 'claim'"),
        (json.dumps({"claim": "X"}), "needs a string 'text' or 'text_file'"),
        (json.dumps({"claim": "X", "text_file": "missing.txt"}), "missing.txt"),
        (json.dumps({"claim": "X", "text": "   "}), "no article text"),
    ],
)
def test_a_bad_pairs_line_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    pairs_file = tmp_path / "pairs.jsonl"
    pairs_file.write_text(json.dumps({"claim": "ok", "text": "Fine."}) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        read_pairs(pairs_file)
    assert str(error.value).startswith(f"{pairs_file}:2: ")


def test_read_article_refuses_a_file_with_several_articles(tmp_path: Path) -> None:
    many = tmp_path / "many.jsonl"
    many.write_text('{"text": "One."}\n{"text": "Two."}\n', encoding="utf-8")
    with pytest.raises(InputError, match="expected one article, found 2"):
        read_article(many)


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--claim", "X", "no-such-file.txt"], "no-such-file.txt"),
        (["--claim", "X"], "give either --claim TEXT ARTICLE or --pairs"),
        (["no-such-file.txt"], "give either --claim TEXT ARTICLE or --pairs"),
        (["--claim", "  ", str(SEED)], "--claim is empty"),
    ],
)
def test_cli_bad_input_is_one_line_and_exits_non_zero(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["check", *args])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]


def test_cli_empty_article_names_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["check", "--claim", "X", str(empty)])
    assert result.exit_code == 1 and str(empty) in result.output


# ---- through the fake OpenAI-compatible server: plumbing and the call budget, not model quality


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _fake_llm(fake: FakeOpenAI) -> LLM:
    return LLM(backend="openai", base_url=fake.base_url, api_key="test", model="fake", timeout=10, max_attempts=2)


def _check(llm: LLM | None, text: str, given: str, options: AnalysisOptions = AnalysisOptions()) -> CheckResult:
    async def go() -> CheckResult:
        try:
            return await check_claim(llm, make_article(text, "test"), given, options, pair_id="t1")
        finally:
            if llm is not None:
                await llm.close()

    return asyncio.run(go())


def test_a_given_claim_takes_one_llm_call_for_denials_and_no_claims_call(fake: FakeOpenAI) -> None:
    result = _check(_fake_llm(fake), LIBRARY, "Head librarian Omar Haddad said the opening went smoothly")
    assert fake.stats.requests == 1
    assert {stage: u.calls for stage, u in result.run.usage.items()} == {"claims": 0, "denials": 1, "verify": 0}
    assert result.origin is ClaimOrigin.given and result.article_claims == []
    assert (result.claim.id, result.claim.claimant) == (GIVEN_CLAIM_ID, "Head librarian Omar Haddad")
    assert result.claim.spans[0].text.startswith("Head librarian Omar Haddad")
    assert result.verdict is not None and result.verdict.claim_id == GIVEN_CLAIM_ID
    assert result.verdict.confidence_basis is ConfidenceBasis.stance_model and result.run.verifier == "trained"
    CheckResult.model_validate_json(result.model_dump_json())  # spans still index the text


def test_the_llm_verifier_adds_one_verify_call(fake: FakeOpenAI) -> None:
    result = _check(_fake_llm(fake), LIBRARY, "The library opened", AnalysisOptions(verifier="llm"))
    assert fake.stats.requests == 2
    assert result.verdict is not None and result.run.verifier == "llm"
    assert result.verdict.confidence_basis is not ConfidenceBasis.stance_model


def test_without_an_llm_no_call_is_made_and_the_stance_model_judges() -> None:
    result = _check(None, LIBRARY, "Riverside's new public library opened")
    assert result.run.usage and sum(u.calls for u in result.run.usage.values()) == 0 and result.run.backend == "none"
    assert result.verdict is not None and result.verdict.probabilities is not None
    assert result.verdict.verdict is not VerdictLabel.not_addressed
    assert any("denials found by rule" in w for w in result.warnings)
    unrelated = _check(None, LIBRARY, "A rare comet will be visible over Antarctica next week")
    assert unrelated.verdict is not None and unrelated.verdict.verdict is VerdictLabel.not_addressed


def test_cli_no_llm_answers_without_starting_a_model(tmp_path: Path) -> None:
    out = tmp_path / "checked.json"
    result = runner.invoke(app, ["check", "--no-llm", "--claim", "Elon Musk spoke with Vladimir Putin about Ukraine",
                                 str(SEED), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    checked = CheckResult.model_validate_json(out.read_text(encoding="utf-8"))
    assert checked.run.backend == "none" and checked.verdict is not None
    assert checked.verdict.verdict is not VerdictLabel.not_addressed


def test_cli_no_llm_refuses_the_llm_verifier() -> None:
    result = runner.invoke(app, ["check", "--no-llm", "--verifier", "llm", "--claim", "X", str(SEED)])
    assert result.exit_code == 1 and "--no-llm needs the trained verifier" in result.output


def test_cli_pairs_write_jsonl_atomically(fake: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "checked.jsonl"
    result = runner.invoke(
        app,
        ["check", "--pairs", str(SAMPLES / "fnc_sample" / "labels.jsonl"), "--out", str(out),
         "--backend", "openai", "--base-url", fake.base_url, "--model", "fake"],
    )
    assert result.exit_code == 0, result.output
    rows = [CheckResult.model_validate_json(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.id for r in rows] == [json.loads(line)["id"] for line in (SAMPLES / "fnc_sample" / "labels.jsonl").open()]
    assert fake.stats.requests == len(rows)  # a hosted backend: denials; auto is the trained verifier (issue 31)
    assert all(r.run.verifier == "trained" for r in rows)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("backend", ["none", "embedded"])
def test_the_seed_claim_without_a_model_asked_finds_musks_denial_by_rule(backend: str, llm: LLM) -> None:
    """No LLM, or the embedded model (asked nothing: it linked denials worse than code): Musk's denial is
    found by rule and linked to the claim; "did not immediately respond" is no denial."""
    result = _check(
        None if backend == "none" else llm,
        SEED.read_text(encoding="utf-8"),
        "Elon Musk spoke with Vladimir Putin about Ukraine",
    )
    assert sum(u.calls for u in result.run.usage.values()) == 0 and result.run.backend == backend
    assert [d.speaker for d in result.denials] == ["Musk"] and result.denials[0].claim_ids == [result.claim.id]
    assert not any("did not immediately respond" in s.text for d in result.denials for s in d.spans)
    assert result.verdict is not None and result.verdict.verdict is VerdictLabel.disputed
    assert "Musk disputes it" in result.verdict.rationale


# ---- an OpenAI-compatible server (the same 1.5B), replayed from a cassette


@pytest.mark.vcr
def test_seed_claim_is_checked_with_one_call_on_a_compatible_server(compatible_llm: LLM) -> None:
    result = _check(
        compatible_llm, SEED.read_text(encoding="utf-8"), "Elon Musk spoke with Vladimir Putin about Ukraine"
    )
    usage = {stage: u.calls for stage, u in result.run.usage.items()}
    assert usage["claims"] == 0 and usage["verify"] == 0 and 1 <= usage["denials"] <= 2  # re-asks counted
    assert result.verdict is not None and result.verdict.claim_id == result.claim.id
    # Musk's denial is linked, and the article does not settle the question: disputed
    assert result.denials and result.verdict.verdict is VerdictLabel.disputed, result.verdict.rationale
    assert result.verdict.confidence_basis is ConfidenceBasis.stance_model
    assert all(d.is_denial and result.claim.id in d.claim_ids for d in result.denials)
    # Musk's denial (here the article's report of it, the span the model quoted) stands against it
    musk = [s for d in result.denials if "Musk" in d.speaker for s in d.spans]
    assert musk and all(s in result.verdict.contradicting for s in musk)
    assert "Musk disputes it" in result.verdict.rationale
    CheckResult.model_validate_json(result.model_dump_json())
