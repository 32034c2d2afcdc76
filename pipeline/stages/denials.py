"""Stage 2: statements disputing the claims, with non-denials kept apart."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.llm.errors import InvalidOutputError
from pipeline.stages._stage import Analysis, Stage, StageOutput, messages
from pipeline.stages.propositions import unlink_unrelated
from pipeline.stance.embedder import shared_embedder
from pipeline.text import prompts
from pipeline.text.attributions import credited_with, names_in
from pipeline.text.document import Window
from pipeline.text.lexicon import DENIAL_CUES, DISPUTING, NON_RESPONSE
from pipeline.text.sentences import Sentence
from schemas import Attribution, Claim, Denial, DenialKind, Span, Usage
from schemas.denials import denials_response_for

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from pipeline.llm.client import LLM, Grammar

def candidate_sentences(window: Window) -> list[Sentence]:
    """Sentences with a denial cue: pointed out to the model as places to look (it still decides)."""
    return [s for s in window.sentences if DENIAL_CUES.search(s.text)]


def passages(window: Window, claims: list[Claim]) -> set[int]:
    """The sentences a denial of these claims can be read from: the claims' own, every sentence
    with a denial cue, and the sentences either side of a cue (the speaker is often named there).
    ``check`` shows the model only these, so its one call reads a fraction of a long article."""
    cues = {s.number for s in candidate_sentences(window)}
    near = {n + step for n in cues for step in (-1, 1)}
    own = {n for c in claims for s in c.spans for n in window.sentence_numbers_of(s)}
    return (cues | near | own) & window.numbers


async def find_denials(
    llm: LLM, window: Window, claims: list[Claim], *, grammar: Grammar = "tool"
) -> StageOutput[list[Denial]]:
    """``grammar="schema"`` leaves the tool schema (about 300 tokens) out of the prompt: ``check``'s
    one call, where it kept Musk's denial and fnc1_dev's figures. The run keeps the tool call: with
    the schema alone the 1.5B lost Musk's denial on the seed (bench/README.md, 2026-11-28)."""
    claim_ids = {c.id for c in claims}
    task = prompts.render(STAGE.prompt, claims=claims, candidates=candidate_sentences(window))

    def quotes_claim(quote: str, ids: list[str]) -> bool:
        span = window.align(quote)
        return span is not None and any(_overlap(span, s) for c in claims if c.id in ids for s in c.spans)

    context = window.context(claim_ids=claim_ids, quotes_claim=quotes_claim)
    # Under the grammar even on the embedded model: it keeps claim ids to the listed ones, and
    # without it the 1.5B looped to max_tokens here (the answer is short, so the grammar costs ~8 s).
    reply = await llm.ask(
        STAGE.name, messages(window, task), denials_response_for(tuple(sorted(claim_ids))), context, grammar=grammar
    )
    warnings = list(reply.warnings)
    attributions = window.attributions
    claimants = {c.id: names_in(c.claimant) for c in claims}
    denials: list[Denial] = []
    for draft in reply.value.denials:
        numbers = sorted({n for n in draft.sentence if n in window.numbers})
        quoted = window.align(draft.quote, numbers) if draft.quote.strip() else None
        if quoted is None and draft.quote.strip():
            warnings.append(f"denials: dropped unalignable quote {draft.quote[:60]!r} by {draft.speaker}")
        spans = [quoted] if quoted else [window.span(n) for n in numbers]
        if not spans:
            warnings.append(f"denials: dropped statement by {draft.speaker}: no quote or sentence in the article")
            continue
        if draft.kind is not DenialKind.non_denial and any(quotes_claim(s.text, draft.claim_ids) for s in spans):
            warnings.append(f"denials: dropped {draft.speaker!r}: quotes the claim it would dispute")
            continue
        kind = _kind(draft.kind, draft.speaker, spans, warnings)
        speaker = _speaker(draft.speaker, spans, attributions)
        if kind is not DenialKind.non_denial:
            own = [o for o in _own_words(speaker, window, attributions) if not any(_overlap(o, s) for s in spans)]
            spans = [*spans, *(o for o in own if not quotes_claim(o.text, draft.claim_ids))]  # the cited words first
        # Nobody denies their own claim: such a link is the model pairing a denial with every claim.
        targets = [
            i
            for i in draft.claim_ids
            if i in claim_ids and kind is not DenialKind.non_denial and not claimants[i] & names_in(speaker)
        ]
        denials.append(
            Denial(
                id=f"d{len(denials) + 1}",
                speaker=speaker,
                disputes=draft.disputes,
                kind=kind,
                claim_ids=targets,
                spans=spans,
            )
        )
    if any(d.claim_ids for d in denials):  # embedding only when there is a link to check
        denials, unlinked = await asyncio.to_thread(
            unlink_unrelated, denials, claims, lambda texts: shared_embedder().embed(texts)
        )
    else:
        unlinked = []
    return StageOutput(denials, reply.usage, warnings + unlinked)


def _kind(kind: DenialKind, speaker: str, spans: list[Span], warnings: list[str]) -> DenialKind:
    """"Did not respond" is a non-denial whatever the model says, unless the words also dispute."""
    evidence = " ".join(s.text for s in spans)
    if kind is not DenialKind.non_denial and NON_RESPONSE.search(evidence) and not _disputes_words(evidence):
        warnings.append(f"denials: {speaker!r} only did not respond; recorded as non_denial, not {kind}")
        return DenialKind.non_denial
    return kind


def _speaker(named: str, spans: list[Span], attributions: Sequence[Attribution]) -> str:
    """Whoever the article credits with the quoted words, when the model named someone else
    (on the seed the 1.5B gave Musk's "I have spoken to Putin only once" to Bremmer)."""
    credit = next((a for s in spans if (a := credited_with(s, attributions)) is not None), None)
    if credit is None or credit.source is None or names_in(credit.source.text) & names_in(named):
        return named
    return credit.source.text


def _own_words(speaker: str, window: Window, attributions: Sequence[Attribution]) -> list[Span]:
    """Sentences with a denial cue that the article credits to ``speaker``: the denial in their
    own words. The model often cites only the article's report of it ("Musk subsequently denied
    the conversation"), and a desk weighs the words themselves ("I have spoken to Putin only once")."""
    names = names_in(speaker)
    found: list[Span] = []
    for sentence in candidate_sentences(window):
        if NON_RESPONSE.search(sentence.text) and not _disputes_words(sentence.text):
            continue
        span = window.span(sentence.number)
        credit = credited_with(span, attributions)
        if names and credit is not None and credit.source is not None and names & names_in(credit.source.text):
            found.append(span)
    return found


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _disputes_words(text: str) -> bool:
    return bool(DISPUTING.search(text))


def is_non_response(text: str) -> bool:
    """"did not immediately respond", "declined to comment": not a denial, unless it also disputes."""
    return bool(NON_RESPONSE.search(text)) and not _disputes_words(text)


async def _find(llm: LLM, analysis: Analysis) -> StageOutput[list[Denial]]:
    """``check``'s one call: the model reads only the passages a denial can be in, without the tool
    schema in the prompt; the denials linked to the given claims are kept. An answer nothing usable
    survives of (a server that will not make the tool call) leaves the rule's denials standing."""
    window, claims = analysis.window, analysis.claims
    try:
        found = await find_denials(llm, window.focused(passages(window, claims)), claims, grammar="schema")
    except InvalidOutputError as error:
        return StageOutput(analysis.denials, error.usage or Usage(), [f"denials: {error}; the rule's denials stand"])
    ids = {c.id for c in claims}
    return StageOutput([d for d in found.value if ids & set(d.claim_ids)], found.usage, found.warnings)


# Not asked of the embedded model: on labelled questions it linked a denial to the claim it disputes
# less often than code (0.22 against 0.45, docs/model-questions.md); code's rule stands there.
STAGE = Stage(
    "denials", response=denials_response_for, run=_find, reads=("window", "claims", "denials"), writes=("denials",),
    embedded=False,
)

