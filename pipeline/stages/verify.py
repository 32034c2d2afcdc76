"""Stage 3: a verdict per claim, with the claim's linked denials put before the model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.llm.errors import InvalidOutputError
from pipeline.llm._label_probability import label_probabilities
from pipeline.stages._stage import Analysis, Stage, StageOutput, messages
from pipeline.text import prompts
from pipeline.text.document import Window
from schemas import Claim, Denial, Span, Usage, Verdict
from schemas.verdicts import RATIONALE_CHARS, WHEN_DENIED, WHEN_UNDENIED, ConfidenceBasis, verdicts_response_for

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from pipeline.llm.client import LLM

@dataclass(frozen=True)
class _DenialView:
    speaker: str
    kind: str
    quote: str
    sentences: list[int]


@dataclass(frozen=True)
class _Item:
    claim: Claim
    sentences: list[int]
    denials: list[_DenialView]


async def verify_claims(
    llm: LLM, window: Window, claims: list[Claim], denials: list[Denial]
) -> StageOutput[list[Verdict]]:
    if not claims:
        return StageOutput([], Usage(), [])  # nothing to verify: no call
    items = [
        _Item(
            claim, _numbers(window, claim.spans),
            [_view(window, d) for d in denials if claim.id in d.claim_ids and d.is_denial],
        )
        for claim in claims
    ]
    task = prompts.render(STAGE.prompt, items=items)
    claim_ids = tuple(c.id for c in claims)
    denied = frozenset(i.claim.id for i in items if i.denials)
    context = window.context()
    response_model = verdicts_response_for(claim_ids, denied)
    # Under the grammar on every backend: labels keyed by the claims' own ids. On llama.cpp's server the
    # grammar is response_format's JSON schema: asked for a tool call, the 1.5B answered in text (3 of 8
    # PolNeAR articles failed verify in bench_slots.py); hosted backends keep the tool call.
    reply = await llm.ask(STAGE.name, messages(window, task), response_model, context, logprobs=True, grammar="schema")
    drafts = reply.value.drafts()
    allowed = [[label.value for label in (WHEN_DENIED if i in denied else WHEN_UNDENIED)] for i in claim_ids]
    probabilities = label_probabilities(reply.logprobs, [drafts[i].verdict for i in claim_ids], allowed)
    verdicts = [
        Verdict(
            claim_id=claim.id,
            verdict=drafts[claim.id].verdict,
            confidence=round(probability, 3) if probability is not None else drafts[claim.id].confidence,
            confidence_basis=ConfidenceBasis.stated if probability is None else ConfidenceBasis.label_probability,
            stated_confidence=drafts[claim.id].confidence,
            rationale=_finished(drafts[claim.id].rationale),
            # Evidence is what the model was shown: the claim where the article states it,
            # and the linked denials' words.
            supporting=list(claim.spans),
            contradicting=[span for d in denials if claim.id in d.claim_ids and d.is_denial for span in d.spans],
        )
        for claim, probability in zip(claims, probabilities, strict=True)
    ]
    return StageOutput(verdicts, reply.usage, list(reply.warnings))


def _finished(rationale: str) -> str:
    """A rationale the length cap cut off mid-sentence ends at its last whole sentence, or word,
    with an ellipsis: a desk should see that it was cut, not read "... Elon Musk denied" as complete."""
    rationale = rationale.strip()
    if len(rationale) < RATIONALE_CHARS - 1 or rationale.endswith((".", "!", "?", "…")):
        return rationale
    sentence_end = max(rationale.rfind(". "), rationale.rfind("! "), rationale.rfind("? "))
    if sentence_end >= RATIONALE_CHARS // 2:
        return rationale[: sentence_end + 1]
    return rationale.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _numbers(window: Window, spans: list[Span]) -> list[int]:
    return [s.number for s in window.sentences if any(s.start < sp.end and sp.start < s.end for sp in spans)]


def _view(window: Window, denial: Denial) -> _DenialView:
    return _DenialView(
        denial.speaker, denial.kind.value, " ".join(s.text for s in denial.spans), _numbers(window, denial.spans)
    )


async def _verify(llm: LLM, analysis: Analysis) -> StageOutput[list[Verdict]]:
    """An answer nothing usable survives of (cut at max_tokens on an article of many claims) leaves
    the window's claims without the model's verdicts: ``analyze`` has the stance model judge them."""
    try:
        return await verify_claims(llm, analysis.window, analysis.claims, analysis.denials)
    except InvalidOutputError as error:
        return StageOutput([], error.usage or Usage(), [f"verify: {error}; the stance model judges these claims"])


STAGE = Stage(
    "verify", response=verdicts_response_for, run=_verify, reads=("window", "claims", "denials"), writes=("verdicts",)
)
