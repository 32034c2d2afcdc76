"""What every stage shares: the message layout and its result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from pipeline.text.document import Window
from pipeline.llm.usage import Usage

if TYPE_CHECKING:  # types only: the openai SDK loads for code that calls a model
    from openai.types.chat import ChatCompletionMessageParam

T = TypeVar("T")


@dataclass
class StageOutput(Generic[T]):
    value: T
    usage: Usage
    warnings: list[str] = field(default_factory=list)


def messages(window: Window, task: str) -> list[ChatCompletionMessageParam]:
    # System message first and identical across stages: the shared, cacheable prefix.
    return [{"role": "system", "content": window.system_message}, {"role": "user", "content": task}]
