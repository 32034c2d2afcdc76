"""Stage 3: a verdict per claim, with the claim's linked denials put before the model."""

from dataclasses import dataclass

from pipeline import prompts
from pipeline._stage import StageOutput, messages
from pipeline.document import Window
from pipeline.llm import LLM
from schemas import Claim, Denial, Span, StageUsage, Verdict
from schemas.verdicts import verdicts_response_for

STAGE = "verify"


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


async def verify_claims(llm: LLM, window: Window, claims: list[Claim], denials: list[Denial]) -> StageOutput[list[Verdict]]:
    if not claims:
        return StageOutput([], _no_call(), [])
    items = [
        _Item(claim, _numbers(window, claim.spans), [_view(window, d) for d in denials if claim.id in d.claim_ids and d.is_denial])
        for claim in claims
    ]
    task = prompts.render(STAGE, items=items)
    claim_ids = [c.id for c in claims]
    denied_by = {i.claim.id: ", ".join(d.speaker for d in i.denials) for i in items if i.denials}
    context = window.context(claim_ids=claim_ids, denied_by=denied_by)
    reply = await llm.ask(STAGE, messages(window, task), verdicts_response_for(claim_ids), context)
    warnings = list(reply.warnings)
    verdicts: dict[str, Verdict] = {}
    for draft in reply.value.verdicts:
        if draft.claim_id not in claim_ids or draft.claim_id in verdicts:
            warnings.append(f"verify: ignored extra verdict for {draft.claim_id!r}")
            continue
        claim = next(c for c in claims if c.id == draft.claim_id)
        verdicts[draft.claim_id] = Verdict(
            claim_id=draft.claim_id,
            verdict=draft.verdict,
            confidence=draft.confidence,
            rationale=draft.rationale,
            # Evidence is what the model was shown: the claim where the article states it,
            # and the linked denials' words.
            supporting=list(claim.spans),
            contradicting=[span for d in denials if claim.id in d.claim_ids and d.is_denial for span in d.spans],
        )
    warnings += [f"verify: no verdict for {i}" for i in claim_ids if i not in verdicts]
    return StageOutput([verdicts[i] for i in claim_ids if i in verdicts], reply.usage, warnings)


def _numbers(window: Window, spans: list[Span]) -> list[int]:
    return [s.number for s in window.sentences if any(s.start < sp.end and sp.start < s.end for sp in spans)]


def _view(window: Window, denial: Denial) -> _DenialView:
    return _DenialView(denial.speaker, denial.kind.value, " ".join(s.text for s in denial.spans), _numbers(window, denial.spans))


def _no_call() -> StageUsage:
    return StageUsage(stage=STAGE)
