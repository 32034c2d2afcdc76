"""Fit the stance model on FNC-1 train and ARC train, calibrate it to real pairs' frequencies, validate
it on held-out stories and topics, and write it with its card.

    python -m pipeline.stance.train ../shared/data/fnc1_train ../shared/data/arc_train

One command, fixed seed, CPU only (about 40 minutes on 2 cores the first time, nearly all of it
embedding 60,000 sentences; the vectors are kept in ``--cache`` and a re-run takes a few minutes).
Folders are read by their files: ``train_*.csv`` is FNC-1 (news), ``arc_*.csv`` is ARC (readers'
opinion posts), both in FNC-1's format and classes.

- Two classifiers, gradient-boosted trees on the features of ``features.py``: related (does the
  article address the claim at all), and stance (backs / debunks / reports) on the related pairs.
  Both are fitted with class-balancing weights within each domain, and ARC's rows weigh
  ``ARC_WEIGHT`` of FNC-1's in all (opinion posts teach debunking; news must stay news).
- Folds group FNC-1 pairs by story (a connected component of the headline-body graph) and ARC pairs
  by topic, so no article, story or topic is on both sides.
- Calibration (``calibration.py``): out-of-fold scores of FNC-1's related pairs as they come (agree
  27 %, disagree 6 %, discuss 66 %) fit the stance map; the method is chosen by held-out figures
  (each fold's map fitted on the other folds). Relatedness is calibrated at equal priors (FNC-1's
  73 % unrelated pairs are random pairings, not what a desk asks about).
- The "debunks" threshold: the stance decision (``model.decide``) names debunks when its calibrated
  probability passes a threshold fitted on the folds (macro-F1), since at 6 % it is rarely the likeliest.
- The final trees are fitted on every row and shipped with the maps as one ONNX graph (``export.py``).
"""

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold

from pipeline._io import write_bytes_atomic, write_text_atomic
from pipeline.stance import calibration as cal
from pipeline.stance.data import Corpus, DataError, EmbeddingCache, feature_rows, read_fnc, sample_bodies
from pipeline.stance.embedder import MODEL_PACKAGE, MODEL_SHA256, TOKENIZER_SHA256, shared_embedder
from pipeline.stance.export import libraries, to_onnx
from pipeline.stance.features import DENSE_NAMES
from pipeline.stance.model import ARTIFACT, CARD, RELATED_CLASSES, STANCE_CLASSES, decide_stance

SEED = 20261127
FOLDS = 5
NEWS, OPINION = "fnc", "arc"
ARC_WEIGHT = 0.5  # ARC's rows in all, against FNC-1's (chosen by FNC-1 folds' macro-F1: docs/stance-model.md)
TREES = {
    "max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15, "l2_regularization": 1.0, "early_stopping": False
}
THRESHOLDS = np.round(np.arange(0.05, 0.60, 0.01), 2)


@dataclass(frozen=True)
class Rows:
    features: np.ndarray
    labels: np.ndarray  # FNC-1's four stances, as words
    groups: np.ndarray  # story (FNC-1) or topic (ARC), prefixed by the domain
    domains: np.ndarray  # NEWS or OPINION

    def take(self, index: np.ndarray) -> "Rows":
        return Rows(self.features[index], self.labels[index], self.groups[index], self.domains[index])


@dataclass(frozen=True)
class Fitted:
    """The two tree ensembles and the maps from their raw scores to calibrated probabilities."""

    related: HistGradientBoostingClassifier
    stance: HistGradientBoostingClassifier
    related_map: cal.Platt
    stance_map: cal.LinearMap
    threshold: float

    def related_probability(self, features: np.ndarray) -> np.ndarray:
        return self.related_map(self.related.decision_function(features))

    def stance_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Columns in ``STANCE_CLASSES`` order."""
        return self.stance_map(self.stance.decision_function(features))


def _trees() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**TREES, random_state=SEED)


def _weights(labels: np.ndarray, domains: np.ndarray, arc_weight: float) -> np.ndarray:
    """Class-balanced within each domain; each domain's rows sum to its share (FNC-1 1, ARC ``arc_weight``)."""
    weights = np.zeros(len(labels))
    for domain, share in ((NEWS, 1.0), (OPINION, arc_weight)):
        inside = domains == domain
        classes = np.unique(labels[inside])
        for label in classes:
            rows = inside & (labels == label)
            weights[rows] = share / (len(classes) * rows.sum())
    return weights * len(labels) / weights.sum()


def fit_trees(rows: Rows, arc_weight: float) -> tuple[HistGradientBoostingClassifier, HistGradientBoostingClassifier]:
    related = rows.labels != "unrelated"
    related_trees = _trees().fit(rows.features, related, sample_weight=_weights(related, rows.domains, arc_weight))
    r = rows.take(np.flatnonzero(related))
    stance_trees = _trees().fit(r.features, r.labels, sample_weight=_weights(r.labels, r.domains, arc_weight))
    if tuple(stance_trees.classes_) != STANCE_CLASSES or tuple(related_trees.classes_) != RELATED_CLASSES:
        raise ValueError(f"classes {stance_trees.classes_} / {related_trees.classes_}: every stance needs rows")
    return related_trees, stance_trees


def folds(rows: Rows, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped by story or topic, stratified by domain and stance."""
    strata = np.char.add(np.char.add(rows.domains.astype(str), "-"), rows.labels.astype(str))
    return list(
        StratifiedGroupKFold(n_splits=count, shuffle=True, random_state=SEED).split(rows.features, strata, rows.groups)
    )


def out_of_fold(
    rows: Rows, splits: list[tuple[np.ndarray, np.ndarray]], arc_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's raw scores from the trees fitted without its fold: related (n,), stance (n, 3); and its fold."""
    related_raw = np.zeros(len(rows.labels))
    stance_raw = np.zeros((len(rows.labels), len(STANCE_CLASSES)))
    fold_of = np.zeros(len(rows.labels), dtype=int)
    for k, (train, test) in enumerate(splits):
        related_trees, stance_trees = fit_trees(rows.take(train), arc_weight)
        related_raw[test] = related_trees.decision_function(rows.features[test])
        stance_raw[test] = stance_trees.decision_function(rows.features[test])
        fold_of[test] = k
    return related_raw, stance_raw, fold_of


@dataclass(frozen=True)
class Validation:
    """Out-of-fold, cross-fitted figures: every map and threshold scoring a fold was fitted on the others."""

    card: dict[str, object]
    stance_map: cal.LinearMap  # chosen and fitted on every fold's news rows
    related_map: cal.Platt
    threshold: float
    oof: dict[str, np.ndarray]  # calibrated out-of-fold probabilities, for the reliability diagrams


def validate(rows: Rows, related_raw: np.ndarray, stance_raw: np.ndarray, fold_of: np.ndarray) -> Validation:
    related_true = rows.labels != "unrelated"
    news = rows.domains == NEWS
    stance_rows = related_true & news
    y = np.array([STANCE_CLASSES.index(label) if label in STANCE_CLASSES else -1 for label in rows.labels])
    folds_ = sorted(set(fold_of.tolist()))
    frequencies = np.bincount(y[stance_rows], minlength=3) / stance_rows.sum()

    # Every map, cross-fitted on the news folds: fold k's rows through the map fitted on the others.
    methods: dict[str, dict[str, float]] = {}
    crossfit: dict[str, np.ndarray] = {}
    for method in cal.METHODS:
        p = np.zeros_like(stance_raw)
        for k in folds_:
            fit_rows, score_rows = stance_rows & (fold_of != k), related_true & (fold_of == k)
            p[score_rows] = cal.fit_map(method, stance_raw[fit_rows], y[fit_rows])(stance_raw[score_rows])
        crossfit[method] = p
        methods[method] = _calibration_figures(p[stance_rows], y[stance_rows], fold_of[stance_rows])
    methods["none (the trees' own, equal priors)"] = _calibration_figures(
        cal.softmax(stance_raw[stance_rows]), y[stance_rows], fold_of[stance_rows]
    )
    # Exportable maps only (isotonic is reported, not shipped: see the card's "calibration").
    chosen = min(("temperature", "dirichlet"), key=lambda m: methods[m]["log_loss"])
    p_stance = crossfit[chosen]

    related_p = np.zeros(len(rows.labels))
    balanced = _weights(related_true, rows.domains, 0.0)  # news rows, equal priors
    for k in folds_:
        fit_rows = news & (fold_of != k)
        related_p[fold_of == k] = cal.fit_platt(related_raw[fit_rows], related_true[fit_rows], balanced[fit_rows])(
            related_raw[fold_of == k]
        )

    # The debunks threshold, fitted on the other folds for each fold's figures.
    tau = np.zeros(len(rows.labels))
    for k in folds_:
        others = stance_rows & (fold_of != k)
        tau[fold_of == k] = _best_threshold(p_stance[others], y[others])
    by_domain: dict[str, object] = {}
    for domain in (NEWS, OPINION):
        mine = rows.domains == domain
        if not (mine & related_true).any():
            continue
        per_fold = [
            {"fold": k, "threshold": float(tau[fold_of == k][0])}
            | _figures(p_stance, y, tau, related_p, related_true, mine & (fold_of == k))
            for k in folds_
            if (mine & related_true & (fold_of == k)).any()
        ]
        keys = [key for key in per_fold[0] if key not in ("fold", "threshold")]
        by_domain[domain] = {
            "pooled": _figures(p_stance, y, tau, related_p, related_true, mine),
            "mean": {key: round(float(np.mean([f[key] for f in per_fold])), 4) for key in keys},
            "std": {key: round(float(np.std([f[key] for f in per_fold])), 4) for key in keys},
            "folds": per_fold,
        }
    final_threshold = _best_threshold(p_stance[stance_rows], y[stance_rows])
    stance_map = cal.fit_map(chosen, stance_raw[stance_rows], y[stance_rows])
    related_map = cal.fit_platt(related_raw[news], related_true[news], balanced[news])
    card = {
        "calibration_methods": methods,
        "calibration_chosen": chosen,
        "calibration_frequencies": dict(zip(STANCE_CLASSES, np.round(frequencies, 4).tolist(), strict=True)),
        "threshold": final_threshold,
        "by_domain": by_domain,
    }
    oof = {"p_stance": p_stance, "y": y, "related_true": related_true, "related_p": related_p, "tau": tau,
           "domains": rows.domains, "fold": fold_of}  # fmt: skip
    return Validation(card, stance_map, related_map, final_threshold, oof)  # type: ignore[arg-type]


def _calibration_figures(p: np.ndarray, y: np.ndarray, fold_of: np.ndarray) -> dict[str, float]:
    top = p.argmax(axis=1)
    per_fold = [
        cal.ece(p[fold_of == k].max(axis=1), top[fold_of == k] == y[fold_of == k])
        for k in sorted(set(fold_of.tolist()))
    ]
    classwise = np.mean([cal.ece(p[:, c], y == c) for c in range(p.shape[1])])
    return {
        "log_loss": round(cal.log_loss(p, y), 4),
        "ece10": round(cal.ece(p.max(axis=1), top == y), 4),
        "ece10_per_fold_mean": round(float(np.mean(per_fold)), 4),
        "classwise_ece10": round(float(classwise), 4),
        "brier": round(float(np.mean(((p - np.eye(p.shape[1])[y]) ** 2).sum(axis=1))), 4),
    }


def _best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    scores = [_macro_f1(y, decide_stance(p, float(t))) for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.argmax(scores))])


def _macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(y, predicted, labels=[0, 1, 2], average="macro", zero_division=0))


def _figures(p: np.ndarray, y: np.ndarray, tau: np.ndarray, related_p: np.ndarray, related_true: np.ndarray,
             rows: np.ndarray) -> dict[str, float]:  # fmt: skip
    """``rows``: a fold's (or a domain's) rows; stance figures on its related ones, each row decided with its
    fold's threshold; the confidence is the decided label's calibrated probability, as a verdict's is."""
    inside = rows & related_true
    p, y, tau = p[inside], y[inside], tau[inside]
    predicted = decide_stance(p, tau)
    per_label = f1_score(y, predicted, labels=[0, 1, 2], average=None, zero_division=0)
    confidence = p[np.arange(len(p)), predicted]
    return {
        "pairs": int(inside.sum()),
        "related_accuracy": round(float(np.mean((related_p[rows] >= 0.5) == related_true[rows])), 4),
        "accuracy": round(float(np.mean(predicted == y)), 4),
        "macro_f1": round(float(np.mean(per_label)), 4),
        **{f"f1_{label}": round(float(v), 4) for label, v in zip(STANCE_CLASSES, per_label, strict=True)},
        "ece10": round(cal.ece(confidence, predicted == y), 4),
        "ece10_argmax": round(cal.ece(p.max(axis=1), p.argmax(axis=1) == y), 4),
    }


def sha256(path: Path) -> str:
    return hashlib.file_digest(path.open("rb"), "sha256").hexdigest()
def read_rows(
    folders: list[Path], vectors_of: "EmbeddingCache", sample: int, folds_count: int
) -> tuple[Rows, list[Corpus]]:
    corpora, parts = [], []
    for folder in folders:
        corpus = read_fnc(folder)
        if sample:
            corpus = sample_bodies(corpus, sample, SEED, per_stance=4 * folds_count)
        features, labels, groups = feature_rows(corpus, vectors_of)  # type: ignore[arg-type]
        corpora.append(corpus)
        parts.append(Rows(features, labels, groups, np.full(len(labels), corpus.domain)))
    if not any(c.domain == NEWS for c in corpora):
        raise DataError("no FNC-1 folder (train_bodies.csv, train_stances.csv): the model is calibrated on news pairs")
    return (
        Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("features", "labels", "groups", "domains"))),
        corpora,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.stance.train", description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, nargs="+", help="FNC-1 train's folder (train_*.csv), and ARC's (arc_*.csv)")
    parser.add_argument("--out", type=Path, default=ARTIFACT.parent, help="folder for the artifact and card")
    parser.add_argument(
        "--sample", type=int, default=0, help="use only this many bodies of each folder (a quick check)"
    )
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--arc-weight", type=float, default=ARC_WEIGHT, help="ARC's rows in all, against FNC-1's")
    parser.add_argument("--oof", type=Path, help="also write the out-of-fold probabilities here (.npz: the diagrams)")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "factcheck" / "stance-train",
        help="folder for sentence vectors kept between runs (the same weights give the same vectors)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        libraries()  # the export at the end needs skl2onnx: say so now, not after the fit
    except ImportError as error:
        print(f"error: {error.name} is not installed (the train extra: pip install -e '.[train]')", file=sys.stderr)
        return 1
    started = time.perf_counter()
    vectors = EmbeddingCache(args.cache, shared_embedder().embed, MODEL_SHA256 + TOKENIZER_SHA256)
    try:
        rows, corpora = read_rows(args.data, vectors, args.sample, args.folds)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    vectors.save()
    prepared = time.perf_counter() - started
    print(
        f"{len(rows.labels)} pairs, features in {prepared:.0f} s; {args.folds}-fold grouped cross-validation…",
        file=sys.stderr,
    )
    splits = folds(rows, args.folds)
    validation = validate(rows, *out_of_fold(rows, splits, args.arc_weight))
    related_trees, stance_trees = fit_trees(rows, args.arc_weight)
    fitted = Fitted(related_trees, stance_trees, validation.related_map, validation.stance_map, validation.threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    artifact = args.out / ARTIFACT.name
    write_bytes_atomic(artifact, to_onnx(fitted))
    if args.oof:
        np.savez(args.oof, **validation.oof)
    card = _card(corpora, rows, args, validation, fitted, artifact, prepared, time.perf_counter() - started)
    write_text_atomic(args.out / CARD.name, json.dumps(card, indent=2) + "\n")
    print(json.dumps({d: v["mean"] for d, v in validation.card["by_domain"].items()}, indent=2))  # type: ignore[union-attr]
    print(f"wrote {artifact} ({artifact.stat().st_size / 1e6:.1f} MB) and {args.out / CARD.name}", file=sys.stderr)
    return 0


def _card(corpora: list[Corpus], rows: Rows, args: argparse.Namespace, validation: Validation, fitted: Fitted,
          artifact: Path, prepared: float, seconds: float) -> dict[str, object]:  # fmt: skip
    def counts(corpus: Corpus) -> dict[str, object]:
        stances = {
            label: sum(p.stance == label for p in corpus.pairs)
            for label in ("agree", "disagree", "discuss", "unrelated")
        }
        groups = len(set(rows.groups[rows.domains == corpus.domain].tolist()))
        return {"pairs": len(corpus.pairs), "bodies": len(corpus.bodies), "groups": groups, "stances": stances}

    data = {
        corpus.domain: {"folder": str(folder), **counts(corpus)}
        for folder, corpus in zip(args.data, corpora, strict=True)
    }
    command = "python -m pipeline.stance.train " + " ".join(str(d) for d in args.data)
    command += f" --sample {args.sample}" if args.sample else ""
    command += f" --arc-weight {args.arc_weight}" if args.arc_weight != ARC_WEIGHT else ""
    command += f" --folds {args.folds}" if args.folds != FOLDS else ""
    v = validation.card
    return {
        "artifact": artifact.name,
        "sha256": sha256(artifact),
        "bytes": artifact.stat().st_size,
        "command": command,
        "seed": SEED,
        "data": data,
        "domain_weights": {NEWS: 1.0, OPINION: args.arc_weight},
        "trees": TREES,
        "inputs": {
            "embeddings": {"package": MODEL_PACKAGE, "sha256": MODEL_SHA256, "tokenizer_sha256": TOKENIZER_SHA256},
            "dense_features": list(DENSE_NAMES),
        },
        "classes": {"related": list(RELATED_CLASSES), "stance": list(STANCE_CLASSES)},
        "calibration": {
            "stance": {
                "conditioned_on": "FNC-1 train's related pairs as they come (out-of-fold scores, story-grouped folds)",
                "class_frequencies": v["calibration_frequencies"],
                "map": fitted.stance_map.as_dict(),
                "chosen_by": "lowest held-out log-loss of the exportable maps, each fold's map fitted on the others",
                "methods_held_out": v["calibration_methods"],
            },
            "related": {
                "conditioned_on": "equal priors (FNC-1's 73 % unrelated pairs are random pairings, not a desk's)",
                "platt": {
                    "slope": round(fitted.related_map.slope, 6), "intercept": round(fitted.related_map.intercept, 6)
                },
            },
        },
        "decision": {
            "debunks_threshold": fitted.threshold,
            "rule": "disagree when P(disagree | related) >= the threshold, else the likelier of agree and discuss",
            "chosen_by": "macro-F1 on the news folds' cross-fitted probabilities "
            "(each fold's own threshold fitted on the others)",
        },
        "validation": {
            "method": f"{args.folds}-fold StratifiedGroupKFold: FNC-1 by story, ARC by topic "
            "(whole stories and topics held out); every figure out-of-fold; maps and thresholds cross-fitted",
            **v["by_domain"],  # type: ignore[dict-item]
        },
        "seconds": {"features": round(prepared, 1), "total": round(seconds, 1)},
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, **libraries()},
        "runtime": "onnxruntime",
    }


if __name__ == "__main__":
    raise SystemExit(main())
