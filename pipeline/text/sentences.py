"""Sentence boundaries with character offsets, so the model can cite sentence numbers."""

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace,
# or at a line break. Common abbreviations and initials do not end a sentence.
_END = re.compile(r"""[.!?]+["'”’)\]]*(?=\s)|\n+""")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sen rep gov gen col lt sgt st jr sr inc corp co ltd vs etc "
    "jan feb mar apr jun jul aug sep sept oct nov dec no u.s u.k u.n e.g i.e".split()
)


@dataclass(frozen=True, slots=True)
class Sentence:
    number: int  # 1-based, as shown to the model
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    sentences: list[Sentence] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if match.group().startswith(".") and _is_abbreviation(text, match.start()):
            continue
        _append(sentences, text, start, end)
        start = end
    _append(sentences, text, start, len(text))
    return sentences


def _is_abbreviation(text: str, dot: int) -> bool:
    # Walk back to the word's start: a regex over text[:dot] would rescan the whole
    # preceding text at every period (quadratic; seconds on a long article).
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:dot].lstrip("(\"'“‘").lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _append(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    # Trim whitespace so spans start and end on visible characters.
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        sentences.append(Sentence(len(sentences) + 1, start, end, text[start:end]))


def numbered(sentences: list[Sentence]) -> str:
    """The article as the model sees it: one ``[n] sentence`` per line."""
    lines: list[str] = []
    for before, sentence in zip([None, *sentences], sentences):
        if before is not None and sentence.number > before.number + 1:
            lines.append("[...]")  # sentences left out of a focused window
        lines.append(f"[{sentence.number}] {sentence.text}")
    return "\n".join(lines)
