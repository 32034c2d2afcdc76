"""Stage 1: extract check-worthy claims with their attribution chain."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz

from pipeline.stages._stage import CLAIMS, StageOutput, messages
from pipeline.stages.propositions import merge_duplicates, reports_a_denial, resolve_descriptions, standalone
from pipeline.stance.embedder import shared_embedder
from pipeline.text import prompts
from pipeline.text.attributions import find_attributions, names_in
from pipeline.text.document import WITHHELD, Window
from pipeline.text.spans import align_quote
from schemas import Attribution, Claim, ClaimDraft, ClaimsResponse, Span

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from pipeline.llm.client import LLM

STAGE = CLAIMS.name
_REPORTING = re.compile(r"\b(said|says|wrote|told|claimed|reported|according to|stated|announced)\b", re.IGNORECASE)
# The answer's cap: the 1.5B writes about 95 tokens a claim (pretty-printed, sentences copied);
# a model that loops, listing every sentence, is cut there rather than at the LLM's 1,536.
TOKENS_PER_CLAIM, TOKENS_PER_ANSWER = 160, 120
NO_CUE = "none"  # as check.py writes for a claim in the article's own voice
REPOINT_MARGIN = 15  # token_set_ratio points a neighbouring sentence must win by
UNRATED = 0.5  # the checkworthiness of a claim the model gave none: neither ranked up nor filtered out


async def extract_claims(llm: LLM, window: Window, *, max_claims: int = 5) -> StageOutput[list[Claim]]:
    task = prompts.render(STAGE, max_claims=max_claims)
    reporting = [s.number for s in window.sentences if _REPORTING.search(s.text)]
    reply = await llm.ask(
        STAGE, messages(window, task), ClaimsResponse, window.context(reporting_sentences=reporting),
        max_tokens=TOKENS_PER_CLAIM * max_claims + TOKENS_PER_ANSWER,
    )
    warnings = list(reply.warnings)
    credits = [a for a in find_attributions(window.text) if a.source is not None and a.content is not None]
    claims: list[Claim] = []
    withheld = set(window.withheld)  # the model saw a placeholder there: no claim can come from it
    for draft in reply.value.claims[:max_claims]:
        cited = {_repoint(window, draft.statement, n) for n in draft.sentences if n in window.numbers}
        numbers = sorted(cited - withheld)
        if cited and not numbers or WITHHELD in draft.statement:
            warnings.append(f"claims: dropped {draft.statement[:60]!r}: cites only text withheld from the model")
            continue
        if not numbers:
            warnings.append(f"claims: dropped {draft.statement[:60]!r}: cites no sentence of the article")
            continue
        if _names_no_one_here(draft.statement, window.text):
            warnings.append(f"claims: dropped {draft.statement[:60]!r}: names no one the article names")
            continue
        if reports_a_denial(draft.statement):
            warnings.append(f"claims: dropped {draft.statement[:60]!r}: it reports a denial (a denial, not a claim)")
            continue
        if draft.checkworthiness is None:
            warnings.append(f"claims: {draft.statement[:60]!r} came without a checkworthiness; {UNRATED} assumed")
        claims.append(_claim(window, draft, numbers, f"c{len(claims) + 1}", credits))
    # In a thread: the first call loads the embedding model (about a second), and other
    # articles' calls must go on meanwhile.
    merged, moved = await asyncio.to_thread(merge_duplicates, claims, _embed) if len(claims) > 1 else merge_duplicates(claims, _embed)
    taken: set[str] = set()
    for claim in claims:
        if moved[claim.id] in taken:
            warnings.append(f"claims: {claim.statement[:60]!r} merged into {moved[claim.id]}: the same proposition")
        taken.add(moved[claim.id])
    return StageOutput(merged, reply.usage, warnings)


def _embed(texts: Sequence[str]) -> np.ndarray:
    return shared_embedder().embed(texts)


def _names_no_one_here(statement: str, text: str) -> bool:
    """A statement whose every capitalised name is missing from the article was not read from
    it: the 1.5B copies the prompt's own example ("Tom Lee signed the deal.") into articles."""
    names = names_in(statement)
    lowered = text.lower()
    return bool(names) and not any(re.search(rf"\b{re.escape(name.lower())}\b", lowered) for name in names)


def _repoint(window: Window, statement: str, number: int) -> int:
    """Small models often cite the sentence next to the one they paraphrase: keep the
    cited number unless a neighbour matches the statement clearly better."""
    candidates = [n for n in (number - 1, number, number + 1) if n in window.numbers]
    scores = {n: fuzz.token_set_ratio(statement, window.sentence(n).text) for n in candidates}
    best = max(scores, key=lambda n: scores[n])
    return best if scores[best] >= scores[number] + REPOINT_MARGIN else number


def _passed_on_by(text: str, claimant: str) -> list[str]:
    """Names that "told" the claimant something in the claim's sentence: the nested link
    ("Bremmer claimed Musk told him ...") that small models leave out of ``via``."""
    names = re.findall(r"\b([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*) (?:had )?told (?:him|her|me|them|us)\b", text)
    return [n for n in dict.fromkeys(names) if n.lower() not in claimant.lower()]


def _claim(window: Window, draft: ClaimDraft, numbers: list[int], claim_id: str, credits: list[Attribution]) -> Claim:
    spans = [window.span(n) for n in numbers]
    statement, credited = standalone(draft.statement)
    statement = resolve_descriptions(statement, window.text)
    if (credit := _credited_elsewhere(draft.claimant, spans, credits)) is not None and credit.source is not None:
        claimant, cue, claimant_span, cue_span = credit.source.text, credit.cue.text, credit.source, credit.cue
    elif (own := _own_credit(draft.claimant, spans, credits)) is not None:
        claimant, cue, claimant_span, cue_span = draft.claimant, own.cue.text, own.source, own.cue
    else:  # the article's own voice, or a credit the rules did not find
        claimant, cue, cue_span = draft.claimant, NO_CUE, None
        claimant_span = _name_span(window.text, claimant, spans)
    # The chain outward-in: names the statement's own attribution words gave, then the model's
    # via, then whoever "told" the claimant in the claim's sentences.
    via: list[str] = []
    for name in [*credited, *draft.via, *_passed_on_by(" ".join(s.text for s in spans), claimant)]:
        if not any(_same_person(name, known) for known in [claimant, *via]):
            via.append(name)
    return Claim(
        id=claim_id,
        statement=statement,
        claimant=claimant,
        via=via,
        cue=cue,
        kind=draft.kind,
        checkworthiness=UNRATED if draft.checkworthiness is None else draft.checkworthiness,
        spans=spans,
        claimant_span=claimant_span,
        cue_span=cue_span,
    )


def _own_credit(claimant: str, spans: list[Span], credits: list[Attribution]) -> Attribution | None:
    """The attribution in the claim's sentences whose source is the claimant: its cue is the claim's."""
    return next(
        (
            c
            for c in credits
            if c.source is not None
            and any(s.start <= c.cue.start < s.end for s in spans)
            and _same_person(c.source.text, claimant)
        ),
        None,
    )


def _same_person(a: str, b: str) -> bool:
    """"Ian Bremmer", "Bremmer" and "the Eurasia Group’s Ian Bremmer" are one person."""
    a_names, b_names = names_in(a), names_in(b)
    return bool(a_names & b_names) if a_names and b_names else a.lower() in b.lower() or b.lower() in a.lower()


def _credited_elsewhere(claimant: str, spans: list[Span], credits: list[Attribution]) -> Attribution | None:
    """The attribution in the claim's sentences whose content names the model's claimant while its
    source does not: the model took the claim's subject for its source ("Musk spoke with Putin,
    according to Bremmer" is Bremmer's claim, not Musk's)."""
    names = names_in(claimant)
    if not names:
        return None

    def mentions(text: str) -> bool:
        return bool(names & names_in(text))

    for credit in credits:
        if credit.source is None or credit.content is None:
            continue
        inside = any(s.start <= credit.cue.start < s.end for s in spans)
        if inside and mentions(credit.content.text) and not mentions(credit.source.text):
            return credit
    return None


def _name_span(text: str, name: str, spans: list[Span]) -> Span | None:
    """The claimant's name in the claim's sentences: full name, else surname or first word."""
    words = [w for w in re.findall(r"[\w’'.-]+", name) if len(w) > 2 and w.lower() != "the"]
    for candidate in [name, *reversed(words)]:
        if found := _word_span(text, candidate, spans):
            return found
    return None


def _word_span(text: str, word: str, spans: list[Span]) -> Span | None:
    if not word or word.lower() == "none":
        return None
    for span in spans:
        found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", span.text, re.IGNORECASE)
        if found:
            return align_quote(text, found.group(), (span.start + found.start(), span.start + found.end()))
    return None
