"""The trained stance model: how an article stands toward a claim, as calibrated probabilities.

Four outcomes: the article backs the claim, debunks it, only reports it, or does not address it.
``StanceModel`` runs the two calibrated classifiers that ``train.py`` fits, exported as one ONNX graph
(``export.py``), with onnxruntime: no scikit-learn at run time. ``load()`` checks the shipped artifact
against its card's sha256 before loading it, as the LLM weights are checked.
"""

import hashlib
import json
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy as np


ARTIFACT = Path(__file__).with_name("stance-model.onnx")
CARD = Path(__file__).with_name("stance-model.card.json")
RELATED_CLASSES = (False, True)
STANCE_CLASSES = ("agree", "disagree", "discuss")  # FNC-1's labels, as the classifier was fitted
RELATED_OUTPUT, STANCE_OUTPUT = "related", "stance"  # the graph's outputs: columns in the orders above


class Stance(StrEnum):
    backs = "backs"  # FNC-1 agree
    debunks = "debunks"  # FNC-1 disagree
    reports = "reports"  # FNC-1 discuss
    unrelated = "unrelated"  # FNC-1 unrelated: the article does not address the claim


FNC_TO_STANCE = {"agree": Stance.backs, "disagree": Stance.debunks, "discuss": Stance.reports}


def decide_stance(p: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """Per row of P(agree), P(disagree), P(discuss) (given related), the decided class's index:
    disagree once its probability reaches ``threshold`` (the card's, fitted on the folds for
    macro-F1: at real frequencies, 6 % of related pairs, a debunk is rarely the likeliest class
    even when it is likely enough to act on), else the likelier of agree and discuss."""
    p = np.asarray(p)
    other = np.where(p[:, 0] >= p[:, 2], 0, 2)
    return np.where(p[:, 1] >= np.broadcast_to(threshold, p.shape[:1]), 1, other)


class StanceModelError(RuntimeError):
    """The shipped stance model is missing, or not the file its card describes."""


class StanceModel:
    """The exported graph: P(the article addresses the claim), calibrated at equal priors, and
    P(agree | disagree | discuss) given that it does, calibrated at the frequencies of FNC-1's
    related pairs (the card's ``calibration``)."""

    def __init__(self, model: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread: a few rows are scored in microseconds; waking worker threads costs more.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        outputs = [o.name for o in self._session.get_outputs()]
        if outputs != [RELATED_OUTPUT, STANCE_OUTPUT]:
            raise StanceModelError(f"stance model outputs {outputs}, expected {[RELATED_OUTPUT, STANCE_OUTPUT]}")
        self._input = self._session.get_inputs()[0].name

    def probabilities(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P(False), P(True) of related; P(agree), P(disagree), P(discuss) of stance, per row."""
        related, stance = self._session.run(None, {self._input: np.asarray(features, dtype=np.float32)})
        return related, stance

    def related_probability(self, features: np.ndarray) -> np.ndarray:
        return self.probabilities(features)[0][:, RELATED_CLASSES.index(True)]

    def stance_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Columns in ``STANCE_CLASSES`` order."""
        return self.probabilities(features)[1]

    def distribution(self, features: np.ndarray) -> list[dict[Stance, float]]:
        """Per row: P(backs), P(debunks), P(reports) and P(unrelated), summing to 1."""
        related, stance = self.probabilities(features)
        rows: list[dict[Stance, float]] = []
        for p_related, p_stance in zip(related[:, RELATED_CLASSES.index(True)], stance, strict=True):
            row = {
                FNC_TO_STANCE[label]: float(p_related * p) for label, p in zip(STANCE_CLASSES, p_stance, strict=True)
            }
            row[Stance.unrelated] = float(1 - p_related)
            rows.append(row)
        return rows


@cache
def card() -> dict[str, object]:
    return json.loads(CARD.read_text(encoding="utf-8"))


def debunks_threshold() -> float:
    """P(disagree | related) from which the model's decision is "debunks" (``decide_stance``)."""
    return float(card()["decision"]["debunks_threshold"])  # type: ignore[index]


def stance_model_sha256() -> str:
    """The shipped artifact's sha256, as its card gives it (``load`` checks the file against it)."""
    return str(card()["sha256"])


@cache
def load() -> StanceModel:
    """The shipped model, once per process, after its sha256 matches the card's."""
    if not ARTIFACT.is_file() or not CARD.is_file():
        raise StanceModelError(
            f"stance model not found at {ARTIFACT} "
            "(rebuild: python -m pipeline.stance.train ../shared/data/fnc1_train ../shared/data/arc_train)"
        )
    data = ARTIFACT.read_bytes()
    expected = card()["sha256"]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise StanceModelError(
            f"{ARTIFACT}: sha256 {actual[:12]}… is not the card's {str(expected)[:12]}…; refusing to load"
        )
    try:
        return StanceModel(data)
    except StanceModelError:
        raise
    except Exception as error:  # onnxruntime's own errors: not a graph it can run
        raise StanceModelError(f"{ARTIFACT}: not a stance model onnxruntime can run ({error})") from error
