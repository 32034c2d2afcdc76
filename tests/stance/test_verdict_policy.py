"""The verdict policy on the calibrated probabilities (``stance/verdicts.py``): ``disputed`` needs a
linked denial or a debunk probability at the card's threshold, fitted on held-out folds (issue 31)."""

import pytest

from pipeline.stance.model import Stance, debunks_threshold
from pipeline.stance.verdicts import _label, read_article
from schemas import Denial, DenialKind, Span, VerdictLabel

TEXT = "The council approved the stadium on Tuesday. Critics said the vote was rushed."
DENIAL = Denial(id="d1", speaker="the mayor", disputes="the vote", kind=DenialKind.explicit_denial, claim_ids=["c1"],
                spans=[Span(start=45, end=78, text=TEXT[45:78])])  # fmt: skip


def _p(backs: float, debunks: float, reports: float, unrelated: float = 0.0) -> dict[Stance, float]:
    return {Stance.backs: backs, Stance.debunks: debunks, Stance.reports: reports, Stance.unrelated: unrelated}


def test_the_threshold_is_the_cards_and_below_a_half() -> None:
    assert 0.05 <= debunks_threshold() < 0.5  # a debunk is 6 % of related news pairs: worth a look well before 0.5


def test_without_a_denial_disputed_needs_the_debunk_probability_at_the_threshold() -> None:
    view = read_article(TEXT)
    tau = debunks_threshold()
    above, below = tau + 0.02, tau - 0.02
    label, confidence = _label(_p(0.3, above, 0.7 - above), [], view, [0], reports_denial=False)
    assert label is VerdictLabel.disputed and confidence == pytest.approx(above)  # the probability it debunks
    label, confidence = _label(_p(0.3, below, 0.7 - below), [], view, [0], reports_denial=False)
    assert label is VerdictLabel.unverified and confidence == pytest.approx(0.7 - below)


def test_a_linked_denial_disputes_unless_the_article_backs_the_claim() -> None:
    view = read_article(TEXT)
    label, confidence = _label(_p(0.2, 0.02, 0.78), [DENIAL], view, [0], reports_denial=False)
    assert label is VerdictLabel.disputed and confidence == pytest.approx(0.8)  # does not back it: debunks + reports
    label, _ = _label(_p(0.7, 0.02, 0.28), [DENIAL], view, [0], reports_denial=False)
    assert label is VerdictLabel.supported


def test_refuted_only_when_a_debunk_is_more_likely_than_not_in_the_articles_own_voice() -> None:
    view = read_article(TEXT)
    label, confidence = _label(_p(0.1, 0.6, 0.3), [], view, [0], reports_denial=False)
    assert label is VerdictLabel.refuted and confidence == pytest.approx(0.6)


def test_a_report_of_a_denial_is_never_disputed_and_nothing_is_judged_on_an_unrelated_article() -> None:
    view = read_article(TEXT)
    label, _ = _label(_p(0.1, 0.6, 0.3), [DENIAL], view, [0], reports_denial=True)
    assert label not in (VerdictLabel.disputed, VerdictLabel.refuted)
    label, confidence = _label(_p(0.1, 0.2, 0.1, 0.6), [], view, [0], reports_denial=False)
    assert label is VerdictLabel.not_addressed and confidence == pytest.approx(0.6)
