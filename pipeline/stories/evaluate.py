"""How well claims group into stories, measured on FNC-1's own grouping.

    python -m pipeline.stories.evaluate ../shared/data/fnc1_train --sample 300

In FNC-1 a story is a connected component of the headline-body graph of related pairs
(``pipeline.stance.data.stories``). The stories are shuffled (fixed seed) and split in two halves
that share no story: the threshold is tuned on bodies sampled from one half and the figures are
reported on bodies sampled from the other. Each sampled body's related headlines are the claims;
they are embedded with the shipped MiniLM and clustered as ``factcheck`` clusters claims; B-cubed
precision, recall and F1 compare the clusters with the stories.
"""

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.stance.data import Corpus, DataError, read_fnc, stories
from pipeline.stories.bcubed import BCubed, b_cubed
from pipeline.stories.cluster import DISTANCE_THRESHOLD, LINKAGE, cluster

SEED = 20261128
THRESHOLDS = tuple(round(t, 3) for t in np.arange(0.20, 0.801, 0.025))
LINKAGES = ("average", "complete", "single")


@dataclass(frozen=True)
class Claims:
    """Headlines as claims and their gold stories."""

    texts: list[str]
    gold: np.ndarray

    @property
    def stories(self) -> int:
        return len(set(self.gold.tolist()))


def split_stories(corpus: Corpus, seed: int) -> tuple[set[int], set[int]]:
    """Two halves of the stories with at least one related pair, sharing none: (tune, report)."""
    story = stories(corpus)
    related = {story[p.body_id] for p in corpus.pairs if p.stance != "unrelated"}
    order = np.random.default_rng(seed).permutation(sorted(related)).tolist()
    half = len(order) // 2
    return set(order[:half]), set(order[half:])


def sample_claims(corpus: Corpus, within: set[int], bodies: int, seed: int) -> Claims:
    """The related headlines of ``bodies`` bodies drawn at random from the stories ``within``."""
    story = stories(corpus)
    related: dict[str, set[str]] = {}
    for pair in corpus.pairs:
        if pair.stance != "unrelated" and story[pair.body_id] in within:
            related.setdefault(pair.body_id, set()).add(pair.headline)
    pool = sorted(related)
    chosen = np.random.default_rng(seed).choice(len(pool), size=min(bodies, len(pool)), replace=False)
    headlines: dict[str, int] = {}
    for index in sorted(chosen.tolist()):
        body = pool[index]
        for headline in sorted(related[body]):
            headlines[headline] = story[body]  # a headline lies in one story (it is one graph node)
    texts = sorted(headlines)
    return Claims(texts, np.array([headlines[t] for t in texts]))


def score(vectors: np.ndarray, claims: Claims, threshold: float, linkage: str) -> tuple[BCubed, int]:
    labels = cluster(vectors, threshold, linkage).labels
    return b_cubed(labels.tolist(), claims.gold.tolist()), len(set(labels.tolist()))


def tune(vectors: np.ndarray, claims: Claims) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for linkage in LINKAGES:
        for threshold in THRESHOLDS:
            measured, found = score(vectors, claims, threshold, linkage)
            rows.append(_row(linkage, threshold, measured, found))
    return rows


def _row(method: str, threshold: float, measured: BCubed, found: int) -> dict[str, object]:
    return {
        "method": method, "threshold": threshold, "precision": round(measured.precision, 4),
        "recall": round(measured.recall, 4), "f1": round(measured.f1, 4), "stories_found": found,
    }  # fmt: skip


def density_baselines(vectors: np.ndarray, claims: Claims) -> list[dict[str, object]]:
    """DBSCAN and HDBSCAN (scikit-learn) on the same vectors, for comparison."""
    from sklearn.cluster import DBSCAN, HDBSCAN

    rows = []
    for eps in THRESHOLDS:
        labels = DBSCAN(eps=eps, min_samples=2, metric="cosine").fit_predict(vectors)
        labels = _noise_as_singletons(labels)
        rows.append(_row("dbscan", eps, b_cubed(labels.tolist(), claims.gold.tolist()), len(set(labels.tolist()))))
    for size in (2, 3, 5):
        labels = _noise_as_singletons(HDBSCAN(min_cluster_size=size, metric="cosine").fit_predict(vectors))
        rows.append(_row(f"hdbscan(min_cluster_size={size})", 0.0, b_cubed(labels.tolist(), claims.gold.tolist()), len(set(labels.tolist()))))
    return rows


def _noise_as_singletons(labels: np.ndarray) -> np.ndarray:
    """Density methods leave outliers unlabelled (-1); each is a story of its own here."""
    labels = labels.copy()
    noise = labels < 0
    labels[noise] = labels.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    return labels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.stories.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("fnc1_train", type=Path, help="FNC-1 train folder (train_bodies.csv, train_stances.csv).")
    parser.add_argument("--sample", type=int, default=300, help="Bodies sampled from each half (default 300).")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--compare", action="store_true", help="Also score DBSCAN and HDBSCAN on the tuning sample.")
    parser.add_argument("--json", type=Path, help="Write every figure here as JSON.")
    args = parser.parse_args(argv)
    try:
        corpus = read_fnc(args.fnc1_train)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    from pipeline.stance.embedder import shared_embedder

    tune_stories, report_stories = split_stories(corpus, args.seed)
    tuning = sample_claims(corpus, tune_stories, args.sample, args.seed)
    reporting = sample_claims(corpus, report_stories, args.sample, args.seed + 1)
    started = time.perf_counter()
    embedder = shared_embedder()
    tune_vectors, report_vectors = embedder.embed(tuning.texts), embedder.embed(reporting.texts)
    embed_seconds = time.perf_counter() - started

    grid = tune(tune_vectors, tuning)
    best = max(grid, key=lambda r: (r["f1"], -abs(float(r["threshold"]) - DISTANCE_THRESHOLD)))
    shipped, shipped_found = score(report_vectors, reporting, DISTANCE_THRESHOLD, LINKAGE)
    tuned, tuned_found = score(report_vectors, reporting, float(best["threshold"]), str(best["method"]))
    figures: dict[str, object] = {
        "seed": args.seed,
        "sample_bodies": args.sample,
        "tuning": {"claims": len(tuning.texts), "true_stories": tuning.stories, "best": best},
        "report": {
            "claims": len(reporting.texts),
            "true_stories": reporting.stories,
            "shipped": _row(LINKAGE, DISTANCE_THRESHOLD, shipped, shipped_found),
            "tuned_here": _row(str(best["method"]), float(best["threshold"]), tuned, tuned_found),
        },
        "embedding_seconds": round(embed_seconds, 2),
        "grid": grid,
    }
    if args.compare:
        figures["density_baselines"] = density_baselines(tune_vectors, tuning)
    print(f"tuning sample: {len(tuning.texts)} headlines from {args.sample} bodies, {tuning.stories} true stories")
    print(f"  best on it: {best['method']} linkage, cosine distance <= {best['threshold']}: F1 {best['f1']}")
    if args.compare:
        for row in figures["density_baselines"]:  # type: ignore[attr-defined]
            print(f"  {row['method']} eps {row['threshold']}: P {row['precision']} R {row['recall']} F1 {row['f1']}")
    print(f"report sample (other stories): {len(reporting.texts)} headlines, {reporting.stories} true stories")
    print(
        f"  shipped setting ({LINKAGE}, {DISTANCE_THRESHOLD}): B-cubed P {shipped.precision:.3f} R {shipped.recall:.3f} "
        f"F1 {shipped.f1:.3f}; {shipped_found} stories found vs {reporting.stories} true"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
