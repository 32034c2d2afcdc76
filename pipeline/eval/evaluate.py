"""``factcheck eval``: run the pipeline over labeled data and score it.

Datasets (formats in ../shared/data/README.md):
  fnc       labels.jsonl: claim + text_file + gold_stance; each pair goes through ``check_claim``
  polnear   attributions.jsonl: text_file + gold source/cue/content spans; each article through ``analyze``

Layout of OUT_DIR:
  predictions-fnc.jsonl, predictions-polnear.jsonl   one row per finished item (the resume cache)
  metrics.json                                       the EvalReport
  reliability.png, confusion.png                     calibration and stance plots
"""

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pipeline._io import append_jsonl, write_json_atomic
from pipeline.eval.datasets import FncPair, PolnearDoc
from pipeline.eval.report import write_plots
from pipeline.eval.scoring import NO_VERDICT, cost, score_attribution, score_calibration, score_stance
from pipeline.llm.client import LLM
from pipeline.llm.errors import LLMError
from pipeline.settings import Settings
from pipeline.stages.analyze import analyze, analyze_without_llm, prompt_versions
from pipeline.stages.check import check_claim
from pipeline.stages.options import AnalysisOptions
from pipeline.stance.model import stance_model_sha256
from schemas import ArticleResult
from schemas.check import CheckResult
from schemas.evaluation import EvalReport, ItemFailure

R = TypeVar("R", bound=BaseModel)
Item = TypeVar("Item", FncPair, PolnearDoc)


# ---------------------------------------------------------------- the resume cache


class PredictionCache:
    """Finished items as JSONL rows; a row counts only under the same model, prompts and settings."""

    def __init__(self, path: Path, fingerprint: str):
        self.path = path
        self.fingerprint = fingerprint

    def load(self, model: type[R]) -> dict[str, R]:
        found: dict[str, R] = {}
        if not self.path.is_file():
            return found
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                if row.get("fingerprint") == self.fingerprint:
                    found[str(row["id"])] = model.model_validate(row["result"])
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValidationError):
                continue  # a stale or damaged row: that item is simply run again
        return found

    def add(self, item_id: str, result: BaseModel) -> None:
        append_jsonl(
            self.path, {"id": item_id, "fingerprint": self.fingerprint, "result": result.model_dump(mode="json")}
        )


def fingerprint(llm: LLM | None, settings: Settings) -> str:
    verifier = settings.resolved_verifier(llm.backend if llm is not None else None)
    key = {
        "model": llm.model if llm is not None else None,
        "verifier": verifier,
        "stance_model": stance_model_sha256() if verifier == "trained" else None,
        "prompts": prompt_versions(),
        "max_claims": settings.max_claims,
        "label_probabilities": settings.label_probabilities,
        "window_chars": settings.window_chars,
        "temperature": settings.temperature,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- running


Progress = Callable[[str, str], None]


async def evaluate(
    llm: LLM | None,
    settings: Settings,
    out_dir: Path,
    *,
    fnc: Sequence[FncPair] = (),
    polnear: Sequence[PolnearDoc] = (),
    datasets: dict[str, str] | None = None,
    limit: int | None = None,
    per_label: int | None = None,
    on_item: Progress | None = None,
) -> EvalReport:
    """Predict every item not already cached, score, and write metrics.json and the plots.
    ``llm=None``: no LLM at all: FNC pairs with the trained verifier and no denials, PolNeAR
    documents as ``run --no-llm`` analyses them (code's candidate claims)."""
    options = AnalysisOptions.from_settings(settings, llm.backend if llm is not None else None)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    key = fingerprint(llm, settings)
    failures: list[ItemFailure] = []
    report = _progress(on_item)
    article_results, reused_docs = await _predict(
        "polnear", polnear, partial(_analysed, llm, options),
        PredictionCache(out_dir / "predictions-polnear.jsonl", key), ArticleResult, failures, report,
    )
    # Each article's pairs one after another: it is read and embedded once for all its claims.
    first_seen = {text: i for i, text in reversed(list(enumerate(p.article.text for p in fnc)))}
    by_article = sorted(fnc, key=lambda p: first_seen[p.article.text])
    check_results, reused_pairs = await _predict(
        "fnc", by_article, partial(_checked, llm, options), PredictionCache(out_dir / "predictions-fnc.jsonl", key),
        CheckResult, failures, report,
    )
    reused = reused_docs + reused_pairs

    scored_docs = [d for d in polnear if d.id in article_results]
    scored_pairs = [p for p in fnc if p.id in check_results]
    result = EvalReport(
        started_at=started,
        seconds=0.0,
        backend=llm.backend if llm is not None else "none",
        model=llm.model if llm is not None else "none",
        prompt_versions=prompt_versions(),
        limit=limit,
        per_label=per_label,
        datasets=datasets or {},
        reused=reused,
        attribution=score_attribution(scored_docs, article_results) if scored_docs else None,
        stance=score_stance(scored_pairs, check_results) if scored_pairs else None,
        calibration=score_calibration(scored_pairs, check_results) if scored_pairs else None,
        calibration_stated=score_calibration(scored_pairs, check_results, stated=True) if scored_pairs else None,
        cost=[
            *([cost("polnear", [r.run for r in article_results.values()])] if article_results else []),
            *([cost("fnc", [r.run for r in check_results.values()])] if check_results else []),
        ],
        failures=failures,
    )
    result.plots = write_plots(result, out_dir)
    result.seconds = round(time.perf_counter() - clock, 3)
    write_json_atomic(out_dir / "metrics.json", result)
    return result


async def _analysed(llm: LLM | None, options: AnalysisOptions, doc: PolnearDoc) -> tuple[ArticleResult, str]:
    """A PolNeAR document analysed (as ``run`` does, or ``run --no-llm`` without an LLM), and its progress line."""
    result = (
        await analyze(llm, doc.article, options) if llm is not None else await analyze_without_llm(doc.article, options)
    )
    return result, f"{len(result.claims)} claims, {result.run.seconds:.1f}s"


async def _checked(llm: LLM | None, options: AnalysisOptions, pair: FncPair) -> tuple[CheckResult, str]:
    """An FNC pair's claim checked against its article (as ``check`` does), and its progress line."""
    result = await check_claim(llm, pair.article, pair.claim, options, pair_id=pair.id)
    verdict = result.verdict.verdict.value if result.verdict else NO_VERDICT
    return result, f"{verdict} (gold {pair.gold}), {result.run.seconds:.1f}s"


async def _predict(
    dataset: str,
    items: Sequence[Item],
    predict: Callable[[Item], Awaitable[tuple[R, str]]],
    cache: PredictionCache,
    model: type[R],
    failures: list[ItemFailure],
    report: Progress,
) -> tuple[dict[str, R], int]:
    """Each item's result, from the prediction cache or predicted now (and cached); an item the
    LLM fails is recorded in ``failures`` and the rest go on. Returns the results and how many
    came from the cache."""
    if not items:
        return {}, 0
    done = cache.load(model)
    results: dict[str, R] = {}
    reused = 0
    for item in items:
        if item.id in done:
            results[item.id] = done[item.id]
            reused += 1
            report(item.id, "cached")
            continue
        try:
            result, status = await predict(item)
        except LLMError as error:
            failures.append(ItemFailure(dataset=dataset, id=item.id, reason=str(error)))
            report(item.id, f"failed: {error}")
            continue
        cache.add(item.id, result)
        results[item.id] = result
        report(item.id, status)
    return results, reused


def _progress(on_item: Progress | None) -> Progress:
    def report(item: str, status: str) -> None:
        if on_item is not None:
            on_item(item, status)

    return report
