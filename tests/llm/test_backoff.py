"""Backoff is per request: one article's Retry-After or hung request never freezes the healthy
articles. Shown with the fake server's fault stubs; asserts order and generous time bounds."""

import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.llm.client import LLM
from pipeline.run.inputs import discover
from pipeline.run.manifest import RunSummary
from pipeline.run.driver import run
from pipeline.settings import Settings
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults


class DoneTimes:
    """When each article finished, in seconds since the run started."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.at: dict[str, float] = {}

    def emit(self, event: str, **fields: object) -> None:
        if event == "article_done":
            self.at[Path(str(fields["source"])).name] = time.monotonic() - self.started

    def close(self) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.01) as server:
        yield server


def analyse(
    fake: FakeOpenAI, tmp_path: Path, count: int, concurrency: int, timeout: float
) -> tuple[RunSummary, DoneTimes]:
    write_articles(tmp_path / "in", count)
    settings = Settings(cache_dir=tmp_path / "cache", timeout=timeout, max_attempts=4, concurrency=concurrency)  # type: ignore[call-arg]
    llm = LLM(
        backend="openai", base_url=fake.base_url, api_key="test", model="gpt-4o-mini", timeout=timeout, max_attempts=4
    )
    files, missing = discover([tmp_path / "in"], exclude=tmp_path / "out")
    times = DoneTimes()

    async def go() -> RunSummary:
        try:
            return await run(llm, files, missing, tmp_path / "out", settings, reporter=times)
        finally:
            await llm.close()

    return asyncio.run(go()), times


def test_a_long_retry_after_delays_only_the_article_that_got_it(fake: FakeOpenAI, tmp_path: Path) -> None:
    # A healthy article that waited for the Retry-After would end after 5 s; one that did not ends
    # in under a second idle, but 3-5 s with both cores busy elsewhere: the median tells them apart.
    fake.faults = Faults(by_target={marker(0): "rate_limit"}, retry_after=5.0, max_faults_per_request=1)
    summary, times = analyse(fake, tmp_path, count=6, concurrency=4, timeout=10.0)
    assert (summary.done, summary.failed) == (6, 0)
    healthy = [times.at[f"article-{i:05d}.txt"] for i in range(1, 6)]
    assert statistics.median(healthy) < 5.0, f"healthy articles waited for another's Retry-After: {healthy}"
    assert times.at["article-00000.txt"] >= 5.0  # its own Retry-After was honoured
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["limiter"]["decreases"] >= 1  # ... and the 429s lowered the concurrency


def test_a_hung_request_cannot_hold_the_last_slot(fake: FakeOpenAI, tmp_path: Path) -> None:
    # Article 1's 429 halves the limit; article 0's request hangs until the client's timeout.
    # Waiting behind the hung request would end every healthy article after its 4.5 s timeout
    # (article 1's 429 leaves one slot, the hung one's); the median tells them apart under load too.
    fake.faults = Faults(by_target={marker(0): "timeout", marker(1): "rate_limit"}, retry_after=0.05,
                         timeout_sleep=5.0, max_faults_per_request=1)
    summary, times = analyse(fake, tmp_path, count=8, concurrency=2, timeout=4.5)
    assert (summary.done, summary.failed) == (8, 0)
    healthy = [times.at[f"article-{i:05d}.txt"] for i in range(1, 8)]
    assert statistics.median(healthy) < 4.5, f"healthy articles waited behind a hung request: {healthy}"
    assert times.at["article-00000.txt"] >= 4.5  # the hung attempt ran to its timeout, then was retried
