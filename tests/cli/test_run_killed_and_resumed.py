"""``factcheck run`` as a user runs it: a subprocess against the fake server, killed and resumed."""

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import FACTCHECK, env_for, factcheck, run_args

from pipeline.cli import EXIT_NOTHING_RAN, EXIT_SOME_FAILED
from pipeline.run.output import load_result
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def test_exit_codes_and_skipped_files(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 4)
    (inputs / "scan.pdf").write_bytes(b"%PDF")
    env = env_for(tmp_path)

    ok = factcheck(run_args(inputs, tmp_path / "ok", fake.base_url, "--quiet"), env)
    assert ok.returncode == 0, ok.stderr
    assert "scan.pdf: skipped" in ok.stderr and "4 analysed" in ok.stderr

    fake.faults = Faults(server_error=1.0, max_faults_per_request=99, target=marker(1))  # no answer at all
    some = factcheck(run_args(inputs, tmp_path / "some", fake.base_url, "--quiet", "--no-cache"), env)
    assert some.returncode == EXIT_SOME_FAILED, some.stderr
    assert "article-00001.txt: failed at claims" in some.stderr

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/v1"
    nothing = factcheck(
        run_args(inputs, tmp_path / "none", dead, "--quiet"), env_for(tmp_path, FACTCHECK_MAX_ATTEMPTS="1")
    )
    assert nothing.returncode == EXIT_NOTHING_RAN, nothing.stderr
    assert "cannot connect" in nothing.stderr


def test_json_logs_for_ci(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    done = factcheck(run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--log-json", "-"), env_for(tmp_path))
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("article_done") == 2
    assert events[-1]["status"] == "complete" and events[-1]["calls"] == 4


def test_killed_run_resumes_without_losing_or_redoing_anything(fake: FakeOpenAI, tmp_path: Path) -> None:
    count = 40
    fake.latency = 0.03
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    # No faults here: a generous timeout keeps a loaded machine from adding retries (repeats).
    env = env_for(tmp_path, FACTCHECK_TIMEOUT="10")
    args = [*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "4")]
    victim = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list((out / "articles").glob("*.json"))) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    finished = {p.stem for p in (out / "articles").glob("*.json")}
    assert 10 <= len(finished) < count, "the run must be killed mid-way"
    before = fake.stats.as_json()
    assert json.loads((out / "run.json").read_text())["status"] == "running"  # the manifest shows the crash

    resumed = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "4"), env)
    assert resumed.returncode == 0, resumed.stderr
    after = fake.stats.as_json()

    results = {p.stem: load_result(p) for p in (out / "articles").glob("*.json")}
    assert len(results) == count and all(r is not None for r in results.values())
    sources = sorted(Path(r.article.source).name for r in results.values() if r)
    assert sources == [f"article-{i:05d}.txt" for i in range(count)]  # none lost, none twice
    assert not list(out.rglob(".*.tmp"))
    rows = (out / "results.jsonl").read_text().splitlines()
    assert len(rows) == sum(len(r.claims) for r in results.values() if r)  # one row a claim, none twice
    # Finished articles were asked nothing again, and every answered call of an unfinished
    # article came from the cache: only an article's one outstanding call at the kill repeats
    # (in flight, or answered but not yet stored by the cache's writer thread), and at most
    # 2 x concurrency - 1 articles are in progress.
    for result in results.values():
        assert result is not None
        name = result.text.split(" was filed")[0] + " was filed today"
        if result.article.id in finished:
            assert after["by_marker"][name] == before["by_marker"][name]
    repeated = [key for key, n in after["by_body"].items() if n > 1]
    assert len(repeated) <= 2 * 4 - 1
    # Requests outstanding at the kill may be answered after the snapshot.
    assert after["served"] - before["served"] <= 2 * (count - len(finished)) + 2 * 4 - 1
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["already_done"] == len(finished)
    assert manifest["counts"]["done"] == count - len(finished)


def test_a_terminated_run_unwinds_and_says_it_was_interrupted(fake: FakeOpenAI, tmp_path: Path) -> None:
    # SIGTERM (`kill`, a CI timeout, a supervisor) unwinds like Ctrl-C: the embedded model server
    # of a `with` block is stopped rather than orphaned, and the manifest is final, not "running".
    fake.latency = 0.05
    write_articles(tmp_path / "in", 40)
    out = tmp_path / "out"
    args = [*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "2")]
    victim = subprocess.Popen(
        args, env=env_for(tmp_path, FACTCHECK_TIMEOUT="10"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list((out / "articles").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGTERM)
    _, stderr = victim.communicate(timeout=60)
    assert victim.returncode == 128 + signal.SIGTERM, stderr
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert "Traceback" not in stderr


def test_a_terminated_run_says_so_and_names_its_articles_in_progress(fake: FakeOpenAI, tmp_path: Path) -> None:
    """Issue 32: SIGTERM printed nothing and run.json left the articles in flight out of "unfinished".
    Now one line says what happened and what to do, and run.json names them; the next run does them."""
    fake.latency = 0.2
    write_articles(tmp_path / "in", 12)
    out = tmp_path / "out"
    args = [*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "2")]
    victim = subprocess.Popen(args, env=env_for(tmp_path, FACTCHECK_TIMEOUT="10"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((out / "articles").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGTERM)
    _, stderr = victim.communicate(timeout=60)
    assert victim.returncode == 128 + signal.SIGTERM, stderr
    manifest = json.loads((out / "run.json").read_text())
    unfinished = manifest["unfinished"]
    assert manifest["status"] == "interrupted" and 1 <= len(unfinished) <= 2 * 2 - 1, manifest
    assert manifest["counts"]["unfinished"] == len(unfinished)
    finished = {load_result(p).article.source for p in (out / "articles").glob("*.json")}  # type: ignore[union-attr]
    assert not finished & set(unfinished)
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(f"terminated (SIGTERM): the run stopped; {len(unfinished)} article"), stderr
    assert "run the same command again to resume" in line and "Traceback" not in stderr
    fake.latency = 0.002
    again = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert again.returncode == 0, again.stderr
    assert f"{12 - len(finished)} analysed, {len(finished)} already done" in again.stderr
