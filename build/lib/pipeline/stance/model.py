"""The trained stance model: how an article stands toward a claim, as calibrated probabilities.

Four outcomes: the article backs the claim, debunks it, only reports it, or does not address it.
``StanceModel`` holds two fitted scikit-learn classifiers (see ``train.py``); ``load()`` checks the
shipped artifact against its card's sha256 before unpickling it, as the LLM weights are checked.
"""

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy as np


ARTIFACT = Path(__file__).with_name("stance-model.joblib")
CARD = Path(__file__).with_name("stance-model.card.json")
RELATED_CLASSES = (False, True)
STANCE_CLASSES = ("agree", "disagree", "discuss")  # FNC-1's labels, as the classifier was fitted


class Stance(StrEnum):
    backs = "backs"  # FNC-1 agree
    debunks = "debunks"  # FNC-1 disagree
    reports = "reports"  # FNC-1 discuss
    unrelated = "unrelated"  # FNC-1 unrelated: the article does not address the claim


_FNC_TO_STANCE = {"agree": Stance.backs, "disagree": Stance.debunks, "discuss": Stance.reports}


class StanceModelError(RuntimeError):
    """The shipped stance model is missing, or not the file its card describes."""


@dataclass(frozen=True)
class StanceModel:
    related: object  # CalibratedClassifierCV: P(the article addresses the claim)
    stance: object  # CalibratedClassifierCV: P(agree | disagree | discuss), given that it does

    def related_probability(self, features: np.ndarray) -> np.ndarray:
        columns = list(self.related.classes_)  # type: ignore[attr-defined]
        return self.related.predict_proba(features)[:, columns.index(True)]  # type: ignore[attr-defined]

    def stance_probabilities(self, features: np.ndarray) -> np.ndarray:
        """Columns in ``STANCE_CLASSES`` order."""
        columns = list(self.stance.classes_)  # type: ignore[attr-defined]
        raw = self.stance.predict_proba(features)  # type: ignore[attr-defined]
        return raw[:, [columns.index(label) for label in STANCE_CLASSES]]

    def distribution(self, features: np.ndarray) -> list[dict[Stance, float]]:
        """Per row: P(backs), P(debunks), P(reports) and P(unrelated), summing to 1."""
        from threadpoolctl import threadpool_limits

        # One thread: a few rows are scored in microseconds, but OpenMP's worker threads take
        # seconds to wake on a loaded machine (measured 1.8 s for one row, 2 ms with one thread).
        with threadpool_limits(limits=1):
            related = self.related_probability(features)
            stance = self.stance_probabilities(features)
        rows: list[dict[Stance, float]] = []
        for p_related, p_stance in zip(related, stance, strict=True):
            row = {_FNC_TO_STANCE[label]: float(p_related * p) for label, p in zip(STANCE_CLASSES, p_stance, strict=True)}
            row[Stance.unrelated] = float(1 - p_related)
            rows.append(row)
        return rows


@cache
def card() -> dict[str, object]:
    return json.loads(CARD.read_text(encoding="utf-8"))


def stance_model_sha256() -> str:
    """The shipped artifact's sha256, as its card gives it (``load`` checks the file against it)."""
    return str(card()["sha256"])


@cache
def load() -> StanceModel:
    """The shipped model, once per process, after its sha256 matches the card's."""
    import joblib

    if not ARTIFACT.is_file() or not CARD.is_file():
        raise StanceModelError(f"stance model not found at {ARTIFACT} (rebuild: python -m pipeline.stance.train ../shared/data/fnc1_train)")
    expected = card()["sha256"]
    actual = hashlib.file_digest(ARTIFACT.open("rb"), "sha256").hexdigest()
    if actual != expected:
        raise StanceModelError(f"{ARTIFACT}: sha256 {actual[:12]}… is not the card's {str(expected)[:12]}…; refusing to load")
    model = joblib.load(ARTIFACT)
    if not isinstance(model, StanceModel):
        raise StanceModelError(f"{ARTIFACT}: not a StanceModel")
    return model
