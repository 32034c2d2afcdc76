"""The model a command opens: none started when no stage of the command asks it (the embedded model
is asked only what it answers better than code: docs/model-questions.md), only named in results."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.llm.client import LLM
    from pipeline.settings import Settings
    from pipeline.stages._stage import Stage


def open_model(settings: Settings, stages: Sequence[Stage]) -> AbstractContextManager[LLM]:
    from pipeline.llm.backends import chosen_backend
    from pipeline.stages.registry import asks_model

    backend = chosen_backend(settings).name
    if backend == "embedded" and not asks_model(settings.resolved_verifier(backend), backend, stages):
        from pipeline.llm.named import embedded_named

        return nullcontext(embedded_named(settings))  # type: ignore[return-value]
    from pipeline.llm.factory import open_llm

    return open_llm(settings)
