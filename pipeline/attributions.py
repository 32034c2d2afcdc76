"""The attribution stage: every reported-speech instance in an article, found by code (no LLM).

Who (source) said (cue) what (content), as exact spans into the article text. A general English
approach: a lexicon of reporting verbs in all their inflections plus a few fixed phrases
("according to"); quotations next to a cue become its content; the source is the subject noun
phrase found by simple patterns before the cue ("Smith said", "the campaign has denied") or after
it ("said Smith", "according to Smith"); otherwise the content is the clause after the cue, or the
text before it for a fronted clause ("..., Smith said."). Pure regex over the sentence splitter, so
it is fast (about a millisecond for a 1,000-word article) and deterministic.
"""

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline._sentences import split_sentences
from schemas import Attribution, MatchKind, Span

# ---------------------------------------------------------------- the lexicon


def _words(listing: str) -> frozenset[str]:
    return frozenset(listing.split())


# Reporting, attitude and stance verbs of general English (base forms). Inflections are generated
# by rule; irregular ones are listed below.
REPORTING_VERBS = _words(
    """
    say tell claim deny argue insist warn announce accuse add note explain write report acknowledge admit
    suggest believe criticize criticise urge promise ask testify predict estimate state declare assert
    contend maintain stress emphasize emphasise reiterate repeat respond reply answer counter concede
    confirm reveal disclose recall remember observe remark comment complain mention describe dismiss
    reject blame praise endorse pledge vow threaten forecast project conclude indicate think expect hope
    fear worry doubt question wonder agree disagree dispute challenge refute rebut contradict slam blast
    attack condemn denounce chastise charge allege propose recommend demand request plead caution advise
    proclaim boast brag joke quip shout yell chant tweet hint imply insinuate signal applaud
    welcome thank apologize apologise tout highlight underscore lament recount speculate
    guarantee assure reassure remind inform notify order instruct vote support oppose favor favour
    decry deride mock ridicule scoff affirm reaffirm contest protest object grumble muse ponder reckon
    figure recognize recognise decide show find
    """
)
_IRREGULAR = {
    "say": ("says", "said", "saying"),
    "tell": ("tells", "told", "telling"),
    "write": ("writes", "wrote", "written", "writing"),
    "think": ("thinks", "thought", "thinking"),
    "find": ("finds", "found", "finding"),
    "show": ("shows", "showed", "shown", "showing"),
    "forecast": ("forecasts", "forecasting"),
    "fear": ("fears", "feared", "fearing"),
}
# Particles that belong to the cue: "called on", "pointed out", "pushed for", "spoke about".
PHRASAL = {
    "call": ("on", "for"),
    "point": ("out",),
    "push": ("for",),
    "speak": ("of", "about", "out"),
    "weigh": ("in",),
    "lash": ("out",),
    "shoot": ("back",),
    "fire": ("back",),
    "hit": ("back",),
}
_PHRASAL_FORMS = {
    "call": ("call", "calls", "called", "calling"),
    "point": ("point", "points", "pointed", "pointing"),
    "push": ("push", "pushes", "pushed", "pushing"),
    "speak": ("speak", "speaks", "spoke", "spoken", "speaking"),
    "weigh": ("weigh", "weighs", "weighed", "weighing"),
    "lash": ("lash", "lashes", "lashed", "lashing"),
    "shoot": ("shoot", "shoots", "shot", "shooting"),
    "fire": ("fire", "fires", "fired", "firing"),
    "hit": ("hit", "hits", "hitting"),
}
# A verb form that is usually a noun after a determiner ("a claim", "the report") is not a cue then.
DETERMINERS = _words("a an the this that these those his her its their our my your some any no each every")
AUXILIARIES = _words(
    "has have had will would shall should can could may might must did does do also not never n't repeatedly "
    "previously later recently again already publicly privately then just quickly often once still "
    "reportedly frequently firmly flatly strongly openly loudly angrily bluntly pointedly proudly simply "
    "explicitly directly falsely wrongly correctly subsequently initially first further always long "
    "now even privately widely personally quietly sharply immediately formally officially both"
)
ADJECTIVE_ENDINGS = ("ed", "ing", "al", "ic", "ive", "ous", "ful", "less", "able", "ible", "ary", "est", "er")
# Time adjuncts between a subject and its verb: "Pence on Thursday blamed", "Smith last week said".
TIME_WORDS = _words(
    "monday tuesday wednesday thursday friday saturday sunday today yesterday tonight week month year night "
    "morning afternoon evening weekend earlier later on last this"
)
# Verbs that still report as a bare infinitive; others ("to ask for", "to support") mostly do not.
INFINITIVE_CUES = _words("say tell call deny endorse announce declare claim criticize warn accuse urge")
NOUN_PREPOSITIONS = _words("of on from about for against over by")
MODALS = _words("will would shall should can could may might must do does did not n't never")
PASSIVE_BE = _words("is was were are be been being")
QUANTIFIERS = _words("many several some most few both two three four five six seven eight nine ten dozens hundreds")
PRONOUNS = _words("he she they we i you it who")
# Words that end a subject noun phrase when scanning back from the cue.
NP_BOUNDARY = _words(
    """
    and but or nor that which because when while if as after before since although though where so than
    whether until unless whom whose what why how to in on at by with from for into about against over under
    without between during through than is was were are be been being has have had do does did not
    there here said says told according
    """
)
# A sentence that opens with one of these has an introductory phrase before its subject.
INTRO_WORDS = _words(
    """
    on in at since after before during for by with meanwhile still but and yet however also instead later
    earlier last now then today yesterday as when while if although though because speaking asked in
    """
)
# Labels that open a line with a colon without anyone speaking ("RELATED: ...", "Editor's note: ...").
SECTION_LABELS = _words(
    """
    related update updated correction clarification note editor's photo photos video watch read listen
    origins origin claim rating example source sources advertisement image caption credit disclaimer
    """
) | {"editor's note", "read more", "see also", "more", "also", "the facts", "fact check"}
TITLES = _words("mr mrs ms dr prof sen rep gov gen col lt sgt st jr sr president pres")
# Objects told/asked/urged..., skipped before the content: "told reporters that ...".
ADDRESSEE_VERBS = _words("tell ask urge warn assure reassure remind inform notify order instruct thank")
# "said in a statement": the channel belongs to the cue.
_CHANNEL = re.compile(
    r"\s+in\s+(?:a|an|his|her|its|their|the)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:statement|interview|email|e-mail|letter|speech|tweet|post|memo|release|op-ed|address|remarks)\b"
)


def _inflections(base: str) -> tuple[str, ...]:
    if base in _IRREGULAR:
        return (base, *_IRREGULAR[base])
    if base.endswith("e"):
        stem = base[:-1]
        return base, base + "s", base + "d", stem + "ing"
    if base.endswith("y") and base[-2] not in "aeiou":
        stem = base[:-1]
        return base, stem + "ies", stem + "ied", base + "ing"
    third = base + "es" if base.endswith(("s", "sh", "ch", "x", "z")) else base + "s"
    # Consonant doubling of short stressed verbs: admit -> admitted, slam -> slammed, quip -> quipped.
    doubled = base + base[-1] if base in {"admit", "slam", "quip", "plan", "refer", "commit", "regret"} else base
    return base, third, doubled + "ed", doubled + "ing"


CUE_FORMS: dict[str, str] = {form: base for base in REPORTING_VERBS for form in _inflections(base)}
CUE_FORMS["declined"] = "decline"  # "declined to comment"; other forms of decline are mostly about prices
for _base, _forms in _PHRASAL_FORMS.items():
    for _form in _forms:
        CUE_FORMS.setdefault(_form, _base)
_PAST_PARTICIPLES = frozenset(
    f for f in CUE_FORMS if f.endswith(("ed", "en")) or f in {"said", "told", "found", "thought"}
)
_PAST_TENSE = frozenset({"wrote", "spoke", "shot", "hit"})

# ---------------------------------------------------------------- tokens and quotes

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|\w+(?:[’'\-&.]\w+)*(?:’s|'s|s’|s')?|[^\w\s]")
# Curly pairs, straight pairs, and the typewriter convention of two apostrophes (''...'').
_QUOTE = re.compile(r"“[^“”\n]*”|\"[^\"\n]*\"|''(?:(?!'')[^\n])*''")
_CLOSERS = frozenset('”"')


@dataclass(frozen=True, slots=True)
class _Token:
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
class _Unit:
    """A sentence, or several when a quotation runs across their boundary."""

    start: int
    end: int
    tokens: tuple[_Token, ...]


def _tokens(text: str, start: int, end: int) -> list[_Token]:
    found: list[_Token] = []
    for match in _TOKEN.finditer(text, start, end):
        token = _Token(match.start(), match.end(), match.group())
        # "Mr." / "Sen." / initials keep their period: it is part of the name, not a sentence end.
        if found and token.text == "." and found[-1].end == token.start:
            prev = found[-1]
            if prev.lower in TITLES or (len(prev.text) == 1 and prev.text.isupper()):
                found[-1] = _Token(prev.start, token.end, prev.text + ".")
                continue
        found.append(token)
    return found


def _units(text: str, quotes: list[tuple[int, int]]) -> list[_Unit]:
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
    return [_Unit(s, e, tuple(_tokens(text, s, e))) for s, e in bounds]


# ---------------------------------------------------------------- finding attributions


@dataclass
class _Found:
    source: tuple[int, int] | None
    cue: tuple[int, int]
    content: tuple[int, int] | None


# The claims, denials and result of one article all ask for the same text's attributions:
# compute them once (a batch run has up to `concurrency` articles in flight).
@functools.lru_cache(maxsize=64)
def find_attributions(text: str) -> tuple[Attribution, ...]:
    """Every attribution in ``text``, in text order, ids a1, a2, ...; all spans are exact."""
    quotes = [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    found: list[_Found] = []
    for unit in _units(text, quotes):
        found += _in_unit(text, unit, quotes)
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


def _span(text: str, bounds: tuple[int, int] | None) -> Span | None:
    if bounds is None or bounds[1] <= bounds[0]:
        return None
    start, end = bounds
    return Span(start=start, end=end, text=text[start:end], match=MatchKind.exact)


def _in_unit(text: str, unit: _Unit, quotes: list[tuple[int, int]]) -> list[_Found]:
    tokens = unit.tokens
    found: list[_Found] = []
    transcript = _transcript_line(text, unit)
    if transcript is not None:
        found.append(transcript)
    inside = [(s, e) for s, e in quotes if s < unit.end and unit.start < e]
    i = 0
    while i < len(tokens):
        # Words inside a quotation are the speaker's, not the article's attributions.
        if any(s < tokens[i].start < e for s, e in inside):
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


def _cue_at(text: str, tokens: tuple[_Token, ...], i: int) -> tuple[int, int, int] | None:
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
    past = token.lower in _PAST_PARTICIPLES or token.lower in _PAST_TENSE
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
    channel = _CHANNEL.match(text, end)
    if channel is not None:
        end = channel.end()
        while last + 1 < len(tokens) and tokens[last + 1].end <= end:
            last += 1
    return first, last, end


def _has_subject_for_base_form(tokens: tuple[_Token, ...], i: int) -> bool:
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
    # A plural subject: "officials say", "Democrats believe".
    return previous.is_word and previous.lower.endswith("s") and previous.lower not in NP_BOUNDARY


def _transcript_line(text: str, unit: _Unit) -> _Found | None:
    """A line opening with a short name and a colon ("Matthews: Well, ..."), as in transcripts."""
    tokens = unit.tokens
    if unit.start > 0 and text[unit.start - 1] != "\n":
        return None
    colon = next((k for k, t in enumerate(tokens[:6]) if t.text == ":"), None)
    if not colon or not all(_is_name_word(t) for t in tokens[:colon]) or colon + 1 >= len(tokens):
        return None
    label = text[tokens[0].start : tokens[colon - 1].end]
    if label.lower() in SECTION_LABELS:
        return None
    # One capitalized word before a colon is usually a caption or a section label ("Agony: ...",
    # "Origins: ..."), unless the article names it elsewhere, as it does a transcript's speakers.
    if colon == 1 and not re.search(rf"\b{re.escape(label)}\b(?!\s*:)", text):
        return None
    return _Found(
        (tokens[0].start, tokens[colon - 1].end),
        (tokens[colon].start, tokens[colon].end),
        _trimmed(text, tokens[colon + 1].start, unit.end),
    )


def _verb_attribution(
    text: str,
    unit: _Unit,
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
    participle = tokens[verb].lower in _PAST_PARTICIPLES
    by_agent = _by_agent(tokens, after) if participle else None
    passive = by_agent is not None or (before >= 0 and tokens[before].lower in PASSIVE_BE and participle)
    quote_before = _quote_ending_before(text, quotes, tokens, before)
    # '"...," said Smith': nothing but punctuation between the quotation and the cue.
    right_after_quote = quote_before is not None and quote_before[1] >= tokens[before].start
    source: tuple[int, int] | None = None
    if passive:
        if by_agent is not None:
            source, after = by_agent
    elif before < 0 or right_after_quote or tokens[before].text in _CLOSERS or tokens[before].text in ":—(":
        source, after = _source_after(tokens, after)
    elif tokens[before].text == ",":
        # "Smith, the senator, said" / "..., saying" (shares the subject) / "..., said Smith".
        source = _appositive_subject(tokens, before)
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


def _source_after(tokens: tuple[_Token, ...], i: int) -> tuple[tuple[int, int] | None, int]:
    """Inverted order ("said Smith"): the source after the cue, and the index after it."""
    following = _np_forward(tokens, i)
    if following is None:
        return None, i
    return (tokens[following[0]].start, tokens[following[1]].end), following[1] + 1


def _according_to(text: str, unit: _Unit, first: int, last: int, cue_end: int) -> _Found | None:
    tokens = unit.tokens
    following = _np_forward(tokens, last + 1, allow_pronoun=False, any_word=True, max_words=10)
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


def _is_name_word(token: _Token) -> bool:
    return token.is_word and (token.capitalized or token.lower in TITLES)


def _subject_before(tokens: tuple[_Token, ...], j: int, earlier: list[_Found]) -> tuple[int, int] | None:
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
    start = _np_backward(tokens, j)
    if start is None:
        return _shared_subject(tokens, j, earlier)
    return tokens[start].start, token.end


def _np_backward(tokens: tuple[_Token, ...], j: int, max_words: int = 8) -> int | None:
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


def _np_forward(
    tokens: tuple[_Token, ...], i: int, *, allow_pronoun: bool = True, any_word: bool = False, max_words: int = 6
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


def _by_agent(tokens: tuple[_Token, ...], i: int) -> tuple[tuple[int, int], int] | None:
    """'was criticized by the panel': the agent of a passive cue, and the index after it."""
    if i < len(tokens) and tokens[i].lower == "by":
        phrase = _np_forward(tokens, i + 1, allow_pronoun=False)
        if phrase is not None:
            return (tokens[phrase[0]].start, tokens[phrase[1]].end), phrase[1] + 1
    return None


def _appositive_subject(tokens: tuple[_Token, ...], comma: int) -> tuple[int, int] | None:
    """'Erin Brockovich, the activist and lawyer, said': the name, its appositive and the comma."""
    opening = next((k for k in range(comma - 1, max(comma - 14, -1), -1) if tokens[k].text == ","), None)
    if opening is None or opening == 0 or not tokens[opening - 1].is_word:
        return None
    inner = tokens[opening + 1]
    if not (inner.lower in DETERMINERS or inner.capitalized or inner.lower in TITLES):
        return None
    start = _np_backward(tokens, opening - 1)
    return (tokens[start].start, tokens[comma].end) if start is not None else None


def _shared_subject(tokens: tuple[_Token, ...], j: int, earlier: list[_Found]) -> tuple[int, int] | None:
    """A cue coordinated with an earlier verb ("went on TV and chastised", ", saying") shares its
    subject: the source of an earlier attribution in this sentence, else the sentence's subject."""
    for item in reversed(earlier):
        if item.source is not None and item.cue[0] >= tokens[0].start and item.cue[1] <= tokens[j].end:
            return item.source
    clause = next((k + 1 for k in range(j - 1, -1, -1) if tokens[k].text in ",;"), None)
    if clause is not None and clause < j and tokens[clause].lower in PRONOUNS:
        return tokens[clause].start, tokens[clause].end
    return _sentence_subject(tokens, j)


def _sentence_subject(tokens: tuple[_Token, ...], limit: int) -> tuple[int, int] | None:
    i = 0
    while i < limit and not tokens[i].is_word:
        i += 1
    if i < limit and tokens[i].lower in INTRO_WORDS:
        comma = next((k for k in range(i + 1, min(limit, i + 12)) if tokens[k].text == ","), None)
        if comma is None:
            return None
        i = comma + 1
    phrase = _np_forward(tokens, i)
    if phrase is None or phrase[1] >= limit:
        return None
    return tokens[phrase[0]].start, tokens[phrase[1]].end


# ---------------------------------------------------------------- contents


def _quote_ending_before(
    text: str, quotes: list[tuple[int, int]], tokens: tuple[_Token, ...], j: int
) -> tuple[int, int] | None:
    """A quotation closing just before the cue, possibly with its speaker between: '"...," Smith said'."""
    if j < 0:
        return None
    limit = tokens[j].end
    for start, end in quotes:
        if end <= limit and limit - end <= 40 and not re.search(r"[.!?;\n]", text[end:limit]):
            between = text[end:limit].strip(" ,")
            if not between or len(between.split()) <= 5:
                return start, end
    return None


def _content(
    text: str,
    unit: _Unit,
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
            addressee = _np_forward(tokens, after)
            if addressee is not None and addressee[1] + 1 < len(tokens) and not tokens[addressee[1] + 1].is_word:
                after = addressee[1] + 1
    # 'told reporters: "..."', 'said Tuesday, "..."': a quotation opening just after the cue.
    for k in range(after, min(after + 5, len(tokens))):
        opening = next(((s, e) for s, e in quotes if s == tokens[k].start), None)
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


def _clause_end(unit: _Unit, quotes: list[tuple[int, int]]) -> int:
    """Where reported content after a cue ends: the unit's end, or the end of a quotation running past it."""
    end = unit.end
    for quote_start, quote_end in quotes:
        if quote_start < end < quote_end:
            end = quote_end
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
    "According After Before When While Who What Why How Where Also Then".split()
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
