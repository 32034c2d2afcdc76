"""The stages, in the order an article meets them, and the two ways through them as data:
``analyze`` runs ``ANALYZE`` per context window, ``check`` runs ``CHECK`` on a given claim. A
stage of code (no prompt, no call) sits beside the LLM stages, so ``--no-llm`` is the same stages
with the LLM's left out (``without_llm``). What else knows the stages (the budget's calls per
article, the meter's and the Batch API's stage by tool, the fake server's answers, the README's
stage table) is derived from here."""

from collections.abc import Sequence

from pipeline.stages import candidates, claims, denials, propositions, verify
from pipeline.stages._stage import Stage, check_order
from pipeline.stages.options import Verifier

CANDIDATES, CLAIMS, PROPOSITIONS = candidates.STAGE, claims.STAGE, propositions.STAGE
DENIALS, DENIALS_BY_RULE, VERIFY = denials.STAGE, candidates.DENIALS_BY_RULE, verify.STAGE
# Every stage, in the order an article meets them.
STAGES: tuple[Stage, ...] = (CANDIDATES, CLAIMS, PROPOSITIONS, DENIALS_BY_RULE, DENIALS, VERIFY)
# Per context window: code's candidates in code's words, the call's improvement, one claim per
# proposition with its denials linked, then judged.
ANALYZE: tuple[Stage, ...] = (CANDIDATES, CLAIMS, PROPOSITIONS, VERIFY)
# A given claim: who disputes it (rule, then model), judged.
CHECK: tuple[Stage, ...] = (DENIALS_BY_RULE, DENIALS, VERIFY)
LLM_STAGES: tuple[Stage, ...] = tuple(s for s in STAGES if not s.is_code)
# Which stage a request is, by its tool (the meter bills by stage; the Batch API plans by it).
STAGE_BY_TOOL = {stage.tool: stage.name for stage in LLM_STAGES}

check_order(ANALYZE)
check_order(CHECK, given=("window", "options", "claims"))


def for_verifier(stages: Sequence[Stage], verifier: Verifier) -> tuple[Stage, ...]:
    """The trained stance model gives the verdicts after the windows are merged: the stages that
    write verdicts are left out for it."""
    return tuple(stages) if verifier == "llm" else tuple(s for s in stages if "verdicts" not in s.writes)


def for_backend(stages: Sequence[Stage], backend: str | None) -> tuple[Stage, ...]:
    """The stages asked of ``backend``: on the embedded model, not those it answers no better than code
    (``Stage.embedded``); ``None``: no model (the LLM's are left out by ``without_llm``)."""
    return tuple(s for s in stages if s.is_code or s.embedded or backend != "embedded")


def without_llm(stages: Sequence[Stage]) -> tuple[Stage, ...]:
    """``--no-llm``: the same stages, the LLM's left out."""
    return tuple(s for s in stages if s.is_code)


def calls_per_window(verifier: Verifier, stages: Sequence[Stage] = ANALYZE, backend: str | None = None) -> int:
    """LLM calls an article makes per context window: 1 claims call (none on the embedded model),
    +1 verify call with ``--verifier llm``."""
    return sum(stage.calls_per_window for stage in for_backend(for_verifier(stages, verifier), backend))


def asks_model(verifier: Verifier, backend: str, stages: Sequence[Stage] = ANALYZE) -> bool:
    """Whether analysing an article makes any LLM call on ``backend``: if not, no model is started."""
    return calls_per_window(verifier, stages, backend) > 0


def table() -> str:
    """The README's table of the stages, between its ``stages`` markers (a test compares them)."""
    rows = [
        f"| {s.name} | {'code' if s.is_code else f'`prompts/{s.prompt}.j2`'} | {f'`{s.tool}`' if s.tool else '—'} | "
        f"{s.calls_per_window} per window | {'—' if s.is_code else 'yes' if s.embedded else 'no'} | "
        f"{', '.join(s.reads)} | {', '.join(s.writes) or 'nothing'} | `{s.run.__module__}` |"
        for s in STAGES
    ]
    header = (
        "| stage | prompt | tool | calls | asked of the embedded model | reads | writes | module |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    return "\n".join([header, *rows])


if __name__ == "__main__":
    print(table())
