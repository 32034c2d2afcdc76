"""A model server that dies answering: the error names the crash, the signal, the call and the log;
the article fails and the run goes on after one restart, or stops if the server dies again.
The stand-in is the fake OpenAI server, started as the embedded server's process, told to kill
itself with SIGSEGV at its first chat request."""

import asyncio
import json
import sys
from pathlib import Path

import pytest

from pipeline.llm.client import LLM
from pipeline.llm.embedded import EmbeddedServer
from pipeline.llm.errors import EndpointError
from pipeline.run.inputs import discover
from pipeline.run.manifest import RunSummary
from pipeline.run.driver import run
from pipeline.settings import Settings
from pipeline.testing.articles import write_articles


def stand_in(crash: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.testing.fake_openai", "--port", "{port}", "--crash", crash]


def analyse_with(server: EmbeddedServer, inputs: Path, out: Path, tmp_path: Path) -> RunSummary:
    settings = Settings(cache_dir=tmp_path / "cache", timeout=5, max_attempts=4, concurrency=1, cache=False)
    llm = LLM(
        backend="openai", base_url=server.base_url, api_key="test", model="gpt-4o-mini", timeout=5, max_attempts=4
    )
    llm.server = server
    files, skipped = discover([inputs], exclude=out)

    async def go() -> RunSummary:
        try:
            return await run(llm, files, skipped, out, settings)
        finally:
            await llm.close()

    return asyncio.run(go())


def test_a_server_killed_mid_run_is_named_and_restarted_once(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 4)
    out = tmp_path / "out"
    with EmbeddedServer(
        Path("unused.gguf"), command=stand_in(str(tmp_path / "crashed-once")), log_dir=tmp_path / "logs"
    ) as server:
        summary = analyse_with(server, tmp_path / "in", out, tmp_path)
        assert server.generation == 2  # restarted once
    assert summary.failed == 1 and summary.done == 3, summary
    [error] = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    reason = error["reason"]
    assert "embedded model server crashed (SIGSEGV) while answering the claims call" in reason, reason
    assert "fake: segfaulting on purpose; see " in reason and reason.endswith("; restarted, the run goes on"), reason
    log = reason.split("; see ", 1)[1].split(";")[0]
    assert Path(log).is_file() and "segfaulting" in Path(log).read_text()


def test_a_server_that_dies_again_after_its_restart_stops_the_run(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    out = tmp_path / "out"
    with EmbeddedServer(Path("unused.gguf"), command=stand_in("always"), log_dir=tmp_path / "logs") as server:
        with pytest.raises(EndpointError) as stopped:
            analyse_with(server, tmp_path / "in", out, tmp_path)
    message = str(stopped.value)
    assert "embedded model server crashed (SIGSEGV) while answering the claims call" in message, message
    assert message.endswith("; it was already restarted once in this run"), message
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed" and "already restarted once" in json.dumps(manifest), manifest
    [first] = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert "crashed (SIGSEGV)" in first["reason"] and first["reason"].endswith("restarted, the run goes on")


def test_a_server_that_dies_at_start_says_so(tmp_path: Path) -> None:
    command = [
        sys.executable, "-c",
        "import os, signal; print('loading the model', flush=True); os.kill(os.getpid(), signal.SIGILL)",
    ]
    server = EmbeddedServer(Path("unused.gguf"), command=command, log_dir=tmp_path / "logs")
    try:
        with server:
            raise AssertionError("the server should not have started")
    except Exception as error:  # noqa: BLE001 - the message is what is tested
        message = str(error)
    assert (
        "embedded model server crashed (SIGILL) at start; last log lines: loading the model; see " in message
    ), message
