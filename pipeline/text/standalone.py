"""Does a statement stand alone? A claim is checked away from its article (the desk's queue,
ClaimReview, a story of many outlets), so it must say who and what it is about by itself.

A statement fails when it
- opens on a pronoun, or uses "he/she/his/her" before it names anyone ("He hoped to change the
  subject.", "The rhetoric of his campaign …");
- speaks in the first or second person outside a quotation ("I wasn't planning …", "our plan");
- leans on a definite reference only the article explains ("the move", "the idea", "that outcome",
  "There were three components");
- is a fragment cut before its cue ("Monday that it was the FBI official who …").
"""

import re

from pipeline.text.attributions import names_in
from pipeline.text.lexicon import (
    DAYS,
    FIRST_PERSON_PLURAL,
    FIRST_PERSON_SINGULAR,
    RESTRICTIVE,
    SECOND_PERSON,
    THIRD_PERSON_PLURAL,
    THIRD_PERSON_SINGULAR,
    VAGUE_REFERENCES,
    any_of,
)
from pipeline.text.people import names_a_person


def _alt(words: str) -> str:
    return "|".join(words.split())


# Quoted words, and the rest of a statement after a quotation mark that opens and is not closed in it
# (a quotation running on past the sentence: 'Pence continued: "When President Obama …').
QUOTED = re.compile(r"“[^“”]*(?:”|$)|\"[^\"]*(?:\"|$)|''(?:(?!'').)*(?:''|$)|‘[^‘’]*’(?!\w)")
_SPEAKING = any_of(" ".join([FIRST_PERSON_SINGULAR, FIRST_PERSON_PLURAL, SECOND_PERSON]).replace("’", "['’]"))
_PERSONAL = f"{' '.join(THIRD_PERSON_SINGULAR)} {THIRD_PERSON_PLURAL} its"
# Openings that lean on what came before: a pronoun; "It" that points back ("It had done just the
# opposite"), not the "it" of "It is likely that …"; "This is …".
_OPENINGS = re.compile(
    rf"^\W*(?:(?:{_alt(_PERSONAL)})\b"
    r"|it\b(?!(?:\s+|['’])(?:is|was|s|has been|had been|would be|will be|seems|seemed|appears|remains)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:that|to|whether|if|when|how|why)\b"
    r"|\s+(?:is|was)\s+(?:[\w.-]+\s+){1,6}?(?:who|that)\b)"  # "It was the FBI official who …": a cleft
    r"|(?:this|that|these|those)\s+"
    r"(?:is|was|are|were|has|have|had|will|would|could|can|may|might|did|does|do|means?|meant)\b)",
    re.IGNORECASE,
)
_THIRD_PERSON = any_of(" ".join(THIRD_PERSON_SINGULAR))
# "whether he or she is a citizen": anyone, not someone the article introduced.
GENERIC_PERSON = re.compile(
    r"\b(?:he or she|she or he|his or her|her or his|him or her|himself or herself)\b", re.IGNORECASE
)
# A definite phrase that points back at what the article introduced, with nothing after it that says
# which ("the proposal that the West recognize …" and "the idea of a quid pro quo" stand alone).
_POINTING = re.compile(
    rf"\b(?:the|that|this|these|those)\s+(?:{_alt(VAGUE_REFERENCES)})\b(?!\s+(?:{_alt(RESTRICTIVE)})\b)", re.IGNORECASE
)
_RELATIVE = re.compile(r"\b[a-z]+s\s+$")  # "companies that move factories": "that" is a relative pronoun there
_THERE_WERE = re.compile(
    r"^\W*there\s+(?:were|are|was|is)\s+(?:two|three|four|five|six|several|many|\d+)\s+\w+\s*[:.]", re.IGNORECASE
)
_TIME = rf"(?:{_alt(DAYS)}|today|yesterday|tonight|last\s+\w+|this\s+\w+|earlier|later)"
CUT_BEFORE_CUE = re.compile(
    rf"^\W*(?:on\s+|in\s+)?{_TIME}(?:\s+(?:morning|afternoon|evening|night))?,?\s+that\b", re.IGNORECASE
)


def problems(statement: str, article: str | None = None) -> list[str]:
    """Why ``statement`` does not stand alone, one short reason each; [] when it does. With the
    ``article`` it was read from, "he" needs a person the article names before it ("Instead she …"
    names no one); without, any capitalised word will do."""
    found: list[str] = []
    unquoted = GENERIC_PERSON.sub(" ", QUOTED.sub(" ", statement))
    if _OPENINGS.match(statement):
        found.append("opens on a pronoun")
    else:
        pronoun = _THIRD_PERSON.search(unquoted)
        before = unquoted[: pronoun.start()] if pronoun is not None else ""
        named = names_a_person(before, article) if article is not None else bool(names_in(before))
        if pronoun is not None and not named:
            found.append(f"'{pronoun.group()}' before anyone is named")
    speaking = next((m for m in _SPEAKING.finditer(unquoted) if m.group() != "US"), None)  # "the US economy"
    if speaking is not None:
        found.append(f"speaks as '{speaking.group()}' outside a quotation")
    pointing = next((m for m in _POINTING.finditer(unquoted) if not _RELATIVE.search(unquoted[: m.start()])), None)
    if pointing is not None or _THERE_WERE.match(statement):
        found.append(f"'{pointing.group() if pointing else statement.split(':')[0]}' points back at the article")
    if CUT_BEFORE_CUE.match(statement):
        found.append("cut before its cue")
    return found


def stands_alone(statement: str, article: str | None = None) -> bool:
    return not problems(statement, article)
