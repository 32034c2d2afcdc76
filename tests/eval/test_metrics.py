"""Metric functions against values computed by hand (the arithmetic is in the comments)."""

import pytest

from pipeline.eval._metrics import (
    PRF,
    accuracy,
    brier_score,
    class_prf,
    confusion_matrix,
    exact_match,
    greedy_match,
    expected_calibration_error,
    macro_f1,
    name_prf,
    names_match,
    normalize_name,
    normalize_span,
    overlap_chars,
    reliability_bins,
    span_prf,
)


def test_exact_and_overlap_span_f1_differ() -> None:
    gold = [((0, 10),), ((20, 30),), ((40, 50),)]
    pred = [((0, 10),), ((22, 35),), ((60, 70),)]
    exact = span_prf(pred, gold, overlap=False)
    # exact: only (0,10) -> P = R = 1/3, F1 = 1/3
    assert (exact.tp, exact.n_pred, exact.n_gold) == (1, 3, 3)
    assert exact.f1 == pytest.approx(1 / 3)
    # overlap: (0,10) and (22,35)~(20,30) -> P = R = F1 = 2/3
    overlap = span_prf(pred, gold, overlap=True)
    assert overlap.tp == 2
    assert overlap.precision == pytest.approx(2 / 3)
    assert overlap.f1 == pytest.approx(2 / 3)


def test_overlap_matching_is_one_to_one() -> None:
    # One long prediction covering two gold spans counts once: P = 1, R = 1/2, F1 = 2/3.
    scores = span_prf([((0, 100),)], [((0, 10),), ((20, 30),)], overlap=True)
    assert (scores.tp, scores.precision, scores.recall) == (1, 1.0, 0.5)
    assert scores.f1 == pytest.approx(2 / 3)


def test_greedy_matching_takes_the_largest_overlap_first() -> None:
    # Overlaps: A-X 10, A-Y 3, B-X 2, B-Y 21. Greedy takes B-Y, then A-X: 2 matches.
    a, b = ((0, 12),), ((8, 30),)
    x, y = ((0, 10),), ((9, 30),)
    assert span_prf([a, b], [x, y], overlap=True).tp == 2
    # A lone prediction touching two golds goes to the one it overlaps most.
    assert span_prf([((0, 10),)], [((5, 6),), ((0, 10),)], overlap=False).tp == 1


def test_touching_spans_do_not_overlap() -> None:
    assert span_prf([((0, 10),)], [((10, 20),)], overlap=True).tp == 0


def test_discontinuous_spans_and_duplicates() -> None:
    assert normalize_span(((10, 15), (0, 5), (5, 8), (3, 3))) == ((0, 8), (10, 15))
    assert exact_match(((0, 5), (10, 15)), ((10, 15), (0, 5)))
    assert not exact_match(((0, 15),), ((0, 5), (10, 15)))
    # A contiguous prediction over a discontinuous gold: no exact match, but overlap.
    gold = [((0, 5), (10, 15))]
    assert span_prf([((0, 15),)], gold, overlap=False).tp == 0
    assert span_prf([((0, 15),)], gold, overlap=True).tp == 1
    # Two attributions sharing one source mention are one gold span.
    assert span_prf([((0, 5),)], [((0, 5),), ((0, 5),)], overlap=False) == PRF(1, 1, 1)


def test_empty_sides_score_zero() -> None:
    assert span_prf([], [((0, 5),)], overlap=True).f1 == 0.0
    assert span_prf([((0, 5),)], [], overlap=True).precision == 0.0


def test_micro_average_sums_counts() -> None:
    total = PRF(1, 2, 4) + PRF(3, 3, 4)
    assert total == PRF(4, 5, 8)
    # P = 4/5, R = 1/2, F1 = 2 * 0.8 * 0.5 / 1.3
    assert total.f1 == pytest.approx(0.8 / 1.3)


def test_name_normalization_and_f1() -> None:
    assert normalize_name("Sen. Bernie Sanders (I-Vt.)") == "bernie sanders"
    assert normalize_name("Trump’s") == "trump"
    assert normalize_name("President Obama") == "obama"
    # pred: bernie sanders, hillary clinton, eurasia group
    # gold: sanders, bernie sanders, obama
    # exact pair first (bernie sanders), so 'sanders' is left unmatched: tp = 1, P = R = 1/3.
    scores = name_prf(
        ["Bernie Sanders", "Hillary Clinton", "Eurasia Group"], ["Sanders", "Sen. Bernie Sanders (I-Vt.)", "Obama"]
    )
    assert (scores.tp, scores.n_pred, scores.n_gold) == (1, 3, 3)
    # A surname alone matches the full name.
    assert name_prf(["Clinton"], ["Hillary Clinton"]).tp == 1
    assert name_prf(["Clinton"], ["Bill Clinton", "Hillary Clinton"]) == PRF(1, 1, 2)


GOLD = ["agree", "agree", "disagree", "discuss", "discuss", "discuss"]
PRED = ["agree", "discuss", "disagree", "disagree", "discuss", "agree"]
LABELS = ["agree", "disagree", "discuss"]


def test_confusion_matrix_rows_are_gold() -> None:
    assert confusion_matrix(GOLD, PRED, LABELS) == [
        [1, 0, 1],
        [0, 1, 0],
        [1, 1, 1],
    ]
    with pytest.raises(ValueError):
        confusion_matrix(["agree"], ["unrelated"], LABELS)


def test_per_class_and_macro_f1() -> None:
    assert accuracy(GOLD, PRED) == pytest.approx(0.5)
    agree = class_prf(GOLD, PRED, "agree")  # tp 1 of 2 predicted, 2 gold: F1 0.5
    assert (agree.precision, agree.recall, agree.f1) == (0.5, 0.5, 0.5)
    disagree = class_prf(GOLD, PRED, "disagree")  # tp 1, 2 predicted, 1 gold: P .5, R 1, F1 2/3
    assert disagree.f1 == pytest.approx(2 / 3)
    discuss = class_prf(GOLD, PRED, "discuss")  # tp 1, 2 predicted, 3 gold: P .5, R 1/3, F1 0.4
    assert discuss.f1 == pytest.approx(0.4)
    assert macro_f1(GOLD, PRED, LABELS) == pytest.approx((0.5 + 2 / 3 + 0.4) / 3)


def test_macro_f1_counts_a_never_predicted_class_as_zero() -> None:
    # Always 'agree': agree F1 = 2*(1/3)*1/(4/3) = 0.5; the other two 0 -> macro 1/6.
    gold = ["agree", "disagree", "discuss"]
    assert macro_f1(gold, ["agree"] * 3, LABELS) == pytest.approx(0.5 / 3)


CONF = [0.95, 0.85, 0.3, 0.65]
CORRECT = [True, False, False, True]


def test_expected_calibration_error_by_hand() -> None:
    # 5 bins: [.8,1) holds .95 (right) and .85 (wrong): acc .5, conf .9 -> 2/4 * .4 = .2
    #         [.2,.4) holds .3 (wrong): 1/4 * .3 = .075;  [.6,.8) holds .65 (right): 1/4 * .35 = .0875
    assert expected_calibration_error(CONF, CORRECT, 5) == pytest.approx(0.3625)
    # 10 bins: each alone: (.05 + .85 + .3 + .35) / 4
    assert expected_calibration_error(CONF, CORRECT, 10) == pytest.approx(0.3875)
    # Half right at confidence .5 is perfectly calibrated.
    assert expected_calibration_error([0.5, 0.5], [True, False], 10) == pytest.approx(0.0)


def test_reliability_bins_put_confidence_one_in_the_last_bin() -> None:
    bins = reliability_bins([1.0, 0.0], [True, False], 5)
    assert (bins[-1].count, bins[-1].accuracy, bins[-1].confidence) == (1, 1.0, 1.0)
    assert (bins[0].count, bins[0].accuracy) == (1, 0.0)
    with pytest.raises(ValueError):
        reliability_bins([1.2], [True], 5)


def test_brier_score_by_hand() -> None:
    # (.05² + .85² + .3² + .35²) / 4 = (.0025 + .7225 + .09 + .1225) / 4
    assert brier_score(CONF, CORRECT) == pytest.approx(0.234375)
    assert brier_score([1.0, 0.0], [True, False]) == 0.0


def test_macro_f1_averages_over_every_label_even_one_nobody_used() -> None:
    # Only 'agree' occurs, in gold and predictions alike: F1 1 for it, 0 for the two labels
    # absent from both sides; averaging over the labels present would report 1.0.
    assert macro_f1(["agree", "agree"], ["agree", "agree"], LABELS) == pytest.approx(1 / 3)


def test_reliability_bins_truncate_rather_than_round() -> None:
    # 0.7 and 0.78 both belong to [0.6, 0.8) of five bins; rounding 3.5 and 3.9 would put them in [0.8, 1].
    bins = reliability_bins([0.7, 0.78], [True, False], 5)
    assert (bins[3].lo, bins[3].count, bins[3].accuracy) == (pytest.approx(0.6), 2, 0.5)
    assert bins[4].count == 0


def test_reliability_bins_have_equal_width_edges() -> None:
    bins = reliability_bins([0.1], [True], 5)
    assert [b.lo for b in bins] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert [b.hi for b in bins] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def _fresh(label: str) -> str:
    """The same label as a new string object (as read from JSON): compared by value, never identity."""
    return "".join(list(label))


def test_labels_read_from_files_compare_by_value() -> None:
    gold = [_fresh(g) for g in GOLD]
    assert accuracy(gold, PRED) == pytest.approx(0.5)
    assert class_prf(gold, PRED, _fresh("agree")) == PRF(1, 2, 2)
    assert class_prf(PRED, gold, _fresh("disagree")) == PRF(1, 1, 2)


def test_nothing_to_score_scores_zero() -> None:
    assert (PRF(0, 0, 0).precision, PRF(0, 0, 0).recall, PRF(0, 0, 0).f1) == (0.0, 0.0, 0.0)
    assert (PRF(0, 0, 3).precision, PRF(0, 2, 0).recall) == (0.0, 0.0)  # nothing predicted / nothing to find
    assert accuracy([], []) == 0.0
    assert macro_f1(GOLD, PRED, []) == 0.0
    assert brier_score([], []) == 0.0
    assert expected_calibration_error([], [], 5) == 0.0
    empty = reliability_bins([0.95], [True], 5)[0]
    assert (empty.count, empty.confidence, empty.accuracy) == (0, 0.0, 0.0)


@pytest.mark.parametrize(("gold", "predicted"), [(["agree"], []), ([], ["agree"]), (["agree", "agree"], ["agree"])])
def test_gold_and_predictions_of_different_lengths_are_refused(gold: list[str], predicted: list[str]) -> None:
    with pytest.raises(ValueError, match="gold values but"):
        accuracy(gold, predicted)


def test_a_label_outside_the_list_is_named() -> None:
    with pytest.raises(ValueError, match="'unrelated' is not in"):
        confusion_matrix(["agree"], ["unrelated"], LABELS)
    with pytest.raises(ValueError, match="'unrelated' is not in"):
        confusion_matrix(["unrelated"], ["agree"], LABELS)


def test_a_negative_confidence_is_refused_and_one_goes_in_the_last_of_ten_bins() -> None:
    with pytest.raises(ValueError, match="outside"):
        reliability_bins([-0.2], [True], 5)
    bins = reliability_bins([1.0], [True], 10)
    assert bins[9].count == 1 and sum(b.count for b in bins) == 1


def test_segments_are_sorted_merged_and_empty_or_reversed_ones_dropped() -> None:
    assert normalize_span(((0, 5), (3, 8))) == ((0, 8),)  # overlapping
    assert normalize_span(((5, 8), (6, 7))) == ((5, 8),)  # one inside another
    assert normalize_span(((0, 2), (5, 8), (7, 10))) == ((0, 2), (5, 10))  # merged into the last, not the first
    assert normalize_span(((10, 10), (0, 5))) == ((0, 5),)  # empty
    assert normalize_span(((5, 3), (0, 2))) == ((0, 2),)  # reversed


def test_disjoint_segments_add_no_overlap() -> None:
    assert overlap_chars(((0, 5),), ((10, 20),)) == 0
    # One character in common, and a second segment far away: still one character, still a match.
    assert overlap_chars(((0, 1), (50, 60)), ((0, 1),)) == 1
    assert span_prf([((0, 1), (50, 60))], [((0, 1),)], overlap=True).tp == 1


def test_two_predictions_inside_one_gold_span_count_once() -> None:
    assert span_prf([((0, 5),), ((3, 10),)], [((0, 10),)], overlap=True) == PRF(1, 2, 1)


def test_greedy_matching_goes_by_overlap_not_by_order() -> None:
    # A overlaps X by 10 and Y by 2; B overlaps only X, by 20. By overlap: B-X, then A-Y: 2 matches.
    # Taking pairs in list order would give A-X and leave B unmatched: 1.
    a, b = ((10, 32),), ((0, 20),)
    x, y = ((0, 20),), ((30, 40),)
    assert span_prf([a, b], [x, y], overlap=True).tp == 2


def test_names_match_by_word_sets_either_way_and_an_empty_name_matches_nothing() -> None:
    assert names_match("sanders", "bernie sanders") and names_match("bernie sanders", "sanders")
    assert names_match("bernie sanders", "bernie sanders")
    assert not names_match("bernie sanders", "jane sanders")
    assert not names_match("", "sanders") and not names_match("sanders", "")


def test_exact_names_are_matched_before_partial_ones() -> None:
    # 'Bernie Sanders' takes its exact gold first, so 'Sanders' can still match 'Jane Sanders': 2.
    # Partial first would pair 'Sanders' with 'Bernie Sanders' and leave the rest unmatched: 1.
    assert name_prf(["Sanders", "Bernie Sanders"], ["Bernie Sanders", "Jane Sanders"]) == PRF(2, 2, 2)
    # One-to-one: two predicted names for one gold name match once.
    assert name_prf(["Sanders", "Bernie Sanders"], ["Bernie Sanders"]) == PRF(1, 2, 1)


def test_accuracy_is_the_share_of_equal_labels() -> None:
    assert accuracy(["a", "b", "c"], ["a", "b", "x"]) == pytest.approx(2 / 3)  # 2 of 3 equal
    assert accuracy([], []) == 0.0


def test_lengths_are_compared_by_value_however_long() -> None:
    # 300 is past the small integers CPython shares: two equal lengths are still equal.
    assert accuracy(["a"] * 300, ["a"] * 300) == 1.0
    assert brier_score([1.0] * 300, [True] * 300) == 0.0
    with pytest.raises(ValueError, match="300 gold values but 299 predictions"):
        accuracy(["a"] * 300, ["a"] * 299)


def test_exact_match_needs_the_same_segments_not_a_lesser_one() -> None:
    assert exact_match(((0, 5), (5, 9)), ((0, 9),))  # touching segments are one
    assert not exact_match(((0, 5),), ((0, 6),))
    assert not exact_match(((0, 6),), ((0, 5),))


def test_a_segment_inside_the_one_before_it_does_not_shorten_it() -> None:
    # (7, 10) lies inside (5, 12): the merged segment still ends at 12, whatever came before (0, 2).
    assert normalize_span(((0, 2), (5, 12), (7, 10))) == ((0, 2), (5, 12))
    assert normalize_span(((7, 10), (0, 2), (5, 12), (11, 14))) == ((0, 2), (5, 14))


def test_greedy_matching_never_matches_a_pair_scoring_zero_or_less() -> None:
    a, b = ((0, 5),), ((10, 15),)
    assert greedy_match([a], [b], lambda p, g: -1.0) == 0
    assert greedy_match([a], [b], lambda p, g: 0.0) == 0
    assert greedy_match([a, b], [a, b], lambda p, g: 1.0 if p == g else -1.0) == 2
