"""``pipeline/eval/heldout.py``: held-out figures at the calibration's class frequencies, and the ECE
a perfectly calibrated model would show on a sample that size (30 pairs cannot show 0.05)."""

import numpy as np

from pipeline.eval.heldout import ece_floor, figures, heldout


def test_the_ece_floor_is_large_on_30_pairs_and_small_on_thousands() -> None:
    rng = np.random.default_rng(0)
    small, large = rng.uniform(0.3, 0.9, 30), rng.uniform(0.3, 0.9, 5000)
    assert ece_floor(small, np.ones(30))["median"] > 0.1
    assert ece_floor(large, np.ones(5000))["p95"] < 0.03


def test_reweighting_to_the_calibration_frequencies_changes_a_balanced_samples_figures() -> None:
    gold = np.array([0] * 10 + [1] * 10 + [2] * 10)  # fnc1_dev: 10 of each
    predicted = np.array([0] * 10 + [2] * 10 + [2] * 10)  # every debunk missed
    confidence = np.full(30, 0.6)
    result = heldout(gold, predicted, confidence)
    sampled, natural = result["as_sampled"], result["at_calibration_frequencies"]
    assert sampled["accuracy"] == figures(gold, predicted, confidence)["accuracy"] == round(20 / 30, 4)
    assert natural["accuracy"] > 0.9  # disagree is 6 % of real related pairs
    assert result["class_counts"] == {"agree": 10, "disagree": 10, "discuss": 10}
