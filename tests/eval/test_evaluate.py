"""``factcheck eval``: dataset reading, scoring of pipeline output against gold, the resume cache, the CLI."""

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner
from recording import SAMPLES

from pipeline.cli import app
from pipeline.eval.datasets import load_fnc, load_polnear
from pipeline.eval.evaluate import evaluate
from pipeline.eval.scoring import NO_VERDICT, VERDICT_TO_STANCE, predicted_stance, score_attribution
from pipeline.llm.client import LLM
from pipeline.settings import Settings
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.ingest import InputError
from schemas import ArticleResult, Claim, ClaimKind, RunInfo, Span, Verdict, VerdictLabel
from schemas.check import CheckResult, ClaimOrigin
from schemas.evaluation import EvalReport
from schemas.verdicts import ConfidenceBasis

FNC = SAMPLES / "fnc_sample"
POLNEAR = SAMPLES / "polnear_sample"


def test_samples_load_with_gold_offsets_checked() -> None:
    pairs = load_fnc(FNC)
    assert [p.gold for p in pairs].count("disagree") == 2 and len(pairs) == 6
    docs = load_polnear(POLNEAR)
    assert [len(d.attributions) for d in docs] == [4, 4, 3]
    crime = docs[1]
    # A discontinuous content keeps both segments; a missing source stays None.
    assert crime.attributions[1].content == ((90, 98), (113, 161))
    assert docs[2].attributions[0].source is None
    assert load_fnc(FNC, limit=2)[1].id == pairs[1].id and len(load_fnc(FNC, limit=2)) == 2


def _copy(src: Path, tmp_path: Path) -> Path:
    target = tmp_path / src.name
    shutil.copytree(src, target)
    return target


def test_bad_datasets_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="labels.jsonl: no such file"):
        load_fnc(tmp_path)
    fnc = _copy(FNC, tmp_path)
    labels = fnc / "labels.jsonl"
    rows = labels.read_text(encoding="utf-8").splitlines()
    labels.write_text(rows[0].replace('"disagree"', '"unrelated"') + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"labels.jsonl:1: gold_stance 'unrelated'"):
        load_fnc(fnc)
    labels.write_text(rows[0].replace("b1.txt", "nope.txt") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nope.txt"):
        load_fnc(fnc)
    labels.write_text(rows[0] + "\n" + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"labels.jsonl:2: invalid JSON \(nested too deeply\)"):  # not a RecursionError
        load_fnc(fnc)

    polnear = _copy(POLNEAR, tmp_path)
    gold = polnear / "attributions.jsonl"
    first = gold.read_text(encoding="utf-8").splitlines()[0]
    gold.write_text(first.replace("[[0, 18]]", "[[1, 18]]") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"attributions.jsonl:1: attribution 1 source: segments .* do not spell"):
        load_polnear(polnear)


def test_gold_spans_past_the_text_and_files_outside_the_dataset_are_refused(tmp_path: Path) -> None:
    polnear = _copy(POLNEAR, tmp_path)
    gold = polnear / "attributions.jsonl"
    first = json.loads(gold.read_text(encoding="utf-8").splitlines()[0])
    past_end = {
        **first,
        "attributions": [{**first["attributions"][0], "source": {"segments": [[90000, 90010]], "text": ""}}],
    }
    gold.write_text(json.dumps(past_end) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"source: segments \[\(90000, 90010\)\] are outside the text"):
        load_polnear(polnear)

    secret = tmp_path / "secret.txt"  # beside the dataset, not in it
    secret.write_text("Senator Jane Ortiz said nothing.", encoding="utf-8")
    for outside in ("../secret.txt", str(secret)):
        gold.write_text(json.dumps({**first, "text_file": outside}) + "\n", encoding="utf-8")
        with pytest.raises(InputError, match="not found inside the dataset folder"):
            load_polnear(polnear)


def _span(text: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, text=text[start:end])


def _run() -> RunInfo:
    return RunInfo(backend="test", model="test", prompt_versions={}, started_at=datetime.now(UTC), seconds=1.0)


def test_attribution_scores_from_claims_by_hand() -> None:
    doc = load_polnear(POLNEAR)[0]  # sample-budget
    text = doc.article.text

    def claim(
        i: int, name: str, content: tuple[int, int], source: tuple[int, int] | None, cue: tuple[int, int] | None
    ) -> Claim:
        return Claim(
            id=f"c{i}", statement="s", claimant=name, cue="said", kind=ClaimKind.fact, checkworthiness=1,
            spans=[_span(text, *content)],
            claimant_span=_span(text, *source) if source else None,
            cue_span=_span(text, *cue) if cue else None,
        )

    result = ArticleResult(
        article=doc.article.meta,
        text=text,
        claims=[
            claim(1, "Senator Jane Ortiz", (40, 108), (0, 18), (19, 23)),  # all exact
            claim(2, "Mark Ellis", (110, 192), (124, 129), None),  # the whole second sentence; surname only
            claim(3, "the article", (232, 268), None, None),  # author's claim: no name to score
        ],
        run=_run(),
    )
    scores = score_attribution([doc], {doc.id: result})
    # Gold sources (deduplicated): Ortiz (0,18), Ellis (110,129), Treasury (207,230).
    assert (scores.source.exact.tp, scores.source.exact.n_pred, scores.source.exact.n_gold) == (1, 2, 3)
    assert (scores.source.overlap.precision, scores.source.overlap.recall) == (1.0, pytest.approx(2 / 3))
    # Gold cues: said, rejected, saying, According to.
    assert (scores.cue.exact.tp, scores.cue.exact.n_pred, scores.cue.exact.n_gold) == (1, 1, 4)
    # Contents: c1 and c3 exact; c2 overlaps E2 (11 chars) and E3 (33 chars), takes E3.
    assert (scores.content.exact.tp, scores.content.overlap.tp, scores.content.overlap.n_gold) == (2, 3, 4)
    assert scores.content.exact.f1 == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    # Names: jane ortiz ~ senator jane ortiz, mark ellis ~ governor mark ellis; treasury department unmatched.
    assert (scores.claimant_name.tp, scores.claimant_name.n_pred, scores.claimant_name.n_gold) == (2, 2, 3)
    assert (scores.documents, scores.gold_attributions, scores.predicted_claims) == (1, 4, 3)
    # Coverage: every gold content meets some claim's span (c2 alone touches E2 and E3); with c1
    # alone, one of four.
    assert (scores.claim_coverage, scores.claims_per_article) == (1.0, 3.0)
    alone = score_attribution([doc], {doc.id: result.model_copy(update={"claims": result.claims[:1]})})
    assert (alone.claim_coverage, alone.claims_per_article) == (0.25, 1.0)


def test_verdicts_map_to_stance_labels() -> None:
    assert {v.value: VERDICT_TO_STANCE[v] for v in VerdictLabel} == {
        "not_addressed": "unrelated",
        "supported": "agree",
        "refuted": "disagree",
        "disputed": "disagree",
        "unverified": "discuss",
    }
    pair = load_fnc(FNC)[0]
    text = pair.article.text
    claim = Claim(id="c0", statement=pair.claim, claimant="x", cue="none", kind=ClaimKind.fact, checkworthiness=1,
                  spans=[_span(text, 0, 10)])
    base = CheckResult(given_claim=pair.claim, article=pair.article.meta, text=text, origin=ClaimOrigin.given,
                       match_score=1, claim=claim, run=_run())
    assert predicted_stance(base) == NO_VERDICT
    disputed = base.model_copy(
        update={"verdict": Verdict(claim_id="c0", verdict=VerdictLabel.disputed, confidence=0.7, rationale="r")}
    )
    assert predicted_stance(disputed) == "disagree"


# ---- end to end through the fake OpenAI-compatible server: plumbing, cache and cost, not model quality


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def _evaluate(
    llm: LLM | None, out: Path, *, limit: int | None = None, verifier: str = "auto", polnear: bool = True
) -> EvalReport:
    settings = Settings(cache_dir=out / "cache", verifier=verifier)

    async def go() -> EvalReport:
        try:
            return await evaluate(
                llm,
                settings,
                out,
                fnc=load_fnc(FNC, limit),
                polnear=load_polnear(POLNEAR, limit) if polnear else [],
                limit=limit,
            )
        finally:
            if llm is not None:
                await llm.close()

    return asyncio.run(go())


def _fake_llm(fake: FakeOpenAI) -> LLM:
    return LLM(backend="openai", base_url=fake.base_url, api_key="test", model="fake", timeout=10, max_attempts=2)


def test_eval_end_to_end_writes_metrics_plots_and_resumes(fake: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    report = _evaluate(_fake_llm(fake), out, verifier="llm")
    # The fake labels every claim 'unverified', so every pair is predicted 'discuss'.
    assert report.stance is not None and report.stance.pairs == 6
    assert report.stance.confusion == [[0, 0, 2], [0, 0, 2], [0, 0, 2]]
    assert report.stance.accuracy == pytest.approx(1 / 3)
    assert report.stance.disagree.f1 == 0.0
    assert report.calibration is not None and report.calibration.n == 6
    assert report.attribution is not None and report.attribution.documents == 3
    cost = {c.dataset: c for c in report.cost}
    # check: denials and verify (no claims call for a given claim); a whole article: claims and verify
    assert cost["fnc"].calls_per_item == 2 and cost["polnear"].calls_per_item == 2
    assert cost["fnc"].usage.calls == 2 * 6 and cost["fnc"].tokens_per_item == cost["fnc"].usage.tokens / 6 > 0
    assert fake.stats.requests == 2 * 6 + 2 * 3
    assert EvalReport.model_validate_json((out / "metrics.json").read_text(encoding="utf-8")) == report
    for plot in ("reliability.png", "confusion.png"):
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Interrupted after all but one pair: only that pair is run again.
    cache = out / "predictions-fnc.jsonl"
    rows = cache.read_text(encoding="utf-8").splitlines()
    cache.write_text("\n".join(rows[:-1]) + "\n", encoding="utf-8")
    before = fake.stats.requests
    again = _evaluate(_fake_llm(fake), out, verifier="llm")
    assert fake.stats.requests - before == 2
    assert again.reused == 5 + 3
    assert again.stance == report.stance


def test_eval_cache_is_ignored_for_another_model(fake: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    _evaluate(_fake_llm(fake), out, limit=1, verifier="llm")
    other = LLM(backend="openai", base_url=fake.base_url, api_key="test", model="other", timeout=10, max_attempts=2)
    before = fake.stats.requests
    report = _evaluate(other, out, limit=1, verifier="llm")
    # a check (denials, verify), an article (claims, verify)
    assert report.reused == 0 and fake.stats.requests - before == 2 + 2


def test_eval_with_the_trained_verifier_and_no_llm_scores_every_pair(tmp_path: Path) -> None:
    report = _evaluate(None, tmp_path / "eval", polnear=False)
    assert report.stance is not None and report.stance.pairs == 6 and not report.failures
    assert report.calibration is not None and report.calibration.n == 6
    assert report.backend == "none" and all(c.calls_per_item == 0 for c in report.cost)
    rows = (tmp_path / "eval" / "predictions-fnc.jsonl").read_text(encoding="utf-8").splitlines()
    for row in rows:
        verdict = CheckResult.model_validate(json.loads(row)["result"]).verdict
        assert verdict is not None and verdict.confidence_basis is ConfidenceBasis.stance_model
    # The same settings and stance model: every pair comes from the prediction cache.
    assert _evaluate(None, tmp_path / "eval", polnear=False).reused == 6


runner = CliRunner()


def eval_args(fake: FakeOpenAI, out: Path) -> list[str]:
    return ["eval", "--fnc", str(FNC), "--polnear", str(POLNEAR), "--out", str(out), "--limit", "2", "-q",
            "--backend", "openai", "--base-url", fake.base_url, "--model", "fake"]  # fmt: skip


def test_cli_eval_no_llm_scores_fnc_pairs_in_seconds(tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "--no-llm", "--fnc", str(FNC), "--out", str(tmp_path / "eval"), "-q"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["stance"]["pairs"] == 6 and metrics["backend"] == "none"
    # PolNeAR documents with no LLM: code's candidate claims, scored like the LLM's.
    documents = runner.invoke(
        app, ["eval", "--no-llm", "--polnear", str(POLNEAR), "--out", str(tmp_path / "docs"), "-q"]
    )
    assert documents.exit_code == 0, documents.output
    attribution = json.loads((tmp_path / "docs" / "metrics.json").read_text(encoding="utf-8"))["attribution"]
    assert attribution["claims_per_article"] > 0 and attribution["claim_coverage"] > 0
    refused = runner.invoke(
        app, ["eval", "--no-llm", "--verifier", "llm", "--fnc", str(FNC), "--out", str(tmp_path / "x")]
    )
    assert refused.exit_code == 1 and "--no-llm" in refused.output


def test_cli_eval_prints_tables_and_exits_zero(fake: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = runner.invoke(app, eval_args(fake, out), env={"FACTCHECK_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    for title in ("Attribution", "Stance", "Calibration", "Cost per item"):
        assert title in result.stdout
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["limit"] == 2 and metrics["stance"]["pairs"] == 2 and metrics["attribution"]["documents"] == 2


def test_cli_eval_answers_repeated_requests_from_the_response_cache(fake: FakeOpenAI, tmp_path: Path) -> None:
    env = {"FACTCHECK_CACHE_DIR": str(tmp_path / "cache")}
    assert runner.invoke(app, eval_args(fake, tmp_path / "first"), env=env).exit_code == 0
    before = fake.stats.requests
    # A fresh --out predicts every item again, but each request was answered before.
    assert runner.invoke(app, eval_args(fake, tmp_path / "second"), env=env).exit_code == 0
    assert fake.stats.requests == before
    assert runner.invoke(app, [*eval_args(fake, tmp_path / "third"), "--no-cache"], env=env).exit_code == 0
    assert fake.stats.requests > before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x"], "give --fnc DIR and/or --polnear DIR"),
        (["--out", "x", "--fnc", "no-such-dir"], "no-such-dir/labels.jsonl: no such file"),
        (["--out", "x", "--polnear", str(FNC)], "attributions.jsonl: no such file"),
    ],
)
def test_cli_eval_bad_input_fails_before_any_model(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]


# ---- the embedded model, replayed from a cassette


@pytest.mark.vcr
def test_eval_on_samples_with_the_model(llm: LLM, tmp_path: Path) -> None:
    report = _evaluate(llm, tmp_path / "eval", limit=2)
    assert not report.failures
    assert report.stance is not None and report.stance.pairs == 2
    assert report.attribution is not None and report.attribution.documents == 2
    # claims and denials for an article, denials for a check: one call each plus at most one re-ask
    assert all(c.calls_per_item <= 2 * 2 for c in report.cost)
    assert report.calibration is not None and 0.0 <= report.calibration.brier <= 1.0
    assert report.calibration_stated is not None and report.calibration_stated.n == report.calibration.n
    rows = (tmp_path / "eval" / "predictions-fnc.jsonl").read_text(encoding="utf-8").splitlines()
    checked = [CheckResult.model_validate(json.loads(row)["result"]) for row in rows]
    assert len(checked) == 2
    for result in checked:
        verdict = result.verdict
        assert verdict is not None
        assert verdict.confidence_basis is ConfidenceBasis.stance_model and verdict.probabilities is not None


def test_per_label_takes_a_stratified_sample_in_file_order() -> None:
    pairs = load_fnc(FNC)
    sample = load_fnc(FNC, per_label=1)
    assert [p.gold for p in sample] == ["disagree", "agree", "discuss"]
    assert [p.id for p in sample] == [pairs[0].id, pairs[1].id, pairs[2].id]
    assert len(load_fnc(FNC, per_label=2)) == 6
    assert [p.gold for p in load_fnc(FNC, limit=2, per_label=1)] == ["disagree", "agree"]
