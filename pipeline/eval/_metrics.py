"""Pure metric functions: span matching, classification scores, calibration.

No I/O and no pipeline types, so every number here can be checked by hand.
"""

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Segment = tuple[int, int]  # [start, end) character offsets
SpanSegments = tuple[Segment, ...]  # one span; several segments when discontinuous


@dataclass(frozen=True)
class PRF:
    tp: int
    n_pred: int
    n_gold: int

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: "PRF") -> "PRF":
        # Micro-averaging: sum the counts, then divide.
        return PRF(self.tp + other.tp, self.n_pred + other.n_pred, self.n_gold + other.n_gold)


def normalize_span(span: SpanSegments) -> SpanSegments:
    """Sorted, empty segments dropped, touching or overlapping segments merged."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in span if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def overlap_chars(a: SpanSegments, b: SpanSegments) -> int:
    return sum(max(0, min(ae, be) - max(as_, bs)) for as_, ae in a for bs, be in b)


def exact_match(a: SpanSegments, b: SpanSegments) -> bool:
    return normalize_span(a) == normalize_span(b)


def greedy_match(
    predicted: Sequence[SpanSegments],
    gold: Sequence[SpanSegments],
    score: Callable[[SpanSegments, SpanSegments], float],
) -> int:
    """Matched pairs under one-to-one greedy matching: the highest-scoring pair first; score <= 0 never matches."""
    pairs = sorted(
        ((score(p, g), i, j) for i, p in enumerate(predicted) for j, g in enumerate(gold)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    for value, i, j in pairs:
        if value <= 0:
            break
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    return len(used_p)


def span_prf(predicted: Sequence[SpanSegments], gold: Sequence[SpanSegments], *, overlap: bool) -> PRF:
    """P/R/F1 counts for one document. Duplicate spans on either side count once:
    several attributions often share one source mention, and several claims one claimant."""
    pred = list(dict.fromkeys(normalize_span(s) for s in predicted if normalize_span(s)))
    gold_ = list(dict.fromkeys(normalize_span(s) for s in gold if normalize_span(s)))
    if overlap:
        tp = greedy_match(pred, gold_, lambda p, g: float(overlap_chars(p, g)))
    else:
        tp = greedy_match(pred, gold_, lambda p, g: 1.0 if p == g else 0.0)
    return PRF(tp, len(pred), len(gold_))


_TITLES = frozenset("mr mrs ms dr sen rep gov president gen prof the".split())


def normalize_name(name: str) -> str:
    """Lowercase words without accents, punctuation, parentheticals, possessives or leading titles:
    'Sen. Bernie Sanders (I-Vt.)' -> 'bernie sanders'."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'")).encode("ascii", "ignore").decode()
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    text = re.sub(r"'s\b", "", text)
    words = re.findall(r"[a-z0-9]+", text)
    while words and words[0] in _TITLES:
        words = words[1:]
    return " ".join(words)


def names_match(a: str, b: str) -> bool:
    """Same person when the normalized names are equal or one's words are all in the other
    ('Sanders' and 'Bernie Sanders'); an empty name matches nothing."""
    wa, wb = set(a.split()), set(b.split())
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def name_prf(predicted: Sequence[str], gold: Sequence[str]) -> PRF:
    """Distinct normalized names per document, matched one-to-one greedily (exact names first)."""
    pred = list(dict.fromkeys(n for n in map(normalize_name, predicted) if n))
    gold_ = list(dict.fromkeys(n for n in map(normalize_name, gold) if n))
    pairs = sorted(
        ((0 if p == g else 1, i, j) for i, p in enumerate(pred) for j, g in enumerate(gold_) if names_match(p, g)),
    )
    used_p: set[int] = set()
    used_g: set[int] = set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    return PRF(len(used_p), len(pred), len(gold_))


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    _same_length(gold, predicted)
    return sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Rows are gold labels, columns predicted labels, both in ``labels`` order."""
    _same_length(gold, predicted)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted):
        if g not in index or p not in index:
            raise ValueError(f"label {g if g not in index else p!r} is not in {list(labels)}")
        matrix[index[g]][index[p]] += 1
    return matrix


def class_prf(gold: Sequence[str], predicted: Sequence[str], label: str) -> PRF:
    _same_length(gold, predicted)
    tp = sum(g == label and p == label for g, p in zip(gold, predicted))
    return PRF(tp, sum(p == label for p in predicted), sum(g == label for g in gold))


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over ``labels`` (a class never predicted scores 0)."""
    return sum(class_prf(gold, predicted, label).f1 for label in labels) / len(labels) if labels else 0.0


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    count: int
    confidence: float  # mean confidence in the bin (0 when empty)
    accuracy: float  # fraction correct in the bin (0 when empty)


def reliability_bins(confidences: Sequence[float], correct: Sequence[bool], n_bins: int) -> list[Bin]:
    """Equal-width bins over [0, 1]; a confidence of exactly 1 falls in the last bin."""
    _same_length(confidences, correct)
    members: list[list[int]] = [[] for _ in range(n_bins)]
    for i, c in enumerate(confidences):
        if not 0.0 <= c <= 1.0:
            raise ValueError(f"confidence {c} is outside [0, 1]")
        members[min(int(c * n_bins), n_bins - 1)].append(i)
    bins = []
    for b, idx in enumerate(members):
        n = len(idx)
        bins.append(
            Bin(
                lo=b / n_bins,
                hi=(b + 1) / n_bins,
                count=n,
                confidence=sum(confidences[i] for i in idx) / n if n else 0.0,
                accuracy=sum(correct[i] for i in idx) / n if n else 0.0,
            )
        )
    return bins


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], n_bins: int) -> float:
    """Sum over bins of (bin size / n) * |accuracy - mean confidence|."""
    n = len(confidences)
    if not n:
        return 0.0
    return sum(b.count / n * abs(b.accuracy - b.confidence) for b in reliability_bins(confidences, correct, n_bins))


def brier_score(confidences: Sequence[float], correct: Sequence[bool]) -> float:
    """Mean squared gap between the confidence and the outcome (1 correct, 0 wrong)."""
    _same_length(confidences, correct)
    return sum((c - float(k)) ** 2 for c, k in zip(confidences, correct)) / len(confidences) if confidences else 0.0


def _same_length(a: Sequence[object], b: Sequence[object]) -> None:
    if len(a) != len(b):
        raise ValueError(f"{len(a)} gold values but {len(b)} predictions")
