"""One claim per proposition, in standalone words: what code does with the claims stage's answer
before the denials stage sees it, and with the denials' links after.

The 1.5B copies the article's sentence as the statement ("Bremmer claimed Musk told him …"), lists
the same proposition once per sentence that repeats it, and lists a report of a denial ("Musk
denied the conversation had occurred") as a claim. The prompt asks for none of that; code makes
sure of it, the same way on every backend:

- attribution words come off the statement (the rule-based attribution stage finds them), and
  whoever they name joins the claim's ``via`` chain, so who-said-what is kept, not lost;
- a statement that reports a denial is not a claim (the denials stage covers that sentence);
- claims whose statements mean the same (MiniLM cosine) are merged, keeping every span;
- a denial stays linked only to claims it is about (it shares a name or enough meaning with them).
"""

import re
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.text.attributions import find_attributions, names_in
from schemas import Claim, Denial

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows

SAME_PROPOSITION = 0.75  # cosine above which two statements of one article are one claim
ABOUT_THE_CLAIM = 0.35  # cosine below which a denial sharing no name with a claim is not about it

# Attribution and hedging words that say who claims, not what is claimed.
ATTRIBUTION_WORDS = re.compile(
    r"\b(said|says|claimed|claims|told|tells|wrote|writes|stated|according to|allegedly|reportedly|"
    r"purportedly|asserted|alleged)\b",
    re.IGNORECASE,
)
# Where an attributed claim was made ("Bremmer claimed … in a newsletter to subscribers first
# reported by Vice"): part of the attribution, cut with it, never part of the proposition.
_VENUE = re.compile(
    r",?\s+(in|on|via|through)\s+(a|an|the|his|her|their|its)\s+"
    r"(newsletter|interview|tweet|post|podcast|op-ed|column|statement|press release|memo|blog post)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
_HEDGES = re.compile(r"\s*\b(allegedly|reportedly|purportedly|supposedly)\b", re.IGNORECASE)
# "Rejected the offer" is an event; "rejected the allegations" reports a denial.
_DENIAL_REPORT = re.compile(
    r"\b(den(y|ies|ied|ying|ial)|refut(e|ed|es|ing)|"
    r"(dismiss|reject|disput)(ed|es|s|ing)?\s+(\w+\s+){0,3}?(claims?|reports?|allegations?|accusations?|account))\b",
    re.IGNORECASE,
)
# "Musk had suggested that the West recognize …": what is claimed is that he proposed it, not
# that it is so; the proposing stays in the statement.
PROPOSING = re.compile(r"\b(suggest\w*|propos\w*|urg\w*|call(s|ed|ing)? (for|on)|recommend\w*|demand\w*)\b", re.IGNORECASE)
_TELL = re.compile(r"^(told|tells|tell|telling|informed|assured|reassured|warned)$", re.IGNORECASE)
_ADDRESSEE = re.compile(r"^(?:him|her|them|me|us|you|(?:[A-Z][\w’'.-]*\s?)+?)\s+(?=\S)")
_PRONOUN_SUBJECT = re.compile(r"^(he|she|they)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"(he|she|they|it|i|we|you|him|her|them|me|us)", re.IGNORECASE)
def reports_a_denial(statement: str) -> bool:
    """"Musk denied the call took place" is a denial, which the denials stage finds; listed as a
    claim it was judged as if the article asserted the denial's content."""
    return bool(_DENIAL_REPORT.search(statement))


def without_venue(content: str) -> str:
    """"… had met Putin in a newsletter to subscribers first reported by Vice": where a claim was
    made belongs to its attribution, not to what is claimed (an attribution's content often runs on
    past it)."""
    shorter = _VENUE.sub("", content)
    return shorter if len(shorter.split()) >= 3 else content


def without_hedges(statement: str) -> str:
    """"Musk allegedly spoke with Putin" as "Musk spoke with Putin": who vouches is not what is claimed."""
    text = _HEDGES.sub("", statement).strip(" ,;:")
    return text[0].upper() + text[1:] if text else statement


# "Putin (in a direct conversation with him) was 'prepared to negotiate' (much as I had heard …)":
# an aside in brackets that speaks as someone ("him", "I") is the teller's, not the claim's.
_PERSONAL_ASIDE = re.compile(r"\s*\((?=[^()]*\b(?:I|me|my|we|us|our|he|him|his|she|her|they|them|their)\b)[^()]*\)", re.IGNORECASE)


def without_personal_asides(statement: str) -> str:
    """The statement without bracketed asides in someone's voice; numbered items ("(1) Crimea …") stay."""
    text = _PERSONAL_ASIDE.sub("", statement)
    return re.sub(r"\s+([,.;:!?])", r"\1", text).strip() if len(text.split()) >= 3 else statement


def standalone(statement: str) -> tuple[str, list[str]]:
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
        if _TELL.match(found.cue.text):
            content = _ADDRESSEE.sub("", content, count=1)
        # "said on Monday that …": the time belongs to the saying, not to what was said.
        content = re.sub(r"^(?:(?:on|in|at|during|last|this)\b[^,.;]{0,40}?\s+)?that\s+", "", content, flags=re.IGNORECASE)
        source = found.source.text
        named = not _PRONOUN.fullmatch(source)  # "he told me": the name is further out in the chain
        if named and _PRONOUN_SUBJECT.match(content):
            content = _PRONOUN_SUBJECT.sub(source.split()[-1], content, count=1)
        if named:
            sources.append(source)
        text = content
    if sources:
        shorter = _VENUE.sub("", text)
        text = shorter if len(shorter.split()) >= 3 else text
    text = _HEDGES.sub("", text).strip(" ,;:")
    if not text or (not sources and text == statement.strip()):
        return statement, []  # nothing to take off: the model's words as they are
    text = text[0].upper() + text[1:]
    if text.rstrip("”’\"')")[-1:] not in (".", "!", "?"):  # 'as “shams.”' is ended
        text += "."
    return text, sources


# "Tesla/SpaceX CEO Elon Musk": an organisation, a role, then a full name (two or more words).
_ROLE = r"(?:CEO|chief executive|founder|co-founder|chairman|chairwoman|president|spokesman|spokeswoman|spokesperson|owner)"
_INTRODUCED = re.compile(
    rf"\b((?:[A-Z][\w&.-]*)(?:/[A-Z][\w&.-]*)*)\s+({_ROLE})\s+((?:[A-Z][\w’'-]+)(?:\s+[A-Z][\w’'-]+)+)"
)
_DESCRIBED = re.compile(rf"\b[Tt]he\s+([A-Z][\w&.-]*)\s+({_ROLE})\b")


def resolve_descriptions(statement: str, text: str) -> str:
    """"The Tesla CEO" becomes "Elon Musk" when the article introduces exactly one person as
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


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(r"\b(not|never|no|n't|none|neither|nor)\b", re.IGNORECASE)


def _may_be_one(a: str, b: str) -> bool:
    """Embeddings hardly see numbers or a "not": "40 schools" and "4 schools" are 0.92 alike."""
    return set(_NUMBER.findall(a)) == set(_NUMBER.findall(b)) and bool(_NEGATION.search(a)) == bool(_NEGATION.search(b))


def same_person(a: str, b: str) -> bool:
    """"Ian Bremmer", "Bremmer", "Elon musk", "Musk" and "the Eurasia Group’s Ian Bremmer": the same
    last word whatever its case, or one inside the other ("Ukrainian leaders" and "Ukrainian forces"
    are not one)."""
    a, b = a.strip().lower(), b.strip().lower()
    return bool(a and b) and (a.split()[-1] == b.split()[-1] or a in b or b in a)


def merge_duplicates(claims: Sequence[Claim], embed: Embed) -> tuple[list[Claim], dict[str, str]]:
    """Claims of one article that state the same proposition, as one claim holding every span, in
    the place of the most check-worthy one and in the words and credit of the one the article states
    first; ids are renumbered c1… and the map says where each went."""
    if len(claims) < 2:
        return [c.model_copy(update={"id": f"c{i + 1}"}) for i, c in enumerate(claims)], {c.id: f"c{i + 1}" for i, c in enumerate(claims)}
    vectors = embed([c.statement for c in claims])
    similar = vectors @ vectors.T
    kept: list[Claim] = []
    into: dict[str, int] = {}
    for i, claim in enumerate(claims):
        same = next(
            (
                into[claims[j].id]
                for j in range(i)
                if similar[i, j] >= SAME_PROPOSITION and _may_be_one(claim.statement, claims[j].statement)
            ),
            None,
        )
        if same is None:
            into[claim.id] = len(kept)
            kept.append(claim)
            continue
        into[claim.id] = same
        first, other = kept[same], claim
        if min(s.start for s in other.spans) < min(s.start for s in first.spans):
            first, other = other, first  # stated as the article first states it, credited as there
        spans = sorted({(s.start, s.end): s for s in [*first.spans, *other.spans]}.values(), key=lambda s: s.start)
        via = list(first.via)
        for name in other.via:
            if not any(same_person(name, known) for known in [first.claimant, *via]):
                via.append(name)
        kept[same] = first.model_copy(
            update={"id": kept[same].id, "spans": spans, "via": via, "checkworthiness": max(first.checkworthiness, other.checkworthiness)}
        )
    renumbered = [c.model_copy(update={"id": f"c{i + 1}"}) for i, c in enumerate(kept)]
    return renumbered, {old: f"c{index + 1}" for old, index in into.items()}


def about(denial: Denial, claim: Claim, similarity: float) -> bool:
    """Whether a denial can be about a claim: the 1.5B links a denial to every claim in the list.
    A denial that names someone the claim names, or whose words are close enough in meaning, is
    kept; one that shares neither ("I spoke to Putin once" vs "Crimea remains Russian") is not."""
    # Names from the article's words only: the model's "disputes" text echoes whatever it linked.
    shared = names_in(claim.statement) & names_in(" ".join(s.text for s in denial.spans))
    return bool(shared) or similarity >= ABOUT_THE_CLAIM


def unlink_unrelated(denials: Sequence[Denial], claims: Sequence[Claim], embed: Embed) -> tuple[list[Denial], list[str]]:
    """Denials linked only to the claims they are about, and a warning for each link removed."""
    by_id = {c.id: c for c in claims}
    linked = [(d, i) for d in denials for i in d.claim_ids if i in by_id]
    if not linked:
        return list(denials), []
    texts = [" ".join([d.disputes, *(s.text for s in d.spans)]) for d, _ in linked]
    vectors = embed([*texts, *(by_id[i].statement for _, i in linked)])
    n = len(linked)
    similarities = (vectors[:n] * vectors[n:]).sum(axis=1)
    dropped: set[tuple[str, str]] = set()
    warnings: list[str] = []
    for (denial, claim_id), similarity in zip(linked, similarities):
        if not about(denial, by_id[claim_id], float(similarity)):
            dropped.add((denial.id, claim_id))
            warnings.append(f"denials: {denial.id} by {denial.speaker} unlinked from {claim_id}: not about it")
    kept = [d.model_copy(update={"claim_ids": [i for i in d.claim_ids if (d.id, i) not in dropped]}) for d in denials]
    return kept, warnings
