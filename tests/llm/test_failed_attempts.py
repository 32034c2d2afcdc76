"""Failures are counted and named as what they are: timeouts and dropped connections are failed
attempts, and a server answer with no choices is a clear error that is never cached."""

import asyncio
import json
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


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def analyse(fake: FakeOpenAI, inputs: Path, out: Path, tmp_path: Path, **settings: object) -> RunSummary:
    config = Settings(
        **{"cache_dir": tmp_path / "cache", "timeout": 0.4, "max_attempts": 4, "concurrency": 4, "verifier": "llm",
           **settings}
    )
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model="gpt-4o-mini", timeout=config.timeout,
              max_attempts=config.max_attempts)
    files, missing = discover([inputs], exclude=out)

    async def go() -> RunSummary:
        try:
            return await run(llm, files, missing, out, config)
        finally:
            await llm.close()

    return asyncio.run(go())


def test_timeouts_and_dropped_connections_count_as_failed_attempts(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.faults = Faults(timeout=0.15, drop=0.15, timeout_sleep=0.8, seed=3)
    write_articles(tmp_path / "in", 10)
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", tmp_path)
    assert summary.done == 10
    faults = fake.stats.faults["timeout"] + fake.stats.faults["drop"]
    assert faults > 0
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["usage"]["failed_attempts"] == faults == summary.total.failed_attempts


def test_an_answer_without_choices_is_a_clear_error_and_is_not_cached(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    fake.faults = Faults(no_choices=1.0, max_faults_per_request=1, target=marker(1))
    first = analyse(fake, tmp_path / "in", tmp_path / "out", tmp_path)
    assert (first.done, first.failed) == (2, 1)
    [error] = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert error["stage"] == "claims" and "no choices" in error["reason"] and "internal error" not in error["reason"]

    # The server answers properly now; had the empty answer been cached, the article would fail again.
    fake.faults = Faults()
    fake.reset_stats()
    again = analyse(fake, tmp_path / "in", tmp_path / "out", tmp_path)
    assert (again.done, again.reused, again.failed) == (1, 2, 0)
    assert fake.stats.by_marker[marker(1)] == 2  # claims, verify
