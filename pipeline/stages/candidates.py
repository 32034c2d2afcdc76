"""Code proposes: the article's candidate claims and denials, with no LLM call.

Every attribution the rule stage finds (who said what, in under a millisecond) is a candidate
claim: its content is what is claimed, its source the claimant, the sources it passes through
(an attribution inside another's content: "Bremmer claimed Musk told him ...") its ``via`` chain.
Sentences in the article's own voice are candidates when the check-worthiness model scores them
high (numbers, named actors doing things, causes and comparisons). An attribution whose cue
denies ("Musk denied ...") is a candidate denial, not a claim; "did not respond" is neither.
Every attributed proposition is a candidate (someone asserted it); own-voice sentences only above
the model's threshold. All are ranked by check-worthiness.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.stages import denials as denials_stage
from pipeline.stages.propositions import ATTRIBUTION_WORDS, PROPOSING, Embed, same_person, reports_a_denial, resolve_descriptions, standalone, without_hedges, without_personal_asides, without_venue
from pipeline.text.attributions import names_in
from pipeline.text.document import Window
from pipeline.text.sentences import split_sentences
from schemas import Attribution, Claim, ClaimKind, Denial, DenialKind, Span

LINK_COSINE = 0.35  # as propositions.unlink_unrelated keeps an LLM's link
# MiniLM does not tell "Musk spoke with Putin" from "Musk worried about Putin" apart reliably:
# every claim within this margin of the best is linked (the LLM path links one by one).
LINK_MARGIN = 0.1
MIN_CONTENT_WORDS = 5  # "as shams", "to newsletter subscribers": a fragment, not a proposition
_DENYING_CUE = re.compile(
    r"\b(den(y|ied|ies)|refut\w*|reject\w*|disput\w*|rebut\w*|contradict\w*|dismiss\w*|called? .* (false|untrue))\b", re.I
)
_CONTRADICTING = re.compile(
    r"\b(den(y|ied|ies)|never|false|untrue|not true|only once|no evidence|fabricat\w*|baseless|unfounded|hoax|"
    r"(were|was|is|are) (wrong|incorrect|inaccurate|misleading))\b",
    re.I,
)
# Who confirms or reports a claim passes it on; "according to" and "said" name who made it.
_CONFIRMING = re.compile(r"\b(confirm\w*|report\w*|obtain\w*|verif\w*|learn\w*)\b", re.I)
_NEGATED_CUE = re.compile(r"\b(not|never)\b|n't\b", re.I)
_PRONOUN_SOURCE = re.compile(r"^(he|she|they|we|i)$", re.I)
_OPENING = re.compile(r"^[\s“”\"'‘’(]*(that\s+)?((him|her|me|them|us)\s+)?", re.I)
_FRAGMENT_START = {"on", "to", "in", "as", "at", "for", "with", "by", "from", "of", "it", "himself", "herself", "themselves"}
_NAME = re.compile(r"\b[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*")

Score = Callable[[Sequence[str]], Sequence[float]]


@dataclass(frozen=True)
class Candidate:
    """A proposition the article states or reports, as code found it."""

    content: Span  # what is claimed: the attribution's content, or the whole own-voice sentence
    sentences: tuple[int, ...]  # the window's numbers of the sentences holding it
    claimant: str  # "the article" for its own voice
    via: tuple[str, ...]
    cue: str  # the attributing words, "none" for the article's own voice
    claimant_span: Span | None
    cue_span: Span | None
    checkworthiness: float


@dataclass(frozen=True)
class DenialCandidate:
    speaker: str
    cue: Span
    sentence: int
    span: Span  # the sentence that carries the denial


def propose(window: Window, score: Score | None = None, threshold: float | None = None) -> tuple[list[Candidate], list[DenialCandidate]]:
    """The window's candidate claims, best first, and its candidate denials."""
    if score is None or threshold is None:
        from pipeline.stance.checkworthy import THRESHOLD, checkworthiness

        score, threshold = score or checkworthiness, THRESHOLD if threshold is None else threshold
    attributions = [a for a in window.attributions if _inside(a, window)]  # the article's: this window's cues only
    denied = [a for a in attributions if a.source is not None and _denies(a)]
    reported = _one_per_content([a for a in attributions if a not in denied and _is_proposition(a)])
    drafts = _attributed(window, reported) + _own_voice(window, attributions)
    scores = list(score([statement_text(d["content"].text) for d in drafts])) if drafts else []
    kept = [
        Candidate(**{**draft, "checkworthiness": round(float(s), 3)})  # type: ignore[arg-type]
        for draft, s in zip(drafts, scores, strict=True)
        if draft["cue"] != "none" or s >= threshold  # someone asserted it: a candidate whatever its score
    ]
    kept.sort(key=lambda c: -c.checkworthiness)
    denial_candidates = [
        DenialCandidate(_named(window, a, []), a.cue, n, window.span(n))
        for a in denied
        for n in sorted({*window.sentence_numbers_of(a.cue), *(window.sentence_numbers_of(a.content) if a.content else [])})
        if not denials_stage.is_non_response(window.sentence(n).text)
    ]
    return kept, denial_candidates


def _inside(attribution: Attribution, window: Window) -> bool:
    return bool(window.sentence_numbers_of(attribution.cue))


def _denies(attribution: Attribution) -> bool:
    """"Musk denied …", or Musk's own words that contradict ("I have spoken to Putin only once")."""
    content = attribution.content.text if attribution.content else ""
    return bool(_DENYING_CUE.search(attribution.cue.text) or _CONTRADICTING.search(content))


def _is_proposition(attribution: Attribution) -> bool:
    content = attribution.content
    if attribution.source is None or content is None or len(content.text.split()) < MIN_CONTENT_WORDS:
        return False
    if _NEGATED_CUE.search(attribution.cue.text):
        return False  # "Bremmer did not say when the conversation took place": he claimed nothing
    if _OPENING.sub("", content.text).split(" ", 1)[0].lower() in _FRAGMENT_START:
        return False  # "on Tuesday, which the DCNF has obtained": the cue's adjunct, not what was said
    return not denials_stage.is_non_response(content.text) and not reports_a_denial(content.text)


def _one_per_content(attributions: list[Attribution]) -> list[Attribution]:
    """"…, according to Bremmer, the DCNF has confirmed": two credits of one content; the one who
    made the claim speaks (the first, unless it only confirmed or reported it)."""
    kept: list[Attribution] = []
    for attribution in attributions:
        same = next((k for k in kept if k.content is not None and attribution.content is not None and _same_span(k.content, attribution.content)), None)
        if same is None:
            kept.append(attribution)
        elif _CONFIRMING.search(same.cue.text) and not _CONFIRMING.search(attribution.cue.text):
            kept[kept.index(same)] = attribution  # "…, according to Bremmer, the DCNF has confirmed": Bremmer said it
    return kept


def _named(window: Window, attribution: Attribution, outer: list[Attribution]) -> str:
    """A pronoun source as the person it stands for: the last name before it, in the enclosing
    quote ("I spoke with Elon …, and he told me") or else in this and the previous sentence,
    the attribution's own content left out ("“Elon musk told me …” he said": not Musk)."""
    assert attribution.source is not None
    source = attribution.source
    if not _PRONOUN_SOURCE.match(source.text):
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
        region = window.text[start : max(start, attribution.content.start)] + " " + window.text[attribution.content.end : source.start]
    known = names_in(region)
    names = [m.group() for m in _NAME.finditer(region) if m.group() in known or m.group().split()[-1] in known]
    return names[-1] if names else source.text


def _attributed(window: Window, reported: list[Attribution]) -> list[dict[str, object]]:
    """One draft per reported content; an attribution inside another's content passes the outer
    source's claim through its own source (the innermost content is what is claimed)."""
    drafts: list[dict[str, object]] = []
    taken: list[Span] = []
    for attribution in reported:
        assert attribution.source is not None and attribution.content is not None
        # Who only confirms or reports a credited claim vouches for it; it does not pass it on.
        outer = [
            o for o in reported
            if o is not attribution and _contains(o.content, attribution.cue) and not _CONFIRMING.search(o.cue.text)
        ]  # fmt: skip
        if any(
            _contains(attribution.content, inner.cue) and not _contains(inner.content, attribution.cue)
            for inner in reported if inner is not attribution
        ):  # fmt: skip
            continue  # the innermost attribution carries the proposition (two that hold each other's cue: both kept)
        taken.append(attribution.content)
        outer.sort(key=lambda o: o.cue.start)
        chain = [_named(window, o, []) for o in outer if o.source is not None]
        source = _named(window, attribution, outer)
        claimant = chain[0] if chain else source
        via = tuple(dict.fromkeys(name for name in [*chain[1:], source] if name != claimant and not _PRONOUN_SOURCE.match(name)))
        drafts.append({
            "content": attribution.content,
            "sentences": tuple(window.sentence_numbers_of(attribution.content)),
            "claimant": claimant,
            "via": via,
            "cue": attribution.cue.text,
            "claimant_span": attribution.source if not outer else next(o.source for o in outer if o.source is not None),
            "cue_span": attribution.cue,
        })  # fmt: skip
    return drafts


def _own_voice(window: Window, attributions: list[Attribution]) -> list[dict[str, object]]:
    """Sentences no attribution touches: the article's own statements."""
    drafts: list[dict[str, object]] = []
    for sentence in window.sentences:
        span = window.span(sentence.number)
        if any(_overlaps(span, part) for a in attributions if a.source is not None for part in a.spans()):
            continue  # someone's words: the attribution's candidate ("it was announced", unnamed, is the article's)
        if len(sentence.text.split()) < MIN_CONTENT_WORDS or denials_stage.is_non_response(sentence.text):
            continue
        drafts.append({
            "content": span, "sentences": (sentence.number,), "claimant": "the article", "via": (),
            "cue": "none", "claimant_span": None, "cue_span": None,
        })  # fmt: skip
    return drafts


def statement_text(text: str) -> str:
    """The content as a statement: without a leading "that" or opening quote, with a final period."""
    text = _OPENING.sub("", text.strip()).strip().rstrip(",;:”\"’'").strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else f"{text}."


def _contains(outer: Span | None, inner: Span) -> bool:
    return outer is not None and outer.start <= inner.start and inner.end <= outer.end


def _same_span(a: Span, b: Span) -> bool:
    return a.start == b.start and a.end == b.end


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


# Publisher boilerplate a desk never checks: not worth the model's tokens.
_BOILERPLATE = re.compile(
    r"\b(licens(e|ing)|all rights reserved|copyright|available without charge|subscribe|sign up for|"
    r"contact \S+@|@\S+\.(com|org)|this (article|story) (was|has been) (updated|corrected))\b",
    re.I,
)




_ABOUT_CLAIMS = re.compile(r"\b(his|her|their|its|these|those) (claims?|allegations?|account|remarks|comments|statements?)\b", re.I)


def worth_checking(window: Window, proposed: list[Candidate]) -> list[Candidate]:
    """The candidates worth a desk's time, best first: not the headline, not publisher
    boilerplate, not text withheld from the model (it addresses AI systems), and one candidate
    for contents that mostly overlap ("…; however, forces reported outages, according to the FT"
    and its inner part)."""
    withheld = set(window.withheld)
    title = (window.headline or "").strip().rstrip(".")
    distinct: list[Candidate] = []
    for candidate in proposed:
        if withheld & set(candidate.sentences) or _BOILERPLATE.search(candidate.content.text):
            continue
        if title and candidate.content.text.strip().rstrip(".") == title or candidate.sentences and set(candidate.sentences) <= window.headline_numbers:
            continue  # a headline (and what it attributes: "Bremmer says Musk told him of a Putin call")
        if candidate.cue == "none" and _ABOUT_CLAIMS.search(candidate.content.text):
            continue  # "Bremmer later doubled down on his claims": about claims, not one
        if not any(_mostly_inside(candidate.content, other.content) for other in distinct):
            distinct.append(candidate)
    return distinct


def _mostly_inside(inner: Span, outer: Span) -> bool:
    shared = min(inner.end, outer.end) - max(inner.start, outer.start)
    return shared >= 0.5 * (inner.end - inner.start)


def proposal_statement(window: Window, candidate: Candidate) -> str | None:
    """"Musk had suggested that the West recognize …": what is claimed is that he proposed it (the
    content alone, "The West recognize …", is no statement of fact), so the statement is the
    sentence saying who proposed what. None for any other candidate, or a proposal told at one remove."""
    if candidate.cue_span is None or candidate.via or not PROPOSING.search(candidate.cue):
        return None
    numbers = window.sentence_numbers_of(candidate.cue_span)
    if len(numbers) != 1:
        return None
    return resolve_descriptions(" ".join(window.sentence(numbers[0]).text.split()), window.text)


def code_statement(window: Window, candidate: Candidate) -> tuple[str, list[str]]:
    """The candidate in the article's words as a statement: attribution words to its own sources,
    hedges ("allegedly") and job titles ("the Tesla CEO") resolved where the article says who."""
    proposed = proposal_statement(window, candidate)
    if proposed is not None:
        return proposed, list(candidate.via)
    statement, chain = unattributed(statement_text(without_venue(candidate.content.text)), [candidate.claimant, *candidate.via])
    return resolve_descriptions(statement, window.text), chain[1:]


def first_sentence(text: str) -> str:
    """A statement is one sentence: "Musk had spoken with Putin. he also told me …" keeps the first."""
    sentences = split_sentences(text.strip())
    return sentences[0].text if len(sentences) > 1 else text.strip()


def unattributed(statement: str, chain: list[str]) -> tuple[str, list[str]]:
    """"Tom Park said Ann Lee hid the cuts", Park's claim: "Ann Lee hid the cuts." Attribution words
    come off only when they credit the claim's own sources; in "Zelenskyy condemned the proposal"
    (Reuters' claim) the condemning is the claim. Returns the statement and the chain, extended."""
    statement = without_personal_asides(_without_own_source_opening(first_sentence(statement), chain))
    stripped, credited = standalone(statement)
    # Speech words always attribute ("Musk told me he had spoken with Putin": Musk joins the chain);
    # other cues only when they credit the chain's own sources.
    speech = bool(ATTRIBUTION_WORDS.search(statement))
    if not credited or not speech and not all(any(same_person(name, known) for known in chain) for name in credited):
        return without_hedges(statement), chain
    return stripped, [*chain, *(n for n in credited if not any(same_person(n, known) for known in chain))]


# "Reuters reported that …" opening a statement of Reuters' own claim: the 1.5B writes it back in
# (on the seed), and "reported" is no speech word (in "Zelenskyy condemned …" the act is the claim).
_OPENING_SOURCE = re.compile(
    r"^(?P<who>(?:the )?[A-Z][\w’'.&-]*(?:\s+(?:[A-Z][\w’'.&-]*|of|for))*)\s+(?:has |have |had )?"
    r"(?:reported|reports|said|says|wrote|writes|claimed|claims|stated|states|alleged|alleges)"
    r"(?:\s+that)?[,:]?\s+(?=[\w“\"‘'])"
)

_PRONOUN_FIRST = re.compile(r"(he|she|they|it|i|we|you|his|her|their|its|this|that)\b", re.I)


def _without_own_source_opening(statement: str, chain: list[str]) -> str:
    opening = _OPENING_SOURCE.match(statement)
    if opening is None or not any(same_person(opening["who"], known) for known in chain):
        return statement
    rest = statement[opening.end() :]
    if _PRONOUN_FIRST.match(rest):
        return statement  # "Park said he …": who "he" is, standalone() resolves
    return rest[:1].upper() + rest[1:]


def claims_from(window: Window, candidates: list[Candidate], max_claims: int) -> list[Claim]:
    """The best candidates as claims, their content as the statement (the ``--no-llm`` path; the
    LLM path rewrites the statements to stand alone)."""
    chosen = worth_checking(window, candidates)[:max_claims]
    return [as_claim(window, c, f"c{i + 1}", *code_statement(window, c)) for i, c in enumerate(chosen)]


def as_claim(window: Window, candidate: Candidate, claim_id: str, statement: str, via: list[str]) -> Claim:
    """The candidate as a claim in these words: its spans, claimant, cue and score are code's."""
    return Claim(
        id=claim_id, statement=statement, claimant=candidate.claimant, via=via, cue=candidate.cue, kind=ClaimKind.fact,
        checkworthiness=candidate.checkworthiness, spans=[window.span(n) for n in candidate.sentences] or [candidate.content],
        claimant_span=candidate.claimant_span, cue_span=candidate.cue_span,
    )  # fmt: skip


def by_speaker(candidates: list[DenialCandidate]) -> list[tuple[str, list[Span]]]:
    """One denial per speaker: the sentences carrying it, in article order."""
    grouped: dict[str, dict[int, Span]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.speaker, {})[candidate.sentence] = candidate.span
    return [(speaker, sorted(spans.values(), key=lambda s: s.start)) for speaker, spans in grouped.items()]


def denials_from(window: Window, candidates: list[DenialCandidate], claims: list[Claim], embed: Embed) -> list[Denial]:
    """Rule denials: the denying sentences, linked to the claim they are most about (MiniLM cosine
    of the denial's words and the claim, at least ``LINK_COSINE``) among the claims that name whom
    the denial names besides its speaker, and never to the speaker's own claims."""
    found: list[Denial] = []
    for speaker, spans in by_speaker(candidates):
        words = " ".join(s.text for s in spans)
        speaker_names = names_in(speaker)
        names = names_in(words) - speaker_names
        eligible = [
            c for c in claims
            if names & names_in(" ".join([c.statement, *(s.text for s in c.spans)])) and not speaker_names & names_in(c.claimant)
            and not any(s.start == t.start for s in c.spans for t in spans)
        ]  # fmt: skip
        targets: list[str] = []
        if eligible:
            vectors = embed([words, *(c.statement for c in eligible)])
            similarity = vectors[1:] @ vectors[0]
            best = float(similarity.max())
            targets = [c.id for c, s in zip(eligible, similarity) if s >= max(LINK_COSINE, best - LINK_MARGIN)]
        found.append(
            Denial(
                id=f"d{len(found) + 1}", speaker=speaker, disputes=spans[0].text, kind=DenialKind.explicit_denial,
                claim_ids=targets, spans=spans,
            )  # fmt: skip
        )
    return found
