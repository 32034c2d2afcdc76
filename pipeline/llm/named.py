"""A model a run names but does not start: the embedded model when no stage of the run asks it
(``registry.asks_model``), or, under ``--engine ray``, on the driver while each machine serves its own.
Results and run.json name it; no call reaches it."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.settings import Settings


@dataclass(frozen=True)
class NamedModel:
    backend: str
    model: str
    endpoint: str

    def use_http_client(self, http_client: object) -> None:
        """Nothing is sent to a model that is not started."""


def embedded_named(settings: Settings, endpoint: str = "embedded (not started: no stage asks it)") -> NamedModel:
    from pipeline.llm.embedded import WEIGHTS

    weights = WEIGHTS.get(settings.embedded_model)
    return NamedModel("embedded", weights.name if weights else settings.embedded_model, endpoint)
