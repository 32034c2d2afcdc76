"""What LLM calls used: one type for one call, a stage, an article and a whole run (as
pydantic-ai's ``usage.py``), added with ``+``.

The stages count calls (re-asks included), tokens and seconds; the metering transport counts
server answers, cache hits, failed attempts and cost. A result file records a stage's usage as
``schemas.StageUsage`` (:meth:`Usage.as_stage`), run.json and usage.jsonl a bill (:meth:`Usage.bill`).
"""

from dataclasses import asdict, dataclass, fields

from schemas import StageUsage


@dataclass
class Usage:
    calls: int = 0  # answers from the server (billed); a stage's calls include instructor's re-asks
    cache_hits: int = 0  # answers from the response cache (free)
    failed_attempts: int = 0  # 429, 5xx, timeouts, dropped connections: retried by the client, not billed
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the server reports as served from its cache
    cost_usd: float = 0.0
    seconds: float = 0.0  # a stage's wall time, to the millisecond

    def __add__(self, other: "Usage") -> "Usage":
        total = Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})
        total.seconds = round(total.seconds, 3)
        return total

    def as_stage(self, stage: str) -> StageUsage:
        """The stage's record in a result file."""
        return StageUsage(
            stage=stage, calls=self.calls, prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
            cached_tokens=self.cached_tokens, seconds=self.seconds,
        )

    def bill(self) -> dict[str, object]:
        """Counts and cost (to 6 places), as run.json and usage.jsonl write them."""
        counted = asdict(self)
        del counted["seconds"]
        return {**counted, "cost_usd": round(self.cost_usd, 6)}
