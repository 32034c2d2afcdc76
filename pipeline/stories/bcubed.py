"""B-cubed precision, recall and F1 of a clustering against gold groups (Bagga & Baldwin 1998;
Amigó et al. 2009). No installed package implements it, so it is written out here and tested on a
hand-checked example (tests/stories/test_stories.py).

For each item: precision = the share of its predicted cluster that shares its gold group; recall =
the share of its gold group that shares its predicted cluster. Both are averaged over items.
"""

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def b_cubed(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> BCubed:
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold labels")
    if not gold:
        raise ValueError("no items")
    both = Counter(zip(predicted, gold, strict=True))  # items sharing a cluster and a group
    cluster_size = Counter(predicted)
    group_size = Counter(gold)
    precision = sum(both[(p, g)] / cluster_size[p] for p, g in zip(predicted, gold, strict=True)) / len(gold)
    recall = sum(both[(p, g)] / group_size[g] for p, g in zip(predicted, gold, strict=True)) / len(gold)
    return BCubed(precision, recall)
