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
from pipeline.stories.bcubed import b_cubed
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


def labels_of(vectors: np.ndarray, method: str, parameter: float) -> np.ndarray:
    """Story numbers by one method: ``average``/``complete``/``single`` linkage under a cosine
    distance threshold (what factcheck does, ``cluster``), or scikit-learn's DBSCAN (``parameter``
    = eps, min_samples 2) or HDBSCAN (``parameter`` = min_cluster_size) for comparison, their
    outliers each a story of its own."""
    if method in LINKAGES:
        return cluster(vectors, parameter, method).labels
    from sklearn.cluster import DBSCAN, HDBSCAN

    if method == "dbscan":
        return _noise_as_singletons(DBSCAN(eps=parameter, min_samples=2, metric="cosine").fit_predict(vectors))
    return _noise_as_singletons(
        HDBSCAN(min_cluster_size=int(parameter), metric="cosine", copy=True).fit_predict(vectors)
    )


def score(vectors: np.ndarray, claims: Claims, method: str, parameter: float) -> dict[str, object]:
    labels = labels_of(vectors, method, parameter)
    measured = b_cubed(labels.tolist(), claims.gold.tolist())
    return {
        "method": method, "parameter": parameter, "precision": round(measured.precision, 4),
        "recall": round(measured.recall, 4), "f1": round(measured.f1, 4), "stories_found": len(set(labels.tolist())),
    }  # fmt: skip


def grid(compare: bool) -> list[tuple[str, float]]:
    settings = [(linkage, t) for linkage in LINKAGES for t in THRESHOLDS]
    if compare:
        settings += [("dbscan", t) for t in THRESHOLDS] + [("hdbscan", float(size)) for size in (2, 3, 5, 8)]
    return settings


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

    tuned = [score(tune_vectors, tuning, method, parameter) for method, parameter in grid(args.compare)]
    best: dict[str, dict[str, object]] = {}
    for row in tuned:  # per method, its best setting on the tuning sample (ties: the first)
        if row["method"] not in best or float(row["f1"]) > float(best[str(row["method"])]["f1"]):
            best[str(row["method"])] = row
    reported = {m: score(report_vectors, reporting, m, float(b["parameter"])) for m, b in best.items()}
    shipped = score(report_vectors, reporting, LINKAGE, DISTANCE_THRESHOLD)
    figures: dict[str, object] = {
        "seed": args.seed,
        "sample_bodies": args.sample,
        "tuning": {"claims": len(tuning.texts), "true_stories": tuning.stories, "best": best},
        "report": {
            "claims": len(reporting.texts), "true_stories": reporting.stories, "shipped": shipped,
            "by_method": reported,
        },
        "embedding_seconds": round(embed_seconds, 2),
        "grid": tuned,
    }
    print(f"tuning sample: {len(tuning.texts)} headlines from {args.sample} bodies, {tuning.stories} true stories")
    print(f"report sample (other stories): {len(reporting.texts)} headlines, {reporting.stories} true stories")
    print("method      setting (tuned)   tuning F1   report P / R / F1        stories found (true)")
    for method, row in best.items():
        got = reported[method]
        print(
            f"{method:<11} {row['parameter']:<17} {row['f1']:<11} {got['precision']:.3f} / {got['recall']:.3f} / "
            f"{got['f1']:.3f}    {got['stories_found']} ({reporting.stories})"
        )
    print(
        f"shipped ({LINKAGE}, cosine distance <= {DISTANCE_THRESHOLD}) on the report sample: B-cubed P "
        f"{shipped['precision']:.3f} R {shipped['recall']:.3f} F1 {shipped['f1']:.3f}; "
        f"{shipped['stories_found']} stories found vs {reporting.stories} true"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
