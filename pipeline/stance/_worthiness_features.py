"""The cues the check-worthiness model reads beside a sentence's embedding: counts a reader can check.

A fact-check desk checks sentences that state something measurable about named actors: numbers,
percentages and money; who did or said what; what caused what; what is more or less than what.
It does not check thanks, questions or a speaker's own feelings. Each cue is one column, named in
``CUE_NAMES``, so the card and the docs can say what the model was given. The same function builds
the training rows (debate sentences) and the rows the pipeline scores (news sentences).
"""

import re
from collections.abc import Sequence

import numpy as np

from pipeline.stance.embedder import DIMENSIONS
from pipeline.stance.features import VectorsOf
from pipeline.text.attributions import find_attributions

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’.-]*|\d[\d,.]*")
NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"hundreds|thousand|thousands|million|millions|billion|billions|trillion|trillions|dozen|dozens|half|third|"
    r"quarter|twice|double|doubled|triple|tripled)\b",
    re.IGNORECASE,
)
PERCENT = re.compile(r"%|\b(percent|per cent|percentage|rate)\b", re.IGNORECASE)
MONEY = re.compile(
    r"[$€£]|\b(dollars?|cents?|euros?|pounds?|budget|deficit|debt|tax(?:es)?|spend\w*|cost\w*|paid|pay)\b",
    re.IGNORECASE,
)
DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|"
    r"december|jan|feb|aug|sept?|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|last (?:week|month|year))\b",
    re.IGNORECASE,
)
ACCORDING = re.compile(
    r"\b(according to|reported|reportedly|reports?|data|figures|statistics|survey|poll|study|records?)\b",
    re.IGNORECASE,
)
CAUSAL = re.compile(
    r"\b(because|caused?|causing|due to|led to|leads? to|lead to|result(?:s|ed)?(?: in)?|as a result|therefore|"
    r"thanks to|blamed?|responsible|effect|impact|so that|since)\b",
    re.IGNORECASE,
)
COMPARATIVE = re.compile(
    r"\b(than|more|less|fewer|most|least|highest|lowest|largest|smallest|biggest|record|increase[ds]?|"
    r"decrease[ds]?|rose|risen|rise|fell|fallen|drop(?:ped)?|grew|grown|doubled|tripled|halved|cut|raised|"
    r"lower|higher|larger|smaller|bigger|better|worse|worst|best|only|first|again)\b",
    re.IGNORECASE,
)
NEGATION = re.compile(r"\b(not|no|never|none|nothing|neither|nor|without)\b|n['’]t\b", re.IGNORECASE)
FIRST_PERSON = re.compile(
    r"\b(i|me|my|mine|myself|we|us|our|ours|ourselves|i'm|i've|i'd|i'll|we're|we've|we'll)\b", re.IGNORECASE
)
SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself|yourselves|you're|you've|you'll)\b", re.IGNORECASE)
OPINION = re.compile(
    r"\b(think|believe|feel|hope|want|wish|should|must|ought|going to|gonna|will|would|let me|let's|"
    r"thank|thanks|please|welcome|congratulat\w*|good evening|good night|glad|honou?r\w*|privilege)\b",
    re.IGNORECASE,
)

CUE_NAMES = (
    "numbers", "percent", "money", "dates", "named_actors", "attributions", "according_or_data", "causal",
    "comparative", "negation", "first_person", "second_person", "opinion_or_courtesy", "question",
    "exclamation", "log_words",
)  # fmt: skip


def cue_rows(sentences: Sequence[str]) -> np.ndarray:
    """One row of ``CUE_NAMES`` per sentence (float32): counts, except the last three."""
    return np.array([_cues(s) for s in sentences], dtype=np.float32).reshape(len(sentences), len(CUE_NAMES))


def _cues(sentence: str) -> list[float]:
    tokens = _TOKEN.findall(sentence)
    return [
        len(NUMBER.findall(sentence)),
        len(PERCENT.findall(sentence)),
        len(MONEY.findall(sentence)),
        len(DATE.findall(sentence)),
        _named_actors(tokens),
        len(find_attributions(sentence)),  # the sentence read alone, as it is scored (about 0.1 ms)
        len(ACCORDING.findall(sentence)),
        len(CAUSAL.findall(sentence)),
        len(COMPARATIVE.findall(sentence)),
        len(NEGATION.findall(sentence)),
        len(FIRST_PERSON.findall(sentence)),
        len(SECOND_PERSON.findall(sentence)),
        len(OPINION.findall(sentence)),
        float(sentence.rstrip().rstrip("\"'”’)").endswith("?") or "?" in sentence),
        float("!" in sentence),
        float(np.log1p(len(tokens))),
    ]


def _named_actors(tokens: list[str]) -> int:
    """Capitalised words after the first, "I" aside: names of people, places, agencies, parties.
    (The first word is capitalised in every sentence, so it says nothing.)"""
    return sum(1 for t in tokens[1:] if t[0].isupper() and t not in {"I", "I'm", "I've", "I'd", "I'll", "I’m"})


def worthiness_rows(sentences: Sequence[str], vectors_of: VectorsOf) -> np.ndarray:
    """The model's input, one row per sentence: its 384-d embedding, then ``CUE_NAMES``."""
    vectors = np.asarray(vectors_of(list(sentences)), dtype=np.float32).reshape(len(sentences), DIMENSIONS)
    return np.hstack([vectors, cue_rows(sentences)])


WIDTH = DIMENSIONS + len(CUE_NAMES)
