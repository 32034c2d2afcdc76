"""Calibration maps: the trees' raw scores to probabilities at the class frequencies of real pairs.

Training-time only (numpy, scipy, scikit-learn); the chosen map ships inside the ONNX graph (``export.py``).

The trees are fitted with class-balancing weights (so the rare "disagree" is learnt at all); their
scores then speak of a world where the classes are equally frequent. A map fitted on out-of-fold
scores of pairs *as they come* (FNC-1 train's related pairs: agree 27 %, disagree 6 %, discuss 66 %)
moves them back to that world: the bias terms absorb the change of priors, the slopes fix over- or
under-confidence. Three maps are compared on held-out folds (``train.py`` keeps the best):
- temperature: softmax(raw / T), one number; keeps the priors the trees learnt (here: equal ones);
- Dirichlet (Kull et al., NeurIPS 2019): softmax(W log softmax(raw) + b), a multinomial logistic
  regression on the log-probabilities, 12 numbers for 3 classes;
- isotonic: one monotone step function per class on its softmax probability, renormalised to sum 1.
"""

from dataclasses import dataclass

import numpy as np

METHODS = ("temperature", "dirichlet", "isotonic")
BINS = 10


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class LinearMap:
    """softmax(inputs @ weights.T + bias), inputs the raw scores or (``log_inputs``) their log-softmax."""

    method: str
    weights: np.ndarray  # (classes, classes)
    bias: np.ndarray  # (classes,)
    log_inputs: bool

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        inputs = log_softmax(raw) if self.log_inputs else raw
        return softmax(inputs @ self.weights.T + self.bias)

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "log_inputs": self.log_inputs,
                "weights": np.round(self.weights, 6).tolist(), "bias": np.round(self.bias, 6).tolist()}  # fmt: skip


@dataclass(frozen=True)
class IsotonicMap:
    method: str
    columns: list[object]  # one fitted IsotonicRegression per class

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        p = softmax(raw)
        out = np.stack([iso.predict(p[:, k]) for k, iso in enumerate(self.columns)], axis=1)  # type: ignore[attr-defined]
        out = np.clip(out, 1e-6, None)
        return out / out.sum(axis=1, keepdims=True)


Map = LinearMap | IsotonicMap


def fit_map(method: str, raw: np.ndarray, labels: np.ndarray) -> Map:
    """``labels``: class indices, the rows at the frequencies the probabilities should speak of."""
    k = raw.shape[1]
    if method == "temperature":
        from scipy.optimize import minimize_scalar

        def loss(log_t: float) -> float:
            return log_loss(softmax(raw / np.exp(log_t)), labels)

        log_t = float(minimize_scalar(loss, bounds=(-4.0, 4.0), method="bounded").x)
        return LinearMap(method, np.eye(k) / np.exp(log_t), np.zeros(k), log_inputs=False)
    if method == "dirichlet":
        from sklearn.linear_model import LogisticRegression

        # Light L2 (C=100 on a dozen numbers fitted on thousands of rows): it keeps the map near the
        # identity where a class has few rows, and is otherwise negligible.
        fitted = LogisticRegression(C=100.0, max_iter=2000).fit(log_softmax(raw), labels)
        return LinearMap(method, fitted.coef_.astype(np.float64), fitted.intercept_.astype(np.float64), log_inputs=True)
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        p = softmax(raw)
        columns = [
            IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p[:, c], labels == c) for c in range(k)
        ]
        return IsotonicMap(method, columns)
    raise ValueError(f"unknown calibration method {method!r}; choose from {', '.join(METHODS)}")


@dataclass(frozen=True)
class Platt:
    """P(related) = sigmoid(slope * s + intercept), s the binary trees' raw score."""

    slope: float
    intercept: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.slope * raw + self.intercept)))


def fit_platt(raw: np.ndarray, positive: np.ndarray, sample_weight: np.ndarray) -> Platt:
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(raw[:, None], positive, sample_weight=sample_weight)
    return Platt(float(fitted.coef_[0, 0]), float(fitted.intercept_[0]))


# ---------------------------------------------------------------- figures


def log_loss(p: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    picked = np.clip(p[np.arange(len(labels)), labels], 1e-12, 1)
    return float(np.average(-np.log(picked), weights=weights))


def ece(confidence: np.ndarray, correct: np.ndarray, weights: np.ndarray | None = None, bins: int = BINS) -> float:
    """Expected calibration error over equal-width bins (as ``pipeline.eval._metrics``), each row
    counted with its weight (weights that move a sample to other class frequencies give the ECE there)."""
    weights = np.ones_like(confidence) if weights is None else weights
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    total = weights.sum()
    gap = 0.0
    for b in range(bins):
        inside = index == b
        w = weights[inside]
        if w.sum():
            gap += w.sum() / total * abs(
                np.average(correct[inside], weights=w) - np.average(confidence[inside], weights=w)
            )
    return float(gap)


def reliability(
    confidence: np.ndarray, correct: np.ndarray, weights: np.ndarray | None = None, bins: int = BINS
) -> list[dict[str, float]]:
    """Per bin: its bounds, weighted row count, mean confidence and accuracy (the reliability diagram's points)."""
    weights = np.ones_like(confidence) if weights is None else weights
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        inside = index == b
        if weights[inside].sum():
            out.append({
                "lo": b / bins, "hi": (b + 1) / bins, "count": round(float(weights[inside].sum()), 2),
                "confidence": round(float(np.average(confidence[inside], weights=weights[inside])), 4),
                "accuracy": round(float(np.average(correct[inside], weights=weights[inside])), 4),
            })  # fmt: skip
    return out


def frequency_weights(labels: np.ndarray, frequencies: np.ndarray) -> np.ndarray:
    """Row weights that give a sample the stated class frequencies (importance weights)."""
    observed = np.bincount(labels, minlength=len(frequencies)) / len(labels)
    return (frequencies / np.where(observed > 0, observed, 1))[labels]
