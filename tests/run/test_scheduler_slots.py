"""Scheduling of a run: --concurrency caps the LLM calls in flight, more articles than that are in
progress so a freed slot never waits for the next article's request to be built, and waiting
requests are served earliest-started article first. Asserts on behaviour (counts, order), not time."""

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from pipeline.llm.client import LLM
from pipeline.llm.limiter import AdaptiveLimiter
from pipeline.run import analysis as runner
from pipeline.run import local
from pipeline.run.inputs import discover
from pipeline.run.manifest import RunSummary
from pipeline.run.driver import run
from pipeline.run.scheduler import in_progress
from pipeline.settings import Settings
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.ingest import Article
from schemas import ArticleResult

MODEL = "gpt-4o-mini"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.05) as server:  # long next to the client's few ms per call
        yield server


def analyse(fake: FakeOpenAI, inputs: Path, out: Path, tmp_path: Path, concurrency: int) -> RunSummary:
    settings = Settings(  # type: ignore[call-arg]
        cache_dir=tmp_path / "cache", concurrency=concurrency, timeout=10.0, verifier="llm"  # two calls an article
    )
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, timeout=10.0, max_attempts=2)
    files, skipped = discover([inputs], exclude=out)

    async def go() -> RunSummary:
        try:
            return await run(llm, files, skipped, out, settings)
        finally:
            await llm.close()

    return asyncio.run(go())


class WatchedLimiter(AdaptiveLimiter):
    """Checks after every grant and release that no slot is free while a request waits."""

    instances: ClassVar[list["WatchedLimiter"]] = []

    def __init__(self, limit: int, **kwargs: int):
        super().__init__(limit, **kwargs)
        self.releases = 0
        self.releases_with_a_request_waiting = 0
        self.idle_while_waiting = 0
        WatchedLimiter.instances.append(self)

    async def release(self, generation: int, status: int | None) -> None:
        self.releases += 1
        self.releases_with_a_request_waiting += self.waiting > 0
        await super().release(generation, status)
        self.idle_while_waiting += self.waiting > 0 and self.in_flight < self.limit


def test_calls_in_flight_stay_within_the_concurrency_while_more_articles_keep_the_slots_busy(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count, concurrency = 24, 3
    # A server that takes its time, as a model does: calls, not the text work between an
    # article's two calls, are what slots wait for (with instant answers they wait on the CPU).
    fake.latency = 0.8  # a server slower than the text work between an article's calls, even on a loaded machine
    write_articles(tmp_path / "in", count)
    WatchedLimiter.instances.clear()
    monkeypatch.setattr(local, "AdaptiveLimiter", WatchedLimiter)
    open_now = most_open = 0
    started: list[str] = []
    finished: list[str] = []
    real_analyze = runner.analyze

    async def watched(llm: LLM, article: Article, **kwargs: int) -> ArticleResult:
        nonlocal open_now, most_open
        open_now += 1
        most_open = max(most_open, open_now)
        started.append(article.meta.id)
        try:
            return await real_analyze(llm, article, **kwargs)
        finally:
            open_now -= 1
            finished.append(article.meta.id)

    monkeypatch.setattr(runner, "analyze", watched)
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", tmp_path, concurrency)

    # Every article once: two calls each (claims, verify), each answered once, one result each.
    assert (summary.done, summary.failed, summary.total.calls) == (count, 0, 2 * count)
    assert sorted(Counter(started).values()) == [1] * count and sorted(finished) == sorted(started)
    assert fake.stats.requests == fake.stats.served == 2 * count
    assert set(fake.stats.by_marker) == {marker(i) for i in range(count)}
    assert set(fake.stats.by_marker.values()) == {2}
    assert len(list((tmp_path / "out" / "articles").glob("*.json"))) == count
    # The cap: never more calls in flight than --concurrency, at the client or at the server.
    [limiter] = WatchedLimiter.instances
    assert limiter.most_in_flight == concurrency
    assert fake.stats.most_in_flight <= concurrency and fake.stats.in_flight == 0
    # More articles in progress than calls in flight (bounded: memory stays flat) ...
    assert concurrency < most_open <= in_progress(concurrency)
    # ... so a request is already waiting when most slots free (never, when each article had a
    # slot of its own), and a free slot never idles while a request waits.
    assert limiter.releases == 2 * count
    assert limiter.releases_with_a_request_waiting >= limiter.releases // 2, (
        f"a request was waiting at only {limiter.releases_with_a_request_waiting} of {limiter.releases} releases"
    )
    assert limiter.idle_while_waiting == 0
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["counts"]["done"] == count


def test_concurrency_one_analyses_one_article_at_a_time(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_articles(tmp_path / "in", 4)
    events: list[tuple[str, str]] = []
    real_analyze = runner.analyze

    async def watched(llm: LLM, article: Article, **kwargs: int) -> ArticleResult:
        events.append(("start", article.meta.id))
        try:
            return await real_analyze(llm, article, **kwargs)
        finally:
            events.append(("end", article.meta.id))

    monkeypatch.setattr(runner, "analyze", watched)
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", tmp_path, 1)
    assert summary.done == 4 and fake.stats.most_in_flight == 1
    assert [kind for kind, _ in events] == ["start", "end"] * 4


def test_the_limiter_serves_waiting_requests_by_priority_and_never_exceeds_its_limit() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(2)
        held = [await limiter.acquire(priority=0) for _ in range(2)]
        order: list[int] = []

        async def ask(priority: int) -> None:
            ticket = await limiter.acquire(priority=priority)
            order.append(priority)
            assert limiter.in_flight <= limiter.limit
            await asyncio.sleep(0)
            await limiter.release(ticket, 200)

        waiting = [asyncio.create_task(ask(p)) for p in (7, 3, 5, 1)]
        abandoned = asyncio.create_task(ask(0))  # would go first, but gives up while waiting
        await asyncio.sleep(0)
        assert limiter.waiting == 5 and limiter.in_flight == 2
        abandoned.cancel()
        await asyncio.sleep(0)
        await limiter.release(held[0], 200)
        await limiter.release(held[1], 200)
        await asyncio.gather(*waiting)
        assert order == [1, 3, 5, 7]
        assert limiter.in_flight == 0 and limiter.waiting == 0 and limiter.most_in_flight == 2

    asyncio.run(scenario())


def test_a_congested_limiter_hands_out_its_remaining_slots() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(4)
        ticket = await limiter.acquire()
        await limiter.release(ticket, 429)
        assert limiter.limit == 2
        tickets = await asyncio.wait_for(asyncio.gather(*(limiter.acquire() for _ in range(2))), 5)
        assert limiter.in_flight == 2
        for ticket in tickets:
            await limiter.release(ticket, 200)

    asyncio.run(scenario())
