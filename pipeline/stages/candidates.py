"""Code proposes: the article's candidate claims and denials, with no LLM call.

Every attribution the rule stage finds (who said what, in under a millisecond) is a candidate
claim: its content is what is claimed, its source the claimant, the sources it passes through
(an attribution inside another's content: "Bremmer claimed Musk told him ...") its ``via`` chain.
Sentences in the article's own voice are candidates when the check-worthiness model scores them
high (numbers, named actors doing things, causes and comparisons). An attribution whose cue
denies ("Musk denied ...") is a candidate denial, not a claim; "did not respond" is neither.
Every attributed proposition is a candidate (someone asserted it); own-voice sentences only above
the model's threshold (a sentence inside a quotation is its speaker's). All are ranked by
check-worthiness.

The candidates stage (a stage of code, no call): every candidate worth a desk's time becomes a claim
in code's standalone words (``pipeline.stages.wording``), the default result the claims call may
only improve; the rule's denials are found here and linked by the propositions stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from pipeline.stages import denials as denials_stage
from pipeline.stages._proposed import Candidate, DenialCandidate
from pipeline.stages._stage import Analysis, Stage, StageOutput, in_worker
from pipeline.stages.wording import (
    Statement,
    code_statement,
    is_aside,
    named_source,
    quotation_speaker,
    reports_a_denial,
    statement_text,
)
from pipeline.text.document import Window
from pipeline.text.lexicon import (
    ABOUT_CLAIMS,
    BOILERPLATE,
    CONFIRMING,
    CONTRADICTING,
    DENYING_CUE,
    NEGATED_CUE,
    SUBJECT_PRONOUNS,
)
from pipeline.text.people import innermost_quotation
from schemas import Attribution, Claim, ClaimKind, Denial, DenialKind, Span, Usage

MIN_CONTENT_WORDS = 5  # "as shams", "to newsletter subscribers": a fragment, not a proposition
_FRAGMENT_START = {
    "on",
    "to",
    "in",
    "as",
    "at",
    "for",
    "with",
    "by",
    "from",
    "of",
    "it",
    "himself",
    "herself",
    "themselves",
}

Score = Callable[[Sequence[str]], Sequence[float]]


def propose(
    window: Window, score: Score | None = None, threshold: float | None = None
) -> tuple[list[Candidate], list[DenialCandidate]]:
    """The window's candidate claims, best first, and its candidate denials."""
    if score is None or threshold is None:
        from pipeline.stance.checkworthy import THRESHOLD, checkworthiness

        score, threshold = score or checkworthiness, THRESHOLD if threshold is None else threshold
    attributions = [a for a in window.attributions if _inside(a, window)]  # the article's: this window's cues only
    denied = [a for a in attributions if a.source is not None and _denies(a)]
    reported = _one_per_content([a for a in attributions if a not in denied and _is_proposition(a)])
    attributed = _attributed(window, reported)
    drafts = attributed + _own_voice(window, attributions, attributed)
    scores = list(score([statement_text(d["content"].text) for d in drafts])) if drafts else []
    kept = [
        Candidate(**_fields(draft), checkworthiness=round(float(s), 3))
        for draft, s in zip(drafts, scores, strict=True)
        if not draft.get("scored") or s >= threshold  # someone asserted it: a candidate whatever its score
    ]
    kept.sort(key=lambda c: -c.checkworthiness)
    return kept, _denial_candidates(window, denied)


def _denial_candidates(window: Window, denied: list[Attribution]) -> list[DenialCandidate]:
    """A sentence each of the attributions that deny (its cue's and its content's), non-responses left out."""
    return [
        DenialCandidate(named_source(window, a, []), a.cue, n, window.span(n))
        for a in denied
        for n in sorted(
            {*window.sentence_numbers_of(a.cue), *(window.sentence_numbers_of(a.content) if a.content else [])}
        )
        if not denials_stage.is_non_response(window.sentence(n).text)
    ]


def _fields(draft: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in draft.items() if k != "scored"}  # "scored": kept only above the threshold


def _inside(attribution: Attribution, window: Window) -> bool:
    return bool(window.sentence_numbers_of(attribution.cue))


def _denies(attribution: Attribution) -> bool:
    """ "Musk denied …", or Musk's own words that contradict ("I have spoken to Putin only once")."""
    content = attribution.content.text if attribution.content else ""
    return bool(DENYING_CUE.search(attribution.cue.text) or CONTRADICTING.search(content))


def _is_proposition(attribution: Attribution) -> bool:
    content = attribution.content
    if attribution.source is None or content is None or len(content.text.split()) < MIN_CONTENT_WORDS:
        return False
    if NEGATED_CUE.search(attribution.cue.text):
        return False  # "Bremmer did not say when the conversation took place": he claimed nothing
    if statement_text(content.text).split(" ", 1)[0].lower() in _FRAGMENT_START:
        return False  # "on Tuesday, which the DCNF has obtained": the cue's adjunct, not what was said
    return not denials_stage.is_non_response(content.text) and not reports_a_denial(content.text)


def _one_per_content(attributions: list[Attribution]) -> list[Attribution]:
    """ "…, according to Bremmer, the DCNF has confirmed": two credits of one content; the one who
    made the claim speaks (the first, unless it only confirmed or reported it)."""
    kept: list[Attribution] = []
    for attribution in attributions:
        same = next(
            (
                k
                for k in kept
                if k.content is not None
                and attribution.content is not None
                and _same_span(k.content, attribution.content)
            ),
            None,
        )
        if same is None:
            kept.append(attribution)
        elif CONFIRMING.search(same.cue.text) and not CONFIRMING.search(attribution.cue.text):
            kept[kept.index(same)] = attribution  # "…, according to Bremmer, the DCNF has confirmed": Bremmer said it
    return kept


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
            if o is not attribution and _contains(o.content, attribution.cue) and not CONFIRMING.search(o.cue.text)
        ]  # fmt: skip
        if any(
            _contains(attribution.content, inner.cue) and not _contains(inner.content, attribution.cue)
            for inner in reported if inner is not attribution
        ):  # fmt: skip
            continue  # the innermost attribution carries the proposition (two that hold each other's cue: both kept)
        taken.append(attribution.content)
        outer.sort(key=lambda o: o.cue.start)
        chain = [named_source(window, o, []) for o in outer if o.source is not None]
        source = named_source(window, attribution, outer)
        claimant = chain[0] if chain else source
        via = tuple(
            dict.fromkeys(
                name for name in [*chain[1:], source] if name != claimant and name.lower() not in SUBJECT_PRONOUNS
            )
        )
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


def _own_voice(
    window: Window, attributions: list[Attribution], attributed: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Sentences no attribution touches: the article's own statements, or, inside a quotation, its
    speaker's (as the report before it in that quotation credits it: "There were three components"
    in Bremmer's quotation goes on with what Musk told him). Kept only above the threshold."""
    drafts: list[dict[str, object]] = []
    for sentence in window.sentences:
        span = window.span(sentence.number)
        if any(_overlaps(span, part) for a in attributions if a.source is not None for part in a.spans()):
            continue  # someone's words: the attribution's candidate ("it was announced", unnamed, is the article's)
        if len(sentence.text.split()) < MIN_CONTENT_WORDS or denials_stage.is_non_response(sentence.text):
            continue
        draft: dict[str, object] = {
            "content": span, "sentences": (sentence.number,), "claimant": "the article", "via": (),
            "cue": "none", "claimant_span": None, "cue_span": None, "scored": True,
        }  # fmt: skip
        drafts.append(draft | _quoted(window, span, attributed))
    return drafts


def _quoted(window: Window, span: Span, attributed: list[dict[str, object]]) -> dict[str, object]:
    """Who speaks a sentence inside a quotation: the quotation's speaker, by the chain of the last
    report before it in the same quotation; nothing for the article's own voice."""
    quotation = innermost_quotation(window.text, span.start)
    speaking = quotation_speaker(window, span.start) if quotation is not None else None
    if quotation is None or speaking is None:
        return {}
    speaker, name = speaking
    earlier = [d for d in attributed if quotation[0] <= d["content"].start < span.start]  # type: ignore[attr-defined]
    chain = (
        {"claimant": earlier[-1]["claimant"], "via": earlier[-1]["via"]} if earlier else {"claimant": name, "via": ()}
    )
    return {**chain, "cue": speaker.cue.text, "claimant_span": speaker.source, "cue_span": speaker.cue}


def _contains(outer: Span | None, inner: Span) -> bool:
    return outer is not None and outer.start <= inner.start and inner.end <= outer.end


def _same_span(a: Span, b: Span) -> bool:
    return a.start == b.start and a.end == b.end


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def worth_checking(window: Window, proposed: list[Candidate]) -> list[Candidate]:
    """The candidates worth a desk's time, best first: not the headline, not publisher
    boilerplate, not text withheld from the model (it addresses AI systems), and one candidate
    for contents that mostly overlap ("…; however, forces reported outages, according to the FT"
    and its inner part)."""
    withheld = set(window.withheld)
    title = (window.headline or "").strip().rstrip(".")
    distinct: list[Candidate] = []
    for candidate in proposed:
        if withheld & set(candidate.sentences) or BOILERPLATE.search(candidate.content.text):
            continue
        if (
            title
            and candidate.content.text.strip().rstrip(".") == title
            or candidate.sentences
            and set(candidate.sentences) <= window.headline_numbers
        ):
            continue  # a headline (and what it attributes: "Bremmer says Musk told him of a Putin call")
        if candidate.cue == "none" and ABOUT_CLAIMS.search(candidate.content.text):
            continue  # "Bremmer later doubled down on his claims": about claims, not one
        if is_aside(window, candidate):
            continue  # "I wasn't planning on writing about this": the writer's plans, no claim
        if not any(_mostly_inside(candidate.content, other.content) for other in distinct):
            distinct.append(candidate)
    return distinct


def _mostly_inside(inner: Span, outer: Span) -> bool:
    shared = min(inner.end, outer.end) - max(inner.start, outer.start)
    return shared >= 0.5 * (inner.end - inner.start)


def code_claims(window: Window, worthy: list[Candidate]) -> list[Claim]:
    """Every candidate worth checking as a claim in code's standalone words, c1… in their order:
    the default result of each, which a model's call may only improve."""
    return [as_claim(window, c, f"c{i + 1}", code_statement(window, c)) for i, c in enumerate(worthy)]


def as_claim(window: Window, candidate: Candidate, claim_id: str, statement: Statement) -> Claim:
    """The candidate as a claim in these words: its spans, claimant, cue and score are code's."""
    return Claim(
        id=claim_id, statement=statement.text, claimant=candidate.claimant, via=list(statement.via), cue=candidate.cue,
        kind=ClaimKind.quote if statement.quote else ClaimKind.fact, checkworthiness=candidate.checkworthiness,
        spans=[window.span(n) for n in candidate.sentences] or [candidate.content],
        claimant_span=candidate.claimant_span, cue_span=candidate.cue_span, standalone=statement.standalone,
    )  # fmt: skip


def by_speaker(candidates: list[DenialCandidate]) -> list[tuple[str, list[Span]]]:
    """One denial per speaker: the sentences carrying it, in article order."""
    grouped: dict[str, dict[int, Span]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.speaker, {})[candidate.sentence] = candidate.span
    return [(speaker, sorted(spans.values(), key=lambda s: s.start)) for speaker, spans in grouped.items()]


def rule_denials(candidates: list[DenialCandidate]) -> list[Denial]:
    """The rule's denials, one per speaker, not yet linked to the claims they dispute (the
    propositions stage links them once the claims are settled)."""
    return [
        Denial(
            id=f"d{i + 1}",
            speaker=speaker,
            disputes=spans[0].text,
            kind=DenialKind.explicit_denial,
            claim_ids=[],
            spans=spans,
        )
        for i, (speaker, spans) in enumerate(by_speaker(candidates))
    ]


def candidates_of(window: Window) -> tuple[list[Candidate], list[Claim], list[Denial]]:
    """The window's candidates worth checking (best first), each as a claim in code's words, and the
    rule's denials."""
    proposed, denial_candidates = propose(window)
    worthy = worth_checking(window, proposed)
    return worthy, code_claims(window, worthy), rule_denials(denial_candidates)


async def _propose(llm: object, analysis: Analysis) -> StageOutput[tuple[list[Candidate], list[Claim], list[Denial]]]:
    clock = time.perf_counter()
    found = await in_worker(candidates_of, analysis.window)
    return StageOutput(found, Usage(seconds=time.perf_counter() - clock))


# Code's stage: no prompt, no call. With it alone (and the propositions stage) a run needs no LLM.
STAGE = Stage(
    "candidates",
    response=None,
    run=_propose,
    reads=("window",),
    writes=("candidates", "claims", "denials"),
    calls_per_window=0,
)


def denials_by_rule(window: Window, claims: list[Claim]) -> list[Denial]:
    """The window's denials found by rule (one per speaker; non-responses are none), each linked by code to
    the given claims it disputes (``propositions.linked_by_code``); those that dispute none are left out."""
    from pipeline.stages.propositions import linked_by_code
    from pipeline.stance.embedder import shared_embedder

    denied = [a for a in window.attributions if _inside(a, window) and a.source is not None and _denies(a)]
    found = linked_by_code(rule_denials(_denial_candidates(window, denied)), claims, shared_embedder().embed)
    return [d for d in found if d.claim_ids]


async def _denials_by_rule(llm: object, analysis: Analysis) -> StageOutput[list[Denial]]:
    clock = time.perf_counter()
    found = await in_worker(denials_by_rule, analysis.window, analysis.claims)
    return StageOutput(found, Usage(seconds=time.perf_counter() - clock))


# Code's stage: ``check``'s denials where no model is asked (--no-llm, the embedded model); the LLM's
# denials stage after it replaces them with its own.
DENIALS_BY_RULE = Stage(
    "denials_by_rule",
    response=None,
    run=_denials_by_rule,
    reads=("window", "claims"),
    writes=("denials",),
    calls_per_window=0,
)
