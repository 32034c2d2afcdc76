"""The attribution stage: every reported-speech instance in an article, found by code (no LLM).

Who (source) said (cue) what (content), as exact spans into the article text. A general English
approach: a lexicon of reporting verbs in all their inflections plus a few fixed phrases
("according to"); quotations next to a cue become its content; the source is the subject noun
phrase found by simple patterns before the cue ("Smith said", "the campaign has denied") or after
it ("said Smith", "according to Smith"); otherwise the content is the clause after the cue, or the
text before it for a fronted clause ("..., Smith said."). Pure regex over the sentence splitter, so
it is fast (about a millisecond for a 1,000-word article) and deterministic.
"""

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.text.lexicon import (
    ADDRESSEE_VERBS,
    ADJECTIVE_ENDINGS,
    AUXILIARIES,
    CHANNEL,
    CUE_FORMS,
    DETERMINERS,
    INFINITIVE_CUES,
    IRREGULAR_PLURALS,
    MODALS,
    NOUN_PREPOSITIONS,
    NP_BOUNDARY,
    PASSIVE_BE,
    PAST_PARTICIPLES,
    PAST_TENSE,
    PHRASAL,
    PRONOUNS,
    REPORTING_VERBS,
    SECTION_LABELS,
    TIME_WORDS,
)
from pipeline.text._phrases import (
    CLOSERS,
    QUOTE,
    Token,
    Unit,
    agent_of_passive,
    appositive_subject,
    is_name_word,
    np_backward,
    np_forward,
    sentence_subject,
    units,
)
from schemas import Attribution, MatchKind, Span

# ---------------------------------------------------------------- finding attributions


@dataclass
class _Found:
    source: tuple[int, int] | None
    cue: tuple[int, int]
    content: tuple[int, int] | None


def find_attributions(text: str) -> tuple[Attribution, ...]:
    """Every attribution in ``text``, in text order, ids a1, a2, ...; all spans are exact. Not
    cached: an article's are found once, by ``document.windows``, and travel with its windows."""
    quotes = [(m.start(), m.end()) for m in QUOTE.finditer(text)]  # in order and disjoint: bisectable
    found: list[_Found] = []
    for unit in units(text, quotes):
        for part in _bounded(unit):
            found += _in_unit(text, part, quotes)
    result: list[Attribution] = []
    for item in sorted(found, key=lambda f: f.cue):
        result.append(
            Attribution(
                id=f"a{len(result) + 1}",
                source=_span(text, item.source),
                cue=_span(text, item.cue),  # type: ignore[arg-type]  # a cue is never empty
                content=_span(text, item.content),
            )
        )
    return tuple(result)


# Tokens per unit looked at as one: a sentence (or several joined by a quotation) is rarely more
# than a few hundred. A "sentence" of 50,000 characters without a full stop (a quote bomb, a
# table, a minified script) is cut into parts of this size, so the work per part is bounded and
# the work per text linear: the look-backs from a cue (its subject, an earlier speaker) stay
# within a part.
MAX_UNIT_TOKENS = 400  # the longest in polnear_dev and the seeds: 91


def _bounded(unit: Unit) -> list[Unit]:
    tokens = unit.tokens
    if len(tokens) <= MAX_UNIT_TOKENS:
        return [unit]
    parts = [tokens[k : k + MAX_UNIT_TOKENS] for k in range(0, len(tokens), MAX_UNIT_TOKENS)]
    return [Unit(part[0].start, part[-1].end, part) for part in parts]


def _overlapping(quotes: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The quotations overlapping [start, end), by bisection (not a scan of the article's quotes)."""
    first = bisect.bisect_right(quotes, start, key=lambda q: q[1])
    last = bisect.bisect_left(quotes, end, key=lambda q: q[0])
    return quotes[first:last]


def _span(text: str, bounds: tuple[int, int] | None) -> Span | None:
    if bounds is None or bounds[1] <= bounds[0]:
        return None
    start, end = bounds
    return Span(start=start, end=end, text=text[start:end], match=MatchKind.exact)


def _in_unit(text: str, unit: Unit, quotes: list[tuple[int, int]]) -> list[_Found]:
    tokens = unit.tokens
    found: list[_Found] = []
    transcript = _transcript_line(text, unit)
    if transcript is not None:
        found.append(transcript)
    inside = _overlapping(quotes, unit.start, unit.end)
    q = 0  # tokens and quotations both go forward: one walk, not every token against every quote
    i = 0
    while i < len(tokens):
        # Words inside a quotation are the speaker's, not the article's attributions.
        while q < len(inside) and inside[q][1] <= tokens[i].start:
            q += 1
        if q < len(inside) and inside[q][0] < tokens[i].start < inside[q][1]:
            i += 1
            continue
        cue = _cue_at(text, tokens, i)
        if cue is None:
            i += 1
            continue
        first, last, cue_end = cue
        if tokens[i].lower == "according":
            item = _according_to(text, unit, first, last, cue_end)
        else:
            item = _verb_attribution(text, unit, first, i, last, cue_end, quotes, found)
        if item is not None:
            found.append(item)
        i = last + 1
    return found


def _cue_at(text: str, tokens: tuple[Token, ...], i: int) -> tuple[int, int, int] | None:
    """(first token, last token, end offset) of a cue starting at verb token ``i``, or None."""
    token = tokens[i]
    if token.lower == "according" and i + 1 < len(tokens) and tokens[i + 1].lower == "to":
        return i, i + 1, tokens[i + 1].end
    base = CUE_FORMS.get(token.text)  # case-sensitive: a capitalized form is a name ("Post", "Hope")
    if base is None:
        return None
    previous = tokens[i - 1].lower if i else ""
    possessive = i > 0 and tokens[i - 1].is_word and previous.endswith(("’s", "'s", "’", "'"))
    if previous in DETERMINERS or possessive:
        return None  # a noun: "the report", "his claims", "Trump's call", "Sanders’ comments"
    past = token.lower in PAST_PARTICIPLES or token.lower in PAST_TENSE
    if not past and i > 1 and tokens[i - 2].lower in DETERMINERS and tokens[i - 1].lower.endswith(ADJECTIVE_ENDINGS):
        return None  # "a nostalgic note", "the required votes"; but "the survey asks", "the state admitted"
    if token.lower == base and not _has_subject_for_base_form(tokens, i):
        return None  # "in order to", "to ask for": a bare base form reports only after a subject or modal
    following = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    if token.lower.endswith("s") and following in NOUN_PREPOSITIONS and following not in PHRASAL.get(base, ()):
        return None  # "attacks on", "chants of", "votes for", "claims of": plural nouns
    last = i
    if base in PHRASAL:
        if i + 1 < len(tokens) and tokens[i + 1].lower in PHRASAL[base]:
            last = i + 1
        elif base not in REPORTING_VERBS:
            return None  # "point", "push", "speak" report only with their particle
    first = i
    while first > 0 and tokens[first - 1].lower in AUXILIARIES:
        first -= 1
    end = tokens[last].end
    channel = CHANNEL.match(text, end)
    if channel is not None:
        end = channel.end()
        while last + 1 < len(tokens) and tokens[last + 1].end <= end:
            last += 1
    return first, last, end


def _has_subject_for_base_form(tokens: tuple[Token, ...], i: int) -> bool:
    j = i - 1
    while j >= 0 and tokens[j].lower in AUXILIARIES and tokens[j].lower not in MODALS:
        j -= 1
    if j < 0:
        return False
    previous = tokens[j]
    if previous.lower in MODALS or previous.lower in ("i", "we", "they", "you", "who"):
        return True
    if previous.lower == "to" and tokens[i].lower in INFINITIVE_CUES:
        return True  # "used his address to call ...", "went on to say ...": the sentence subject speaks
    # A plural subject: "officials say", "Democrats believe", "police say".
    plural = previous.lower.endswith("s") and previous.lower not in NP_BOUNDARY
    return previous.is_word and (plural or previous.lower in IRREGULAR_PLURALS)


def _transcript_line(text: str, unit: Unit) -> _Found | None:
    """A line opening with a short name and a colon ("Matthews: Well, ..."), as in transcripts."""
    tokens = unit.tokens
    if unit.start > 0 and text[unit.start - 1] != "\n":
        return None
    colon = next((k for k, t in enumerate(tokens[:6]) if t.text == ":"), None)
    if not colon or not all(is_name_word(t) for t in tokens[:colon]) or colon + 1 >= len(tokens):
        return None
    label = text[tokens[0].start : tokens[colon - 1].end]
    if label.lower() in SECTION_LABELS:
        return None
    # One capitalized word before a colon is usually a caption or a section label ("Agony: ...",
    # "Origins: ..."), unless the article names it elsewhere, as it does a transcript's speakers.
    if colon == 1 and not _named_elsewhere(text, label):
        return None
    return _Found(
        (tokens[0].start, tokens[colon - 1].end),
        (tokens[colon].start, tokens[colon].end),
        _trimmed(text, tokens[colon + 1].start, unit.end),
    )


def _named_elsewhere(text: str, label: str) -> bool:
    """``label`` occurs in ``text`` not followed by a colon. One scan of the text for all the
    labels (not one per transcript line: a text of 5,000 "Word:" lines made that quadratic)."""
    if re.fullmatch(r"\w+", label):
        return label in _words_without_colon(text)
    return re.search(rf"\b{re.escape(label)}\b(?!\s*:)", text) is not None


@functools.lru_cache(maxsize=8)  # within one call: every transcript line of the text asks for the same set
def _words_without_colon(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\b\w+\b(?!\s*:)", text))


def _verb_attribution(
    text: str,
    unit: Unit,
    first: int,
    verb: int,
    last: int,
    cue_end: int,
    quotes: list[tuple[int, int]],
    earlier: list[_Found],
) -> _Found | None:
    tokens = unit.tokens
    cue = (tokens[first].start, cue_end)
    base = CUE_FORMS[tokens[verb].text]
    before = first - 1
    after = last + 1  # first token after the cue (and, once found, after a source that follows it)
    participle = tokens[verb].lower in PAST_PARTICIPLES
    by_agent = agent_of_passive(tokens, after) if participle else None
    passive = by_agent is not None or (before >= 0 and tokens[before].lower in PASSIVE_BE and participle)
    quote_before = _quote_ending_before(text, quotes, tokens, before)
    # '"...," said Smith': nothing but punctuation between the quotation and the cue.
    right_after_quote = quote_before is not None and quote_before[1] >= tokens[before].start
    source: tuple[int, int] | None = None
    if passive:
        if by_agent is not None:
            source, after = by_agent
    elif before < 0 or right_after_quote or tokens[before].text in CLOSERS or tokens[before].text in ":—(":
        source, after = _source_after(tokens, after)
    elif tokens[before].text == ",":
        # "Smith, the senator, said" / "..., saying" (shares the subject) / "..., said Smith".
        source = appositive_subject(tokens, before)
        if source is None and not tokens[verb].lower.endswith("ing"):
            source, after = _source_after(tokens, after)
        if source is None:
            source = _shared_subject(tokens, before, earlier)
    else:
        source = _subject_before(tokens, before, earlier)
    if source is None and not passive and quote_before is None and tokens[verb].lower.endswith("ing"):
        return None  # a bare gerund with no one speaking ("the reporting") is rarely an attribution
    content = _content(text, unit, quotes, cue, source, after, base, quote_before)
    if source is None and content is None:
        return None
    return _Found(source, cue, content)


def _source_after(tokens: tuple[Token, ...], i: int) -> tuple[tuple[int, int] | None, int]:
    """Inverted order ("said Smith"): the source after the cue, and the index after it."""
    following = np_forward(tokens, i)
    if following is None:
        return None, i
    return (tokens[following[0]].start, tokens[following[1]].end), following[1] + 1


def _according_to(text: str, unit: Unit, first: int, last: int, cue_end: int) -> _Found | None:
    tokens = unit.tokens
    following = np_forward(tokens, last + 1, allow_pronoun=False, any_word=True, max_words=10)
    if following is None:
        return None
    source = (tokens[following[0]].start, tokens[following[1]].end)
    cue = (tokens[first].start, cue_end)
    if first == 0 or (first == 1 and not tokens[0].is_word):
        # "According to X, content."
        rest = following[1] + 1
        if rest < len(tokens) and tokens[rest].text == ",":
            rest += 1
        content = _trimmed(text, tokens[rest].start, unit.end) if rest < len(tokens) else None
    else:
        # "Content, according to X."
        end = tokens[first - 1].start if tokens[first - 1].text == "," else tokens[first].start
        content = _trimmed(text, unit.start, end)
    return _Found(source, cue, content)


# ---------------------------------------------------------------- sources


def _subject_before(tokens: tuple[Token, ...], j: int, earlier: list[_Found]) -> tuple[int, int] | None:
    """The subject noun phrase ending at token ``j`` (the word before the cue)."""
    adjunct = j
    while adjunct > 0 and j - adjunct < 4 and tokens[adjunct].lower in TIME_WORDS:
        adjunct -= 1
    if adjunct < j and tokens[adjunct + 1].lower in ("on", "last", "this", "earlier", "later"):
        j = adjunct  # skip "on Thursday" / "last week" back to the subject
    token = tokens[j]
    if token.lower in PRONOUNS:
        return token.start, token.end
    if token.lower in ("and", "but", "or") or token.lower in NP_BOUNDARY:
        return _shared_subject(tokens, j, earlier)
    start = np_backward(tokens, j)
    if start is None:
        return _shared_subject(tokens, j, earlier)
    return tokens[start].start, token.end


def _shared_subject(tokens: tuple[Token, ...], j: int, earlier: list[_Found]) -> tuple[int, int] | None:
    """A cue coordinated with an earlier verb ("went on TV and chastised", ", saying") shares its
    subject: the source of an earlier attribution in this sentence, else the sentence's subject."""
    for item in reversed(earlier):
        if item.source is not None and item.cue[0] >= tokens[0].start and item.cue[1] <= tokens[j].end:
            return item.source
    clause = next((k + 1 for k in range(j - 1, -1, -1) if tokens[k].text in ",;"), None)
    if clause is not None and clause < j and tokens[clause].lower in PRONOUNS:
        return tokens[clause].start, tokens[clause].end
    return sentence_subject(tokens, j)


# ---------------------------------------------------------------- contents


def _quote_ending_before(
    text: str, quotes: list[tuple[int, int]], tokens: tuple[Token, ...], j: int
) -> tuple[int, int] | None:
    """A quotation closing just before the cue, possibly with its speaker between: '"...," Smith said'."""
    if j < 0:
        return None
    limit = tokens[j].end
    first = bisect.bisect_left(quotes, limit - 40, key=lambda q: q[1])
    last = bisect.bisect_right(quotes, limit, key=lambda q: q[1])
    for start, end in quotes[first:last]:  # those ending at most 40 characters before the cue
        if not re.search(r"[.!?;\n]", text[end:limit]):
            between = text[end:limit].strip(" ,")
            if not between or len(between.split()) <= 5:
                return start, end
    return None


def _content(
    text: str,
    unit: Unit,
    quotes: list[tuple[int, int]],
    cue: tuple[int, int],
    source: tuple[int, int] | None,
    after: int,
    base: str,
    quote_before: tuple[int, int] | None,
) -> tuple[int, int] | None:
    tokens = unit.tokens
    if quote_before is not None:
        return quote_before
    if base in ADDRESSEE_VERBS:
        # "told reporters that ...": the addressee is not the content.
        that = next((k for k in range(after, min(after + 6, len(tokens))) if tokens[k].lower == "that"), None)
        if that is not None:
            after = that
        else:
            addressee = np_forward(tokens, after)
            # Past the addressee when punctuation follows it, or nothing does (a headline: "Trump warns Democrats").
            if addressee is not None and (addressee[1] + 1 == len(tokens) or not tokens[addressee[1] + 1].is_word):
                after = addressee[1] + 1
    # 'told reporters: "..."', 'said Tuesday, "..."': a quotation opening just after the cue.
    for k in range(after, min(after + 5, len(tokens))):
        at = bisect.bisect_left(quotes, tokens[k].start, key=lambda q: q[0])
        opening = quotes[at] if at < len(quotes) and quotes[at][0] == tokens[k].start else None
        if opening is not None and (k == after or tokens[k - 1].text in ",:"):
            return opening
    while after < len(tokens) and tokens[after].text in ",:":
        after += 1
    if after < len(tokens):
        start = tokens[after].start
        if tokens[after].is_word or tokens[after].text in '“"‘(':
            end = _clause_end(unit, quotes)
            if end - start >= 8:
                return _trimmed(text, start, end)
    # Nothing after the cue ("..., Smith said."): the fronted clause is the content.
    head = min(cue[0], source[0]) if source is not None else cue[0]
    if head > unit.start:
        return _trimmed(text, unit.start, head)
    return None


def _clause_end(unit: Unit, quotes: list[tuple[int, int]]) -> int:
    """Where reported content after a cue ends: the unit's end, or the end of a quotation running past it."""
    end = unit.end
    at = bisect.bisect_left(quotes, end, key=lambda q: q[0]) - 1  # the last quotation opening before it
    if at >= 0 and end < quotes[at][1]:
        end = quotes[at][1]
    return end


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:—–-"):
        end -= 1
    while start < end and (text[start].isspace() or text[start] in ",;:—–-"):
        start += 1
    return (start, end) if end > start else None


# Capitalised at the start of a sentence or a title, not names: "The article" and "The
# article credits Elon Musk" share no name.
_NOT_NAMES = frozenset(
    "The This That These Those His Her Hers Its Our Their They She And But For Nor Yet "
    "According After Before When While Who What Why How Where Also Then There Than With From "
    "Both Each Every Some Any One Two Three".split()
)


def names_in(text: str) -> frozenset[str]:
    """Capitalised words of three letters or more: enough to tell whether two mentions
    ("Elon Musk", "Tesla CEO Musk") name the same person."""
    return frozenset(w for w in re.findall(r"[A-Z][\w’'-]+", text) if len(w) > 2 and w not in _NOT_NAMES)


def credited_with(span: Span, attributions: Sequence[Attribution]) -> Attribution | None:
    """The attribution whose content holds ``span`` (most of it), when it names a source."""
    for attribution in attributions:
        content, source = attribution.content, attribution.source
        if content is None or source is None:
            continue
        overlap = min(content.end, span.end) - max(content.start, span.start)
        if overlap >= 0.6 * (span.end - span.start):
            return attribution
    return None
