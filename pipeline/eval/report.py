"""The evaluation report on the terminal (rich tables) and as plots."""

from pathlib import Path

from rich.table import Table

from pipeline.eval import _plots
from schemas.evaluation import EvalReport, Scores


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
                report.stance.confusion, report.stance.labels, out_dir / "confusion.png",
                title=f"Stance, {report.model}",
            )
        )
    return [p.name for p in written]


def tables(report: EvalReport) -> list[Table]:
    """The report as rich tables for the terminal; metrics.json holds the same numbers."""
    found: list[Table] = []
    if report.attribution is not None:
        a = report.attribution
        table = Table(
            title=f"Attribution ({a.documents} docs, {a.gold_attributions} gold, {a.predicted_claims} claims)"
        )
        for column in ("span", "match", "precision", "recall", "F1", "tp / pred / gold"):
            table.add_column(column, justify="left" if column in ("span", "match") else "right")
        for name, scores in (("source", a.source), ("cue", a.cue), ("content", a.content)):
            for mode, s in (("exact", scores.exact), ("overlap", scores.overlap)):
                table.add_row(name, mode, *_prf_cells(s))
        table.add_row("claimant name", "normalized", *_prf_cells(a.claimant_name))
        table.caption = (
            f"claim coverage {a.claim_coverage:.3f} of gold contents; {a.claims_per_article:.1f} claims per article, "
            f"{a.standalone_share:.1%} standing alone"
        )
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
