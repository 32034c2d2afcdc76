"""The Batch API path against the fake server's Files and Batches endpoints."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.run.batch import BatchError, advance, submit
from pipeline.run.lock import FolderBusyError
from pipeline.run.output import load_result
from pipeline.settings import Settings
from pipeline.testing.articles import article_text, marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.ingest import article_id


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(batch_item_error=0.15) as server:
        yield server


def settings_for(tmp_path: Path, fake: FakeOpenAI) -> Settings:
    return Settings(backend="openai", base_url=fake.base_url, api_key="test", model="gpt-4o-mini",
                    cache_dir=tmp_path / "cache", timeout=2.0, verifier="llm")  # one batch per stage: both stages


def wait_until_finished(out: Path, settings: Settings) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = asyncio.run(advance(out, settings))
        if state["finished"]:
            return state
        time.sleep(0.05)
    raise AssertionError("batch rounds did not finish")


def test_one_batch_per_stage_then_collect_validates_and_runs_failures_live(fake: FakeOpenAI, tmp_path: Path) -> None:
    count = 8
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    settings = settings_for(tmp_path, fake)
    state = asyncio.run(submit([tmp_path / "in"], out, settings))
    assert state["rounds"][0]["stages"] == {"claims": count}
    first = (out / "batch" / "round-1.jsonl").read_text().splitlines()
    assert len(first) == count
    line = json.loads(first[0])
    assert line["url"] == "/v1/chat/completions" and line["custom_id"].endswith(":claims:1")
    assert line["body"]["tools"][0]["function"]["name"] == "WrittenClaims"

    state = wait_until_finished(out, settings)
    rounds = state["rounds"]
    assert [list(r["stages"]) for r in rounds] == [["claims"], ["verify"]]  # claims and denials are one call
    failed = set(state["live_only"])
    assert failed, "the fake failed some batch items (seeded), which must go live"
    assert rounds[0]["results"]["completed"] + rounds[0]["results"]["failed"] == count
    assert all(r["results"]["cost_usd"] > 0 for r in rounds)
    assert fake.stats.requests == 0  # no live call so far: everything went through batches

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    (tmp_path / "none.toml").touch()
    env.update(FACTCHECK_CONFIG=str(tmp_path / "none.toml"), OPENAI_API_KEY="test")
    done = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "batch", "collect", "--out", str(out), "-q"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = [load_result(p) for p in (out / "articles").glob("*.json")]
    assert len(results) == count and all(r is not None for r in results)
    # Only the articles whose batch item failed were asked live, from the stage that failed on.
    ids = {marker(i): article_id(article_text(i)) for i in range(count)}
    live = {ids[m] for m in fake.stats.by_marker}
    assert live == failed
    assert len(failed) <= fake.stats.requests <= 2 * len(failed)
    assert {r.article.id for r in results if r} >= failed
    manifest = json.loads((out / "run.json").read_text())
    # each call (claims, verify) answered once
    assert manifest["usage"]["cache_hits"] + fake.stats.requests == 2 * count
    assert manifest["cost"]["batch_usd"] > 0 and manifest["batch"]["rounds"] == 2
    assert (out / "results.jsonl").read_text().count("\n") == sum(len(r.claims) for r in results if r)


def test_submit_refuses_a_second_batch_in_the_same_folder(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    settings = settings_for(tmp_path, fake)
    asyncio.run(submit([tmp_path / "in"], tmp_path / "out", settings))
    with pytest.raises(BatchError, match="already submitted"):
        asyncio.run(submit([tmp_path / "in"], tmp_path / "out", settings))


# -- one writer per output folder: the batch commands take the lock `factcheck run` takes ----------


def test_batch_commands_on_a_folder_another_process_holds_are_refused_and_write_nothing(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    from cli_process import env_for, factcheck

    from pipeline.cli._common import EXIT_BUSY
    from pipeline.run.lock import OutputLock

    write_articles(tmp_path / "in", 4)
    out = tmp_path / "out"
    settings = settings_for(tmp_path, fake)
    asyncio.run(submit([tmp_path / "in"], out, settings))
    before = (out / "batch.json").read_bytes()
    env = env_for(tmp_path)
    with OutputLock(out):  # as a `factcheck run` on OUT holds it
        for command in (["batch", "status", "--out", str(out)], ["batch", "collect", "--out", str(out), "--now", "-q"]):
            refused = factcheck(command, env)
            assert refused.returncode == EXIT_BUSY, (command, refused.stderr)
            assert refused.stderr.startswith(
                f"error: {out} is being written by another factcheck run (pid {os.getpid()}"
            ), refused.stderr
            assert len(refused.stderr.strip().splitlines()) == 1
        other = tmp_path / "out2"
        with OutputLock(other):
            refused = factcheck(
                ["batch", "submit", str(tmp_path / "in"), "--out", str(other), "--base-url", fake.base_url], env
            )
        assert refused.returncode == EXIT_BUSY, refused.stderr
        assert not (other / "batch.json").exists() and not (other / "batch").exists()
    assert (out / "batch.json").read_bytes() == before  # not polled, not advanced
    assert not (out / "articles").exists() and fake.stats.requests == 0
    with pytest.raises(FolderBusyError):
        with OutputLock(out):
            asyncio.run(advance(out, settings))  # the library call takes the lock too


def test_a_run_on_a_folder_a_batch_collect_is_writing_is_refused_and_nothing_is_paid_twice(tmp_path: Path) -> None:
    from cli_process import FACTCHECK, env_for, factcheck, run_args

    from pipeline.cli._common import EXIT_BUSY

    count = 8
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    # The batch never completes: collect --now goes live, 0.4 s a call (under the tests' 0.5 s timeout), long
    # enough for a run started meanwhile to find OUT held on a loaded machine (at 0.2 s collect could finish
    # first).
    with FakeOpenAI(batch_delay=600, latency=0.4) as fake:
        settings = settings_for(tmp_path, fake)
        asyncio.run(submit([tmp_path / "in"], out, settings))
        env = env_for(tmp_path)
        collect = subprocess.Popen([*FACTCHECK, "batch", "collect", "--out", str(out), "--now", "-q"], env=env,
                                   stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while fake.stats.requests == 0 and time.monotonic() < deadline:  # collect holds OUT and calls
            time.sleep(0.02)
        run = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
        assert collect.wait(timeout=120) == 0, collect.stderr.read() if collect.stderr else ""
        assert run.returncode == EXIT_BUSY, run.stderr
        assert f"is being written by another factcheck run (pid {collect.pid}" in run.stderr
        assert (  # claims, verify
            sum(n - 1 for n in fake.stats.by_body.values() if n > 1) == 0 and fake.stats.requests == 2 * count
        )
    assert len([p for p in (out / "articles").glob("*.json") if load_result(p) is not None]) == count


def test_submit_with_the_cache_off_is_one_line_that_says_how_to_turn_it_on(fake: FakeOpenAI, tmp_path: Path) -> None:
    from cli_process import env_for, factcheck

    write_articles(tmp_path / "in", 1)
    out = tmp_path / "out"
    refused = factcheck(
        ["batch", "submit", str(tmp_path / "in"), "--out", str(out), "--base-url", fake.base_url],
        {**env_for(tmp_path), "FACTCHECK_CACHE": "0"},
    )
    assert refused.returncode != 0
    [line] = refused.stderr.strip().splitlines()
    # batch has no such flag
    assert "needs the response cache" in line and "FACTCHECK_CACHE" in line and "--no-cache" not in line
    assert not (out / "batch.json").exists() and fake.stats.requests == 0
