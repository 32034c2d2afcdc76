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
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from rich.table import Table

from pipeline import _metrics as m
from pipeline import _plots
from pipeline._io import append_jsonl, write_json_atomic
from pipeline.analyze import analyze, prompt_versions
from pipeline.check import check_claim
from pipeline.ingest import Article, InputError, make_article
from pipeline.llm import LLM, LLMError
from pipeline.options import AnalysisOptions
from pipeline.settings import Settings
from pipeline.stance.model import stance_model_sha256
from schemas import ArticleResult, RunInfo, VerdictLabel
from schemas.check import CheckResult, ClaimOrigin
from schemas.evaluation import (
    AttributionMetrics,
    CalibrationMetrics,
    ClassScores,
    CostMetrics,
    EvalReport,
    ItemFailure,
    ReliabilityBin,
    Scores,
    SpanScores,
    StanceMetrics,
)

STANCE_LABELS = ("agree", "disagree", "discuss")
NO_VERDICT = "no verdict"  # the model gave no usable verdict: always wrong, its own confusion column
# FNC-1 scores headline<->body stance. "disputed" (claim and denial both stand) counts as
# disagree because the dataset's disagree covers bodies reporting a credible denial.
VERDICT_TO_STANCE: dict[VerdictLabel, str] = {
    VerdictLabel.supported: "agree",
    VerdictLabel.refuted: "disagree",
    VerdictLabel.disputed: "disagree",
    VerdictLabel.unverified: "discuss",
    VerdictLabel.not_addressed: "unrelated",  # never gold in fnc1_dev: always wrong there
}
F = TypeVar("F")
R = TypeVar("R", bound=BaseModel)
AUTHOR_CLAIMANTS = frozenset({"article", "the article", "author", "the author"})  # no named source to score


@dataclass(frozen=True)
class FncPair:
    id: str
    claim: str
    article: Article
    gold: str


@dataclass(frozen=True)
class Attribution:
    source: m.SpanSegments | None
    cue: m.SpanSegments | None
    content: m.SpanSegments | None
    source_text: str | None


@dataclass(frozen=True)
class PolnearDoc:
    id: str
    article: Article
    attributions: list[Attribution]


# ---------------------------------------------------------------- reading the datasets


def load_fnc(folder: Path, limit: int | None = None, *, per_label: int | None = None) -> list[FncPair]:
    """``per_label``: only the first N pairs of each gold label, a stratified sample (FNC-1 dev
    files are often ordered by label, so ``limit`` alone would pick one class)."""
    labels = folder / "labels.jsonl"
    pairs: list[FncPair] = []
    taken: dict[str, int] = {}
    for where, record in _records(labels, None if per_label else limit):
        gold = _field(record, "gold_stance", str, where)
        if gold not in STANCE_LABELS:
            raise InputError(f"{where}: gold_stance {gold!r} is not one of {', '.join(STANCE_LABELS)}")
        if per_label is not None:
            if taken.get(gold, 0) >= per_label or (limit is not None and len(pairs) >= limit):
                continue
            taken[gold] = taken.get(gold, 0) + 1
        pair_id = _field(record, "id", str, where)
        text_file = _field(record, "text_file", str, where)
        article = make_article(_text(folder, text_file, where), text_file, external_id=pair_id)
        pairs.append(FncPair(pair_id, _field(record, "claim", str, where), article, gold))
    return pairs


def load_polnear(folder: Path, limit: int | None = None) -> list[PolnearDoc]:
    docs: list[PolnearDoc] = []
    for where, record in _records(folder / "attributions.jsonl", limit):
        doc_id = _field(record, "doc", str, where)
        text_file = _field(record, "text_file", str, where)
        text = _text(folder, text_file, where)
        title = record.get("title")
        article = make_article(text, text_file, external_id=doc_id, title=title if isinstance(title, str) else None)
        raw = _field(record, "attributions", list, where)
        attributions = [_attribution(a, text, f"{where}: attribution {i + 1}") for i, a in enumerate(raw)]
        docs.append(PolnearDoc(doc_id, article, attributions))
    return docs


def _records(path: Path, limit: int | None) -> list[tuple[str, dict[str, object]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (is the folder a dataset?)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    records: list[tuple[str, dict[str, object]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}: invalid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object")
        records.append((where, record))
        if limit is not None and len(records) >= limit:
            break
    if not records:
        raise InputError(f"{path}: no items (empty)")
    return records


def _field(record: dict[str, object], name: str, kind: type[F], where: str) -> F:
    value = record.get(name)
    if not isinstance(value, kind):
        raise InputError(f"{where}: field {name!r} missing or not a {kind.__name__}")
    return value


def _text(folder: Path, text_file: str, where: str) -> str:
    """The text exactly as stored: the gold offsets index into it, so no newline translation."""
    # text_file is relative to the dataset's parent ("fnc1_dev/1118.txt"); accept it relative to the folder too.
    for path in (folder.parent / text_file, folder / text_file):
        if not path.resolve().is_relative_to(folder.resolve()):  # "../x", "/etc/passwd": not this dataset's
            continue
        if path.is_file():
            try:
                with path.open(encoding="utf-8", newline="") as f:
                    return f.read()
            except (OSError, UnicodeDecodeError) as error:
                raise InputError(f"{path}: cannot read as UTF-8 ({error})") from None
    raise InputError(f"{where}: text_file {text_file!r} not found inside the dataset folder {folder}")


def _attribution(raw: object, text: str, where: str) -> Attribution:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    parts = {name: _gold_span(raw.get(name), text, f"{where} {name}") for name in ("source", "cue", "content")}
    source = raw.get("source")
    source_text = source.get("text") if isinstance(source, dict) else None
    return Attribution(
        source=parts["source"],
        cue=parts["cue"],
        content=parts["content"],
        source_text=source_text if isinstance(source_text, str) else None,
    )


def _gold_span(raw: object, text: str, where: str) -> m.SpanSegments | None:
    if raw is None:
        return None
    segments = raw.get("segments") if isinstance(raw, dict) else None
    if not isinstance(segments, list) or not segments:
        raise InputError(f"{where}: expected null or {{'segments': [[start, end], ...], 'text': ...}}")
    try:
        span = tuple((int(s), int(e)) for s, e in segments)
    except (TypeError, ValueError):
        raise InputError(f"{where}: segments must be [start, end] integer pairs") from None
    if not all(0 <= s <= e <= len(text) for s, e in span):  # slicing past the end would quietly match ""
        raise InputError(f"{where}: segments {list(span)} are outside the text (0 to {len(text)})")
    # The README's invariant; a mismatch means the offsets do not index this text.
    if " ".join(text[s:e] for s, e in span) != raw.get("text"):
        raise InputError(f"{where}: segments {list(span)} do not spell its text {raw.get('text')!r}")
    return span


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
        append_jsonl(self.path, {"id": item_id, "fingerprint": self.fingerprint, "result": result.model_dump(mode="json")})


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
    ``llm=None``: FNC pairs with no LLM at all (the trained verifier, no denials)."""
    options = AnalysisOptions.from_settings(settings, llm.backend if llm is not None else None)
    if llm is None and polnear:
        raise ValueError("PolNeAR scoring needs the LLM's claims")
    started = datetime.now(UTC)
    clock = time.perf_counter()
    key = fingerprint(llm, settings)
    failures: list[ItemFailure] = []
    reused = 0
    report = _progress(on_item)

    article_results: dict[str, ArticleResult] = {}
    if polnear:
        cache = PredictionCache(out_dir / "predictions-polnear.jsonl", key)
        done = cache.load(ArticleResult)
        for doc in polnear:
            if doc.id in done:
                article_results[doc.id] = done[doc.id]
                reused += 1
                report(doc.id, "cached")
                continue
            try:
                assert llm is not None
                result = await analyze(llm, doc.article, options)
            except LLMError as error:
                failures.append(ItemFailure(dataset="polnear", id=doc.id, reason=str(error)))
                report(doc.id, f"failed: {error}")
                continue
            cache.add(doc.id, result)
            article_results[doc.id] = result
            report(doc.id, f"{len(result.claims)} claims, {result.run.seconds:.1f}s")

    check_results: dict[str, CheckResult] = {}
    if fnc:
        cache = PredictionCache(out_dir / "predictions-fnc.jsonl", key)
        done_checks = cache.load(CheckResult)
        for pair in fnc:
            if pair.id in done_checks:
                check_results[pair.id] = done_checks[pair.id]
                reused += 1
                report(pair.id, "cached")
                continue
            try:
                checked = await check_claim(llm, pair.article, pair.claim, options, pair_id=pair.id)
            except LLMError as error:
                failures.append(ItemFailure(dataset="fnc", id=pair.id, reason=str(error)))
                report(pair.id, f"failed: {error}")
                continue
            cache.add(pair.id, checked)
            check_results[pair.id] = checked
            verdict = checked.verdict.verdict.value if checked.verdict else NO_VERDICT
            report(pair.id, f"{verdict} (gold {pair.gold}), {checked.run.seconds:.1f}s")

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


def _progress(on_item: Progress | None) -> Progress:
    def report(item: str, status: str) -> None:
        if on_item is not None:
            on_item(item, status)

    return report


# ---------------------------------------------------------------- scoring


def predicted_attributions(result: ArticleResult) -> tuple[list[m.SpanSegments], list[m.SpanSegments], list[m.SpanSegments], list[str]]:
    """Sources, cues, contents and claimant names: the attribution stage's findings plus what the
    claims imply. A span found by both counts once (``span_prf`` dedupes per document)."""
    found = result.attributions
    sources = [((a.source.start, a.source.end),) for a in found if a.source]
    sources += [((c.claimant_span.start, c.claimant_span.end),) for c in result.claims if c.claimant_span]
    cues = [((a.cue.start, a.cue.end),) for a in found]
    cues += [((c.cue_span.start, c.cue_span.end),) for c in result.claims if c.cue_span]
    contents = [((a.content.start, a.content.end),) for a in found if a.content]
    contents += [tuple((s.start, s.end) for s in c.spans) for c in result.claims]
    names = [a.source.text for a in found if a.source]
    names += [c.claimant for c in result.claims if m.normalize_name(c.claimant) not in AUTHOR_CLAIMANTS]
    return sources, cues, contents, names


def score_attribution(docs: Sequence[PolnearDoc], results: dict[str, ArticleResult]) -> AttributionMetrics:
    """Per-document matching, micro-averaged over documents."""
    totals: dict[str, m.PRF] = {}
    predicted_claims = 0
    covered = with_content = 0
    for doc in docs:
        result = results[doc.id]
        predicted_claims += len(result.claims)
        claim_spans = [(s.start, s.end) for c in result.claims for s in c.spans]
        for attribution in doc.attributions:
            if attribution.content:
                with_content += 1
                covered += any(start < e and s < end for start, end in attribution.content for s, e in claim_spans)
        sources, cues, contents, names = predicted_attributions(result)
        gold = {
            "source": [a.source for a in doc.attributions if a.source],
            "cue": [a.cue for a in doc.attributions if a.cue],
            "content": [a.content for a in doc.attributions if a.content],
        }
        predicted = {"source": sources, "cue": cues, "content": contents}
        counts = {
            f"{part}_{mode}": m.span_prf(predicted[part], gold[part], overlap=mode == "overlap")
            for part in gold
            for mode in ("exact", "overlap")
        }
        counts["names"] = m.name_prf(names, [a.source_text for a in doc.attributions if a.source_text])
        for name, prf in counts.items():
            totals[name] = totals.get(name, m.PRF(0, 0, 0)) + prf
    return AttributionMetrics(
        documents=len(docs),
        gold_attributions=sum(len(d.attributions) for d in docs),
        predicted_claims=predicted_claims,
        source=SpanScores(exact=_scores(totals["source_exact"]), overlap=_scores(totals["source_overlap"])),
        cue=SpanScores(exact=_scores(totals["cue_exact"]), overlap=_scores(totals["cue_overlap"])),
        content=SpanScores(exact=_scores(totals["content_exact"]), overlap=_scores(totals["content_overlap"])),
        claimant_name=_scores(totals["names"]),
        claim_coverage=round(covered / with_content, 4) if with_content else 0.0,
        claims_per_article=round(predicted_claims / len(docs), 2) if docs else 0.0,
    )


def predicted_stance(result: CheckResult) -> str:
    return VERDICT_TO_STANCE[result.verdict.verdict] if result.verdict else NO_VERDICT


def score_stance(pairs: Sequence[FncPair], results: dict[str, CheckResult]) -> StanceMetrics:
    gold = [p.gold for p in pairs]
    predicted = [predicted_stance(results[p.id]) for p in pairs]
    labels = [*STANCE_LABELS, *(extra for extra in ("unrelated", NO_VERDICT) if extra in predicted)]
    per_class = [_class_scores(gold, predicted, label) for label in STANCE_LABELS]
    return StanceMetrics(
        pairs=len(pairs),
        accuracy=m.accuracy(gold, predicted),
        macro_f1=m.macro_f1(gold, predicted, STANCE_LABELS),
        disagree=next(c for c in per_class if c.label == "disagree"),
        per_class=per_class,
        labels=labels,
        confusion=m.confusion_matrix(gold, predicted, labels),
        mapping={verdict.value: label for verdict, label in VERDICT_TO_STANCE.items()},
        matched_to_article_claim=sum(results[p.id].origin is ClaimOrigin.article for p in pairs),
    )


def score_calibration(pairs: Sequence[FncPair], results: dict[str, CheckResult], *, stated: bool = False) -> CalibrationMetrics:
    """Over pairs with a verdict; correct means the mapped label is the gold one. ``stated``
    scores the confidence the model wrote rather than the verdict's confidence."""
    confidences: list[float] = []
    correct: list[bool] = []
    for pair in pairs:
        verdict = results[pair.id].verdict
        if verdict is not None:
            written = verdict.stated_confidence if verdict.stated_confidence is not None else verdict.confidence
            confidences.append(written if stated else verdict.confidence)
            correct.append(VERDICT_TO_STANCE[verdict.verdict] == pair.gold)
    bins = m.reliability_bins(confidences, correct, 10)
    return CalibrationMetrics(
        n=len(confidences),
        ece_5=m.expected_calibration_error(confidences, correct, 5),
        ece_10=m.expected_calibration_error(confidences, correct, 10),
        brier=m.brier_score(confidences, correct),
        bins=[ReliabilityBin(lo=b.lo, hi=b.hi, count=b.count, confidence=b.confidence, accuracy=b.accuracy) for b in bins],
    )


def cost(dataset: str, runs: Sequence[RunInfo]) -> CostMetrics:
    n = len(runs)
    calls = sum(u.calls for r in runs for u in r.usage)
    prompt = sum(u.prompt_tokens for r in runs for u in r.usage)
    completion = sum(u.completion_tokens for r in runs for u in r.usage)
    seconds = sum(r.seconds for r in runs)
    return CostMetrics(
        dataset=dataset,
        items=n,
        calls=calls,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=sum(u.cached_tokens for r in runs for u in r.usage),
        seconds=round(seconds, 3),
        calls_per_item=calls / n if n else 0.0,
        tokens_per_item=(prompt + completion) / n if n else 0.0,
        seconds_per_item=seconds / n if n else 0.0,
        median_seconds=statistics.median(r.seconds for r in runs) if n else 0.0,
    )


def _scores(prf: m.PRF) -> Scores:
    return Scores(precision=prf.precision, recall=prf.recall, f1=prf.f1, tp=prf.tp, n_pred=prf.n_pred, n_gold=prf.n_gold)


def _class_scores(gold: Sequence[str], predicted: Sequence[str], label: str) -> ClassScores:
    prf = m.class_prf(gold, predicted, label)
    return ClassScores(
        label=label, precision=prf.precision, recall=prf.recall, f1=prf.f1, support=prf.n_gold, predicted=prf.n_pred
    )


# ---------------------------------------------------------------- output


def write_plots(report: EvalReport, out_dir: Path) -> list[str]:
    written: list[Path] = []
    if report.calibration is not None and report.calibration.n:
        written.append(
            _plots.reliability_diagram(
                report.calibration.bins, out_dir / "reliability.png", title=f"Reliability, {report.model}"
            )
        )
    if report.stance is not None:
        written.append(
            _plots.confusion_plot(
                report.stance.confusion, report.stance.labels, out_dir / "confusion.png", title=f"Stance, {report.model}"
            )
        )
    return [p.name for p in written]


def tables(report: EvalReport) -> list[Table]:
    """The report as rich tables for the terminal; metrics.json holds the same numbers."""
    found: list[Table] = []
    if report.attribution is not None:
        a = report.attribution
        table = Table(title=f"Attribution ({a.documents} docs, {a.gold_attributions} gold, {a.predicted_claims} claims)")
        for column in ("span", "match", "precision", "recall", "F1", "tp / pred / gold"):
            table.add_column(column, justify="left" if column in ("span", "match") else "right")
        for name, scores in (("source", a.source), ("cue", a.cue), ("content", a.content)):
            for mode, s in (("exact", scores.exact), ("overlap", scores.overlap)):
                table.add_row(name, mode, *_prf_cells(s))
        table.add_row("claimant name", "normalized", *_prf_cells(a.claimant_name))
        table.caption = f"claim coverage {a.claim_coverage:.3f} of gold contents; {a.claims_per_article:.1f} claims per article"
        found.append(table)
    if report.stance is not None:
        s = report.stance
        table = Table(
            title=f"Stance ({s.pairs} pairs): accuracy {s.accuracy:.3f}, macro-F1 {s.macro_f1:.3f}, "
            f"disagree F1 {s.disagree.f1:.3f}"
        )
        for column in ("gold \\ predicted", *s.labels, "precision", "recall", "F1"):
            table.add_column(column, justify="right")
        by_label = {c.label: c for c in s.per_class}
        for label, row in zip(s.labels, s.confusion):
            c = by_label.get(label)
            scores = [f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}"] if c else ["", "", ""]
            table.add_row(label, *map(str, row), *scores)
        found.append(table)
    if report.calibration is not None:
        c = report.calibration
        table = Table(title=f"Calibration ({c.n} verdicts)")
        for column in ("confidence", "ECE (5 bins)", "ECE (10 bins)", "Brier"):
            table.add_column(column, justify="right")
        table.add_row("verdict's", f"{c.ece_5:.3f}", f"{c.ece_10:.3f}", f"{c.brier:.3f}")
        if (w := report.calibration_stated) is not None:
            table.add_row("as written", f"{w.ece_5:.3f}", f"{w.ece_10:.3f}", f"{w.brier:.3f}")
        found.append(table)
    if report.cost:
        table = Table(title="Cost per item")
        for column in ("dataset", "items", "calls", "tokens", "seconds", "median s"):
            table.add_column(column, justify="right")
        for k in report.cost:
            table.add_row(
                k.dataset,
                str(k.items),
                f"{k.calls_per_item:.1f}",
                f"{k.tokens_per_item:.0f}",
                f"{k.seconds_per_item:.1f}",
                f"{k.median_seconds:.1f}",
            )
        found.append(table)
    return found


def _prf_cells(s: Scores) -> list[str]:
    return [f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", f"{s.tp} / {s.n_pred} / {s.n_gold}"]
