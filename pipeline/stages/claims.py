"""The claims stage: code proposes, the LLM writes. One short call per context window.

Code has found the window's candidate claims (every attribution, and the article's own
check-worthy sentences, ranked by the check-worthiness model) and candidate denials (by rule)
before the call (``candidates.propose``). The model sees only those, numbered, never the whole
article, and writes each claim's standalone statement, drops what a desk would not check, and
links each denial to the claims it disputes, by id. Spans, claimants, cues and ``via`` chains
stay code's; what the model writes is checked before it is used, and a candidate keeps the
article's own words where the model's are unusable.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.llm.errors import InvalidOutputError
from pipeline.stages import candidates as candidates_stage
from pipeline.stages._stage import Analysis, Stage, StageOutput
from pipeline.stages.candidates import Candidate, as_claim, code_statement, statement_text, unattributed
from pipeline.stages.propositions import Embed, merge_duplicates, reports_a_denial, resolve_descriptions
from pipeline.stance import checkworthy
from pipeline.stance.embedder import shared_embedder
from pipeline.text import prompts
from pipeline.text.attributions import names_in
from pipeline.text.document import Window
from schemas import Claim, Denial, Span, Usage
from schemas.claims import WrittenClaims, written_claims_for

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from openai.types.chat import ChatCompletionMessageParam

    from pipeline.llm.client import LLM

# The answer's cap: about 40 tokens a statement (25 words and its key), a few for each drop and
# link; a model that loops inside a statement is stopped by the schema's length limit first.
TOKENS_PER_CLAIM, TOKENS_PER_DENIAL, TOKENS_PER_ANSWER = 48, 16, 48
CONTEXT_WORDS = 45  # the end of the sentence shown before a candidate that needs it
MIN_STATEMENT_WORDS = 3
# A candidate the model must read with the sentence before it: one that opens on a pronoun or
# "There", or points back ("that outcome", "the proposal"). A pronoun inside it usually has its
# name in the candidate itself ("Bremmer doubled down on his claims").
_POINTS_BACK = re.compile(
    r"^(he|she|they|it|this|that|these|those|there|his|her|their|its)\b|"
    r"\b(this|that|these|those|the) (outcome|proposal|plan|deal|offer|idea|move|decision|report|conversation|call|"
    r"claims?|allegations?|statement|request|threat|scenario|components?|goals?|demands?)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(he|she|they|him|her|his|hers|their|them|i|me|my|we|us|our)\b", re.I)
LONG_WORDS = 30  # a statement is at most about 30 words
MISPLACED_MARGIN = 0.15

@dataclass(frozen=True)
class _Shown:
    """One candidate as the prompt shows it."""

    id: str
    chain: str
    text: str
    before: str | None = None


def to_ask(window: Window, proposed: list[Candidate], max_claims: int) -> list[Candidate]:
    """The candidates worth the model's tokens: the most check-worthy ``max_claims`` of those worth a
    desk's time (``write_claims`` takes the same slice of ``worth_checking``, and keeps the rest)."""
    return candidates_stage.worth_checking(window, proposed)[:max_claims]


def beyond_the_call(window: Window, rest: list[Candidate], first: int) -> list[Claim]:
    """The candidates the call did not see (beyond ``max_claims``) that code can state alone and the
    check-worthiness model rates check-worthy, as claims c{first}, … in the article's words (the
    seed's "Musk also appeared concerned about more direct threats from Putin" ranks 11th). One that
    points back or speaks as someone ("that outcome", "My response") would need the model's words:
    left out."""
    claims: list[Claim] = []
    for candidate in rest:
        if candidate.checkworthiness < checkworthy.THRESHOLD:
            continue
        statement, via = code_statement(window, candidate)
        if not needs_writing(statement):
            claims.append(as_claim(window, candidate, f"c{first + len(claims)}", statement, via))
    return claims


def _code_cannot_state(window: Window, candidate: Candidate) -> bool:
    """Code's own statement still points back or is long; a proposal is always code's (its sentence,
    however long, says who proposed what)."""
    return candidates_stage.proposal_statement(window, candidate) is None and needs_writing(code_statement(window, candidate)[0])


def needs_writing(text: str) -> bool:
    """A candidate code cannot state alone: it points back, names someone by a pronoun, or is long."""
    return bool(_POINTS_BACK.search(text) or _PRONOUN.search(text)) or len(text.split()) > LONG_WORDS


async def write_claims(llm: LLM, window: Window, *, max_claims: int = 10) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    proposed, denial_candidates = await asyncio.to_thread(candidates_stage.propose, window)
    worthy = candidates_stage.worth_checking(window, proposed)
    asked = worthy[:max_claims]
    grouped = candidates_stage.by_speaker(denial_candidates)
    if not asked:
        return StageOutput(([], []), Usage(), [])
    claim_ids = tuple(f"c{i + 1}" for i in range(len(asked)))
    denial_ids = tuple(f"d{i + 1}" for i in range(len(grouped)))
    shown = [_shown(window, i, c) for i, c in zip(claim_ids, asked, strict=True)]
    # The model writes only what code cannot: statements that, in code's words (attribution off,
    # "the Tesla CEO" named, asides in someone's voice off, a proposal as made), still point back
    # or are long. Every token it writes costs about as much as 7 it reads, here.
    written_ids = tuple(s.id for s, c in zip(shown, asked, strict=True) if _code_cannot_state(window, c))
    task = prompts.render(
        STAGE.prompt,
        title=window.headline,
        claims=shown,
        written=written_ids,
        denials=[_Shown(i, speaker, " ".join(s.text for s in spans)) for i, (speaker, spans) in zip(denial_ids, grouped, strict=True)],
    )
    response_model = written_claims_for(claim_ids, denial_ids, written_ids)
    try:
        reply = await llm.ask(
            STAGE.name, _messages(task), response_model, window.context(),
            max_tokens=TOKENS_PER_CLAIM * len(written_ids) + TOKENS_PER_DENIAL * len(denial_ids) + TOKENS_PER_ANSWER,
            grammar="schema",
        )  # fmt: skip
        answer, usage, warnings = reply.value, reply.usage, list(reply.warnings)
    except InvalidOutputError as error:
        # The model rambled past its cap or broke the JSON, re-ask included (1 of polnear_dev's 20
        # documents): the candidates are claims all the same, in the article's words.
        answer = written_claims_for(claim_ids, denial_ids, ()).model_validate({"drop": [], "disputes": {i: [] for i in denial_ids}})
        usage, warnings = Usage(), [f"claims: {error}; the candidates are kept in the article's words, denials linked by code"]
    misplaced = await asyncio.to_thread(_misplaced, answer, shown, _embed)
    claims, by_candidate = _claims(window, answer, asked, claim_ids, warnings, misplaced)
    rest = beyond_the_call(window, worthy[max_claims:], len(claims) + 1)
    claims += rest
    if rest:
        warnings.append(f"claims: {len(rest)} more candidate(s) beyond the {max_claims} the call writes, kept in the article's words")
    merged, moved = await asyncio.to_thread(merge_duplicates, claims, _embed)
    for claim in claims:
        if moved[claim.id] != claim.id and sum(v == moved[claim.id] for v in moved.values()) > 1:
            warnings.append(f"claims: {claim.statement[:60]!r} merged into {moved[claim.id]}: the same proposition")
    final = {candidate: moved[claim] for candidate, claim in by_candidate.items()}
    # A denial is linked only to claims the model saw: MiniLM cannot tell "Musk spoke with Putin"
    # from "Musk worried about Putin" (0.641 and 0.628 to Musk's denial, on the seed), and the
    # model's links are what settle it among those.
    seen = set(final.values())
    by_rule = await asyncio.to_thread(candidates_stage.denials_from, window, denial_candidates, [c for c in merged if c.id in seen], _embed)
    denials = _denials(answer, by_rule, denial_ids, final, merged)
    return StageOutput((merged, denials), usage, warnings)


def _messages(task: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": task}]


def _shown(window: Window, claim_id: str, candidate: Candidate) -> _Shown:
    text = statement_text(candidate.content.text)
    chain = " > ".join([candidate.claimant, *candidate.via])
    before = None
    first = min(candidate.sentences, default=None)
    if first is not None and _POINTS_BACK.search(text) and first - 1 in window.numbers:
        words = window.sentence(first - 1).text.split()
        before = ("… " if len(words) > CONTEXT_WORDS else "") + " ".join(words[-CONTEXT_WORDS:])
    return _Shown(claim_id, chain, text, before)


def _misplaced(answer: WrittenClaims, shown: Sequence[_Shown], embed: Embed) -> set[str]:
    """The ids whose written statement is about another candidate: closer in meaning (MiniLM
    cosine) to another's text than to its own by ``MISPLACED_MARGIN``. The 1.5B once wrote each
    statement under the next id (its own candidate 0.37-0.53, another's 0.83-0.99); a statement
    written in place is 0.98-1.00 to its own, whose words it rewrites."""
    statements = getattr(answer, "statements", None)
    written = {i: text for i, text in (statements.model_dump() if statements is not None else {}).items() if text}
    if not written:
        return set()
    vectors = embed([*(s.text for s in shown), *written.values()])
    shown_vectors, written_vectors = vectors[: len(shown)], vectors[len(shown) :]
    index = {s.id: n for n, s in enumerate(shown)}
    misplaced = set()
    for claim_id, vector in zip(written, written_vectors, strict=True):
        similarity = shown_vectors @ vector
        if claim_id in index and similarity.max() - similarity[index[claim_id]] >= MISPLACED_MARGIN:
            misplaced.add(claim_id)
    return misplaced


def _claims(
    window: Window, answer: WrittenClaims, asked: list[Candidate], claim_ids: tuple[str, ...], warnings: list[str],
    misplaced: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[Claim], dict[str, str]]:
    """The kept candidates as claims, in the model's words where those are usable (and about that
    candidate); and which claim each candidate id became."""
    # A candidate a denial disputes is check-worthy whatever the drop list says (the 1.5B dropped
    # the seed's Musk-Putin call while linking Musk's denial to it).
    disputes = getattr(answer, "disputes", None)
    disputed = {i for ids in (disputes.model_dump().values() if disputes is not None else []) for i in ids}
    # The model's drop removes only what the check-worthiness model is unsure of: the 1.5B dropped
    # every candidate of an article whose instructions to it were withheld.
    unsure = {i for i, c in zip(claim_ids, asked, strict=True) if c.checkworthiness < checkworthy.THRESHOLD}
    dropped = set(getattr(answer, "drop", [])) & unsure - disputed
    claims: list[Claim] = []
    by_candidate: dict[str, str] = {}
    for claim_id, candidate in zip(claim_ids, asked, strict=True):
        if claim_id in dropped:
            continue
        written = getattr(getattr(answer, "statements", None), claim_id, None)
        if written is not None and claim_id in misplaced:
            warnings.append(f"claims: kept the article's words for {candidate.content.text[:60]!r}: the model wrote "
                            f"{written[:60]!r}, which is about another claim")  # fmt: skip
            written = None
        if written is not None and reports_a_denial(written):
            warnings.append(f"claims: dropped {written[:60]!r}: it reports a denial (a denial, not a claim)")
            continue
        statement, via = code_statement(window, candidate) if written is None else _statement(window, written, candidate, warnings)
        by_candidate[claim_id] = f"c{len(claims) + 1}"
        claims.append(as_claim(window, candidate, by_candidate[claim_id], statement, via))
    return claims, by_candidate


def _statement(window: Window, written: str, candidate: Candidate, warnings: list[str]) -> tuple[str, list[str]]:
    """The model's statement without the words that attribute it to the candidate's own sources,
    or the candidate's own words when the model's are too short or name someone the article does not."""
    statement, chain = unattributed(" ".join(written.split()), [candidate.claimant, *candidate.via])
    statement = resolve_descriptions(statement, window.text)
    if len(statement.split()) < MIN_STATEMENT_WORDS or _names_no_one_here(statement, window.text):
        warnings.append(f"claims: kept the article's words for {candidate.content.text[:60]!r}: the model wrote {written[:60]!r}")
        return code_statement(window, candidate)
    return statement, chain[1:]


def _names_no_one_here(statement: str, text: str) -> bool:
    """A statement whose every capitalised name is missing from the article was not read from it."""
    names = names_in(statement)
    lowered = text.lower()
    return bool(names) and not any(re.search(rf"\b{re.escape(name.lower())}\b", lowered) for name in names)


def _denials(
    answer: WrittenClaims, by_rule: list[Denial], denial_ids: tuple[str, ...], claim_of: dict[str, str], claims: list[Claim]
) -> list[Denial]:
    """Each candidate denial linked to the claims the model says it disputes, never to its
    speaker's own (Musk's "I have spoken to Putin only once" disputes Bremmer, not Musk). Where code
    finds the claims it may dispute (they name whom it names, and are close in meaning), the
    model's links must be among them, or code's choice stands: the 1.5B linked Musk's denial to
    every claim it had just written. A denial that names no one else ("Lee denied that") has only
    the model's links."""
    claimants = {c.id: names_in(c.claimant) for c in claims}
    found: list[Denial] = []
    for denial_id, denial in zip(denial_ids, by_rule, strict=True):
        speaker = names_in(denial.speaker)
        linked = [claim_of[i] for i in getattr(getattr(answer, "disputes", None), denial_id, []) if i in claim_of]
        linked = [i for i in dict.fromkeys(linked) if not speaker & claimants[i]]
        agreed = [i for i in linked if i in denial.claim_ids]
        found.append(denial.model_copy(update={"claim_ids": agreed or denial.claim_ids or linked}))
    return found


def _embed(texts: Sequence[str]) -> np.ndarray:
    return shared_embedder().embed(texts)


async def _write(llm: LLM, analysis: Analysis) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    return await write_claims(llm, analysis.window, max_claims=analysis.options.max_claims)


STAGE = Stage("claims", response=written_claims_for, run=_write, reads=("window", "options"), writes=("claims", "denials"))
