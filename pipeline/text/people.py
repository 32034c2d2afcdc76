"""The people an article names: each by the fullest name it gives ("Elon Musk" for "Musk", "Elon"
and "Tesla/SpaceX CEO Elon Musk"), with a gender where the article shows one (an honorific, or
"he"/"she" after a sentence that names only that person), and the quotations it holds.

What code needs to resolve a reference: "he" is someone only when exactly one person fits."""

import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.text.lexicon import FEMALE_TITLES, MALE_TITLES, ROLES, THIRD_PERSON_SINGULAR, TITLES, any_of
from pipeline.text.sentences import split_sentences

if TYPE_CHECKING:
    from gender_guesser.detector import Detector

_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:[ \t]+(?:[A-Z]\.(?=[ \t]+[A-Z])|[A-Z][\w’'-]*))*")  # "Donald J. Trump"
_TITLE = r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov)\."  # before a surname: "Mr. Bush", "Sen. Cruz"
_GENDERED = "Mr|Mrs|Ms|Miss"  # the titles that say a gender (lexicon: MALE_TITLES, FEMALE_TITLES)
_TITLED = re.compile(rf"\b{_TITLE}[ \t]+([A-Z][\w’'-]+)")
_ROLE = any_of(
    ROLES
    + " minister senator governor secretary mogul leader mayor councillor councilman councilwoman judge representative "
    "congressman congresswoman chancellor speaker candidate nominee director",
    flags=re.IGNORECASE,
)
# Words that make a capitalised phrase an organisation, a place or a title, not a person.
_NOT_A_PERSON = any_of(
    "group foundation news times post journal press agency ministry department government kremlin house inc corp "
    "company ltd llc council committee university institute party office police army union association network "
    "media court bank republic republicans democrats state states united nations street city county league "
    "survey bureau staff campaign convention senate congress administration commission church school college "
    "center centre club corporation organization coalition watch fund board majority minority act bill law "
    "republican democrat catholic catholics christian christians muslim muslims jewish protestant evangelical"
)
_PLACE_OPENING = re.compile(r"^(?:New|North|South|East|West|Saint|San|Los|Las|Fort)\s")
_LEADING = frozenset(
    "The This That These Those His Her Its Our Their A An And But In On At For By With From As While When After "
    "Before Although Though Because If Since Until Unless Where Why How What Who Then Now Also However Meanwhile "
    "Still Yet Even Only Exit Former Sen Rep Gov".split()  # noqa: SIM905
)
# Gender evidence in a sentence that names one person: a reflexive, or "X said he" ("her" is as often
# someone else's: "Comey … her statements").
_REFLEXIVE = any_of("himself herself")
_SAID_PRONOUN = re.compile(
    r"\b(?:said|says|told|added|argued|insisted|claimed|wrote)\s+(?:that\s+)?(he|she)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Person:
    name: str  # the fullest name the article gives
    gender: str | None  # "male", "female", or None where the article does not say


def person_name(phrase: str) -> str | None:
    """The person a capitalised phrase names, without roles and possessors ("the Eurasia Group’s Ian
    Bremmer" -> "Ian Bremmer", "Russian President Vladimir Putin" -> "Vladimir Putin"); None for an
    organisation or a place."""
    # "Donald Trump’s" -> "Donald Trump"; "the Nazis' Kristallnacht" -> "Kristallnacht"
    phrase = re.sub(r"[’']s$", "", re.split(r"(?:[’']s|s[’'])\s+", phrase.strip())[-1])
    words = phrase.replace("/", " ").split()
    cut = max((i + 1 for i, w in enumerate(words) if _ROLE.fullmatch(w) or w.lower().rstrip(".") in TITLES), default=0)
    words = [w for w in words[cut:] if w not in _LEADING]
    name = " ".join(words).strip(" .,")
    if (
        not name
        or _NOT_A_PERSON.search(name)
        or _PLACE_OPENING.match(name)
        or not all(w[:1].isupper() for w in name.split())
    ):
        return None
    return name


@functools.lru_cache(maxsize=16)
def people(text: str) -> dict[str, Person]:
    """Every name word the article uses for a person (lower case: "musk", "elon") -> that person. A
    word two people share ("Lee" for Ann Lee and Tom Lee) names neither."""
    by_word = _name_words(text)
    names = {word: next(iter(found)) for word, found in by_word.items() if len(found) == 1}
    genders = _genders(text, names)
    return {word: Person(name, genders.get(name)) for word, name in names.items()}


def names_a_person(text: str, article: str) -> bool:
    """Whether ``text`` names someone the article names as a person: a word of their name ("Bush",
    even where two Bushes share it), or a titled name ("Mr. Bush"). "Instead", "News" or "Iran's"
    opening a sentence name no one."""
    words = _name_words(article)
    return bool(_TITLED.search(text)) or any(
        re.sub(r"[’']s$", "", w).lower() in words for w in re.findall(r"[A-Z][\w’'-]+", text)
    )


@functools.lru_cache(maxsize=16)
def _name_words(text: str) -> dict[str, frozenset[str]]:
    """Each word of a person's name (lower case) -> the full names it is a word of."""
    full = {
        n for m in _NAME.finditer(text) if (n := person_name(m.group())) and len(n.split()) >= 2 and len(n.split()) <= 4
    }
    # "Donald J. Trump" and "Donald Trump" are one person: the fullest form stands for both.
    fullest: dict[tuple[str, str], str] = {}
    for name in sorted(full, key=len, reverse=True):
        fullest.setdefault((name.split()[0], name.split()[-1]), name)
    full = set(fullest.values())
    # "Mr. Trump" names a person even where the article never gives his full name.
    full |= {t for t in _TITLED.findall(text) if not any(t in name.split() for name in full)}
    by_word: dict[str, set[str]] = {}
    for name in full:
        for word in name.split():
            if len(word) > 2 and not word.endswith("."):
                by_word.setdefault(word.lower(), set()).add(name)
    return {word: frozenset(found) for word, found in by_word.items()}


def mentioned(text: str, article: str) -> list[Person]:
    """The people ``text`` names, in order, each once (names resolved against the whole ``article``)."""
    known = people(article)
    found: dict[str, Person] = {}
    for match in re.finditer(r"[A-Z][\w’'-]+", text):
        word = re.sub(r"[’']s$", "", match.group())
        person = known.get(word.lower()) or _titled(text, match.start(), word, article)
        if person is not None:
            found.setdefault(person.name, person)
    return list(found.values())


_HONORIFIC = re.compile(rf"\b({_GENDERED})\.?\s+$")


def _titled(text: str, end: int, word: str, article: str) -> Person | None:
    """ "Mr. Bush" (``word`` at ``end`` of ``text``) where the article names three Bushes: the person
    as the article titles them (its own way of saying which), with the title's gender."""
    title = _HONORIFIC.search(text, max(0, end - 8), end)  # "Miss. " at most: no scan of all before
    if title is None or len(_name_words(article).get(word.lower(), ())) < 2:
        return None
    honorific = title.group(1).lower()
    gender = "male" if honorific in MALE_TITLES else "female" if honorific in FEMALE_TITLES else None
    return Person(f"{title.group(1)}. {word}", gender)


# A name right before a position: "a would-be president, Donald Trump, who …".
_NAME_BEFORE = re.compile(rf"((?:{_TITLE} )?[A-Z][\w’'-]*\.?(?: [A-Z][\w’'-]*\.?)*),? ?$")


def named_before(article: str, position: int, pronoun: str) -> Person | None:
    """ "X, who said he …": the person X names, where the article names X as one and they fit the
    pronoun; None where X is "a president" or "a young child" (nobody code can name)."""
    named = _NAME_BEFORE.search(article[max(0, position - 80) : position])
    person = known_person(named.group(1), article) if named is not None else None
    return person if person is not None and fits(person, pronoun) else None


def known_person(name: str, article: str) -> Person | None:
    """The person a name or a claimant names ("Bremmer", "the Eurasia Group’s Ian Bremmer")."""
    titled = re.fullmatch(rf"\W*((?:{_GENDERED})\.?\s+)([A-Z][\w’'-]+)\W*", name)
    if titled is not None and (person := _titled(name, titled.end(1), titled.group(2), article)) is not None:
        return person
    phrase = person_name(name) or re.split(r"[’']s\s+", name)[-1]
    known = people(article)
    named = {known[w.lower()] for w in re.findall(r"[\w-]+", phrase or "") if w.lower() in known}
    return named.pop() if len(named) == 1 else None


def fits(person: Person, pronoun: str) -> bool:
    gender = THIRD_PERSON_SINGULAR.get(pronoun.lower())
    return person.gender is None or gender is None or person.gender == gender


def _genders(text: str, names: dict[str, str]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = {}
    for match in re.finditer(rf"\b({_GENDERED})\.?\s+([A-Z][\w’'-]+)", text):
        name = names.get(match.group(2).lower())
        if name is not None:
            gender = (
                "male"
                if match.group(1).lower() in MALE_TITLES
                else "female"
                if match.group(1).lower() in FEMALE_TITLES
                else None
            )
            if gender:
                votes.setdefault(name, Counter())[gender] += 3
    for sentence in split_sentences(text):
        named = {names[w.lower()] for w in re.findall(r"[A-Z][\w-]+", sentence.text) if w.lower() in names}
        if len(named) != 1:
            continue  # "Musk denied the conversation with Putin, … his": whose is not for a count to say
        [name] = named
        for pronoun in _REFLEXIVE.findall(sentence.text):  # "Musk has described himself as …"
            votes.setdefault(name, Counter())[THIRD_PERSON_SINGULAR[pronoun.lower()]] += 2
        for pronoun in _SAID_PRONOUN.findall(sentence.text):  # "Podliska said he …"
            votes.setdefault(name, Counter())[THIRD_PERSON_SINGULAR[pronoun.lower()]] += 1
    for name in set(names.values()):  # a first name the name lists give one gender: a vote of 2
        gender = _first_name_gender(name.split()[0])
        if gender is not None:
            votes.setdefault(name, Counter())[gender] += 2
    found: dict[str, str] = {}
    for name, counted in votes.items():
        (top, n), *rest = counted.most_common()
        if n >= 2 and (not rest or n >= 3 * rest[0][1]):  # a clear majority: a sentence's "he" may be someone else
            found[name] = top
    return found


@functools.cache
def _first_names() -> "Detector":  # imported on first use: 0.1 s to read its name lists, once
    import gender_guesser.detector

    return gender_guesser.detector.Detector(case_sensitive=False)


def _first_name_gender(word: str) -> str | None:
    """ "male" or "female" where gender-guesser's name lists give the first name one gender (not
    "mostly": "Bernie" is mostly female there), else None ("Mr." and "Ms." are titles, not names)."""
    if word.endswith(".") or len(word) < 2:
        return None
    gender = _first_names().get_gender(word)
    return gender if gender in ("male", "female") else None


def quotations(text: str) -> list[tuple[int, int]]:
    """The article's quotations as (start, end) offsets, quote marks included, nested ones too:
    curly quotes pair as brackets do (“… “no matter what” …” is one quotation holding another), a
    quotation still open at a paragraph's end closes there, straight double quotes (and the
    typewriter's two apostrophes, ''…'') pair in turn."""
    found: list[tuple[int, int]] = []
    opened: list[int] = []
    straight: int | None = None
    for i, char in enumerate(text):
        if (
            char == "'"
            and text.startswith("''", i)
            and not text.startswith("'", i + 2)
            and (i == 0 or text[i - 1] != "'")
        ):
            char = '"'  # ''…'' as "…"
        if char == "“":
            opened.append(i)
        elif char == "”" and opened:
            found.append((opened.pop(), i + 1))
        elif char == '"':
            if straight is None:
                straight = i
            else:
                found.append((straight, i + 2 if text.startswith("''", i) else i + 1))
                straight = None
        elif char == "\n":
            found += [(start, i) for start in opened]
            opened, straight = [], None
    found += [(start, len(text)) for start in opened]
    return sorted(found)


def innermost_quotation(text: str, position: int) -> tuple[int, int] | None:
    holding = [q for q in _quotations(text) if q[0] <= position < q[1]]
    return max(holding, key=lambda q: q[0]) if holding else None


@functools.lru_cache(maxsize=16)
def _quotations(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(quotations(text))
