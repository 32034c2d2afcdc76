"""Scoring predictions against the gold labels: attribution spans, stance, calibration and cost."""

import statistics
from collections.abc import Sequence

from pipeline.eval import _metrics as m
from pipeline.eval.datasets import STANCE_LABELS, FncPair, PolnearDoc
from pipeline.text.standalone import stands_alone
from schemas import ArticleResult, RunInfo, Usage, VerdictLabel
from schemas.check import CheckResult, ClaimOrigin
from schemas.evaluation import (
    AttributionMetrics,
    CalibrationMetrics,
    ClassScores,
    CostMetrics,
    ReliabilityBin,
    Scores,
    SpanScores,
    StanceMetrics,
)

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
AUTHOR_CLAIMANTS = frozenset({"article", "the article", "author", "the author"})  # no named source to score


def predicted_attributions(
    result: ArticleResult,
) -> tuple[list[m.SpanSegments], list[m.SpanSegments], list[m.SpanSegments], list[str]]:
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
    predicted_claims = standalone = 0
    covered = with_content = 0
    for doc in docs:
        result = results[doc.id]
        predicted_claims += len(result.claims)
        # Checked anew, against the article: old results too.
        standalone += sum(stands_alone(c.statement, result.text) for c in result.claims)
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
        standalone_share=round(standalone / predicted_claims, 4) if predicted_claims else 0.0,
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


def score_calibration(
    pairs: Sequence[FncPair], results: dict[str, CheckResult], *, stated: bool = False
) -> CalibrationMetrics:
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
        bins=[
            ReliabilityBin(lo=b.lo, hi=b.hi, count=b.count, confidence=b.confidence, accuracy=b.accuracy) for b in bins
        ],
    )


def cost(dataset: str, runs: Sequence[RunInfo]) -> CostMetrics:
    n = len(runs)
    usage = Usage.total(used for r in runs for used in r.usage.values())
    seconds = sum(r.seconds for r in runs)
    return CostMetrics(
        dataset=dataset,
        items=n,
        usage=usage,
        wall_seconds=round(seconds, 3),
        calls_per_item=usage.calls / n if n else 0.0,
        tokens_per_item=usage.tokens / n if n else 0.0,
        seconds_per_item=seconds / n if n else 0.0,
        median_seconds=statistics.median(r.seconds for r in runs) if n else 0.0,
    )


def _scores(prf: m.PRF) -> Scores:
    return Scores(
        precision=prf.precision, recall=prf.recall, f1=prf.f1, tp=prf.tp, n_pred=prf.n_pred, n_gold=prf.n_gold
    )


def _class_scores(gold: Sequence[str], predicted: Sequence[str], label: str) -> ClassScores:
    prf = m.class_prf(gold, predicted, label)
    return ClassScores(
        label=label, precision=prf.precision, recall=prf.recall, f1=prf.f1, support=prf.n_gold, predicted=prf.n_pred
    )
