"""Hedges: the words by which an article passes a claim on without vouching for it
("allegedly", "reportedly", "a rumor"). A claim the article only hedges is one it does not assert."""

import re

_HEDGE = re.compile(
    r"\b(?:allegedly|alleged|reportedly|purportedly|purported|supposedly|apparently|unconfirmed|unverified"
    r"|rumou?r(?:s|ed)?|speculation|speculated|(?:is|are|was|were) said to)\b",
    re.IGNORECASE,
)


def hedges_in(text: str) -> tuple[str, ...]:
    """The hedges in ``text``, lowercased, each once, in order."""
    return tuple(dict.fromkeys(m.group(0).lower() for m in _HEDGE.finditer(text)))
