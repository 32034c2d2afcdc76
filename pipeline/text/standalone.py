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
    FIRST_PERSON_PLURAL,
    FIRST_PERSON_SINGULAR,
    SECOND_PERSON,
    THIRD_PERSON_SINGULAR,
    any_of,
)

# Quoted words, and the rest of a statement after a quotation mark that opens and is not closed in it
# (a quotation running on past the sentence: 'Pence continued: "When President Obama …').
_QUOTED = re.compile(r"“[^“”]*(?:”|$)|\"[^\"]*(?:\"|$)|''(?:(?!'').)*(?:''|$)|‘[^‘’]*’(?!\w)")
_SPEAKING = any_of(" ".join([FIRST_PERSON_SINGULAR, FIRST_PERSON_PLURAL, SECOND_PERSON]).replace("’", "['’]"))
_OPENING_PRONOUN = re.compile(r"^\W*(he|she|they|him|his|her|hers|their|them|its)\b", re.I)
# "It" that points back ("It had done just the opposite"), not the "it" of "It is likely that …".
_OPENING_IT = re.compile(
    r"^\W*it\b(?!(?:\s+|['’])(?:is|was|s|has been|had been|would be|will be|seems|seemed|appears|remains)\s+"
    r"(?:[\w-]+\s+){0,3}?(?:that|to|whether|if|when|how|why)\b)",
    re.I,
)
_OPENING_DEMONSTRATIVE = re.compile(
    r"^\W*(this|that|these|those)\s+(is|was|are|were|has|have|had|will|would|could|can|may|might|did|does|do|means?|meant)\b", re.I
)
_THIRD_PERSON = any_of(" ".join(THIRD_PERSON_SINGULAR))
# "whether he or she is a citizen": anyone, not someone the article introduced.
_GENERIC = re.compile(r"\b(?:he or she|she or he|his or her|her or his|him or her|himself or herself)\b", re.I)
# A definite phrase that points back at what the article introduced, with nothing after it that says what
# ("the proposal that the West recognize …" and "the idea of a quid pro quo" stand alone; "the proposal" does not).
_POINTING = re.compile(
    r"\b(?:the|that|this|these|those)\s+(outcome|proposals?|plans?|move|idea|allegations?|accusations?|components|"
    r"conditions|scenario|decision|suggestion|offer|remarks|comments)\b(?!\s+(?:that|of|to|by|for|from|on|in|about|"
    r"against|over|with|which|who|between|under|at)\b)",
    re.I,
)
_RELATIVE = re.compile(r"\b[a-z]+s\s+$")  # "companies that move factories": "that" is a relative pronoun there
_THERE_WERE = re.compile(r"^\W*there\s+(?:were|are|was|is)\s+(?:two|three|four|five|six|several|many|\d+)\s+\w+\s*[:.]", re.I)
_TIME = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tonight|last\s+\w+|this\s+\w+|earlier|later)"
CUT_BEFORE_CUE = re.compile(rf"^\W*(?:on\s+|in\s+)?{_TIME}(?:\s+(?:morning|afternoon|evening|night))?,?\s+that\b", re.I)


def problems(statement: str) -> list[str]:
    """Why ``statement`` does not stand alone, one short reason each; [] when it does."""
    found: list[str] = []
    unquoted = _GENERIC.sub(" ", _QUOTED.sub(" ", statement))
    if _OPENING_PRONOUN.match(statement) or _OPENING_IT.match(statement) or _OPENING_DEMONSTRATIVE.match(statement):
        found.append("opens on a pronoun")
    else:
        pronoun = _THIRD_PERSON.search(unquoted)
        if pronoun is not None and not names_in(unquoted[: pronoun.start()]):
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


def stands_alone(statement: str) -> bool:
    return not problems(statement)
