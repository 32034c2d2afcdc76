"""The local engine (``run --engine local``, the default): this process reads the articles one at a
time as slots free and analyses them on its event loop (run/scheduler.py), the driver's ledger
deciding which start."""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.llm.named import NamedModel
from pipeline.llm.cache import ResponseCache
from pipeline.llm.factory import use_transport_stack
from pipeline.llm.limiter import AdaptiveLimiter
from pipeline.llm.prices import ModelPrice
from pipeline.run.analysis import arrival
from pipeline.run.inputs import iter_articles
from pipeline.run.ledger import Ledger
from pipeline.run.scheduler import Scheduler
from pipeline.settings import Settings
from pipeline.stages.registry import STAGE_BY_TOOL
from pipeline.text.ingest import Article

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM


class LocalEngine:
    name = "local"

    def __init__(self, llm: LLM | None, settings: Settings, out_dir: Path, price: ModelPrice | None):
        self.llm = llm
        self.settings = settings
        self.out_dir = out_dir
        self.limiter = AdaptiveLimiter(settings.concurrency)
        self.cache = ResponseCache(settings.cache_dir / "responses") if settings.cache else None
        if llm is not None and not isinstance(llm, NamedModel):  # a model not started takes no call
            use_transport_stack(llm, limiter=self.limiter, price=price, cache=self.cache, stage_by_tool=STAGE_BY_TOOL)

    async def go(self, ledger: Ledger, files: Iterable[Path]) -> None:
        """Every article of ``files``, as the ledger admits them; an EndpointError stops the run (raised)."""
        scheduler = Scheduler(self.llm, self.settings, self.out_dir, self.limiter, ledger)
        ledger.on_disk_full.append(scheduler.disk_full)
        if self.cache is not None and _same_disk(self.cache.directory, self.out_dir):
            self.cache.on_full = _on_cache_full(ledger, asyncio.get_running_loop(), self.cache.directory)
        await scheduler.go(self._startable(ledger, files))
        if scheduler.fatal is not None:
            raise scheduler.fatal

    def _startable(self, ledger: Ledger, files: Iterable[Path]) -> Iterator[tuple[Article, int]]:
        """The articles to analyse, one at a time, each with its start number."""
        backend = self.llm.backend if self.llm is not None else None
        for article in iter_articles(ledger.files(files), ledger.unreadable, ledger.bad_line, self.settings.max_chars):
            if ledger.admit(arrival(article, self.out_dir, backend, ledger.resume)):
                yield article, ledger.started
        ledger.counted()

    def close(self) -> str | None:
        """The response cache closed; what stopped it taking answers, if anything (a full disk)."""
        if self.cache is None:
            return None
        self.cache.close()
        return self.cache.write_error


def _same_disk(one: Path, other: Path) -> bool:
    return os.stat(one).st_dev == os.stat(other).st_dev


def _on_cache_full(ledger: Ledger, loop: asyncio.AbstractEventLoop, directory: Path) -> Callable[[BaseException], bool]:
    """For a response cache on OUT's disk: a store that finds the disk full means no result can
    be written either, so the run stops as when a result's write fails. Called in the cache's
    writer thread; the reserve is given back first, so that answer is stored after all."""

    def full(error: BaseException) -> bool:
        made_room = ledger.reserve.release()
        fault = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory))
        loop.call_soon_threadsafe(ledger.disk_full, fault, None)
        return made_room

    return full
