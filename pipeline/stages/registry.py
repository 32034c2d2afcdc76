"""The stages, in the order an article meets them, and the two ways through them as data:
``analyze`` runs ``ANALYZE`` per context window, ``check`` runs ``CHECK`` on a given claim. What
else knows the stages (the budget's calls per article, the meter's and the Batch API's stage by
tool, the fake server's answers, the README's stage table) is derived from here."""

from collections.abc import Sequence

from pipeline.stages import claims, denials, verify
from pipeline.stages._stage import Stage, check_order
from pipeline.stages.options import Verifier

CLAIMS, DENIALS, VERIFY = claims.STAGE, denials.STAGE, verify.STAGE
STAGES: tuple[Stage, ...] = (CLAIMS, DENIALS, VERIFY)  # every stage, in the order an article meets them
ANALYZE: tuple[Stage, ...] = (CLAIMS, VERIFY)  # per context window: code's candidates written, then judged
CHECK: tuple[Stage, ...] = (DENIALS, VERIFY)  # a given claim: who disputes it, then judged
# Which stage a request is, by its tool (the meter bills by stage; the Batch API plans by it).
STAGE_BY_TOOL = {stage.tool: stage.name for stage in STAGES}

check_order(ANALYZE)
check_order(CHECK, given=("window", "options", "claims"))


def for_verifier(stages: Sequence[Stage], verifier: Verifier) -> tuple[Stage, ...]:
    """The trained stance model gives the verdicts after the windows are merged: the stages that
    write verdicts are left out for it."""
    return tuple(stages) if verifier == "llm" else tuple(s for s in stages if "verdicts" not in s.writes)


def calls_per_window(verifier: Verifier, stages: Sequence[Stage] = ANALYZE) -> int:
    """LLM calls an article makes per context window: 1 claims call, +1 verify call with ``--verifier llm``."""
    return sum(stage.calls_per_window for stage in for_verifier(stages, verifier))


def table() -> str:
    """The README's table of the LLM stages, between its ``stages`` markers (a test compares them)."""
    rows = [
        f"| {s.name} | `prompts/{s.prompt}.j2` | `{s.tool}` | {s.calls_per_window} per window | "
        f"{', '.join(s.reads)} | {', '.join(s.writes) or 'nothing'} | `{s.run.__module__}` |"
        for s in STAGES
    ]
    header = "| stage | prompt | tool | calls | reads | writes | module |\n| --- | --- | --- | --- | --- | --- | --- |"
    return "\n".join([header, *rows])


if __name__ == "__main__":
    print(table())
