"""Stage 2: statements disputing the claims, with non-denials kept apart."""

import re

from pipeline import prompts
from pipeline._stage import StageOutput, messages
from pipeline._sentences import Sentence
from pipeline.document import Window
from pipeline.llm import LLM
from schemas import Claim, Denial, DenialKind
from schemas.denials import denials_response_for

STAGE = "denials"

# "Did not respond" is a non-denial whatever the model says: a fixed newsroom formula.
_NON_RESPONSE = re.compile(
    r"\b(did not|didn't|could not|couldn't|has not|hasn't|have not|haven't)\s+(immediately\s+)?"
    r"(respond|reply|return|be reached|comment)|\bdeclined to comment\b|\bno comment\b",
    re.IGNORECASE,
)


# Words that often carry a denial or a non-response; sentences holding them are pointed
# out to the model as places to look (it still decides, and may cite others).
_CUES = re.compile(
    r"\b(den(y|ied|ies|ial)|refut\w*|reject\w*|disput\w*|contradict\w*|false|untrue|not true|never|"
    r"only once|respond\w*|repl(y|ied)|declined|no comment|wrong|misleading|fabricat\w*|rebut\w*)\b",
    re.IGNORECASE,
)


def candidate_sentences(window: Window) -> list[Sentence]:
    return [s for s in window.sentences if _CUES.search(s.text)]


async def find_denials(llm: LLM, window: Window, claims: list[Claim]) -> StageOutput[list[Denial]]:
    claim_ids = {c.id for c in claims}
    task = prompts.render(STAGE, claims=claims, candidates=candidate_sentences(window))

    def quotes_claim(quote: str, ids: list[str]) -> bool:
        span = window.align(quote)
        return span is not None and any(
            span.start < s.end and s.start < span.end for c in claims if c.id in ids for s in c.spans
        )

    context = window.context(claim_ids=claim_ids, quotes_claim=quotes_claim)
    reply = await llm.ask(STAGE, messages(window, task), denials_response_for(sorted(claim_ids)), context)
    warnings = list(reply.warnings)
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
        kind = draft.kind
        evidence = " ".join(s.text for s in spans)
        if kind is not DenialKind.non_denial and _NON_RESPONSE.search(evidence) and not _disputes_words(evidence):
            warnings.append(f"denials: {draft.speaker!r} only did not respond; recorded as non_denial, not {kind}")
            kind = DenialKind.non_denial
        targets = [] if kind is DenialKind.non_denial else [i for i in draft.claim_ids if i in claim_ids]
        denials.append(
            Denial(
                id=f"d{len(denials) + 1}",
                speaker=draft.speaker,
                disputes=draft.disputes,
                kind=kind,
                claim_ids=targets,
                spans=spans,
            )
        )
    return StageOutput(denials, reply.usage, warnings)


def _disputes_words(text: str) -> bool:
    return bool(re.search(r"\b(deni\w*|deny|false|untrue|not true|never)\b", text, re.IGNORECASE))
