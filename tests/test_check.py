"""``factcheck check``: matching a given claim, the fallback claim, pairs input, the call budget, bad input."""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.backend import LABEL_LOGPROBS
from pipeline.check import (
    ARTICLE_VOICE,
    GIVEN_CLAIM_ID,
    best_window,
    check_claim,
    given_claim,
    match_claim,
    read_article,
    read_pairs,
    similar_sentences,
)
from pipeline.cli import app
from pipeline.document import windows
from pipeline.ingest import InputError, make_article
from pipeline.llm import LLM
from pipeline.testing.fake_openai import FakeOpenAI
from schemas import Claim, ClaimKind, Span
from schemas.check import CheckResult, ClaimOrigin
from schemas.verdicts import ConfidenceBasis, VerdictLabel

SAMPLES = Path(__file__).parent / "eval_samples"
SEED = Path(__file__).parent.parent / "seeds" / "musk-putin-bremmer.txt"
LIBRARY = (SAMPLES / "fnc_sample" / "b2.txt").read_text(encoding="utf-8")


def _claim(claim_id: str, statement: str, text: str, sentence: str, checkworthiness: float = 0.8) -> Claim:
    start = text.index(sentence)
    return Claim(
        id=claim_id,
        statement=statement,
        claimant="the article",
        cue="none",
        kind=ClaimKind.fact,
        checkworthiness=checkworthiness,
        spans=[Span(start=start, end=start + len(sentence), text=sentence)],
    )


def test_a_paraphrased_headline_matches_the_article_claim() -> None:
    claims = [
        _claim("c1", "Riverside's new public library opened on Saturday morning.", LIBRARY, "Riverside's new public library"),
        _claim("c2", "The library building cost 14 million dollars.", LIBRARY, "The building, which cost 14 million"),
    ]
    found = match_claim("Riverside's new library opened to the public on Saturday", claims)
    assert found is not None and found.claim.id == "c1"
    assert match_claim("Northwind Airlines is planning to cut 2,000 jobs", claims) is None


def test_an_unmatched_claim_is_built_on_its_most_similar_sentence() -> None:
    window = windows(LIBRARY)[0]
    claim = given_claim(window, "The building cost 14 million dollars")
    assert (claim.id, claim.claimant, claim.kind, claim.checkworthiness) == (GIVEN_CLAIM_ID, ARTICLE_VOICE, ClaimKind.fact, 1.0)
    assert (claim.cue, claim.claimant_span) == ("none", None)  # the article says it in its own voice
    assert len(claim.spans) == 1
    span = claim.spans[0]
    assert "14 million" in span.text
    assert LIBRARY[span.start : span.end] == span.text


def test_a_given_claim_is_credited_to_whoever_the_article_credits_at_its_sentence() -> None:
    claim = given_claim(windows(LIBRARY)[0], "The library issued 412 new cards on its first day")
    assert "412 new cards" in claim.spans[0].text
    assert claim.cue == "according to"
    assert claim.claimant_span is not None and LIBRARY[claim.claimant_span.start : claim.claimant_span.end] == claim.claimant
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


def _check(llm: LLM, text: str, given: str) -> CheckResult:
    async def go() -> CheckResult:
        try:
            return await check_claim(llm, make_article(text, "test"), given, pair_id="t1")
        finally:
            await llm.close()

    return asyncio.run(go())


def test_a_claim_the_article_makes_is_verified_as_that_claim_in_three_calls(fake: FakeOpenAI) -> None:
    # The fake extracts the article's first two sentences as claims (c1, c2).
    first = LIBRARY.split(". ")[0]
    result = _check(_fake_llm(fake), LIBRARY, first)
    assert fake.stats.requests == 3
    assert result.origin is ClaimOrigin.article and result.claim.id == "c1"
    assert result.verdict is not None and result.verdict.claim_id == "c1"
    assert sum(u.calls for u in result.run.usage) == 3
    CheckResult.model_validate_json(result.model_dump_json())  # spans still index the text


def test_an_unknown_claim_is_verified_as_the_readers_claim_in_three_calls(fake: FakeOpenAI) -> None:
    result = _check(_fake_llm(fake), LIBRARY, "Head librarian Omar Haddad said the opening went smoothly")
    assert fake.stats.requests == 3
    assert result.origin is ClaimOrigin.given
    assert (result.claim.id, result.claim.claimant) == (GIVEN_CLAIM_ID, "Head librarian Omar Haddad")
    assert result.claim.spans[0].text.startswith("Head librarian Omar Haddad")
    assert result.verdict is not None and result.verdict.claim_id == GIVEN_CLAIM_ID
    assert [c.id for c in result.article_claims] == ["c1", "c2"]


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
    assert fake.stats.requests == 3 * len(rows)
    assert not list(tmp_path.glob(".*.tmp"))


# ---- the embedded model, replayed from a cassette


@pytest.mark.vcr
def test_seed_claim_is_checked_by_the_model(llm: LLM) -> None:
    llm.top_logprobs = LABEL_LOGPROBS  # as with label_probabilities = true
    result = _check(llm, SEED.read_text(encoding="utf-8"), "Elon Musk spoke with Vladimir Putin about Ukraine")
    assert all(1 <= u.calls <= 2 for u in result.run.usage)  # one call per stage, re-asks counted
    assert result.verdict is not None and result.verdict.claim_id == result.claim.id
    # Musk's denial is linked, so "disputed" is imposed and the confidence is the one the model wrote
    assert result.denials and result.verdict.verdict is VerdictLabel.disputed
    assert result.verdict.confidence_basis is ConfidenceBasis.stated
    assert all(d.is_denial and result.claim.id in d.claim_ids for d in result.denials)
    CheckResult.model_validate_json(result.model_dump_json())
