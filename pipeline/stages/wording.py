"""The one place an article's words become a standalone statement.

A claim is read away from its article, so its statement must say who and what by itself. From a
candidate (an attribution's content, or a sentence in the article's own voice) code writes:

- the content without the words that attribute it ("Bremmer claimed Musk told him …"): whoever they
  name joins the claim's ``via`` chain; without hedges ("allegedly"), the venue ("in a newsletter"),
  the teller's asides ("(much as I had heard …)"), and a time that belongs to the saying ("Monday that");
- a proposal as made, in the sentence that says who proposed what;
- references resolved: "I/me/my" in a quotation as its speaker; "he/she/his/her" as the one person
  the attribution chain or the sentences before name who fits; "the Tesla CEO" as the person the
  article introduces so; "the proposal", "that outcome", "There were three components" spelled out
  from the sentence that introduced them.

What code cannot resolve it leaves, and the statement says it does not stand alone
(``pipeline.text.standalone``). A model's rewording passes the same checks, or code's words stand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.stages._proposed import Candidate
from pipeline.text.attributions import find_attributions, names_in
from pipeline.text.document import Window
from pipeline.text.lexicon import (
    ATTRIBUTION_WORDS,
    DAYS,
    DENIAL_REPORT,
    FIRST_PERSON_PLURAL,
    FIRST_PERSON_SINGULAR,
    HEDGES,
    POINTING_NOUNS,
    PROPOSING,
    REPORTING_VERBS,
    ROLES,
    SECOND_PERSON,
    SUBJECT_PRONOUNS,
    TELLING,
    THIRD_PERSON_SINGULAR,
    TIME_WORDS,
    VENUE_NOUNS,
    WRITERS_ASIDE,
    any_of,
    third_person,
)
from pipeline.text.people import (
    Person,
    fits,
    innermost_quotation,
    known_person,
    mentioned,
    named_before,
    names_a_person,
)
from pipeline.text.sentences import split_sentences
from pipeline.text.standalone import CUT_BEFORE_CUE, GENERIC_PERSON, QUOTED, problems
from schemas import Attribution

LONG_WORDS = 30  # a statement is at most about 30 words
MIN_STATEMENT_WORDS = 3
CONTEXT_SENTENCES = 3  # how far back a reference is looked up


@dataclass(frozen=True)
class Statement:
    """A candidate in words that stand alone, or as near as code gets: ``problems`` says what is left."""

    text: str
    via: tuple[str, ...]  # who passed the claim on, after its claimant
    problems: tuple[str, ...] = ()
    quote: bool = False  # the speaker's own words, quoted: "we" and "you" are theirs to mean

    @property
    def standalone(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- the statements


def code_statement(window: Window, candidate: Candidate) -> Statement:
    """The candidate in code's standalone words: every candidate's default statement."""
    proposed = proposal_statement(window, candidate)
    if proposed is not None:
        text, via = proposed, list(candidate.via)
    else:
        content = without_venue(_from_the_cue(candidate.content.text.strip()))
        text, chain = unattributed(statement_text(content), [candidate.claimant, *candidate.via])
        via = chain[1:]
    described = resolve_descriptions(text, window.text)
    text = resolved(window, candidate, text)
    quoted = _as_quotation(window, candidate, described) if _SPEAKING.search(_unquoted(text)) else None
    if quoted is not None:
        return Statement(quoted, tuple(via), tuple(problems(quoted, window.text)), quote=True)
    return Statement(text, tuple(via), tuple(problems(text, window.text)))


# "told the committee in an interview Monday that …": the addressee, venue and time belong to the cue.
_BEFORE_THAT = re.compile(
    r"^(?:[\w’'.-]+\s+){0,8}?(?:" + "|".join(DAYS.split()) + r"|today|yesterday|week|month|interview|statement|hearing)"
    r"\s+that\s+",
    re.IGNORECASE,
)


def _from_the_cue(content: str) -> str:
    """The content cut where the cue's words end: "Monday that it was …" -> "it was …"."""
    return _BEFORE_THAT.sub("", CUT_BEFORE_CUE.sub("", content, count=1), count=1)


def written_statement(window: Window, written: str, candidate: Candidate) -> Statement | None:
    """A model's statement for the candidate, without attribution words and with its references
    resolved as code's are; None where it is unusable (too short, names no one in the article, or
    does not stand alone): code's words stand then."""
    text, chain = unattributed(" ".join(written.split()), [candidate.claimant, *candidate.via])
    text = resolved(window, candidate, text)
    if len(text.split()) < MIN_STATEMENT_WORDS or _names_no_one_here(text, window.text) or problems(text, window.text):
        return None
    return Statement(text, tuple(chain[1:]))


def needs_writing(window: Window, candidate: Candidate, statement: str) -> bool:
    """Whether the model is asked to write the candidate: code's statement does not stand alone, or is
    long; a proposal is always code's (its sentence, however long, says who proposed what)."""
    if proposal_statement(window, candidate) is not None:
        return False
    return bool(problems(statement, window.text)) or len(statement.split()) > LONG_WORDS


def is_aside(window: Window, candidate: Candidate) -> bool:
    """The writer (or a quoted writer) about their own writing and plans, or setting the scene in the
    first person ("I wasn't planning on writing about this, but …", "As I sat down to write …"): no
    claim a desk checks; nor what such an aside reports ("I wasn't planning on writing about the
    budget until …": the words before the content are read too)."""
    if WRITERS_ASIDE.search(statement_text(candidate.content.text)):
        return True
    first = min(candidate.sentences, default=None)
    if candidate.cue == "none" or first is None or first not in window.numbers:
        return False
    return bool(WRITERS_ASIDE.search(window.text[window.sentence(first).start : candidate.content.start]))


def reports_a_denial(statement: str) -> bool:
    """ "Musk denied the call took place" is a denial, which the denials find; listed as a claim it
    was judged as if the article asserted the denial's content."""
    return bool(DENIAL_REPORT.search(statement))


def statement_text(text: str) -> str:
    """The content as a statement: without a leading "that" or opening quote, with a final period."""
    text = _OPENING.sub("", text.strip()).strip().rstrip(",;:”\"’'").strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else f"{text}."


# A leading "that" is the complementiser ("said that …"), unless it points back ("that outcome").
_OPENING = re.compile(
    r"^[\s“”\"'‘’(]*(that\s+(?!(?:" + "|".join(POINTING_NOUNS.split()) + r")\b))?"
    r"((him|her|me|them|us)\s+)?",
    re.IGNORECASE,
)


def proposal_statement(window: Window, candidate: Candidate) -> str | None:
    """ "Musk had suggested that the West recognize …": what is claimed is that he proposed it (the
    content alone, "The West recognize …", is no statement of fact), so the statement is the
    sentence saying who proposed what. None for any other candidate, or a proposal told at one remove."""
    if candidate.cue_span is None or candidate.via or not PROPOSING.search(candidate.cue):
        return None
    numbers = window.sentence_numbers_of(candidate.cue_span)
    if len(numbers) != 1:
        return None
    return resolve_descriptions(" ".join(window.sentence(numbers[0]).text.split()), window.text)


# ---------------------------------------------------------------- attribution words off


def first_sentence(text: str) -> str:
    """A statement is one sentence: "Musk had spoken with Putin. he also told me …" keeps the first."""
    sentences = split_sentences(text.strip())
    return sentences[0].text if len(sentences) > 1 else text.strip()


def unattributed(statement: str, chain: list[str]) -> tuple[str, list[str]]:
    """ "Tom Park said Ann Lee hid the cuts", Park's claim: "Ann Lee hid the cuts." Attribution words
    come off only when they credit the claim's own sources; in "Zelenskyy condemned the proposal"
    (Reuters' claim) the condemning is the claim. Returns the statement and the chain, extended."""
    statement = without_personal_asides(_without_own_source_opening(first_sentence(statement), chain))
    stripped, credited = without_attribution(statement)
    # Speech words always attribute ("Musk told me he had spoken with Putin": Musk joins the chain);
    # other cues only when they credit the chain's own sources.
    speech = bool(ATTRIBUTION_WORDS.search(statement))
    if not credited or not speech and not all(any(same_person(name, known) for known in chain) for name in credited):
        return without_hedges(statement), chain
    return stripped, [*chain, *(n for n in credited if not any(same_person(n, known) for known in chain))]


def without_attribution(statement: str) -> tuple[str, list[str]]:
    """The statement without the words that attribute it, and the names those words credited,
    outermost first: "Bremmer claimed Musk told him the CEO had met Putin" gives
    ("The CEO had met Putin.", ["Bremmer", "Musk"])."""
    sources: list[str] = []
    text = statement.strip()
    for _ in range(4):  # nesting deeper than four is not news prose
        # The outermost attribution is the one whose content holds most of the statement; a
        # reporting verb inside it ("first reported by Vice on Tuesday") is not.
        credits = [a for a in find_attributions(text) if a.source is not None and a.content is not None]
        found = max(credits, key=lambda a: len(a.content.text) if a.content else 0, default=None)
        if found is None or found.source is None or found.content is None or PROPOSING.search(found.cue.text):
            break
        content = found.content.text.strip()
        if len(content.split()) < 3 or len(content) < 0.4 * len(text):  # too little left: keep the sentence
            break
        if TELLING.match(found.cue.text):
            content = _ADDRESSEE.sub("", content, count=1)
        # "said on Monday that …": the time belongs to the saying, not to what was said.
        content = re.sub(
            r"^(?:(?:on|in|at|during|last|this)\b[^,.;]{0,40}?\s+)?that\s+", "", content, flags=re.IGNORECASE
        )
        source = found.source.text
        named = source.lower() not in SUBJECT_PRONOUNS and source.lower() not in (
            "him",
            "her",
            "them",
            "me",
            "us",
            "you",
            "it",
        )
        if named and _PRONOUN_SUBJECT.match(content):
            content = _PRONOUN_SUBJECT.sub(source.split()[-1], content, count=1)
        if named:
            sources.append(source)
        text = content
    if sources:
        text = without_venue(text)
    text = HEDGES.sub("", text).strip(" ,;:")
    if not text or (not sources and text == statement.strip()):
        return statement, []  # nothing to take off: the words as they are
    text = text[0].upper() + text[1:]
    if text.rstrip("”’\"')")[-1:] not in (".", "!", "?"):  # 'as “shams.”' is ended
        text += "."
    return text, sources


_ADDRESSEE = re.compile(r"^(?:him|her|them|me|us|you|(?:[A-Z][\w’'.-]*\s?)+?)\s+(?=\S)")
_PRONOUN_SUBJECT = re.compile(r"^(he|she|they)\b", re.IGNORECASE)
# Where an attributed claim was made ("… in a newsletter to subscribers first reported by Vice", "in an
# Oct. 3 tweet"): part of the attribution, cut with it, never part of the proposition.
_VENUE = re.compile(
    r",?\s+(in|on|via|through)\s+(a|an|the|his|her|their|its)\s+(?:[\w.]+\s+){0,3}?("
    + "|".join(VENUE_NOUNS.split())
    + r")\b.*$",
    re.IGNORECASE | re.DOTALL,
)


def without_venue(content: str) -> str:
    """ "… had met Putin in a newsletter to subscribers first reported by Vice": where a claim was
    made belongs to its attribution, not to what is claimed (an attribution's content often runs on
    past it)."""
    shorter = _VENUE.sub("", content)
    return shorter if len(shorter.split()) >= 3 else content


def without_hedges(statement: str) -> str:
    """ "Musk allegedly spoke with Putin" as "Musk spoke with Putin": who vouches is not what is claimed."""
    text = HEDGES.sub("", statement).strip(" ,;:")
    return text[0].upper() + text[1:] if text else statement


# "Putin (in a direct conversation with him) was 'prepared to negotiate' (much as I had heard …)":
# an aside in brackets that speaks as someone ("him", "I") is the teller's, not the claim's.
_PERSONAL_ASIDE = re.compile(
    r"\s*\((?=[^()]*\b(?:I|me|my|we|us|our|he|him|his|she|her|they|them|their)\b)[^()]*\)", re.IGNORECASE
)


def without_personal_asides(statement: str) -> str:
    """The statement without bracketed asides in someone's voice; numbered items ("(1) Crimea …") stay."""
    text = _PERSONAL_ASIDE.sub("", statement)
    return re.sub(r"\s+([,.;:!?])", r"\1", text).strip() if len(text.split()) >= 3 else statement


# "Reuters reported that …" opening a statement of Reuters' own claim: the 1.5B writes it back in
# (on the seed), and "reported" is no speech word (in "Zelenskyy condemned …" the act is the claim).
_OPENING_SOURCE = re.compile(
    r"^(?P<who>(?:the )?[A-Z][\w’'.&-]*(?:\s+(?:[A-Z][\w’'.&-]*|of|for))*)\s+(?:has |have |had )?"
    r"(?:reported|reports|said|says|wrote|writes|claimed|claims|stated|states|alleged|alleges)"
    r"(?:\s+that)?[,:]?\s+(?=[\w“\"‘'])"
)
_PRONOUN_FIRST = re.compile(r"(he|she|they|it|i|we|you|his|her|their|its|this|that)\b", re.IGNORECASE)


def _without_own_source_opening(statement: str, chain: list[str]) -> str:
    opening = _OPENING_SOURCE.match(statement)
    if opening is None or not any(same_person(opening["who"], known) for known in chain):
        return statement
    rest = statement[opening.end() :]
    if _PRONOUN_FIRST.match(rest):
        return statement  # "Park said he …": who "he" is, without_attribution() resolves
    return rest[:1].upper() + rest[1:]


def same_person(a: str, b: str) -> bool:
    """ "Ian Bremmer", "Bremmer", "Elon musk", "Musk" and "the Eurasia Group’s Ian Bremmer": the same
    last word whatever its case, or one inside the other ("Ukrainian leaders" and "Ukrainian forces"
    are not one)."""
    a, b = a.strip().lower(), b.strip().lower()
    return bool(a and b) and (a.split()[-1] == b.split()[-1] or a in b or b in a)


# ---------------------------------------------------------------- who a pronoun source is

_NAME = re.compile(r"\b[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*")


def named_source(window: Window, attribution: Attribution, outer: list[Attribution]) -> str:
    """A pronoun source as the person it stands for: the last name before it, in the enclosing
    quote ("I spoke with Elon …, and he told me") or else in this and the previous sentence,
    the attribution's own content left out ("“Elon musk told me …” he said": not Musk); where
    that name is no person's, the nearest person who fits."""
    assert attribution.source is not None
    source = attribution.source
    if source.text.lower() not in SUBJECT_PRONOUNS:
        return source.text
    if outer and outer[-1].content is not None:
        start = outer[-1].content.start
    else:  # from the sentence before the attribution's first one
        first = min(part.start for part in attribution.spans())
        numbers = [n for n in window.numbers if window.span(n).end > first]
        before = min(numbers) - 1 if numbers else 0
        start = window.span(before).start if before in window.numbers else 0
    region = window.text[start : source.start]
    if attribution.content is not None and attribution.content.start < source.start:
        region = (
            window.text[start : max(start, attribution.content.start)]
            + " "
            + window.text[attribution.content.end : source.start]
        )
    known = names_in(region)
    names = [m.group() for m in _NAME.finditer(region) if m.group() in known or m.group().split()[-1] in known]
    if not names:
        return source.text  # nobody named near: the pronoun, left for a desk to read
    if names_a_person(names[-1], window.text):
        return names[-1]

    # The last name is no person ("… on Wednesday. “…,” she said", "Florida", "the FBI"): the nearest
    # person who fits, in these sentences or up to CONTEXT_SENTENCES further back; else that name.
    # One who fits, or the one a sentence here opens on ("Rashad Robinson … said … Trump's rhetoric …
    # He noted": Robinson); several and none opening a sentence: which is not code's to guess.
    def fitting(found: list[Person]) -> dict[str, Person]:
        return {p.name: p for p in found if fits(p, source.text)}

    near = fitting(mentioned(region, window.text))
    if not near and not outer:
        near = _fitting_further_back(window, range(before - 1, before - 1 - CONTEXT_SENTENCES, -1), fitting)
    if len(near) == 1:
        return next(iter(near))
    for sentence in reversed(split_sentences(region)):
        opening = _OPENS_ON_NAME.match(sentence.text)
        if opening is None or opening["name"].split()[0] in ("The", "A", "An"):  # "The Cruz campaign": no one
            continue
        person = known_person(opening["name"], window.text)
        if person is not None and person.name in near:
            return person.name
    return names[-1]


def _fitting_further_back(
    window: Window, numbers: range, fitting: Callable[[list[Person]], dict[str, Person]]
) -> dict[str, Person]:
    """The people who fit in the nearest of the sentences ``numbers`` (nearest first) that names any."""
    for number in numbers:
        if number not in window.numbers:
            break
        found = fitting(mentioned(window.sentence(number).text, window.text))
        if found:
            return found
    return {}


def quotation_speaker(window: Window, position: int) -> tuple[Attribution, str] | None:
    """Who speaks the innermost quotation holding ``position``: the attribution whose cue stands
    just outside it ("Bremmer wrote: “…”", "“…,” Musk responded"), and that source's name."""
    quotation = innermost_quotation(window.text, position)
    if quotation is None:
        return None
    start, end = quotation
    near = [
        a for a in window.attributions
        if a.source is not None
        and (
            a.cue.end <= start and _introduces(window.text[a.cue.end : start])
            or a.cue.start >= end and _follows(window.text[end : a.cue.start])
        )
    ]  # fmt: skip
    if not near:  # '“My business got bad,” Mr. Hutto said. “We kept the doors open …”': the same speaker goes on
        near = [
            a for a in window.attributions
            if a.source is not None and a.content is not None and a.content.end <= a.cue.start <= a.cue.end <= start
            and _continues(window.text[a.cue.end : start])
            and innermost_quotation(window.text, a.content.start) is not None
        ]  # fmt: skip
    if not near:
        return None
    speaker = min(near, key=lambda a: min(abs(start - a.cue.end), abs(a.cue.start - end)))
    return speaker, named_source(window, speaker, [])


def _introduces(between: str) -> bool:
    """'Bremmer wrote: “…', 'said, “…': a cue opening the quotation (not one ending the sentence before)."""
    return len(between) <= 40 and bool(re.fullmatch(r"[^.!?\n“”]*[:,]\s*", between))


def _continues(between: str) -> bool:
    """'… Mr. Hutto said. “…': the end of the sentence whose quotation the cue closes, and nothing else."""
    return len(between) <= 40 and bool(re.fullmatch(r"[^.!?\n“”\"]*\.\s*", between))


def _follows(between: str) -> bool:
    """'“…,” Bremmer wrote', '“…,” said Musk': a cue right after the quotation, in its sentence."""
    return len(between) <= 40 and not re.search(r"[.!?\n“”]", between)


# ---------------------------------------------------------------- references resolved


def resolved(window: Window, candidate: Candidate, text: str) -> str:
    """The statement with what code can resolve resolved: first-person words in a quotation, a
    third-person pronoun before anyone is named, "the Tesla CEO", and "the proposal"-like references."""
    text = resolve_descriptions(text, window.text)
    text = _first_person(window, candidate, text)
    text = _they(window, candidate, _third_person(window, candidate, text))
    text = resolve_descriptions(_pointing_back(window, candidate, text), window.text)
    return text[:1].upper() + text[1:]


_FIRST_PERSON = any_of(FIRST_PERSON_SINGULAR.replace("’", "['’]"), flags=re.IGNORECASE)
_AS_SOMEONE = {"i'm": "{} is", "i've": "{} has", "i'd": "{} would", "i'll": "{} will", "my": "{}'s", "mine": "{}'s"}
_I_AND_VERB = re.compile(r"\bI\s+([a-z]+(?:['’]t)?)\b")
_AGREED = {"am": "is", "have": "has", "do": "does", "don't": "doesn't", "don’t": "doesn't"}


def _first_person(window: Window, candidate: Candidate, text: str) -> str:
    """ "I", "me", "my" in a quotation are its speaker's ("“My response was …,” Bremmer wrote")."""
    if not _FIRST_PERSON.search(text):
        return text
    name = _speaker_name(window, candidate)
    if name is None:
        return text

    def agreed(match: re.Match[str]) -> str:  # "I am" -> "Bremmer is", "I believe" -> "Bremmer believes"
        verb = match.group(1)
        return f"{name} {_AGREED.get(verb) or (third_person(verb) if verb in REPORTING_VERBS else verb)}"

    def as_someone(match: re.Match[str]) -> str:  # "my" -> "Bremmer's"
        return _AS_SOMEONE.get(match.group().lower().replace("’", "'"), "{}").format(name)

    # A quotation inside the quotation is someone else's words, or words nobody said ("no one is like,
    # ‘My 401(k) is speculation’"): its "my" is not the speaker's.
    parts = _QUOTE_IN_QUOTE.split(text)  # outside, inside, outside, …
    return "".join(part if i % 2 else _FIRST_PERSON.sub(as_someone, _I_AND_VERB.sub(agreed, part))
                   for i, part in enumerate(parts))  # fmt: skip


_QUOTE_IN_QUOTE = re.compile(r"(‘[^‘’]*(?:’(?!\w)|$))")  # to the end where the statement stops inside it


def _speaker_name(window: Window, candidate: Candidate, *, person: bool = True) -> str | None:
    """Who speaks the candidate's words in the first person: the source whose quotation its content
    is ("“I have spoken to Putin only once …,” Musk responded"), else the speaker of the quotation it
    stands in ("Bremmer wrote: “… There were three components …”"); None for the article's own voice.
    ``person``: only a person the article names ("I" is someone); else any name the attribution gives
    (an organisation speaks as "we")."""
    quoted = innermost_quotation(window.text, candidate.content.start)
    source = candidate.via[-1] if candidate.via else candidate.claimant
    speaking = quotation_speaker(window, candidate.content.start) if quoted is not None else None
    # A report inside someone's quotation ("he told me …" in Bremmer's) speaks as the quotation's
    # speaker; the source's own words, or its quotation, as the source.
    inside = quoted is not None and quoted[0] < candidate.content.start - 1 and speaking is not None
    names = [speaking[1]] if inside and speaking is not None else []
    names += [source, candidate.claimant] if candidate.cue != "none" else []  # the innermost source, else the outer
    for name in names:
        named = _nameable(window, name, person)
        if named is not None:
            return named
    return None


def _nameable(window: Window, name: str, person: bool) -> str | None:
    known = known_person(name, window.text)
    if known is not None:
        return known.name
    # Not a person the article names: any speaker the attribution gives ("the campaign", "a sign"), but
    # no pronoun, time or contraction ("he", "who", "Wednesday", "We’ll").
    words = re.split(r"\s+", name.strip())
    first = re.split(r"['’]", words[0], maxsplit=1)[0].lower()
    named = first not in SUBJECT_PRONOUNS | TIME_WORDS | {"who", "it"} and "’" not in words[0] and "'" not in words[0]
    return name if named and not person and any(len(w) > 2 for w in words) else None


_SPEAKING = any_of(f"{FIRST_PERSON_SINGULAR} {FIRST_PERSON_PLURAL} {SECOND_PERSON}".replace("’", "['’]"))


def _unquoted(text: str) -> str:
    return QUOTED.sub(" ", text).replace("US", "")


def _as_quotation(window: Window, candidate: Candidate, text: str) -> str | None:
    """What code could not restate in the third person ("we", "you", an "I" whose speaker is no one
    the article names as a person) is the speaker's to mean: the statement as their quotation,
    named ("Ben Rhodes: “We continue to face the threat …”"), where the attribution names who speaks."""
    name = _speaker_name(window, candidate, person=False)
    if name is None and _in_writers_voice(window, candidate, text):
        name = "The writer"
    if name is None:
        return None
    words = text.replace("“", "‘").replace("”", "’").rstrip()
    return f"{name}: “{words}”"


_WRITER = any_of(f"{FIRST_PERSON_SINGULAR} {FIRST_PERSON_PLURAL}".replace("’", "['’]"))


def _in_writers_voice(window: Window, candidate: Candidate, text: str) -> bool:
    """ "I refuse to answer the American Community Survey", "… make me wary": first person outside
    any quotation of the article is its writer's (PolNeAR, too, credits such words to the author)."""
    if innermost_quotation(window.text, candidate.content.start) is not None:
        return False
    return any(m.group() != "US" for m in _WRITER.finditer(QUOTED.sub(" ", text)))  # "… he called ''our …" is his


_THEY = re.compile(r"^They\b")
_PLURAL_SOURCE = re.compile(r"^(?!(?:they|we|who|it)\b)[\w .’'-]*?\w+s$|^(?:police|people)$", re.IGNORECASE)


def _they(window: Window, candidate: Candidate, text: str) -> str:
    """ "Organizers of both conventions insist they will meet their targets": "They" opening what a
    plural source says is that source (the number fits, and it is the one the chain names)."""
    source = (candidate.via[-1] if candidate.via else candidate.claimant).strip()
    if candidate.cue == "none" or not _THEY.match(text) or not _PLURAL_SOURCE.match(source):
        return text
    if known_person(source, window.text) is not None:
        return text
    return source[:1].upper() + source[1:] + text[len("They") :]


def _third_person(window: Window, candidate: Candidate, text: str) -> str:
    """ "He hoped …" as the one person who fits: the candidate's own source first (in "Park said he
    …", "he" is Park unless the gender says otherwise), else the people the sentences before name."""
    unquoted = GENERIC_PERSON.sub(_blank, re.sub(r"“[^“”]*”", _blank, text))  # "whether he or she …" is anyone
    pronoun = _THIRD_PERSON.search(unquoted)
    before = unquoted[: pronoun.start()] if pronoun is not None else ""
    if pronoun is None or names_a_person(before, window.text):  # "Mr. Bush … his party": named
        return text
    word = pronoun.group()
    person = _referent(window, candidate, word)
    if person is None:
        return text
    following = text[pronoun.end() :].lstrip()
    possessive = word.lower() in ("his", "hers") or word.lower() == "her" and _NOUN_NEXT.match(following) is not None
    name = f"{person.name}'s" if possessive else person.name
    return text[: pronoun.start()] + name + text[pronoun.end() :]


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())  # the offsets stay those of the text


_THIRD_PERSON = any_of(" ".join(THIRD_PERSON_SINGULAR))
# "her campaign" (possessive) against "told her" (object): a word that can open a noun phrase follows.
_NOUN_NEXT = re.compile(
    r"^(?!(?:and|or|but|to|that|in|on|at|for|with|from|by|as|of|if|when|was|is|had|has|would|will|the|a|an)\b)[a-z\d]",
    re.IGNORECASE,
)


def _referent(window: Window, candidate: Candidate, pronoun: str) -> Person | None:
    """The one person who fits the pronoun, nearest first: those the attribution chain, the sentence
    before and the candidate's own words before its content name; if none fits there, the sentences
    further back, one at a time (up to ``CONTEXT_SENTENCES``). Two or more fit: a pronoun opening
    the article's own sentence is the person the sentence before opens on (its subject: "Amanda
    Renteria is … . She has experience …"); else None. In a speaker's own quoted words "he" is
    never the speaker ("“He says what everyone wants to say,” Moody said": not Moody); "X, who said
    he …" is X where the article names X, nobody where X is "a president"."""
    speaking, opening = _quoted_speaker(window, candidate), _subject_before(window, candidate)
    if candidate.claimant.lower() == "who" and candidate.claimant_span is not None:
        return named_before(window.text, candidate.claimant_span.start, pronoun)
    speaker = known_person(speaking, window.text) if speaking is not None else None
    subject = known_person(opening, window.text) if opening is not None else None

    def fitting(found: Sequence[Person | None]) -> dict[str, Person]:
        return {p.name: p for p in found if p is not None and fits(p, pronoun) and p != speaker}

    first = min(candidate.sentences, default=None)
    chain = fitting([known_person(name, window.text) for name in (candidate.claimant, *candidate.via)])
    if first is None or first not in window.numbers:
        return next(iter(chain.values())) if len(chain) == 1 else None
    start = window.sentence(first - 1).start if first - 1 in window.numbers else window.sentence(first).start
    near = chain | fitting(mentioned(window.text[start : candidate.content.start], window.text))
    if len(near) == 1:
        return next(iter(near.values()))
    if len(near) > 1:
        return subject if subject is not None and subject.name in near else None
    if candidate.cue != "none" and speaker is None:  # "who said he …": someone the article does not name
        return None
    further = _fitting_further_back(window, range(first - 2, first - 1 - CONTEXT_SENTENCES, -1), fitting)
    return next(iter(further.values())) if len(further) == 1 else None


# The sentence's subject, when it opens on a name: "Amanda Renteria is …", "On Saturday, Sen. Bernie Sanders …".
_OPENS_ON_NAME = re.compile(
    r"^\W*(?:[^,.;:]{1,30},\s+)?(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Former|President)\.?\s+)*"
    r"(?P<name>[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)"
)


def _subject_before(window: Window, candidate: Candidate) -> str | None:
    """For a candidate that is the article's own sentence, the name the sentence before opens on (its
    subject, which a pronoun opening this one carries on: centering's preference); None otherwise."""
    first = min(candidate.sentences, default=None)
    if candidate.cue != "none" or first is None or first not in window.numbers or first - 1 not in window.numbers:
        return None
    if window.text[window.sentence(first).start : candidate.content.start].strip():
        return None
    opening = _OPENS_ON_NAME.match(window.sentence(first - 1).text)
    return opening["name"] if opening is not None else None


def _quoted_speaker(window: Window, candidate: Candidate) -> str | None:
    """Who speaks, where the candidate's content is their own quotation: the content opens the
    quotation, and the quotation's speaker is the candidate's own source (a quote mark paired
    wrongly earlier in a paragraph makes neither true)."""
    quotation = innermost_quotation(window.text, candidate.content.start)
    if quotation is None or window.text[quotation[0] : candidate.content.start].strip("“\"'‘ "):
        return None
    speaking = quotation_speaker(window, candidate.content.start)
    source = candidate.via[-1] if candidate.via else candidate.claimant
    return speaking[1] if speaking is not None and same_person(speaking[1], source) else None


_PROPOSAL = re.compile(
    r"\b(?:the|that|this)\s+(proposal|plan|idea|suggestion)\b(?!\s+(?:that|of|to|by|for)\b)", re.IGNORECASE
)
_URGES = re.compile(r"\b(?:should|must|ought to|needs? to)\b", re.IGNORECASE)
_OUTCOME = re.compile(r"\b(?:the|that|this)\s+(outcome|scenario)\b(?!\s+(?:that|of)\b)", re.IGNORECASE)
_COUNTED = re.compile(
    r"^There\s+(?:were|are)\s+(\w+)\s+(components|conditions|parts|points|elements|demands|steps)\b", re.IGNORECASE
)
_LISTED = re.compile(
    r"\b(?:outlined|listed|set out|laid out|named|spelled out|detailed|described)\s+"
    r"(the\s+[^.;:()“”]{8,120}?)\s*(?:[.;:(]|$)"
)
_CONNECTIVE = re.compile(r"^(?:(?:and|but|so|also|further|moreover|meanwhile)\b,?\s*)+", re.IGNORECASE)


def _pointing_back(window: Window, candidate: Candidate, text: str) -> str:
    """ "the proposal" as "Musk's proposal that …", "that outcome" as the outcome the sentence before
    states, "There were three components" as what the sentence before listed."""
    proposal = _PROPOSAL.search(text)
    if proposal is not None:
        made = _proposal_before(window, candidate)
        if made is not None:
            who, what = made
            text = text[: proposal.start()] + f"{who}'s {proposal.group(1)} {what}" + text[proposal.end() :]
    before = _sentence_before(window, candidate)
    if before is None:
        return text
    outcome = _OUTCOME.search(text)
    if outcome is not None and len(before.split()) <= 40:
        clause = _CONNECTIVE.sub("", _what_it_says(window, candidate, before).strip("“”\"' ")).rstrip('.”"’ ')
        clause = (
            clause[:1].lower() + clause[1:] if clause[:2] not in ("I ",) and not _starts_with_name(clause) else clause
        )
        text = text[: outcome.start()] + f"the {outcome.group(1)} that {clause}" + text[outcome.end() :]
    counted = _COUNTED.match(text)
    listed = _LISTED.search(before)
    if counted is not None and listed is not None:
        what = listed.group(1)
        text = f"{what[:1].upper()}{what[1:]} had {counted.group(1)} {counted.group(2)}" + text[counted.end() :]
    return text


def _what_it_says(window: Window, candidate: Candidate, sentence: str) -> str:
    """The sentence before a candidate as what it says: a report's content ("Park said the city hired
    40 teachers" says "the city hired 40 teachers"), else the sentence."""
    first = min(candidate.sentences)
    start, end = window.sentence(first - 1).start, window.sentence(first - 1).end
    reported = [a.content for a in window.attributions if a.source is not None and a.content is not None
                and start <= a.cue.start < end and start <= a.content.start and a.content.end <= end]  # fmt: skip
    return re.sub(r"^that\s+", "", reported[0].text) if reported else sentence


def _starts_with_name(clause: str) -> bool:
    first = clause.split(" ", 1)[0]
    return bool(first[:1].isupper()) and bool(names_in(first))


def _sentence_before(window: Window, candidate: Candidate) -> str | None:
    first = min(candidate.sentences, default=None)
    if first is None or first - 1 not in window.numbers:
        return None
    return window.sentence(first - 1).text


def _proposal_before(window: Window, candidate: Candidate) -> tuple[str, str] | None:
    """Who made the proposal a candidate points back at, and what it was ("that the West recognize
    …"): the last proposing attribution in the sentences before it (the proposal detector's)."""
    first = min(candidate.sentences, default=None)
    if first is None:
        return None
    lowest = window.sentence(max(min(window.numbers), first - CONTEXT_SENTENCES)).start
    made = [
        a for a in window.attributions
        if a.source is not None and a.content is not None and PROPOSING.search(a.cue.text)
        and lowest <= a.cue.start < candidate.content.start
        and not a.content.start <= candidate.content.start < a.content.end
    ]  # fmt: skip
    if not made:  # "Lewandowski said Manafort should be terminated. That suggestion …": the sentence before urges it
        before = window.sentence(first - 1) if first - 1 in window.numbers else None
        made = [
            a for a in window.attributions
            if before is not None and a.source is not None and a.content is not None
            and before.start <= a.cue.start and a.content.end <= before.end and _URGES.search(a.content.text)
        ]  # fmt: skip
    if not made:
        return None
    proposal = made[-1]
    assert proposal.content is not None
    what = without_venue(proposal.content.text.strip()).rstrip(".,;: ")
    what = re.sub(r"^that\s+", "", what, flags=re.IGNORECASE)
    who = named_source(window, proposal, [])
    person = known_person(who, window.text)
    return (person.name.split()[-1] if person is not None else who), f"that {what}"


# ---------------------------------------------------------------- descriptions and names

_ROLE = "(?i:" + "|".join(ROLES.split()) + ")"
# "Tesla/SpaceX CEO Elon Musk": an organisation, a role, then a full name (two or more words).
_INTRODUCED = re.compile(
    rf"\b((?:[A-Z][\w&.-]*)(?:/[A-Z][\w&.-]*)*)\s+({_ROLE})\s+((?:[A-Z][\w’'-]+)(?:\s+[A-Z][\w’'-]+)+)"
)
_DESCRIBED = re.compile(rf"\b[Tt]he\s+([A-Z][\w&.-]*)\s+({_ROLE})\b")


def resolve_descriptions(statement: str, text: str) -> str:
    """ "The Tesla CEO" becomes "Elon Musk" when the article introduces exactly one person as
    Tesla's CEO ("Tesla/SpaceX CEO Elon Musk"): a statement must stand alone, and a description
    only the article explains does not (Claimify's decontextualisation)."""

    def name_for(match: re.Match[str]) -> str:
        organisation, role = match.group(1), match.group(2).lower()
        names = {
            m.group(3)
            for m in _INTRODUCED.finditer(text)
            if organisation in m.group(1).split("/") and m.group(2).lower() == role
        }
        return names.pop() if len(names) == 1 else match.group(0)

    return _DESCRIBED.sub(name_for, statement)


def _names_no_one_here(statement: str, text: str) -> bool:
    """A statement whose every capitalised name is missing from the article was not read from it."""
    names = names_in(statement)
    lowered = text.lower()
    return bool(names) and not any(re.search(rf"\b{re.escape(name.lower())}\b", lowered) for name in names)
