"""The verdict's confidence is calibrated at the class frequencies of real related pairs (FNC-1
train's as they come: agree 27 %, disagree 6 %, discuss 66 %), not at equal priors (issue 31)."""

import csv

import numpy as np
import pytest
from recording import SHARED

from pipeline.stance import calibration as cal
from pipeline.stance import model
from pipeline.stance.embedder import shared_embedder
from pipeline.stance.features import pair_features
from pipeline.stance.verdicts import read_article

FNC_TRAIN = SHARED / "data" / "fnc1_train"
FNC_RELATED = {"agree": 3678, "disagree": 840, "discuss": 8902}  # ../shared/data/README.md


def test_the_card_states_the_frequencies_the_confidence_is_conditioned_on() -> None:
    stance = model.card()["calibration"]["stance"]
    total = sum(FNC_RELATED.values())
    assert stance["class_frequencies"] == {label: round(n / total, 4) for label, n in FNC_RELATED.items()}
    assert "as they come" in stance["conditioned_on"]


@pytest.mark.skipif(not FNC_TRAIN.is_dir(), reason="needs ../shared/data/fnc1_train")
def test_on_related_pairs_as_they_come_the_mean_probabilities_are_their_frequencies() -> None:
    """A model calibrated at equal priors gives each class about a third on average; one calibrated
    to real pairs gives disagree about 6 % and discuss about two thirds, as they are."""
    with (FNC_TRAIN / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    with (FNC_TRAIN / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        related = [row for row in csv.DictReader(f) if row["Stance"] != "unrelated"]
    rng = np.random.default_rng(31)
    chosen = set(rng.choice(sorted({r["Body ID"] for r in related}), 25, replace=False).tolist())
    pairs = [r for r in related if r["Body ID"] in chosen]
    vectors = shared_embedder().embed([r["Headline"] for r in pairs])
    rows = np.stack(
        [
            pair_features(r["Headline"], v, read_article(bodies[r["Body ID"]]))
            for r, v in zip(pairs, vectors, strict=True)
        ]
    )
    mean = model.load().stance_probabilities(rows).mean(axis=0)
    agree, disagree, discuss = mean
    assert len(pairs) >= 100
    assert disagree < 0.15 and discuss > 0.45 and 0.1 < agree < 0.45, mean


def test_a_dirichlet_map_moves_scores_learnt_at_equal_priors_to_the_frequencies_it_is_fitted_at() -> None:
    rng = np.random.default_rng(0)
    frequencies = np.array([0.27, 0.06, 0.67])
    labels = rng.choice(3, size=6000, p=frequencies)
    # Scores of a classifier trained at equal priors: informative, and centred on no class where the
    # classes are equally frequent; on pairs as they come their mean is not the frequencies.
    def scores(classes: np.ndarray) -> np.ndarray:
        return rng.normal(size=(len(classes), 3)) + 1.5 * np.eye(3)[classes]

    balanced = scores(rng.permutation(np.arange(6000) % 3))
    assert np.abs(cal.softmax(balanced).mean(axis=0) - 1 / 3).max() < 0.02
    raw = scores(labels)
    assert np.abs(cal.softmax(raw).mean(axis=0) - frequencies).max() > 0.1
    fitted = cal.fit_map("dirichlet", raw[:3000], labels[:3000])
    held_out = fitted(raw[3000:])
    assert np.abs(held_out.mean(axis=0) - frequencies).max() < 0.02
    top = held_out.argmax(axis=1)
    assert cal.ece(held_out.max(axis=1), top == labels[3000:]) < 0.03
    assert cal.ece(cal.softmax(raw[3000:]).max(axis=1), cal.softmax(raw[3000:]).argmax(axis=1) == labels[3000:]) > 0.05


def test_frequency_weights_give_a_sample_the_stated_frequencies() -> None:
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)  # fnc1_dev: 10 of each
    weights = cal.frequency_weights(labels, np.array([0.27, 0.06, 0.67]))
    shares = np.array([weights[labels == k].sum() for k in range(3)]) / weights.sum()
    assert shares == pytest.approx([0.27, 0.06, 0.67])
