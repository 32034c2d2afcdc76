"""The claims stage: one short call per context window, an optional improvement on code's claims.

The candidates stage has made every candidate worth checking a claim in code's standalone words
(``pipeline.stages.wording``) and found the denials by rule. The model sees the most check-worthy
of those candidates, numbered, never the whole article; it rewrites the statements code could not
state alone, drops what a desk would not check, and links each denial to the claims it disputes, by
id. Spans, claimants, cues and ``via`` chains stay code's; what the model writes passes the same
standalone checks as code's words, or code's words stand; a drop counts only where the
check-worthiness model is unsure too, and no claim beyond what the model was shown is touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.llm.errors import InvalidOutputError
from pipeline.stages._proposed import Candidate
from pipeline.stages._stage import Analysis, Stage, StageOutput, in_worker
from pipeline.stages.candidates import candidates_of, worth_checking
from pipeline.stages.propositions import Embed, linked_by_code, one_per_proposition
from pipeline.stages.wording import needs_writing, reports_a_denial, written_statement
from pipeline.stance import checkworthy
from pipeline.stance.embedder import shared_embedder
from pipeline.text import prompts
from pipeline.text.attributions import names_in
from pipeline.text.document import Window
from pipeline.text.lexicon import POINTS_BACK
from schemas import Claim, Denial, Usage
from schemas.claims import WrittenClaims, written_claims_for

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from openai.types.chat import ChatCompletionMessageParam

    from pipeline.llm.client import LLM

# The answer's cap: about 40 tokens a statement (25 words and its key), a few for each drop and
# link; a model that loops inside a statement is stopped by the schema's length limit first.
TOKENS_PER_CLAIM, TOKENS_PER_DENIAL, TOKENS_PER_ANSWER = 48, 16, 48
CONTEXT_WORDS = 45  # the end of the sentence shown before a candidate that needs it
MISPLACED_MARGIN = 0.15


@dataclass(frozen=True)
class _Shown:
    """One candidate as the prompt shows it."""

    id: str
    chain: str
    text: str
    before: str | None = None


def to_ask(window: Window, proposed: list[Candidate], max_claims: int) -> list[Candidate]:
    """The candidates the model is shown: the most check-worthy ``max_claims`` of those worth a desk's
    time (every one of which is a claim in code's words whatever the call does)."""
    return worth_checking(window, proposed)[:max_claims]


async def write_claims(
    llm: LLM, window: Window, *, max_claims: int = 10
) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    """One window as ``analyze`` runs it: code's candidates and words, the call, one claim per proposition."""
    worthy, claims, denials = await in_worker(candidates_of, window)
    improved = await improve(llm, window, worthy, claims, denials, max_claims=max_claims)
    merged, linked, warnings = await in_worker(one_per_proposition, *improved.value, _embed)
    return StageOutput((merged, linked), improved.usage, improved.warnings + warnings)


async def improve(
    llm: LLM,
    window: Window,
    worthy: list[Candidate],
    claims: list[Claim],
    denials: list[Denial],
    *,
    max_claims: int = 10,
) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    """The claims call on top of code's claims (``claims[i]`` is ``worthy[i]`` in code's words): the
    model is shown the ``max_claims`` most check-worthy candidates and the denials; it may reword
    those code could not state alone, drop one the check-worthiness model is unsure of too, and
    link each denial. Every other claim stays as code wrote it: the call never loses a claim."""
    asked = worthy[:max_claims]  # worth checking already, best first
    if not asked:
        return StageOutput((claims, denials), Usage(), [])
    claim_ids = tuple(c.id for c in claims[: len(asked)])
    denial_ids = tuple(d.id for d in denials)
    shown = [_shown(window, claim, candidate) for claim, candidate in zip(claims, asked, strict=False)]
    # The model writes only what code cannot: statements that, in code's words, still do not stand
    # alone or are long. Every token it writes costs about as much as 7 it reads, here.
    written_ids = tuple(c.id for c, k in zip(claims, asked, strict=False) if needs_writing(window, k, c.statement))
    task = prompts.render(
        STAGE.prompt,
        title=window.headline,
        claims=shown,
        written=written_ids,
        denials=[_Shown(d.id, d.speaker, " ".join(s.text for s in d.spans)) for d in denials],
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
        # documents): the claims are code's all the same.
        answer = written_claims_for(claim_ids, denial_ids, ()).model_validate(
            {"drop": [], "disputes": {i: [] for i in denial_ids}}
        )
        usage, warnings = (
            error.usage or Usage(),  # the answers were paid for, usable or not
            [
                f"claims: {error}; the candidates are kept in the article's words as code states them, "
                "denials linked by code"
            ],
        )
    misplaced = await asyncio.to_thread(_misplaced, answer, shown, _embed)
    kept = _claims(window, answer, asked, claims, warnings, misplaced)
    if len(claims) > len(asked):
        warnings.append(
            f"claims: {len(claims) - len(asked)} more candidate(s) beyond the {max_claims} the call writes, "
            "kept in code's words"
        )
    linked = await in_worker(_denials, answer, denials, kept, _embed)
    return StageOutput((kept, linked), usage, warnings)


def _messages(task: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": task}]


def _shown(window: Window, claim: Claim, candidate: Candidate) -> _Shown:
    """Code's statement, with the end of the sentence before it where it points back."""
    chain = " > ".join([candidate.claimant, *candidate.via])
    before = None
    first = min(candidate.sentences, default=None)
    if (
        first is not None
        and (POINTS_BACK.search(claim.statement) or not claim.standalone)
        and first - 1 in window.numbers
    ):
        words = window.sentence(first - 1).text.split()
        before = ("… " if len(words) > CONTEXT_WORDS else "") + " ".join(words[-CONTEXT_WORDS:])
    return _Shown(claim.id, chain, claim.statement, before)


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
    window: Window,
    answer: WrittenClaims,
    asked: list[Candidate],
    claims: list[Claim],
    warnings: list[str],
    misplaced: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Claim]:
    """Code's claims with the model's answer on top: its statements where usable (about that
    candidate, standalone), its drops where the check-worthiness model is unsure too."""
    # A candidate a denial disputes is check-worthy whatever the drop list says (the 1.5B dropped
    # the seed's Musk-Putin call while linking Musk's denial to it).
    disputes = getattr(answer, "disputes", None)
    disputed = {i for ids in (disputes.model_dump().values() if disputes is not None else []) for i in ids}
    # The model's drop removes only what the check-worthiness model is unsure of: the 1.5B dropped
    # every candidate of an article whose instructions to it were withheld.
    by_id = {c.id: k for c, k in zip(claims, asked, strict=False)}
    unsure = {i for i, k in by_id.items() if k.checkworthiness < checkworthy.THRESHOLD}
    dropped = set(getattr(answer, "drop", [])) & unsure - disputed
    kept: list[Claim] = []
    for claim in claims:
        candidate = by_id.get(claim.id)
        if claim.id in dropped:
            continue
        written = getattr(getattr(answer, "statements", None), claim.id, None) if candidate is not None else None
        if written is None or candidate is None:
            kept.append(claim)
            continue
        if claim.id in misplaced:
            warnings.append(
                f"claims: kept the article's words as code states them for {claim.statement[:60]!r}: "
                f"the model wrote {written[:60]!r}, which is about another claim"
            )
            kept.append(claim)
            continue
        if reports_a_denial(written):
            warnings.append(f"claims: dropped {written[:60]!r}: it reports a denial (a denial, not a claim)")
            continue
        statement = written_statement(window, written, candidate)
        if statement is None:
            warnings.append(
                f"claims: kept the article's words as code states them for {claim.statement[:60]!r}: "
                f"the model wrote {written[:60]!r}"
            )
            kept.append(claim)
            continue
        kept.append(
            claim.model_copy(update={"statement": statement.text, "via": list(statement.via), "standalone": True})
        )
    return kept


def _denials(answer: WrittenClaims, denials: list[Denial], claims: list[Claim], embed: Embed) -> list[Denial]:
    """Each denial linked to the claims the model says it disputes, never to its speaker's own
    (Musk's "I have spoken to Putin only once" disputes Bremmer, not Musk). Where code finds the
    claims it may dispute (they name whom it names, and are close in meaning), the model's links
    must be among them, or code's choice stands: the 1.5B linked Musk's denial to every claim it had
    just written. A denial that names no one else ("Lee denied that") has only the model's links."""
    by_rule = linked_by_code([d.model_copy(update={"claim_ids": []}) for d in denials], claims, embed)
    claimants = {c.id: names_in(c.claimant) for c in claims}
    found: list[Denial] = []
    for denial, ruled in zip(denials, by_rule, strict=True):
        speaker = names_in(denial.speaker)
        linked = [i for i in getattr(getattr(answer, "disputes", None), denial.id, []) if i in claimants]
        linked = [i for i in dict.fromkeys(linked) if not speaker & claimants[i]]
        agreed = [i for i in linked if i in ruled.claim_ids]
        found.append(denial.model_copy(update={"claim_ids": agreed or ruled.claim_ids or linked}))
    return found


def _embed(texts: Sequence[str]) -> np.ndarray:
    return shared_embedder().embed(texts)


async def _write(llm: LLM, analysis: Analysis) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    return await improve(
        llm,
        analysis.window,
        analysis.candidates,
        analysis.claims,
        analysis.denials,
        max_claims=analysis.options.max_claims,
    )


STAGE = Stage(
    "claims",
    response=written_claims_for,
    run=_write,
    reads=("window", "options", "candidates", "claims", "denials"),
    writes=("claims", "denials"),
    embedded=False,  # the 1.5B copied what it was asked to rewrite and chose no better than code
)
