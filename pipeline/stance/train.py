"""Fit the stance model on FNC-1 train, validate it on held-out stories, and write it with its card.

    python -m pipeline.stance.train ../shared/data/fnc1_train

One command, fixed seed, CPU only (about 25 minutes on 2 cores the first time, nearly all of it
embedding 31,700 sentences; the vectors are kept in ``--cache`` and a re-run takes a minute or two).
Two calibrated classifiers, each scikit-learn's ``CalibratedClassifierCV`` over folds grouped by
story (a connected component of FNC-1's headline-body graph), so no article, and no other article
about the same story, sits on both sides:
- related: does the article address the claim at all (every pair);
- stance: backs (agree), debunks (disagree) or reports (discuss), on the related pairs.
Both are weighted to equal class priors: a desk's claims are not 73% unrelated or 66% "discuss"
as FNC-1's are, so the model should not presume it. The figures in the card come from 5-fold
grouped cross-validation of the same recipe, on rows each fold never saw. The fitted classifiers
are written as one ONNX graph (``export.py``, the ``train`` extra's skl2onnx), which the pipeline
runs with onnxruntime: scikit-learn is needed to train, not to judge.
"""

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.class_weight import compute_sample_weight

from pipeline._io import write_bytes_atomic, write_text_atomic
from pipeline.stance.data import Corpus, DataError, EmbeddingCache, feature_rows, read_fnc, sample_bodies
from pipeline.stance.embedder import MODEL_PACKAGE, MODEL_SHA256, TOKENIZER_SHA256, shared_embedder
from pipeline.stance.export import libraries, to_onnx
from pipeline.stance.features import DENSE_NAMES
from pipeline.stance.model import ARTIFACT, CARD, RELATED_CLASSES, STANCE_CLASSES

SEED = 20261127
FOLDS = 5


INNER_FOLDS = 3  # calibration folds inside each fit, also grouped by story


@dataclass(frozen=True)
class Fitted:
    """The two fitted scikit-learn classifiers, as cross-validation scores them and ``to_onnx`` exports them."""

    related: CalibratedClassifierCV  # P(the article addresses the claim)
    stance: CalibratedClassifierCV  # P(agree | disagree | discuss), given that it does

    def related_probability(self, features: np.ndarray) -> np.ndarray:
        return self.related.predict_proba(features)[:, list(self.related.classes_).index(True)]

    def stance_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Columns in ``STANCE_CLASSES`` order."""
        columns = list(self.stance.classes_)
        return self.stance.predict_proba(features)[:, [columns.index(label) for label in STANCE_CLASSES]]


def calibrated_classifier(folds: list[tuple[np.ndarray, np.ndarray]]) -> CalibratedClassifierCV:
    """Gradient-boosted trees (scikit-learn's histogram GBM), calibrated by temperature scaling
    fitted on held-out stories (it keeps the ranking and fixes over- or under-confidence). Build
    and fit it inside ``sklearn.config_context(enable_metadata_routing=True)``: the class-balancing
    weights then reach both the trees and the calibrator."""
    trees = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=SEED
    ).set_fit_request(sample_weight=True)
    return CalibratedClassifierCV(trees, method="temperature", cv=folds)


def _fit_balanced(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> CalibratedClassifierCV:
    splitter = StratifiedGroupKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=SEED)
    folds = list(splitter.split(features, labels, groups))
    classes = set(labels.tolist())
    for train, _ in folds:
        if set(labels[train].tolist()) != classes:
            raise ValueError(f"too few stories to fit: a calibration fold has no {sorted(classes - set(labels[train].tolist()))} rows")
    with sklearn.config_context(enable_metadata_routing=True):
        return calibrated_classifier(folds).fit(features, labels, sample_weight=compute_sample_weight("balanced", labels))


def fit(features: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> Fitted:
    related = labels != "unrelated"
    related_model = _fit_balanced(features, related, groups)
    stance_model = _fit_balanced(features[related], labels[related], groups[related])
    return Fitted(related_model, stance_model)


def cross_validate(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int) -> dict[str, object]:
    """The recipe's figures on held-out bodies: per fold and their spread."""
    per_fold: list[dict[str, float]] = []
    for train, test in StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED).split(features, labels, groups):
        model = fit(features[train], labels[train], groups[train])
        per_fold.append(_scores(model, features[test], labels[test]))
    keys = per_fold[0].keys()
    return {
        "folds": per_fold,
        "mean": {k: round(float(np.mean([f[k] for f in per_fold])), 3) for k in keys},
        "std": {k: round(float(np.std([f[k] for f in per_fold])), 3) for k in keys},
    }


def _scores(model: Fitted, features: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    related_probability = model.related_probability(features)
    related_true = labels != "unrelated"
    scores = {"related_accuracy": accuracy_score(related_true, related_probability >= 0.5)}
    stance_rows = related_true
    probabilities = model.stance_probabilities(features[stance_rows])
    truth = labels[stance_rows]
    predicted = np.array(STANCE_CLASSES)[probabilities.argmax(axis=1)]
    per_label = f1_score(truth, predicted, labels=list(STANCE_CLASSES), average=None, zero_division=0)
    # Equal class weights, as the model is calibrated to equal priors.
    weights = compute_sample_weight("balanced", truth)
    confidence = probabilities.max(axis=1)
    scores |= {
        "stance_accuracy": accuracy_score(truth, predicted),
        "stance_balanced_accuracy": accuracy_score(truth, predicted, sample_weight=weights),
        "macro_f1": float(np.mean(per_label)),
        **{f"f1_{label}": float(value) for label, value in zip(STANCE_CLASSES, per_label, strict=True)},
        "ece10_balanced": weighted_ece(confidence, predicted == truth, weights),
        "ece10": weighted_ece(confidence, predicted == truth, np.ones_like(confidence)),
    }
    return {k: round(float(v), 4) for k, v in scores.items()}


def weighted_ece(confidence: np.ndarray, correct: np.ndarray, weights: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width bins (as ``pipeline.eval._metrics``), each row counted with its weight:
    with class-balancing weights it is the ECE on a sample whose classes are equally frequent."""
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    total = weights.sum()
    gap = 0.0
    for b in range(bins):
        w = weights[index == b]
        if w.sum():
            gap += w.sum() / total * abs(np.average(correct[index == b], weights=w) - np.average(confidence[index == b], weights=w))
    return float(gap)


def sha256(path: Path) -> str:
    return hashlib.file_digest(path.open("rb"), "sha256").hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.stance.train", description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the fnc1_train folder (train_bodies.csv, train_stances.csv)")
    parser.add_argument("--out", type=Path, default=ARTIFACT.parent, help="folder for the artifact and card")
    parser.add_argument("--sample", type=int, default=0, help="use only this many bodies (a quick check)")
    parser.add_argument("--folds", type=int, default=FOLDS)
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
    try:
        corpus = read_fnc(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.sample:
        corpus = sample_bodies(corpus, args.sample, SEED, per_stance=4 * args.folds)
    started = time.perf_counter()
    print(f"{len(corpus.pairs)} pairs over {len(corpus.bodies)} bodies: embedding and features…", file=sys.stderr)
    vectors = EmbeddingCache(args.cache, shared_embedder().embed, MODEL_SHA256 + TOKENIZER_SHA256)
    features, labels, groups = feature_rows(corpus, vectors)
    vectors.save()
    prepared = time.perf_counter() - started
    print(f"features in {prepared:.0f} s; {args.folds}-fold grouped cross-validation…", file=sys.stderr)
    validation = cross_validate(features, labels, groups, args.folds)
    model = fit(features, labels, groups)
    args.out.mkdir(parents=True, exist_ok=True)
    artifact = args.out / ARTIFACT.name
    write_bytes_atomic(artifact, to_onnx(model.related, model.stance))
    card = _card(corpus, args, validation, artifact, prepared, time.perf_counter() - started)
    write_text_atomic(args.out / CARD.name, json.dumps(card, indent=2) + "\n")
    print(json.dumps(validation["mean"], indent=2))
    print(f"wrote {artifact} ({artifact.stat().st_size / 1e6:.1f} MB) and {args.out / CARD.name}", file=sys.stderr)
    return 0


def _card(corpus: Corpus, args: argparse.Namespace, validation: dict[str, object], artifact: Path,
          prepared: float, seconds: float) -> dict[str, object]:  # fmt: skip
    counts = {label: sum(p.stance == label for p in corpus.pairs) for label in ("agree", "disagree", "discuss", "unrelated")}
    return {
        "artifact": artifact.name,
        "sha256": sha256(artifact),
        "bytes": artifact.stat().st_size,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m pipeline.stance.train {args.data}" + (f" --sample {args.sample}" if args.sample else ""),
        "seed": SEED,
        "data": {"folder": str(args.data), "pairs": len(corpus.pairs), "bodies": len(corpus.bodies), "stances": counts},
        "inputs": {
            "embeddings": {"package": MODEL_PACKAGE, "sha256": MODEL_SHA256, "tokenizer_sha256": TOKENIZER_SHA256},
            "dense_features": list(DENSE_NAMES),
        },
        "classes": {"related": list(RELATED_CLASSES), "stance": list(STANCE_CLASSES)},
        "calibration": f"temperature scaling (CalibratedClassifierCV) on {INNER_FOLDS} inner story-grouped folds, equal class priors",
        "validation": {
            "method": f"{args.folds}-fold StratifiedGroupKFold by story (whole stories, so whole bodies, held out)",
            **validation,
        },
        "seconds": {"features": round(prepared, 1), "total": round(seconds, 1)},
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, **libraries()},
        "runtime": "onnxruntime",
    }


if __name__ == "__main__":
    raise SystemExit(main())
