"""Token and cost accounting per article, stage and run: a metering transport layer.

The meter sits outermost in the transport stack, so it sees every request: each 200 answer
(instructor's re-asks included) and those served from the response cache (which cost nothing),
each failed attempt, and the seconds each took. It writes them into ``schemas.Usage``, the type
the stages and result files use. Each article runs with its own :class:`Tally` in a context
variable; requests made outside an article are not billed.
"""

import json
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx2

from pipeline.llm.cache import CACHE_HEADER, is_chat_completion
from pipeline.settings import ModelPrice
from schemas import Usage


@dataclass
class Tally:
    """What one article (or one run) asked for and what it cost: its usage by stage."""

    stages: dict[str, Usage] = field(default_factory=dict)
    last_stage: str | None = None  # the stage of the latest request: names the stage of a failure

    def stage(self, name: str) -> Usage:
        return self.stages.setdefault(name, Usage())

    def add(self, other: "Tally") -> None:
        for name, used in other.stages.items():
            self.stages[name] = self.stage(name) + used

    def total(self) -> Usage:
        return Usage.total(self.stages.values())

    def as_json(self) -> dict[str, object]:
        """Stage name -> its usage, dumped as a result file's ``run.usage`` is (run.json, usage.jsonl)."""
        return {name: used.model_dump(mode="json") for name, used in self.stages.items()}


current_tally: ContextVar[Tally | None] = ContextVar("current_tally", default=None)
# The stage asking (set by ``LLM.ask``): a request written as free JSON names no tool to bill it by.
current_stage: ContextVar[str | None] = ContextVar("current_stage", default=None)


def _stage_of(body: bytes, stage_by_tool: Mapping[str, str]) -> str:
    if (stage := current_stage.get()) is not None:
        return stage
    try:
        tool = json.loads(body)["tools"][0]["function"]["name"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "other"
    return stage_by_tool.get(tool, tool)


def record(tally: Tally, stage: str, usage: dict[str, object] | None, price: ModelPrice | None, *, hit: bool) -> None:
    bill = tally.stage(stage)
    if hit:
        bill.cache_hits += 1
        return
    usage = usage or {}
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    details = usage.get("prompt_tokens_details")
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    bill.calls += 1
    bill.prompt_tokens += prompt
    bill.completion_tokens += completion
    bill.cached_tokens += cached
    bill.cost_usd += price.cost(prompt, cached, completion) if price else 0.0


class MeteringTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport, price: ModelPrice | None, stage_by_tool: Mapping[str, str]):
        self.inner = inner
        self.price = price
        self.stage_by_tool = stage_by_tool  # instructor's TOOLS mode names the tool after the response model

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        tally = current_tally.get()
        if tally is None or not is_chat_completion(request):
            return await self.inner.handle_async_request(request)
        stage = _stage_of(request.content, self.stage_by_tool)
        tally.last_stage = stage
        started = time.perf_counter()
        try:
            return await self._metered(request, tally, stage)
        finally:  # every request's time, failed or answered, from the cache too
            tally.stage(stage).seconds += time.perf_counter() - started

    async def _metered(self, request: httpx2.Request, tally: Tally, stage: str) -> httpx2.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except httpx2.TransportError:  # a timeout or a dropped connection: retried, not billed
            tally.stage(stage).failed_attempts += 1
            raise
        if response.status_code != 200:
            tally.stage(stage).failed_attempts += 1
            return response
        body = await response.aread()
        try:
            usage = json.loads(body).get("usage")
        except (ValueError, AttributeError):
            usage = None  # an invalid body: the client will fail it; nothing to bill
        record(
            tally, stage, usage if isinstance(usage, dict) else None, self.price,
            hit=response.headers.get(CACHE_HEADER) == "hit",
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
