"""Turning what the model points at (sentence numbers, quotes) into verified spans.

Quotes are aligned exactly, then after folding typography and whitespace,
then fuzzily with the score kept. Every span returned satisfies
``text[span.start:span.end] == span.text``.
"""

from rapidfuzz import fuzz

from pipeline.text.sentences import Sentence
from schemas import MatchKind, Span

FUZZY_THRESHOLD = 85.0  # rapidfuzz partial_ratio, 0-100; below this a quote is unalignable

_FOLD = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"',
        "–": "-", "—": "-", "―": "-", "‐": "-", "‑": "-", "−": "-",
        "\u00a0": " ", "…": ".",
    }
)
_STRIP = " \t\n\"'“”‘’«»"


def sentence_span(sentences: list[Sentence], number: int) -> Span:
    s = sentences[number - 1]
    return Span(start=s.start, end=s.end, text=s.text, match=MatchKind.sentence)


def align_quote(text: str, quote: str, within: tuple[int, int] | None = None) -> Span | None:
    """Locate ``quote`` in ``text``, preferring the ``within`` window; None if unalignable."""
    quote = quote.strip(_STRIP)
    if not quote:
        return None
    windows = [within, None] if within else [None]
    for finder in (_exact, _normalized, _fuzzy):
        for window in windows:
            lo, hi = window or (0, len(text))
            found = finder(text, quote, lo, hi)
            if found is not None:
                start, end, kind, score = found
                return Span(start=start, end=end, text=text[start:end], match=kind, score=score)
    return None


def _exact(text: str, quote: str, lo: int, hi: int) -> tuple[int, int, MatchKind, float] | None:
    at = text.find(quote, lo, hi)
    return (at, at + len(quote), MatchKind.exact, 1.0) if at >= 0 else None


def _fold(text: str, lo: int, hi: int) -> tuple[str, list[int]]:
    """Folded text plus, for each folded character, its index in the original."""
    chars: list[str] = []
    index: list[int] = []
    for i in range(lo, hi):
        c = text[i].translate(_FOLD)
        if c.isspace():
            if chars and chars[-1] == " ":
                continue
            c = " "
        lowered = c.lower()
        chars.append(lowered if len(lowered) == 1 else c)
        index.append(i)
    return "".join(chars), index


def _normalized(text: str, quote: str, lo: int, hi: int) -> tuple[int, int, MatchKind, float] | None:
    folded, index = _fold(text, lo, hi)
    needle, _ = _fold(quote, 0, len(quote))
    needle = needle.strip()
    at = folded.find(needle) if needle else -1
    if at < 0:
        return None
    return index[at], index[at + len(needle) - 1] + 1, MatchKind.normalized, 1.0


def _fuzzy(text: str, quote: str, lo: int, hi: int) -> tuple[int, int, MatchKind, float] | None:
    folded, index = _fold(text, lo, hi)
    needle, _ = _fold(quote, 0, len(quote))
    if len(needle) < 12:  # short quotes match too much by chance
        return None
    hit = fuzz.partial_ratio_alignment(needle, folded, score_cutoff=FUZZY_THRESHOLD)
    if hit is None or hit.dest_end <= hit.dest_start:
        return None
    start, end = index[hit.dest_start], index[hit.dest_end - 1] + 1
    # Do not start or end inside a word: widen to word boundaries.
    while start > lo and text[start - 1].isalnum():
        start -= 1
    while end < hi and text[end].isalnum():
        end += 1
    return start, end, MatchKind.fuzzy, round(hit.score / 100, 3)
