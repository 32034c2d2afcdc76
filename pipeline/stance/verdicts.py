"""The trained verifier: a verdict per claim from the stance model, with evidence and a rationale by code.

- The article backs the claim: ``supported``; it only reports it: ``unverified``; it does not
  address it (more likely than not): ``not_addressed``.
- ``disputed`` needs a cause: a linked explicit denial or contradiction (then P = debunks + reports,
  "the article does not back it"), or, with none, a probability that the article debunks the claim
  at or above the card's threshold (fitted on held-out folds; then P = debunks).
- ``refuted``: the article more likely than not debunks the claim, in its own voice.
- A claim that only reports a denial ("Musk denied the call") is not evidence that the denied
  event did not happen, nor is it debunked by that denial: it is never ``refuted`` or ``disputed``.

The confidence is the calibrated probability that the label is right (``confidence_basis:
stance_model``), at the class frequencies of FNC-1's related news pairs (the card's
``calibration``); the full distribution over the four stances is in ``probabilities``.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pipeline.stance import embedder
from pipeline.stance.embedder import shared_embedder
from pipeline.stance.features import (
    DENIAL_CUE,
    REFUTING,
    ArticleView,
    article_view,
    closest,
    pair_features,
    prototype_texts,
)
from pipeline.stance.model import FNC_TO_STANCE, STANCE_CLASSES, Stance, debunks_threshold, decide_stance, load
from pipeline.text.attributions import find_attributions
from pipeline.text.sentences import split_sentences
from schemas import Attribution, Claim, Denial, MatchKind, Span, Verdict, VerdictLabel
from schemas.verdicts import ConfidenceBasis

QUOTE_CHARS = 110  # a quoted sentence in a rationale
SETTLES = 0.5  # the article settles a denied claim against it when P(debunks) passes this, in its own voice
_LABEL_OF = {
    Stance.backs: VerdictLabel.supported,
    Stance.debunks: VerdictLabel.refuted,
    Stance.reports: VerdictLabel.unverified,
    Stance.unrelated: VerdictLabel.not_addressed,
}


@dataclass(frozen=True)
class Judgement:
    verdict: VerdictLabel
    confidence: float
    distribution: dict[Stance, float]
    deciding: list[int]  # sentence indices (0-based) that carry the decision, most similar first


VIEWS_KEPT = 4
_views: OrderedDict[str, ArticleView] = OrderedDict()  # by text, the most recently read last
_views_lock = threading.Lock()


def read_article(text: str, attributions: Sequence[Attribution] | None = None) -> ArticleView:
    """The article as the stance model reads it; build it once and judge every claim against it.
    ``attributions``: the article's, when the caller has them (else found here, from the text).
    Remembered by text for ``VIEWS_KEPT`` articles, so ``prepare`` can read one ahead while an LLM
    server starts (the view is a function of the text alone, whoever found its attributions)."""
    with _views_lock:
        if text in _views:
            _views.move_to_end(text)
            return _views[text]
    found = find_attributions(text) if attributions is None else attributions
    view = article_view(text, shared_embedder().embed, found)
    with _views_lock:
        _views[text] = view
        while len(_views) > VIEWS_KEPT:
            _views.popitem(last=False)
    return view


def read_ahead(texts: Sequence[str], claims: Sequence[str]) -> None:
    """Embed, in one batched call, every sentence of ``texts`` and every claim not embedded yet, so
    that judging them next costs no more model runs: the embedder batches texts of similar length
    across articles (64 rows a run), where article by article it runs a few short batches each.
    ``texts`` and ``claims`` should fit the embedder's memory of recent texts (``read_ahead_limit``)."""
    unread = [text for text in dict.fromkeys(texts) if text not in _views]
    sentences = [sentence for text in unread for sentence in [s.text for s in split_sentences(text)] or [text]]
    shared_embedder().embed([*dict.fromkeys([*sentences, *claims, *prototype_texts()])])


def read_ahead_limit() -> int:
    """How many texts ``read_ahead`` may embed and still find them all when it judges them."""
    return embedder.RECENT_TEXTS // 2


def prepare(text: str) -> None:
    """Load the model and read ``text`` now, on an otherwise idle core, so judging it later is quick."""
    load()
    read_article(text)


def judge(view: ArticleView, claim: Claim, denials: list[Denial], claim_vector: np.ndarray | None = None) -> Judgement:
    vector = claim_vector if claim_vector is not None else shared_embedder().embed([claim.statement])[0]
    return judge_all(view, [claim], denials, vector[None, :])[0]


def judge_all(view: ArticleView, claims: list[Claim], denials: list[Denial], vectors: np.ndarray) -> list[Judgement]:
    """Every claim against one article, scored in one call of the model."""
    seen = [_with_denials(view, _linked(claim, denials)) for claim in claims]
    features = np.stack([pair_features(c.statement, v, s) for c, v, s in zip(claims, vectors, seen, strict=True)])
    judgements = []
    for claim, vector, marked, distribution in zip(claims, vectors, seen, load().distribution(features), strict=True):
        deciding = [int(i) for i in closest(marked, vector)]
        reports_denial = bool(DENIAL_CUE.search(claim.statement)) or _is_denial_text(claim, denials)
        verdict, confidence = _label(distribution, _linked(claim, denials), marked, deciding, reports_denial)
        judgements.append(
            Judgement(verdict, round(confidence, 3), {k: round(v, 4) for k, v in distribution.items()}, deciding)
        )
    return judgements


def stance_verdicts(
    text: str, claims: list[Claim], denials: list[Denial], attributions: Sequence[Attribution] | None = None
) -> list[Verdict]:
    """``attributions``: the article's, as the pipeline found them (``read_article``)."""
    if not claims:
        return []
    view = read_article(text, attributions)
    judgements = judge_all(view, claims, denials, shared_embedder().embed([c.statement for c in claims]))
    return [verdict_of(view, claim, denials, judgement) for claim, judgement in zip(claims, judgements, strict=True)]


def verdict_of(view: ArticleView, claim: Claim, denials: list[Denial], judgement: Judgement) -> Verdict:
    linked = _linked(claim, denials)
    best = judgement.deciding[0]
    deciding_span = _sentence_span(view, best)
    against = judgement.verdict in (VerdictLabel.refuted, VerdictLabel.disputed)
    supporting = list(claim.spans)
    contradicting = [span for d in linked for span in d.spans]
    if against:
        # The closest sentences that carry a refuting word or a denial cue stand against it.
        for i in judgement.deciding:
            if view.refuting[i] > 0 or view.denial_cue[i]:
                _add(contradicting, _sentence_span(view, i))
    elif judgement.verdict is not VerdictLabel.not_addressed:
        _add(supporting, deciding_span)
    return Verdict(
        claim_id=claim.id,
        verdict=judgement.verdict,
        confidence=judgement.confidence,
        confidence_basis=ConfidenceBasis.stance_model,
        rationale=rationale(claim, linked, deciding_span, judgement),
        supporting=supporting,
        contradicting=contradicting,
        probabilities={stance.value: p for stance, p in judgement.distribution.items()},
    )


def rationale(claim: Claim, linked: list[Denial], deciding: Span, judgement: Judgement) -> str:
    """Who asserts, who denies, the deciding sentence and the model's distribution, in plain words."""
    chain = " via ".join([claim.claimant, *claim.via]) if claim.via else claim.claimant
    parts = [f"Asserted by {chain}."]
    for denial in linked[:2]:
        parts.append(f"{denial.speaker} disputes it: “{_cut(' '.join(s.text for s in denial.spans))}”.")
    closest = "Closest sentence" if judgement.verdict is VerdictLabel.not_addressed else "Deciding sentence"
    parts.append(f"{closest}: “{_cut(deciding.text)}”.")
    shown = ", ".join(
        f"{stance.value} {p:.2f}" for stance, p in sorted(judgement.distribution.items(), key=lambda kv: -kv[1])
    )
    parts.append(f"Stance model: {shown}.")
    return " ".join(parts)


def _label(
    distribution: dict[Stance, float],
    linked: list[Denial],
    view: ArticleView,
    deciding: list[int],
    reports_denial: bool,
) -> tuple[VerdictLabel, float]:
    """The verdict and its confidence: the calibrated probability that the verdict is right.

    - Not addressed when the article more likely than not does not address the claim.
    - A claim that reports a denial: judged among backs and reports (the denial it reports is not
      evidence the denied event did not happen).
    - A linked denial: ``disputed`` (P = debunks + reports: "the article does not back it"), unless
      the article backs it, or debunks it (P > SETTLES) in its own voice: ``refuted``.
    - No linked denial: ``disputed`` when P(debunks | related) reaches the card's threshold (fitted on
      held-out folds: a debunk is rare, 6 % of related news pairs, and worth a desk's look well before
      it is the likeliest stance), with P = debunks; ``refuted`` when moreover P(debunks) > SETTLES
      and the deciding sentence is the article's own voice; else the likelier of backs and reports."""
    p = dict(distribution)
    if p[Stance.unrelated] > 0.5:
        return VerdictLabel.not_addressed, p[Stance.unrelated]
    if reports_denial:
        # The debunks mass set aside and the rest renormalised.
        kept = 1 - p[Stance.debunks]
        options = {VerdictLabel.supported: p[Stance.backs], VerdictLabel.unverified: p[Stance.reports]}
        label = max(options, key=lambda k: options[k])
        return label, options[label] / kept if kept > 0 else 1.0
    own_voice_debunk = p[Stance.debunks] > SETTLES and not view.reported[deciding[0]]
    if own_voice_debunk:
        return VerdictLabel.refuted, p[Stance.debunks]
    if linked:
        options = {
            VerdictLabel.supported: p[Stance.backs],
            VerdictLabel.disputed: p[Stance.debunks] + p[Stance.reports],
        }
        label = max(options, key=lambda k: options[k])
        return label, options[label]
    related = 1 - p[Stance.unrelated]
    given_related = np.array([[p[Stance.backs], p[Stance.debunks], p[Stance.reports]]]) / max(related, 1e-12)
    decided = STANCE_CLASSES[int(decide_stance(given_related, debunks_threshold())[0])]
    stance = FNC_TO_STANCE[decided]
    return (VerdictLabel.disputed if stance is Stance.debunks else _LABEL_OF[stance]), p[stance]


def _linked(claim: Claim, denials: list[Denial]) -> list[Denial]:
    return [d for d in denials if claim.id in d.claim_ids and d.is_denial]


def _with_denials(view: ArticleView, linked: list[Denial]) -> ArticleView:
    """The pipeline's linked denials mark their sentences, as the attribution stage's denial cues do."""
    if not linked:
        return view
    marked = view.denial_cue.copy()
    for denial in linked:
        for span in denial.spans:
            for i, s in enumerate(view.sentences):
                if s.start < span.end and span.start < s.end:
                    marked[i] = True
    return replace(view, denial_cue=marked)


def _is_denial_text(claim: Claim, denials: list[Denial]) -> bool:
    """The claim's own words are a denial's words (the claims stage listed the denial as a claim)."""
    return any(
        s.start < d.end and d.start < s.end and REFUTING.search(s.text) is not None
        for denial in denials
        if denial.is_denial and claim.id not in denial.claim_ids
        for d in denial.spans
        for s in claim.spans
    )


def _sentence_span(view: ArticleView, index: int) -> Span:
    s = view.sentences[index]
    return Span(start=s.start, end=s.end, text=view.text[s.start : s.end], match=MatchKind.sentence)


def _add(spans: list[Span], span: Span) -> None:
    if not any(s.start < span.end and span.start < s.end for s in spans):
        spans.append(span)


def _cut(text: str) -> str:
    text = " ".join(text.split()).strip("\"“”‘’'")  # the rationale puts its own quotes around it
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
