"""Keeping one process's articles in flight: the local engine's whole run, or one shard in a Ray
actor (run/ray_engine.py). At most ``in_progress(concurrency)`` articles at once, their calls
served in start order; each article's :class:`Outcome` goes to a sink (the driver's ledger, or
the shard's report to it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.llm.errors import EndpointError
from pipeline.llm.limiter import AdaptiveLimiter, request_priority
from pipeline.run.analysis import Outcome, analyse_article
from pipeline.settings import Settings
from pipeline.text.ingest import Article

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM


def in_progress(concurrency: int) -> int:
    """How many articles a run has in progress: 2 x concurrency - 1. While some articles' calls
    are at the server, the others are being read, post-processed or written, or wait with their
    next request built, so a slot that frees is taken at once instead of idling while one event
    loop works through a burst of answers (that idle time grows with the concurrency). At
    concurrency 1 it is one article at a time, as before: the gap is a few milliseconds against
    seconds of model time, and the events of a run stay in article order. Memory stays bounded
    by this number, not by the folder."""
    concurrency = max(1, concurrency)
    return 2 * concurrency - 1


class Sink(Protocol):
    async def record(self, outcome: Outcome) -> None: ...

    def unfinished(self, article_id: str, source: str) -> None: ...

    @property
    def stopping(self) -> bool: ...


async def _cancel_and_wait(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel the articles in progress and wait for each to end: Ctrl-C or SIGTERM may stop the run in
    its own task, and each article must name itself unfinished before run.json is written."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


class Scheduler:
    def __init__(
        self, llm: LLM | None, settings: Settings, out_dir: Path, limiter: AdaptiveLimiter, sink: Sink,
    ):
        self.llm = llm
        self.settings = settings
        self.out_dir = out_dir
        self.limiter = limiter
        self.sink = sink
        self.fatal: EndpointError | None = None  # set when the endpoint can serve no call: nothing more starts
        self.disk_fault: OSError | None = None  # set when OUT's disk is full: nothing more starts
        self._running: set[asyncio.Task[None]] = set()

    @property
    def stopping(self) -> bool:
        return self.fatal is not None or self.disk_fault is not None or self.sink.stopping

    async def go(self, startable: Iterator[tuple[Article, int]]) -> None:
        """Start articles as long as fewer than ``in_progress`` are: the limiter caps the LLM calls
        in flight at the concurrency, and the extra articles keep a built request waiting for
        every slot that frees. Each article's calls have its start number as priority, so the
        articles already started are finished first and the tail stays short. ``startable`` is
        drawn from only when a slot is free: reading keeps pace with the run."""
        slots = asyncio.Semaphore(in_progress(self.settings.concurrency))
        running = self._running
        try:
            while not self.stopping:
                await slots.acquire()  # before the next article is read
                item = next(startable, None) if not self.stopping else None
                if item is None:
                    slots.release()
                    break
                task = asyncio.create_task(self._work(*item, slots))
                running.add(task)
                task.add_done_callback(running.discard)
            while running:  # tasks cancelled by a fatal error end with CancelledError: gathered, not raised
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            await _cancel_and_wait(running)

    def stop(self, error: EndpointError) -> None:
        """No call can succeed: start nothing more and cancel the articles in flight (their
        finished calls are in the response cache; a later run resumes them)."""
        if self.fatal is None:
            self.fatal = error
            current = asyncio.current_task()
            for task in self._running:
                if task is not current:
                    task.cancel()

    def disk_full(self, error: OSError) -> None:
        """OUT cannot take a result: start no article (none could be written; each would be paid
        for nothing) and no new call. The calls already at the server are not cancelled: each is
        paid for once answered, so it runs to its answer, which the response cache keeps for the
        next run (cancelled mid-call, it was asked and paid again on resume)."""
        if self.disk_fault is None:
            self.disk_fault = error
            self.limiter.close()  # the articles in progress end at their next call (or their write)

    async def _work(self, article: Article, number: int, slots: asyncio.Semaphore) -> None:
        priority = request_priority.set(number)  # this task's calls: the earlier started, the sooner served
        try:
            outcome = await analyse_article(self.llm, article, self.settings, self.out_dir)
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):  # a full disk, Ctrl-C, SIGTERM, a stop
            self.sink.unfinished(article.meta.id, article.meta.source)
            raise
        finally:
            request_priority.reset(priority)
            slots.release()
        if outcome.kind == "fatal":
            assert isinstance(outcome.error, EndpointError)
            self.stop(outcome.error)
        elif outcome.kind == "disk_full":
            assert isinstance(outcome.error, OSError)
            self.disk_full(outcome.error)
        await self.sink.record(outcome)
