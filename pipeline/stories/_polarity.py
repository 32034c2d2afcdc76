"""Whether a claim's statement says its proposition is so or is not so.

A story holds a claim and its negation (they embed alike: "Musk spoke with Putin" and "The claim
that Musk spoke with Putin is false" are 0.79 alike), so a verdict on a claim is a stance toward the
story only once the claim's polarity is known: an article that *backs* "the claim that X is false"
*debunks* X. The test is lexical and counts markers: a negation ("not", "never", "no", "n't", …) or a
falsity word ("false", "hoax", "debunked", "is a lie", …); an odd count is negated, so "the claim
that Musk did not call is false" is affirmative. Embeddings hardly see a "not" (the same reason
``pipeline.stages.propositions`` compares negations before merging claims).
"""

import re

from pipeline.text.lexicon import NEGATION_WORDS

_MARKERS = re.compile(
    r"\b(?:" + "|".join(NEGATION_WORDS.split()) + r")\b"
    r"|n't\b"
    r"|\b(?:false|untrue|fabricated|baseless|unfounded|groundless|bogus|hoax|myth|debunked|falsely)\b"
    r"|\b(?:is|was|are|were|be|been)\s+(?:a\s+lie|fake)\b",
    re.IGNORECASE,
)


def markers(statement: str) -> list[str]:
    """The negation and falsity markers found, in order."""
    return [m.group(0) for m in _MARKERS.finditer(statement.replace("\u2019", "'"))]


_CLAIM_THAT = re.compile(
    r"\b(?:claims?|reports?|stor(?:y|ies)|accounts?|allegations?|rumou?rs?|idea)\s+that\b", re.IGNORECASE
)


def negated(statement: str) -> bool:
    """True when the statement asserts its proposition is not so. Where it reports a claim ("the
    claim that Musk did not call is false") the markers' count decides: an odd count is negated.
    Elsewhere every marker points the same way ("No call took place, and the story has been
    debunked" is negated twice over, not affirmed)."""
    found = markers(statement)
    return len(found) % 2 == 1 if _CLAIM_THAT.search(statement) else bool(found)
