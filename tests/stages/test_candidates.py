"""Code proposes: candidate claims and denials from the rule attributions and the check-worthiness
model, and ``run --no-llm``, a complete result with no LLM call, upgraded by a later LLM run."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args
from recording import SEED

from pipeline.stages.candidates import propose
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.document import windows
from schemas import ArticleResult

TEXT = SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_candidates() -> tuple[list, list]:
    [window] = windows(TEXT)
    return propose(window)


def test_the_musk_putin_report_is_a_candidate_with_its_nested_chain(seed_candidates: tuple[list, list]) -> None:
    claims, _ = seed_candidates
    [told] = [c for c in claims if "had communicated with Putin" in c.content.text]
    assert told.claimant == "Bremmer" and "Musk" in told.via
    assert TEXT[told.content.start : told.content.end] == told.content.text


def test_denials_are_proposed_by_code_and_a_non_response_is_not_one(seed_candidates: tuple[list, list]) -> None:
    claims, denials = seed_candidates
    assert {d.speaker for d in denials} == {"Musk"}
    assert any("subsequently denied" in d.span.text for d in denials)
    assert not any("did not immediately respond" in d.span.text for d in denials)
    assert not any("did not immediately respond" in c.content.text for c in claims)
    assert not any("denied" in c.content.text for c in claims)  # a claim never reports a denial


def test_candidates_are_ranked_by_checkworthiness_above_the_threshold(seed_candidates: tuple[list, list]) -> None:
    from pipeline.stance.checkworthy import THRESHOLD

    claims, _ = seed_candidates
    scores = [c.checkworthiness for c in claims]
    assert scores == sorted(scores, reverse=True)
    assert all(c.checkworthiness >= THRESHOLD for c in claims if c.cue == "none")  # own voice: above the threshold
    assert not any("licensing opportunities" in c.content.text for c in claims)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def test_run_without_an_llm_writes_a_complete_result_that_an_llm_run_upgrades(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "seed.txt").write_text(TEXT, encoding="utf-8")
    triage = factcheck(["run", str(inputs), "--out", str(out), "--no-llm", "--quiet"], env_for(tmp_path))
    assert triage.returncode == 0, triage.stderr
    assert "0 LLM calls" in triage.stderr
    [path] = (out / "articles").glob("*.json")
    result = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))  # checks every span
    assert result.run.backend == "none" and result.warnings[0].startswith("no LLM")
    assert len(result.claims) >= 6 and len(result.verdicts) == len(result.claims)
    [musk_putin] = [c for c in result.claims if "Elon Musk spoke to Russian President Vladimir Putin" in c.statement]
    denial = next(d for d in result.denials if musk_putin.id in d.claim_ids)
    assert denial.speaker == "Musk"
    verdict = next(v for v in result.verdicts if v.claim_id == musk_putin.id)
    assert verdict.verdict.value == "disputed"
    assert json.loads((out / "run.json").read_text())["backend"] == "none"

    upgraded = factcheck(run_args(inputs, out, fake.base_url, "--quiet", "--no-cache"), env_for(tmp_path))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "1 analysed, 0 already done" in upgraded.stderr
    assert "unreadable" not in upgraded.stderr  # a result without an LLM is upgraded, not damaged
    again = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))
    assert again.run.backend == "openai"
    rerun = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert "0 analysed, 1 already done" in rerun.stderr
