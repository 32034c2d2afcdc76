"""Tokens, quotations and noun phrases for the attribution stage: the article cut into tokens
with offsets, sentences joined where a quotation runs across them, and the noun phrases found
by scanning back from a cue ("Smith said") or forward from it ("said Smith")."""

import re
from dataclasses import dataclass

from pipeline.text.lexicon import (
    AUXILIARIES,
    CUE_FORMS,
    DETERMINERS,
    INTRO_WORDS,
    NP_BOUNDARY,
    PRONOUNS,
    QUANTIFIERS,
    TITLES,
)
from pipeline.text.sentences import split_sentences

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|\w+(?:[’'\-&.]\w+)*(?:’s|'s|s’|s')?|[^\w\s]")
# Curly pairs, straight pairs, and the typewriter convention of two apostrophes (''...'').
QUOTE = re.compile(r"“[^“”\n]*”|\"[^\"\n]*\"|''(?:(?!'')[^\n])*''")
CLOSERS = frozenset('”"')


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def capitalized(self) -> bool:
        return self.text[0].isupper()


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence, or several when a quotation runs across their boundary."""

    start: int
    end: int
    tokens: tuple[Token, ...]


def _tokens(text: str, start: int, end: int) -> list[Token]:
    found: list[Token] = []
    for match in _TOKEN.finditer(text, start, end):
        token = Token(match.start(), match.end(), match.group())
        # "Mr." / "Sen." / initials keep their period: it is part of the name, not a sentence end.
        if found and token.text == "." and found[-1].end == token.start:
            prev = found[-1]
            if prev.lower in TITLES or (len(prev.text) == 1 and prev.text.isupper()):
                found[-1] = Token(prev.start, token.end, prev.text + ".")
                continue
        found.append(token)
    return found


def units(text: str, quotes: list[tuple[int, int]]) -> list[Unit]:
    bounds: list[list[int]] = []
    quote_index = 0
    for start, end in ((sentence.start, sentence.end) for sentence in split_sentences(text)):
        while quote_index < len(quotes) and quotes[quote_index][1] <= start:
            quote_index += 1
        inside_quote = quote_index < len(quotes) and quotes[quote_index][0] < start
        # The splitter ends a sentence at "(I-Vt.) called": a real sentence never opens in lowercase.
        continues = text[start].islower()
        if bounds and (inside_quote or continues) and "\n" not in text[bounds[-1][1] : start]:
            bounds[-1][1] = end
        else:
            bounds.append([start, end])
    return [Unit(s, e, tuple(_tokens(text, s, e))) for s, e in bounds]


def is_name_word(token: Token) -> bool:
    return token.is_word and (token.capitalized or token.lower in TITLES)


def np_backward(tokens: tuple[Token, ...], j: int, max_words: int = 8) -> int | None:
    """Index of the first token of a noun phrase ending at ``j``, or None."""
    i = j
    words = 0
    start: int | None = None
    while i >= 0 and words < max_words:
        token = tokens[i]
        if token.text == ")":  # a parenthetical after a name: "Sen. Bernie Sanders (I-Vt.)"
            opening = next((k for k in range(i - 1, max(i - 8, -1), -1) if tokens[k].text == "("), None)
            if opening is None:
                break
            i = opening - 1
            continue
        if token.is_word:
            if token.lower in NP_BOUNDARY or (i < j and token.lower in CUE_FORMS and not token.capitalized):
                break
            if token.lower in PRONOUNS and start is not None:
                break
            start = i
            words += 1
            if token.lower in DETERMINERS:
                break  # a determiner opens the phrase
        elif token.text in "’'-&" and i > 0 and tokens[i - 1].end == token.start:
            pass  # possessive or hyphen glued to a word: "Sanders’ campaign"
        else:
            break
        i -= 1
    return start


def np_forward(
    tokens: tuple[Token, ...], i: int, *, allow_pronoun: bool = True, any_word: bool = False, max_words: int = 6
) -> tuple[int, int] | None:
    """(first, last) token indices of a noun phrase starting at ``i``: "Smith", "the senator", "Mr. Trump";
    ``any_word`` where a phrase is certain to follow, so it may open in lowercase ("according to officials")."""
    if i >= len(tokens) or not tokens[i].is_word:
        return None
    first = tokens[i]
    if first.lower in PRONOUNS:
        return (i, i) if allow_pronoun and first.lower != "who" else None
    opens = first.capitalized or first.lower in DETERMINERS or first.lower in TITLES or first.lower in QUANTIFIERS
    if not (opens or (any_word and first.lower not in NP_BOUNDARY)) or first.lower == "that":
        return None
    determined = first.lower in DETERMINERS
    last = i
    k = i + 1
    while k < len(tokens) and k - i < max_words:
        token = tokens[k]
        if token.is_word:
            if token.lower in NP_BOUNDARY and token.lower != "of" or token.lower in AUXILIARIES:
                break
            if token.lower in CUE_FORMS and not (determined and k == i + 1):  # "the report" is a noun
                break
            if token.lower == "of" and not (k + 1 < len(tokens) and tokens[k + 1].is_word):
                break
            name_so_far = tokens[k - 1].capitalized and not tokens[k - 1].lower.endswith(("’s", "'s"))
            if not token.capitalized and token.lower != "of" and name_so_far and not determined:
                break  # "Hillary Clinton went": the name ends before the predicate
        elif not (token.text in "’'-&" and tokens[k - 1].end == token.start):
            break
        last = k
        k += 1
    while last > i and tokens[last].lower in ("of", "the", "a", "an"):
        last -= 1
    return i, last


def agent_of_passive(tokens: tuple[Token, ...], i: int) -> tuple[tuple[int, int], int] | None:
    """'was criticized by the panel': the agent of a passive cue, and the index after it."""
    if i < len(tokens) and tokens[i].lower == "by":
        phrase = np_forward(tokens, i + 1, allow_pronoun=False)
        if phrase is not None:
            return (tokens[phrase[0]].start, tokens[phrase[1]].end), phrase[1] + 1
    return None


def appositive_subject(tokens: tuple[Token, ...], comma: int) -> tuple[int, int] | None:
    """'Erin Brockovich, the activist and lawyer, said': the name, its appositive and the comma."""
    opening = next((k for k in range(comma - 1, max(comma - 14, -1), -1) if tokens[k].text == ","), None)
    if opening is None or opening == 0 or not tokens[opening - 1].is_word:
        return None
    inner = tokens[opening + 1]
    if not (inner.lower in DETERMINERS or inner.capitalized or inner.lower in TITLES):
        return None
    start = np_backward(tokens, opening - 1)
    return (tokens[start].start, tokens[comma].end) if start is not None else None


def sentence_subject(tokens: tuple[Token, ...], limit: int) -> tuple[int, int] | None:
    i = 0
    while i < limit and not tokens[i].is_word:
        i += 1
    if i < limit and tokens[i].lower in INTRO_WORDS:
        comma = next((k for k in range(i + 1, min(limit, i + 12)) if tokens[k].text == ","), None)
        if comma is None:
            return None
        i = comma + 1
    phrase = np_forward(tokens, i)
    if phrase is None or phrase[1] >= limit:
        return None
    return tokens[phrase[0]].start, tokens[phrase[1]].end
