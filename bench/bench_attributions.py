"""Score the rule-based attribution stage alone against PolNeAR gold; no LLM.

    .venv/bin/python bench/bench_attributions.py [--polnear ../shared/data/polnear_dev] [--show N]

Uses the same metric functions as ``factcheck eval`` (``pipeline.eval._metrics``, ``load_polnear``).
Documents are sorted by id: the first half is the development half (rules were developed
looking at it), the second half is held out (only ever scored).
"""

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from pipeline.eval import _metrics as m
from pipeline.eval.datasets import PolnearDoc, load_polnear
from pipeline.text.attributions import find_attributions
from schemas import Attribution, Span

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "polnear_dev"
PARTS = ("source", "cue", "content")
TIMING_ROUNDS = 20


def _segments(span: Span | None) -> list[m.SpanSegments]:
    return [((span.start, span.end),)] if span is not None else []


def score(docs: Sequence[PolnearDoc], found: dict[str, list[Attribution]]) -> dict[str, m.PRF]:
    totals: dict[str, m.PRF] = {}
    for doc in docs:
        predicted = {part: [s for a in found[doc.id] for s in _segments(getattr(a, part))] for part in PARTS}
        gold = {part: [g for a in doc.attributions if (g := getattr(a, part))] for part in PARTS}
        for part in PARTS:
            for mode in ("exact", "overlap"):
                prf = m.span_prf(predicted[part], gold[part], overlap=mode == "overlap")
                totals[f"{part} {mode}"] = totals.get(f"{part} {mode}", m.PRF(0, 0, 0)) + prf
        names = [doc.article.text[a.source.start : a.source.end] for a in found[doc.id] if a.source]
        prf = m.name_prf(names, [a.source_text for a in doc.attributions if a.source_text])
        totals["claimant name"] = totals.get("claimant name", m.PRF(0, 0, 0)) + prf
    return totals


def print_table(title: str, totals: dict[str, m.PRF]) -> None:
    print(f"\n{title}")
    print(f"  {'span':<16}{'P':>7}{'R':>7}{'F1':>7}   tp / pred / gold")
    for name, prf in totals.items():
        print(
            f"  {name:<16}{prf.precision:7.3f}{prf.recall:7.3f}{prf.f1:7.3f}   {prf.tp} / {prf.n_pred} / {prf.n_gold}"
        )


def show_misses(doc: PolnearDoc, found: list[Attribution], limit: int) -> None:
    """Gold sources with no overlapping prediction: what to look at next (development half only)."""
    text = doc.article.text
    predicted = [((a.source.start, a.source.end),) for a in found if a.source]
    print(f"\n== {doc.id}")
    for gold in doc.attributions[:limit]:
        if gold.source and not any(m.overlap_chars(m.normalize_span(gold.source), p) for p in predicted):
            s, e = gold.source[0]
            print(f"  missed source {text[s:e]!r} cue {text[gold.cue[0][0] : gold.cue[-1][1]]!r}" if gold.cue else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polnear", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", type=int, default=0, help="list up to N missed gold sources per development doc")
    args = parser.parse_args()

    docs = sorted(load_polnear(args.polnear), key=lambda d: d.id)
    half = len(docs) // 2
    found = {doc.id: find_attributions(doc.article.text) for doc in docs}

    milliseconds: list[float] = []
    for doc in docs:
        clock = time.perf_counter()
        for _ in range(TIMING_ROUNDS):
            find_attributions(doc.article.text)
        milliseconds.append((time.perf_counter() - clock) * 1000 / TIMING_ROUNDS)
    words = [len(doc.article.text.split()) for doc in docs]

    print(
        f"{len(docs)} docs, {sum(len(d.attributions) for d in docs)} gold attributions, "
        f"{sum(len(f) for f in found.values())} found"
    )
    print_table(f"development half (first {half} docs by id)", score(docs[:half], found))
    print_table(f"held-out half (last {len(docs) - half} docs)", score(docs[half:], found))
    print_table("overall", score(docs, found))
    per_1000 = [ms * 1000 / w for ms, w in zip(milliseconds, words)]
    print(
        f"\ntime: median {statistics.median(milliseconds):.2f} ms per article, max {max(milliseconds):.2f} ms; "
        f"median {statistics.median(per_1000):.2f} ms per 1,000 words"
    )
    if args.show:
        for doc in docs[:half]:
            show_misses(doc, found[doc.id], args.show)


if __name__ == "__main__":
    main()
