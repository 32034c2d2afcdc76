"""The one place a stage is declared, and what every stage shares: the message layout and its
result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from pipeline.llm.usage import Usage
from pipeline.text.document import Window

if TYPE_CHECKING:  # types only: the openai SDK loads for code that calls a model
    from openai.types.chat import ChatCompletionMessageParam

T = TypeVar("T")


@dataclass(frozen=True)
class Stage:
    name: str  # in results' usage, run.json's by_stage, errors.jsonl; its prompt is prompts/<name>.j2
    tool: str  # its response model's class name: instructor's TOOLS mode names the tool after it


CLAIMS = Stage("claims", tool="WrittenClaims")
DENIALS = Stage("denials", tool="DenialsResponse")
VERIFY = Stage("verify", tool="VerdictsResponse")
STAGES = tuple(stage.name for stage in (CLAIMS, DENIALS, VERIFY))  # in the order an article goes through them
# Which stage a request is, by its tool (the meter bills by stage; the Batch API plans by it).
STAGE_BY_TOOL = {stage.tool: stage.name for stage in (CLAIMS, DENIALS, VERIFY)}


@dataclass
class StageOutput(Generic[T]):
    value: T
    usage: Usage
    warnings: list[str] = field(default_factory=list)


def messages(window: Window, task: str) -> list[ChatCompletionMessageParam]:
    # System message first and identical across stages: the shared, cacheable prefix.
    return [{"role": "system", "content": window.system_message}, {"role": "user", "content": task}]
