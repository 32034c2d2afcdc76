"""What the stance model sees of one (claim, article) pair: numbers computed by code.

The same functions build the training rows (FNC-1 headline, body) and the rows the pipeline
scores (a claim, the article), so the model is measured on exactly what it is given.

Three kinds of input, each measured in ``docs/stance-model.md``:
- relatedness: embedding similarity of the claim to the article and its closest sentences, word and
  bigram overlap;
- cues: refuting, hedging and negation words in the closest sentences, the article and the claim;
- voice: whether the closest sentences are the article's own or reported speech, and whether a
  reporting cue there is a denial (the attribution stage, code only).
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.text.sentences import Sentence, split_sentences
from schemas import Attribution

VectorsOf = Callable[[Sequence[str]], np.ndarray]  # texts to L2-normalised vectors (the embedder)
TOP = 3  # the closest sentences: where an article states, reports or debunks the claim

REFUTING = re.compile(
    r"\b(fake|fakes|faked|hoax(?:es)?|false(?:ly)?|fraud|deny|denies|denied|denial|denying|debunk\w*|refut\w*|"
    r"untrue|not true|no truth|fabricat\w*|satir\w*|rumou?r\w*|doctored|photoshop\w*|misleading|myth|"
    r"baseless|bogus|incorrect|wrong|dismiss\w*|reject\w*|retract\w*|prank|scam|never|nonsense|spoof|parody)\b",
    re.IGNORECASE,
)
HEDGING = re.compile(
    r"\b(reported(?:ly)?|allegedly|alleged|claim(?:s|ed)?|according to|purported(?:ly)?|apparently|"
    r"unconfirmed|unverified|may|might|could|possibly|suggest\w*|appear\w*|seem\w*|believed|rumou?r\w*|"
    r"speculat\w*|if true|not yet|unclear|said to|sources?)\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(not|no|never|none|nothing|neither|nor|without)\b|n't\b", re.IGNORECASE)
DENIAL_CUE = re.compile(r"\b(den(?:y|ies|ied|ial)|dismiss|reject|refut|rebut|disput|contradict|debunk)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[a-z]+)?")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}\b|\b\d[\d,.]*\b")
NEAR = 6  # tokens either side of a claim word: a cue there is about the claim, not elsewhere in the sentence
# Sentences that say, in plain words, what a debunk, a report and a confirmation say. Their embeddings
# find the same act in other words ("the picture was photoshopped", "nobody has verified it") whatever
# the story: a cue list does not reach that far, and story-free meaning is what generalises here.
PROTOTYPES = {
    "refuting": (
        "The report is false.", "The story is a hoax.", "The photo is fake.", "This claim has been debunked.",
        "There is no evidence that this happened.", "He denied the report.", "The rumour is not true.",
        "The claims were dismissed as fabricated.", "That never happened.",
    ),
    "reporting": (
        "According to unconfirmed reports, it may have happened.", "It is not clear whether the report is true.",
        "The claim could not be independently verified.", "Sources said it reportedly happened.",
    ),
    "confirming": ("Officials confirmed that it happened.", "The report is true.", "It has now been confirmed."),
}
_STOP = frozenset(
    "a an the of to in on for and or but is are was were be been has have had it its this that with as at by "
    "from he she they we you i his her their our after before over about into than then so not no".split()
)


@dataclass(frozen=True)
class ArticleView:
    """An article as the stance model reads it: its sentences, their embeddings and their voice."""

    text: str
    sentences: list[Sentence]
    vectors: np.ndarray  # (sentences, 384), L2-normalised
    reported: np.ndarray  # per sentence: overlaps the content of a reported-speech attribution
    denial_cue: np.ndarray  # per sentence: holds a reporting cue that is a denial ("denied", "dismissed")
    refuting: np.ndarray  # per sentence: refuting-word count
    hedging: np.ndarray  # per sentence: hedging-word count
    words: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    prototype: np.ndarray  # (sentences, 3): the closest refuting, reporting, confirming prototype's cosine
    tokens: list[list[str]]  # per sentence, lower-cased


def article_view(text: str, vectors_of: VectorsOf, attributions: Sequence[Attribution]) -> ArticleView:
    """``attributions``: the text's (``find_attributions(text)``), which the pipeline has found already."""
    sentences = split_sentences(text) or [Sentence(1, 0, len(text), text)]
    vectors = vectors_of([s.text for s in sentences])
    reported = np.zeros(len(sentences), dtype=bool)
    denial = np.zeros(len(sentences), dtype=bool)
    for a in attributions:
        for i, s in enumerate(sentences):
            if a.content is not None and a.content.start < s.end and s.start < a.content.end:
                reported[i] = True
            if s.start <= a.cue.start < s.end and DENIAL_CUE.search(a.cue.text):
                denial[i] = True
    return ArticleView(
        text=text,
        sentences=sentences,
        vectors=vectors,
        reported=reported,
        denial_cue=denial,
        refuting=np.array([len(REFUTING.findall(s.text)) for s in sentences], dtype=np.float32),
        hedging=np.array([len(HEDGING.findall(s.text)) for s in sentences], dtype=np.float32),
        words=_content_words(text),
        bigrams=_bigrams(text),
        prototype=_prototype_similarity(vectors, vectors_of),
        tokens=[[t.lower() for t in _TOKEN.findall(s.text)] for s in sentences],
    )


def prototype_texts() -> list[str]:
    return [phrase for phrases in PROTOTYPES.values() for phrase in phrases]


def _prototype_similarity(vectors: np.ndarray, vectors_of: VectorsOf) -> np.ndarray:
    columns = [(vectors @ vectors_of(list(phrases)).T).max(axis=1) for phrases in PROTOTYPES.values()]
    return np.stack(columns, axis=1).astype(np.float32) if len(vectors) else np.zeros((0, len(PROTOTYPES)), np.float32)


def closest(view: ArticleView, claim_vector: np.ndarray, k: int = TOP) -> np.ndarray:
    """Indices of the ``k`` sentences most similar to the claim, most similar first."""
    similarity = view.vectors @ claim_vector
    return np.argsort(-similarity, kind="stable")[:k]


DENSE_NAMES = (
    "sim_max", "sim_top_mean", "sim_mean", "sim_first", "best_position", "word_overlap", "bigram_overlap",
    "top_refuting", "top_hedging", "top_negation", "body_refuting", "body_hedging", "body_refuting_share",
    "claim_refuting", "claim_hedging", "claim_negation", "claim_question",
    "top_reported", "best_reported", "body_reported", "top_denial_cue", "body_denial_cue",
    "sim_refuting_sentence", "sim_hedging_sentence", "sim_denial_sentence", "sentences",
    "top_refuting_near_claim", "top_negation_near_claim", "claim_names_in_refuting", "negation_mismatch",
    "lead_refuting", "top_refuting_prototype", "top_reporting_prototype", "top_confirming_prototype",
    "body_refuting_prototype", "body_reporting_prototype", "body_confirming_prototype",
)  # fmt: skip


def pair_features(claim: str, claim_vector: np.ndarray, view: ArticleView) -> np.ndarray:
    """One row: the features named in ``DENSE_NAMES``. (Element-wise products of the claim's and
    the closest sentences' embeddings, 1,920 more columns, raised macro-F1 when bodies were held
    out but lowered it when whole stories were: they learn stories, not stances.)"""
    similarity = view.vectors @ claim_vector
    top = closest(view, claim_vector)
    n = len(view.sentences)
    top_text = " ".join(view.sentences[i].text for i in top)
    claim_words = _content_words(claim)
    claim_bigrams = _bigrams(claim)

    def best_among(mask: np.ndarray) -> float:
        return float(similarity[mask].max()) if mask.any() else 0.0

    dense = [
        float(similarity.max()),
        float(similarity[top].mean()),
        float(similarity.mean()),
        float(similarity[0]),
        float(top[0]) / max(n - 1, 1),
        len(claim_words & view.words) / max(len(claim_words), 1),
        len(claim_bigrams & view.bigrams) / max(len(claim_bigrams), 1),
        float(view.refuting[top].sum()),
        float(view.hedging[top].sum()),
        float(len(NEGATION.findall(top_text))),
        float(view.refuting.sum()) / n,
        float(view.hedging.sum()) / n,
        float((view.refuting > 0).mean()),
        float(len(REFUTING.findall(claim))),
        float(len(HEDGING.findall(claim))),
        float(len(NEGATION.findall(claim))),
        float("?" in claim),
        float(view.reported[top].mean()),
        float(view.reported[top[0]]),
        float(view.reported.mean()),
        float(view.denial_cue[top].any()),
        float(view.denial_cue.any()),
        best_among(view.refuting > 0),
        best_among(view.hedging > 0),
        best_among(view.denial_cue),
        float(np.log1p(n)),
        float(sum(_near_claim(view.tokens[i], claim_words, REFUTING) for i in top)),
        float(sum(_near_claim(view.tokens[i], claim_words, NEGATION, before_only=True) for i in top)),
        _names_in(claim, [view.sentences[i].text for i in range(n) if view.refuting[i] > 0]),
        float(bool(NEGATION.search(claim)) != bool(NEGATION.search(view.sentences[top[0]].text))),
        float(view.refuting[:2].sum()),
        *view.prototype[top].max(axis=0).tolist(),
        *view.prototype.max(axis=0).tolist(),
    ]
    return np.array(dense, dtype=np.float32)


def _near_claim(
    tokens: list[str], claim_words: frozenset[str], cue: re.Pattern[str], *, before_only: bool = False
) -> int:
    """Cues within ``NEAR`` tokens of one of the claim's content words (only before it: a negation's
    scope runs forward, "did not meet Putin"). The cue lists match one word or a short phrase."""
    anchors = [i for i, t in enumerate(tokens) if t in claim_words]
    if not anchors:
        return 0
    found = 0
    for i, token in enumerate(tokens):
        window = " ".join(tokens[i : i + 2])
        if cue.search(token) or cue.match(window):
            after = any(0 < a - i <= NEAR for a in anchors)
            if after or (not before_only and any(0 < i - a <= NEAR for a in anchors)):
                found += 1
    return found


def _names_in(claim: str, sentences: list[str]) -> float:
    """The share of the claim's names and numbers that a refuting sentence repeats."""
    names = {m.group().lower() for m in _NAME.finditer(claim)}
    if not names:
        return 0.0
    said = " ".join(sentences).lower()
    return sum(name in said for name in names) / len(names)


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _bigrams(text: str) -> frozenset[tuple[str, str]]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return frozenset(zip(words, words[1:], strict=False))
