"""Issue 24: the faults a newsroom meets running the batch nightly, each injected for real in a
``factcheck run`` subprocess against the fake server: a second run on the same folder, a
killed run's lock, an unwritable folder or log file, a file size limit (EFBIG) and a full
disk (ENOSPC) mid-run, an unwritable or corrupt cache."""

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import FACTCHECK, env_for, factcheck, factcheck_bound_by_permissions, run_args

from pipeline.cli._common import EXIT_BUSY, EXIT_ENVIRONMENT
from pipeline.run.output import load_result
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI



def _file_size_limit(kib: int) -> str:
    return f"import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, ({kib * 1024}, {kib * 1024}))"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


@pytest.fixture
def shared_tmp(tmp_path: Path) -> Path:
    return tmp_path


def _paid_twice(fake: FakeOpenAI) -> int:
    return sum(count - 1 for count in fake.stats.as_json()["by_body"].values() if count > 1)


def _disk_full_after(results: int) -> str:
    """Python run before the CLI: the write of result number ``results + 1`` and every later one
    fails with ENOSPC, as on a disk that filled (only results count: run.json's own writes vary
    with timing). Counted as they start, under a lock: results are written from worker threads,
    two at once at times."""
    return (
        "import errno, os, threading\nimport pipeline._io as io\n_write = io.write_json_atomic\n"
        "_started = []\n_lock = threading.Lock()\n"
        "def write(path, data):\n"
        "    if path.parent.name == 'articles':\n"
        "        with _lock:\n            _started.append(path)\n            number = len(_started)\n"
        f"        if number > {results}:\n"
        "            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "    _write(path, data)\n"
        "io.write_json_atomic = write\nimport pipeline.run.analysis as s\ns.write_json_atomic = write"
    )


# -- 1. one run per output folder --------------------------------------------------------------


def test_a_second_run_on_the_same_folder_is_refused_at_once_and_nothing_is_paid_twice(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.latency = 0.1
    write_articles(tmp_path / "in", 12)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    first = subprocess.Popen([*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet")], env=env,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while fake.stats.requests == 0 and time.monotonic() < deadline:  # the first run holds OUT and calls
        time.sleep(0.02)
    second = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    assert second.returncode == EXIT_BUSY, second.stderr
    line = second.stderr.strip()
    assert line.startswith(f"error: {out} is being written by another factcheck run (pid {first.pid}, started "), line
    assert len(line.splitlines()) == 1
    assert _paid_twice(fake) == 0 and fake.stats.requests == 2 * 12  # claims, verify
    rows = (out / "usage.jsonl").read_text().splitlines()
    assert len(rows) == 12
    assert json.loads((out / "run.json").read_text())["counts"]["done"] == 12


def test_two_runs_started_together_one_refused_none_crashes(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 6)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    runs = [subprocess.Popen([*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet")], env=env,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    codes = sorted(run.wait(timeout=120) for run in runs)
    stderr = "".join(run.stderr.read() for run in runs if run.stderr)
    assert "internal error" not in stderr, stderr
    assert codes in ([0, EXIT_BUSY], [0, 0]), stderr  # [0, 0]: the first finished before the second started
    assert _paid_twice(fake) == 0


def test_a_killed_runs_lock_is_taken_over(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.latency = 0.2
    write_articles(tmp_path / "in", 8)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    victim = subprocess.Popen([*FACTCHECK, *run_args(tmp_path / "in", out, fake.base_url, "--quiet")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while fake.stats.requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert (out / ".factcheck.lock").exists()  # left behind, with the dead run's pid in it
    fake.latency = 0.002
    resumed = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
    assert resumed.returncode == 0, resumed.stderr
    assert len(list((out / "articles").glob("*.json"))) == 8


# -- 5. environment faults -----------------------------------------------------------------------


def test_an_unwritable_output_folder_is_one_line_before_any_call(fake: FakeOpenAI, shared_tmp: Path) -> None:
    write_articles(shared_tmp / "in", 3)
    out = shared_tmp / "out"
    out.mkdir()
    out.chmod(0o555)
    env = env_for(shared_tmp, FACTCHECK_CACHE_DIR=str(shared_tmp / "cache"))
    done = factcheck_bound_by_permissions(run_args(shared_tmp / "in", out, fake.base_url, "--quiet"), env)
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert done.stderr.startswith(f"error: {out}") and "permission denied; fix its permissions" in done.stderr
    assert "internal error" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert fake.stats.requests == 0


def test_an_unwritable_log_file_is_one_line(fake: FakeOpenAI, shared_tmp: Path) -> None:
    write_articles(shared_tmp / "in", 1)
    logs = shared_tmp / "logs"
    logs.mkdir()
    logs.chmod(0o555)
    env = env_for(shared_tmp, FACTCHECK_CACHE_DIR=str(shared_tmp / "cache"))
    args = run_args(shared_tmp / "in", shared_tmp / "out", fake.base_url, "--log-json", str(logs / "run.log"))
    done = factcheck_bound_by_permissions(args, env)
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert f"{logs / 'run.log'}: permission denied" in done.stderr and "internal error" not in done.stderr


def test_an_unwritable_cache_folder_is_not_called_corrupt(fake: FakeOpenAI, shared_tmp: Path) -> None:
    write_articles(shared_tmp / "in", 1)
    cache = shared_tmp / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    env = env_for(shared_tmp, FACTCHECK_CACHE_DIR=str(cache))
    args = run_args(shared_tmp / "in", shared_tmp / "out", fake.base_url, "--quiet")
    done = factcheck_bound_by_permissions(args, env)
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert "response cache cannot be written" in done.stderr and "permission denied" in done.stderr
    assert "move it aside" not in done.stderr and "corrupt" not in done.stderr


def test_a_corrupt_cache_is_called_corrupt(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    (tmp_path / "cache" / "responses").mkdir(parents=True)
    (tmp_path / "cache" / "responses" / "cache.db").write_bytes(b"not sqlite at all" * 100)
    done = factcheck(run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "response cache is corrupt" in done.stderr and "move it aside" in done.stderr


def test_a_file_size_limit_stops_the_run_before_any_call(fake: FakeOpenAI, tmp_path: Path) -> None:
    """`ulimit -f 5`: nothing can be written, so nothing is asked (it paid every call, then failed
    each article "at verify")."""
    write_articles(tmp_path / "in", 4)
    args = run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--quiet", "--no-cache")
    done = factcheck(args, env_for(tmp_path), before=_file_size_limit(5))
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert "file size limit reached" in done.stderr and "ulimit -f" in done.stderr
    assert "failed at" not in done.stderr and "internal error" not in done.stderr
    assert fake.stats.requests == 0


def test_a_disk_that_fills_mid_run_stops_starting_articles_and_the_next_run_resumes(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """The output folder's disk fills after a few results (injected: the write of the fourth
    result and every later one fails with ENOSPC, as on a full disk; only results count, as run.json's
    own writes vary with timing). The run starts no more
    articles, names the unfinished, exits 5; freed, the next run does the rest, paying for
    nothing twice (the unfinished ones' answers are in the response cache)."""
    count = 20
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    stopped = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "2"), env,
                        before=_disk_full_after(3))
    assert stopped.returncode == EXIT_ENVIRONMENT, stopped.stderr
    assert "no space left on the disk" in stopped.stderr and "the run stopped starting articles" in stopped.stderr
    assert "internal error" not in stopped.stderr and "failed at" not in stopped.stderr
    written = len(list((out / "articles").glob("*.json")))
    assert written == 3
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "stopped" and manifest["unfinished"]
    assert all(f"{source}: unfinished" in stopped.stderr for source in manifest["unfinished"])
    asked = fake.stats.requests
    assert asked <= 2 * (written + 2 * 2 - 1 + 1), asked  # no more than the articles in progress when it filled

    resumed = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
    assert resumed.returncode == 0, resumed.stderr
    assert all(load_result(p) is not None for p in (out / "articles").glob("*.json"))
    assert len(list((out / "articles").glob("*.json"))) == count
    assert _paid_twice(fake) == 0
    assert not list(out.rglob(".*.tmp"))


def test_a_disk_that_fills_with_calls_in_flight_pays_for_none_of_them_twice(fake: FakeOpenAI, tmp_path: Path) -> None:
    """When the disk fills, other articles have calls at the server (150 ms each, 4 at a time).
    Cancelled mid-call, those answers never reached the response cache and the resumed run paid
    for them again (4 of 4 here; 6 in the soak). The run now lets them finish and keeps them."""
    fake.latency = 0.15
    count = 24
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    stopped = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "4"), env,
                        before=_disk_full_after(3))
    assert stopped.returncode == EXIT_ENVIRONMENT, stopped.stderr
    assert len(list((out / "articles").glob("*.json"))) == 3
    unfinished = json.loads((out / "run.json").read_text())["unfinished"]
    assert len(unfinished) >= 4, unfinished  # the articles in progress when it filled, named
    asked_before_resume = fake.stats.requests
    assert asked_before_resume <= 2 * (3 + 2 * 4 - 1 + 1), asked_before_resume  # no article started after it filled

    fake.latency = 0.002
    resumed = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
    assert resumed.returncode == 0, resumed.stderr
    assert len([p for p in (out / "articles").glob("*.json") if load_result(p) is not None]) == count
    assert _paid_twice(fake) == 0
    assert fake.stats.requests == 2 * count  # claims, verify


def _shared_disk_full_after(results: int, reserve: Path) -> str:
    """Python run before the CLI: OUT and the response cache on one disk, which fills once
    ``results`` results are written: from then on every result, run.json and cache store fails
    for want of space, until room is made by deleting the run's reserve file (if it held one
    when the disk filled), as on a real disk."""
    return (
        "import errno, os, sqlite3, threading\nfrom pathlib import Path\nimport diskcache\n"
        "import pipeline._io as io\nimport pipeline.run.manifest as manifest\n"
        "import pipeline.run.analysis as analysis\n"
        f"_reserve = Path({str(reserve)!r})\n"
        "_state = {'written': 0, 'reserve_when_full': None}\n_lock = threading.Lock()\n"
        "def full():\n"
        "    with _lock:\n"
        f"        if _state['written'] < {results}:\n            return False\n"
        "        if _state['reserve_when_full'] is None:\n            _state['reserve_when_full'] = _reserve.exists()\n"
        "        return not (_state['reserve_when_full'] and not _reserve.exists())\n"
        "_write = io.write_json_atomic\n"
        "def write(path, data):\n"
        "    if (path.parent.name == 'articles' or path.name == 'run.json') and full():\n"
        "        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))\n"
        "    _write(path, data)\n"
        "    if path.parent.name == 'articles':\n        with _lock:\n            _state['written'] += 1\n"
        "io.write_json_atomic = manifest.write_json_atomic = analysis.write_json_atomic = write\n"
        "_set = diskcache.Cache.set\n"
        "def cache_set(self, *args, **kwargs):\n"
        "    if full():\n        raise sqlite3.OperationalError('database or disk is full')\n"
        "    return _set(self, *args, **kwargs)\n"
        "diskcache.Cache.set = cache_set\n"
    )


def test_a_disk_that_fills_under_the_cache_too_keeps_every_answer_it_paid_for(fake: FakeOpenAI, tmp_path: Path) -> None:
    """The default set-up: the response cache and OUT on one disk. When it fills, the answers to
    the calls at the server found no room in the cache either and were paid for again on resume
    (7 in the soak), and run.json still said "running". The run holds 4 MiB of room from its start
    (OUT/.factcheck.reserve) and gives it back when the disk fills: those answers are stored, and
    run.json says the run stopped."""
    fake.latency = 0.15
    count = 24
    write_articles(tmp_path / "in", count)
    out = tmp_path / "out"
    env = env_for(tmp_path)
    stopped = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--concurrency", "4"), env,
                        before=_shared_disk_full_after(3, out / ".factcheck.reserve"))
    assert stopped.returncode == EXIT_ENVIRONMENT, stopped.stderr
    assert "no space left on the disk" in stopped.stderr and "internal error" not in stopped.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "stopped"
    assert not (out / ".factcheck.reserve").exists()  # given back to the disk

    fake.latency = 0.002
    resumed = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env)
    assert resumed.returncode == 0, resumed.stderr
    assert len([p for p in (out / "articles").glob("*.json") if load_result(p) is not None]) == count
    assert _paid_twice(fake) == 0
    assert not (out / ".factcheck.reserve").exists()  # a run that ends leaves no reserve behind


def test_a_disk_without_room_for_the_reserve_stops_the_run_before_any_call(fake: FakeOpenAI, tmp_path: Path) -> None:
    """Less than 4 MiB free on OUT's disk (injected: the reserve's allocation fails with ENOSPC):
    no room to stop in, so nothing is asked."""
    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out"
    no_room = (
        "import errno, os\n_fallocate = os.posix_fallocate\n"
        "def fallocate(fd, offset, length):\n    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))\n"
        "os.posix_fallocate = fallocate\n"
    )
    done = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env_for(tmp_path), before=no_room)
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert f"{out / '.factcheck.reserve'}: no space left on the disk" in done.stderr, done.stderr
    assert fake.stats.requests == 0 and not (out / ".factcheck.reserve").exists()


def test_the_lock_file_marks_the_folder_as_ours(tmp_path: Path) -> None:
    """A run killed before it wrote run.json left only its lock: the folder is still resumable."""
    from pipeline.run.lock import OutputLock
    from pipeline.run.output import check_out_dir

    out = tmp_path / "out"
    with OutputLock(out):
        pass
    check_out_dir(out)  # no "folder is not empty and is not a factcheck output folder"
    assert os.listdir(out) == [".factcheck.lock"]
