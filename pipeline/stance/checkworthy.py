"""The check-worthiness model: how likely a fact-check desk would check a sentence, as a probability.

A logistic regression over the sentence's MiniLM embedding and cues a reader can check (numbers,
named actors, attribution, causal and comparative words; first and second person and questions
count against), fitted on ClaimBuster's debate sentences by ``train_checkworthy.py`` and shipped as
ONNX: onnxruntime runs it, no scikit-learn at run time. ``load()`` checks the artifact against its
card's sha256, as the stance model's is. ``THRESHOLD`` is the card's: the probability at which
cross-validated F1 on the check-worthy class peaked (``docs/checkworthiness.md``).
"""

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.stance._worthiness_features import WIDTH, worthiness_rows
from pipeline.stance.embedder import shared_embedder

ARTIFACT = Path(__file__).with_name("checkworthy-model.onnx")
CARD = Path(__file__).with_name("checkworthy-model.card.json")
CLASSES = (0, 1)  # not check-worthy, check-worthy: the columns of the graph's probabilities
REBUILD = "python -m pipeline.stance.train_checkworthy ../shared/data/claimbuster_train"


class CheckworthyModelError(RuntimeError):
    """The shipped check-worthiness model is missing, or not the file its card describes."""


class CheckworthyModel:
    """The exported graph: rows of ``WIDTH`` float32 features in, P(check-worthy) out."""

    def __init__(self, model: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread: an article's few dozen rows take microseconds; waking workers costs more.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != WIDTH:
            raise CheckworthyModelError(
                f"check-worthiness model takes {[i.shape for i in inputs]}, expected rows of {WIDTH}"
            )
        self._input = inputs[0].name
        self._output = "probabilities"
        if self._output not in [o.name for o in self._session.get_outputs()]:
            raise CheckworthyModelError("check-worthiness model has no 'probabilities' output")

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(check-worthy) per row, float64."""
        if len(features) == 0:
            return np.zeros(0)
        (probabilities,) = self._session.run([self._output], {self._input: np.asarray(features, dtype=np.float32)})
        return np.asarray(probabilities, dtype=np.float64)[:, CLASSES.index(1)]


@cache
def card() -> dict[str, object]:
    if not CARD.is_file():
        raise CheckworthyModelError(f"check-worthiness card not found at {CARD} (rebuild: {REBUILD})")
    return json.loads(CARD.read_text(encoding="utf-8"))


def threshold() -> float:
    """The card's threshold: at or above it, a sentence is a candidate claim."""
    return float(card()["threshold"]["value"])  # type: ignore[index]


def __getattr__(name: str) -> float:
    # THRESHOLD is read from the card on first use, so the training command, which writes the
    # card, can import this module before there is one.
    if name == "THRESHOLD":
        return threshold()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def load() -> CheckworthyModel:
    """The shipped model, once per process, after its sha256 matches the card's."""
    if not ARTIFACT.is_file():
        raise CheckworthyModelError(f"check-worthiness model not found at {ARTIFACT} (rebuild: {REBUILD})")
    data = ARTIFACT.read_bytes()
    expected = str(card()["sha256"])
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise CheckworthyModelError(
            f"{ARTIFACT}: sha256 {actual[:12]}… is not the card's {expected[:12]}…; refusing to load"
        )
    try:
        return CheckworthyModel(data)
    except CheckworthyModelError:
        raise
    except Exception as error:  # onnxruntime's own errors: not a graph it can run
        raise CheckworthyModelError(f"{ARTIFACT}: not a model onnxruntime can run ({error})") from error


def checkworthiness(sentences: Sequence[str]) -> np.ndarray:
    """P(check-worthy) for each sentence, in order (float64): one embedder pass over all of them."""
    if not sentences:
        return np.zeros(0)
    return load().probability(worthiness_rows(sentences, shared_embedder().embed))
