"""``run --engine ray`` on a local Ray cluster (2 CPUs, loopback only): the same output folder as
a local run, an actor or the driver killed mid-run, two drivers on one folder, the budget across
actors. Needs the ray extra (requirements-ray.lock): skipped without it."""

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Loopback only: Ray otherwise names this machine by its network address, even for a local cluster.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray")

from cli_process import FACTCHECK, env_for  # noqa: E402
from ray_run import analyse, lines, mixed_inputs, results, rows, settings_for, shard_runners  # noqa: E402

from pipeline.llm.prices import ModelPrice  # noqa: E402
from pipeline.testing.articles import write_articles  # noqa: E402
from pipeline.testing.fake_openai import FakeOpenAI  # noqa: E402

pytestmark = pytest.mark.ray
MODEL = "gpt-4o-mini"


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One local cluster for the module: its address, for drivers in other processes."""
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.01) as server:
        yield server


def test_ray_writes_what_a_local_run_writes_without_an_llm(cluster: str, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    local, _ = analyse(inputs, tmp_path / "local", settings_for(tmp_path), engine="local", no_llm=True)
    on_ray, engine = analyse(inputs, tmp_path / "ray", settings_for(tmp_path), engine="ray", no_llm=True)

    assert (on_ray.done, on_ray.failed, on_ray.duplicates, on_ray.skipped) == (local.done, local.failed, 1, 2)
    assert local.done == 20 and local.failed == 1
    assert results(tmp_path / "ray") == results(tmp_path / "local")  # byte for byte but the timings
    for name in ("results.jsonl", "errors.jsonl"):
        assert rows(tmp_path / "ray" / name) == rows(tmp_path / "local" / name)
    assert lines(tmp_path / "ray" / "skipped.txt") == lines(tmp_path / "local" / "skipped.txt")
    manifest = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert manifest["engine"] == "ray" and manifest["status"] == "complete"
    assert manifest["counts"] == json.loads((tmp_path / "local" / "run.json").read_text())["counts"]
    assert engine is not None and engine.requeued == 0


def test_ray_writes_what_a_local_run_writes_with_the_llm(cluster: str, fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in")
    local, _ = analyse(inputs, tmp_path / "local", settings_for(tmp_path, fake, cache="c1"), engine="local")
    asked_locally = fake.stats.requests
    on_ray, _ = analyse(inputs, tmp_path / "ray", settings_for(tmp_path, fake, cache="c2"), engine="ray")

    assert (on_ray.done, on_ray.failed, on_ray.duplicates) == (local.done, local.failed, local.duplicates) == (20, 1, 1)
    assert fake.stats.requests == 2 * asked_locally == 2 * 40  # two calls an article, once each, in each run
    assert results(tmp_path / "ray") == results(tmp_path / "local")
    for name in ("results.jsonl", "errors.jsonl", "usage.jsonl"):
        assert rows(tmp_path / "ray" / name) == rows(tmp_path / "local" / name), name
    assert on_ray.total.calls == local.total.calls == 40


def test_an_actor_killed_mid_run_loses_nothing_and_doubles_nothing(cluster: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 20)
    out = tmp_path / "out"
    killed: list[int] = []

    def kill_one_actor() -> None:  # once a few results are in: mid-run, with calls in flight
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((out / "articles").glob("*.json"))) < 4:
            time.sleep(0.05)
        if pids := shard_runners():
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    with FakeOpenAI(latency=0.15) as fake:
        killer = threading.Thread(target=kill_one_actor)
        killer.start()
        summary, engine = analyse(inputs, out, settings_for(tmp_path, fake), engine="ray", shard_size=3)
        killer.join()
        asked = fake.stats.requests

    assert killed, "no actor was killed: the test proved nothing"
    assert engine is not None and engine.requeued >= 1
    assert (summary.status, summary.done, summary.failed) == ("complete", 20, 0)
    assert len(list((out / "articles").glob("*.json"))) == 20
    usage = [json.loads(line)["article"] for line in (out / "usage.jsonl").read_text().splitlines()]
    assert len(usage) == len(set(usage)) == 20  # every article once
    # Two calls an article; at most the killed actor's calls in flight (its concurrency, 2) asked
    # again: its answered calls are in the machine's response cache.
    assert 40 <= asked <= 40 + 2


def _ray_cli(
    inputs: Path, out: Path, tmp_path: Path, fake: FakeOpenAI, cluster: str, *more: str
) -> subprocess.Popen[str]:
    args = ["run", str(inputs), "--out", str(out), "--base-url", fake.base_url, "--model", MODEL, "--backend", "openai",
            "--concurrency", "2", "--engine", "ray", "--address", cluster, "--actors-per-node", "2",
            "--shard-size", "2",
            "--no-stories", "-q", *more]
    return subprocess.Popen([*FACTCHECK, *args], env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _until_its_actors_are_gone(seconds: float = 30) -> None:
    """Ray ends a dead driver's actors soon after, not at once: until then one can finish (and write)
    the article it was on. Ray 2.60 has no public state call without the dashboard."""
    from ray._private import state

    deadline = time.monotonic() + seconds
    while any(a["ActorClassName"] == "ShardRunner" and a["State"] != "DEAD" for a in state.actors().values()):
        assert time.monotonic() < deadline, "the killed driver's actors are still alive"
        time.sleep(0.1)


def test_a_driver_killed_then_resumed_with_the_local_engine_does_every_article_once(
    cluster: str, tmp_path: Path
) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 20)
    out = tmp_path / "out"
    with FakeOpenAI(latency=0.2) as fake:
        driver = _ray_cli(inputs, out, tmp_path, fake, cluster)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list((out / "articles").glob("*.json"))) < 5:
            assert driver.poll() is None, driver.communicate()
            time.sleep(0.05)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
        _until_its_actors_are_gone()  # an article in flight may still be finished by its actor, and kept
        before = {p.name for p in (out / "articles").glob("*.json")}
        assert 5 <= len(before) < 20
        assert json.loads((out / "run.json").read_text())["status"] == "running"  # killed: no last word
        by_marker_before = dict(fake.stats.by_marker)

        resumed, _ = analyse(inputs, out, settings_for(tmp_path, fake), engine="local")

    assert (resumed.reused, resumed.done, resumed.failed) == (len(before), 20 - len(before), 0)
    assert len(list((out / "articles").glob("*.json"))) == 20
    finished_first = {json.loads((out / "articles" / name).read_text())["article"]["source"] for name in before}
    for source in finished_first:  # not asked again by the second run
        index = int(Path(source).stem.split("-")[1])
        assert fake.stats.by_marker[f"Synthetic report number {index} was filed today"] == by_marker_before.get(
            f"Synthetic report number {index} was filed today")


def test_a_local_run_is_resumed_with_the_ray_engine(cluster: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 12)
    out = tmp_path / "out"
    first, _ = analyse(tmp_path / "in", out, settings_for(tmp_path), engine="local", no_llm=True)
    (out / "articles" / sorted(os.listdir(out / "articles"))[0]).unlink()  # one left to do
    (out / "articles" / sorted(os.listdir(out / "articles"))[0]).write_text("{")  # one damaged
    again, _ = analyse(inputs, out, settings_for(tmp_path), engine="ray", no_llm=True)
    assert (first.done, again.reused, again.damaged, again.done) == (12, 10, 1, 2)


def test_a_second_driver_on_the_same_folder_is_refused(cluster: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 8)
    out = tmp_path / "out"
    with FakeOpenAI(latency=0.3) as fake:
        first = _ray_cli(inputs, out, tmp_path, fake, cluster)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out / "run.json").exists():
            time.sleep(0.05)
        second = _ray_cli(inputs, out, tmp_path, fake, cluster)
        _, refused = second.communicate(timeout=60)
        _, first_err = first.communicate(timeout=120)
    assert second.returncode == 4, refused
    assert "is being written by another factcheck run" in refused
    assert first.returncode == 0, first_err
    assert len(list((out / "articles").glob("*.json"))) == 8


def test_the_budget_holds_across_actors(cluster: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 30)
    price = {MODEL: ModelPrice(input=1.0, output=2.0)}
    with FakeOpenAI(latency=0.05) as fake:
        probe, _ = analyse(inputs, tmp_path / "probe", settings_for(tmp_path, fake, cache="c0", prices=price),
                           engine="local", no_llm=False)
        per_article = probe.total.cost_usd / probe.done
        budget = 8.5 * per_article  # room for about eight articles
        summary, _ = analyse(inputs, tmp_path / "out", settings_for(tmp_path, fake, cache="c1", prices=price,
                                                                       budget_usd=budget), engine="ray", shard_size=2)
    assert summary.status == "budget_exhausted"
    assert 0 < summary.done < 30 and summary.not_started == 30 - summary.done
    assert summary.total.cost_usd <= budget  # never passed, whichever actor spent it
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["budget"]["stopped"] and manifest["usage"]["cost_usd"] <= budget
