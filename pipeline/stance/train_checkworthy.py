"""Fit the check-worthiness model on ClaimBuster's debate sentences and write it with its card.

    python -m pipeline.stance.train_checkworthy ../shared/data/claimbuster_train

One command, fixed seed, CPU only (about a minute on 2 cores the first time, nearly all of it
embedding 7,974 sentences; the vectors are kept in ``--cache``, and a re-run takes seconds).
The model is scikit-learn's ``StandardScaler`` and ``LogisticRegression`` over each sentence's
MiniLM embedding and the cues of ``_worthiness_features.py``. It cross-validated better than
gradient-boosted trees on the same rows (``docs/checkworthiness.md``), and it is deterministic:
lbfgs from zero on the same rows gives the same weights, so the same artifact byte for byte.

Validation is 5-fold, stratified and grouped: the ids are ClaimBuster's sentence ids, numbered
through the debates in order, so a block of 1,000 consecutive ids (about one debate) is held out
whole and no exchange sits on both sides. The threshold is the probability at which F1 on the
check-worthy class peaks over the pooled out-of-fold predictions; the card gives each fold's F1,
precision and recall at it and at 0.5. The fitted pipeline is written as ONNX (skl2onnx, the
``train`` extra), which the pipeline runs with onnxruntime.
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
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from pipeline._io import write_bytes_atomic, write_text_atomic
from pipeline.stance._worthiness_features import CUE_NAMES, WIDTH, worthiness_rows
from pipeline.stance.checkworthy import ARTIFACT, CARD, CLASSES
from pipeline.stance.data import EmbeddingCache
from pipeline.stance.embedder import MODEL_PACKAGE, MODEL_SHA256, TOKENIZER_SHA256, shared_embedder
from pipeline.text.ingest import InputError, parse_json_object

SEED = 20261127
FOLDS = 5
# inverse L2 strength: best of 0.003-1 by cross-validated F1 (with 400 columns on 8k rows, strong shrinkage pays)
C = 0.01
GROUP_IDS = 1000  # consecutive sentence ids per validation group: about one debate
OPSET = 17


@dataclass(frozen=True)
class Sentences:
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # 1 check-worthy, 0 not
    groups: np.ndarray  # block of consecutive ids


class DataError(ValueError):
    """The training folder is not ClaimBuster's sentences.jsonl."""


def read_claimbuster(folder: Path) -> Sentences:
    path = folder / "sentences.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: not found (expected ClaimBuster's sentences.jsonl: id, text, checkworthy)")
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = parse_json_object(line, where, expected="a JSON object with id, text and checkworthy")
            except InputError as error:
                raise DataError(str(error)) from None
            sentence_id, text, label = record.get("id"), record.get("text"), record.get("checkworthy")
            if not isinstance(sentence_id, str) or not sentence_id.rpartition("-")[2].isdigit():
                raise DataError(f"{where}: 'id' is not a string ending in a number, as 'cb-23782'")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"{where}: 'text' is not a non-empty string")
            if not isinstance(label, bool):
                raise DataError(f"{where}: 'checkworthy' is not true or false")
            ids.append(sentence_id)
            texts.append(text)
            labels.append(int(label))
    if len(set(labels)) < 2:
        raise DataError(f"{path}: needs both check-worthy and other sentences")
    groups = np.array([int(i.rpartition("-")[2]) // GROUP_IDS for i in ids])
    return Sentences(ids, texts, np.array(labels), groups)


def sample(data: Sentences, count: int, seed: int) -> Sentences:
    """``count`` sentences drawn at random, half of them check-worthy (a quick check)."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(np.concatenate([rng.permutation(np.flatnonzero(data.labels == c))[: count // 2] for c in CLASSES]))
    return Sentences(
        [data.ids[i] for i in chosen], [data.texts[i] for i in chosen], data.labels[chosen], data.groups[chosen]
    )


def classifier() -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))


def cross_validate(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int) -> dict[str, object]:
    """Out-of-fold probabilities; the threshold of peak pooled F1; per-fold figures at it and at 0.5."""
    splits = list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED).split(features, labels, groups))
    probability = np.zeros(len(labels))
    for train, test in splits:
        probability[test] = classifier().fit(features[train], labels[train]).predict_proba(features[test])[:, 1]
    precision, recall, thresholds = precision_recall_curve(labels, probability)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1]))
    chosen = float(thresholds[best])

    def at(cut: float) -> dict[str, object]:
        per_fold = [_scores(labels[test], probability[test], cut) for _, test in splits]
        keys = per_fold[0].keys()
        return {
            "folds": per_fold,
            "mean": {k: round(float(np.mean([f[k] for f in per_fold])), 3) for k in keys},
            "std": {k: round(float(np.std([f[k] for f in per_fold])), 3) for k in keys},
        }

    return {
        "threshold": round(chosen, 6),
        "at_threshold": at(chosen),
        "at_0.5": at(0.5),
        "pooled": {
            "roc_auc": round(float(roc_auc_score(labels, probability)), 4),
            "average_precision": round(float(average_precision_score(labels, probability)), 4),
            "f1_at_threshold": round(float(f1[best]), 4),
            "precision_at_threshold": round(float(precision[best]), 4),
            "recall_at_threshold": round(float(recall[best]), 4),
        },
        "fold_sizes": [int(len(test)) for _, test in splits],
    }


def _scores(truth: np.ndarray, probability: np.ndarray, cut: float) -> dict[str, float]:
    predicted = probability >= cut
    return {
        "f1": round(float(f1_score(truth, predicted, zero_division=0)), 4),
        "precision": round(float(precision_score(truth, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(truth, predicted, zero_division=0)), 4),
    }


def to_onnx(model: Pipeline) -> bytes:
    """The fitted pipeline as one graph: input ``features`` (float32, rows x WIDTH), outputs
    ``label`` and ``probabilities`` (columns in ``CLASSES`` order). Neither of ``export.py``'s two
    skl2onnx workarounds applies: they concern gradient-boosted trees; a scaler and a linear model
    convert as they are."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    if tuple(model.classes_.tolist()) != CLASSES:
        raise ValueError(f"classes {model.classes_.tolist()}, expected {CLASSES}")
    converted = convert_sklearn(
        model,
        initial_types=[("features", FloatTensorType([None, WIDTH]))],
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": 3},
    )
    # skl2onnx names the graph by a random uuid: the same fit must give the same bytes
    converted.graph.name = "checkworthiness"
    onnx.checker.check_model(converted, full_check=True)
    return converted.SerializeToString()


def sha256(path: Path) -> str:
    return hashlib.file_digest(path.open("rb"), "sha256").hexdigest()


def libraries() -> dict[str, str]:
    import onnx
    import skl2onnx

    return {"skl2onnx": skl2onnx.__version__, "onnx": onnx.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.stance.train_checkworthy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("data", type=Path, help="the claimbuster_train folder (sentences.jsonl)")
    parser.add_argument("--out", type=Path, default=ARTIFACT.parent, help="folder for the artifact and card")
    parser.add_argument(
        "--sample", type=int, default=0, help="use only this many sentences, half check-worthy (a quick check)"
    )
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "factcheck" / "checkworthy-train",
        help="folder for sentence vectors kept between runs (the same weights give the same vectors)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        libraries()  # the export at the end needs skl2onnx: say so now, not after the fit
    except ImportError as error:
        print(f"error: {error.name} is not installed (the train extra: pip install -e '.[train]')", file=sys.stderr)
        return 1
    try:
        data = read_claimbuster(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.sample:
        data = sample(data, args.sample, SEED)
    started = time.perf_counter()
    print(f"{len(data.texts)} sentences: embedding and cues…", file=sys.stderr)
    vectors = EmbeddingCache(args.cache, shared_embedder().embed, MODEL_SHA256 + TOKENIZER_SHA256)
    features = worthiness_rows(data.texts, vectors)
    vectors.save()
    prepared = time.perf_counter() - started
    print(f"features in {prepared:.0f} s; {args.folds}-fold grouped cross-validation…", file=sys.stderr)
    validation = cross_validate(features, data.labels, data.groups, args.folds)
    model = classifier().fit(features, data.labels)
    args.out.mkdir(parents=True, exist_ok=True)
    artifact = args.out / ARTIFACT.name
    write_bytes_atomic(artifact, to_onnx(model))
    card = _card(data, args, validation, artifact, prepared, time.perf_counter() - started)
    write_text_atomic(args.out / CARD.name, json.dumps(card, indent=2) + "\n")
    print(json.dumps({"threshold": validation["threshold"], **validation["at_threshold"]["mean"]}, indent=2))  # type: ignore[index]
    print(f"wrote {artifact} ({artifact.stat().st_size / 1e3:.0f} kB) and {args.out / CARD.name}", file=sys.stderr)
    return 0


def _card(data: Sentences, args: argparse.Namespace, validation: dict[str, object], artifact: Path,
          prepared: float, seconds: float) -> dict[str, object]:  # fmt: skip
    import os
    import platform

    return {
        "artifact": artifact.name,
        "sha256": sha256(artifact),
        "bytes": artifact.stat().st_size,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m pipeline.stance.train_checkworthy {args.data}"
        + (f" --sample {args.sample}" if args.sample else ""),
        "seed": SEED,
        "deterministic": "yes: fixed seed for the folds, lbfgs from zero weights, no sampling; the same data and "
        "embedding weights give the same artifact byte for byte (docs/checkworthiness.md: rebuilt twice, same sha256)",
        "data": {
            "folder": str(args.data),
            "sentences": len(data.texts),
            "checkworthy": int(data.labels.sum()),
            "other": int(len(data.labels) - data.labels.sum()),
            "source": "ClaimBuster ground truth, two-class form: US presidential debate sentences, 1960-2016",
        },
        "inputs": {
            "embeddings": {"package": MODEL_PACKAGE, "sha256": MODEL_SHA256, "tokenizer_sha256": TOKENIZER_SHA256},
            "cues": list(CUE_NAMES),
            "width": WIDTH,
        },
        "model": f"StandardScaler + LogisticRegression(C={C}, L2, lbfgs), unweighted classes",
        "classes": {"0": "not check-worthy", "1": "check-worthy"},
        "threshold": {
            "value": validation["threshold"],
            "rule": "the probability at which F1 on the check-worthy class peaks over the pooled out-of-fold "
            "predictions of the cross-validation below (one number chosen on those predictions: the per-fold "
            "figures at it are slightly optimistic; those at 0.5 are not)",
        },
        "validation": {
            "method": f"{args.folds}-fold StratifiedGroupKFold, groups of {GROUP_IDS} consecutive sentence ids "
            "(ids run through the debates in order: about one debate held out whole)",
            **validation,
        },
        "seconds": {"features": round(prepared, 1), "total": round(seconds, 1)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "libraries": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, **libraries()},
        "runtime": "onnxruntime",
    }


if __name__ == "__main__":
    raise SystemExit(main())
