"""Soak test of `factcheck run` against the fake OpenAI server (not a test; prints figures).

    .venv/bin/python bench/soak.py                    # 500 articles, the fault mix: every scenario
    .venv/bin/python bench/soak.py --articles 100     # a quicker look
    .venv/bin/python bench/soak.py --scenarios two disk   # only some: kill, two, disk

The run: N good articles plus one bad file per 50 (binary, empty, not UTF-8, JSON nested
100,000 deep, JSON without text, a symlink loop, a dangling symlink, HTML without text, an
input over max_chars, a JSON list), through a fake server answering 10 % 429, 5 % 5xx, 3 %
timeouts, 2 % dropped connections and 2 % malformed JSON. The CLI is killed with SIGKILL
twice (after a third and after two thirds of the articles are written) and resumed each
time. Reported: good articles done, duplicated answers, bad files in errors.jsonl, and the
wall time against a fault-free run of the same inputs.

Two runs on one output folder (``two``): a second run started while the first is writing, then
two started at the same moment. A disk that fills mid-run (``disk``): OUT on a small tmpfs (as
root; elsewhere the full disk is injected: every result write after a third of them fails with
ENOSPC) with a ballast file that leaves room for about a third of the results; the run stops,
the ballast is deleted, the same command resumes. Both against the fault mix, each with a fresh
server and cache, reporting the articles done, the answers paid twice (the server's 200 answers
to one request body, less one) and corrupt files (a result that does not validate, a JSON or
JSONL line that does not parse, a temporary left behind).

Both servers run in their own processes, so their CPU is not counted against the client,
and a killed CLI leaves them be.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run.output import load_result  # noqa: E402
from pipeline.run.reserve import RESERVE_BYTES  # noqa: E402
from pipeline.testing.articles import article_text, marker, write_articles  # noqa: E402
from pipeline.text.ingest import article_id  # noqa: E402

FAULTS = {"rate_limit": 0.10, "server_error": 0.05, "timeout": 0.03, "drop": 0.02, "invalid_json": 0.02,
          "retry_after": 0.2, "timeout_sleep": 2.0, "seed": 15}
CONCURRENCY = 8
CLIENT_TIMEOUT = "1.0"  # seconds per attempt: a "timeout" fault answers after 2 s


class FakeServer:
    def __init__(self, latency: float, faults: dict[str, object]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", str(latency),
             "--faults", json.dumps(faults)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,  # aiohttp logs every dropped socket
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(self.base_url.replace("/v1", "/_fake/stats")) as answer:
            return dict(json.load(answer))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


BAD_KINDS = ["binary", "empty", "latin1", "deep_json", "json_no_text", "symlink_loop", "dangling", "html_no_text",
             "too_long", "json_list"]


def write_bad(folder: Path, n: int) -> str:
    """The n-th bad file (kind by turn); returns its name."""
    kind = BAD_KINDS[n % len(BAD_KINDS)]
    name = f"bad-{n:03d}-{kind}" + {"deep_json": ".json", "json_no_text": ".json", "json_list": ".json",
                                    "html_no_text": ".html"}.get(kind, ".txt")
    path = folder / name
    if kind == "binary":
        path.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    elif kind == "empty":
        path.write_text("   \n")
    elif kind == "latin1":
        path.write_bytes("Le ministre a déclaré que le pont ouvrira.".encode("latin-1"))
    elif kind == "deep_json":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "json_no_text":
        path.write_text('{"title": "no body"}')
    elif kind == "symlink_loop":
        os.symlink(name, path)
    elif kind == "dangling":
        os.symlink("nowhere.txt", path)
    elif kind == "html_no_text":
        path.write_text("<html><head><script>var x = 1;</script></head><body></body></html>")
    elif kind == "too_long":
        path.write_text("A sentence that repeats to make a very long input. " * 5_000)  # 255,000 chars
    elif kind == "json_list":
        path.write_text('["not", "an", "object"]')
    return name


def cli(inputs: Path, out: Path, base_url: str, cache: Path) -> list[str]:
    return [sys.executable, "-c", "from pipeline.cli import main; main()", "run", str(inputs), "--out", str(out),
            "--base-url", base_url, "--model", "gpt-4o-mini", "--concurrency", str(CONCURRENCY), "--quiet"]


def env_for(work: Path, cache: Path) -> dict[str, str]:
    (work / "empty.toml").touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    env.update(FACTCHECK_CONFIG=str(work / "empty.toml"), FACTCHECK_CACHE_DIR=str(cache), OPENAI_API_KEY="soak",
               FACTCHECK_TIMEOUT=CLIENT_TIMEOUT, FACTCHECK_MAX_ATTEMPTS="6", PYTHONPATH=str(ROOT))
    return env


def results_in(out: Path) -> int:
    folder = out / "articles"
    return sum(1 for p in folder.glob("*.json")) if folder.is_dir() else 0


def paid_twice(stats: dict[str, object]) -> int:
    """200 answers to a request body already answered: each one a call paid for again."""
    by_body: dict[str, int] = stats["by_body"]  # type: ignore[assignment]
    return sum(n - 1 for n in by_body.values() if n > 1)


def check_out(out: Path, articles: int) -> dict[str, object]:
    """What a desk would check after the runs: every good article done, every file whole."""
    expected = {article_id(article_text(i)) for i in range(articles)}
    results = {p.stem: load_result(p) for p in (out / "articles").glob("*.json")}
    corrupt = sorted(p for p, r in results.items() if r is None)
    torn: list[str] = []
    for name in ("usage.jsonl", "errors.jsonl", "results.jsonl", "stories.jsonl"):
        path = out / name
        for number, line in enumerate(path.read_text().splitlines() if path.exists() else [], 1):
            try:
                json.loads(line)
            except ValueError:
                torn.append(f"{name}:{number}")
    try:
        json.loads((out / "run.json").read_text())
    except ValueError:
        torn.append("run.json")
    temporaries = [str(p.relative_to(out)) for p in out.rglob(".*.tmp")]
    done = {k for k, r in results.items() if r is not None} & expected
    return {"good_done": f"{len(done)}/{len(expected)}", "corrupt_results": corrupt, "torn_lines": torn,
            "temporaries_left": temporaries, "corrupt_files": len(corrupt) + len(torn) + len(temporaries)}


def last_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else ""


def scenario_two_runs(inputs: Path, work: Path, articles: int, latency: float) -> dict[str, object]:
    """Two runs on one OUT: the second started while the first writes, then two at once."""
    report: dict[str, object] = {}
    for name, start_second_at in (("second_started_mid_run", articles // 5), ("started_together", 0)):
        server = FakeServer(latency, FAULTS)
        out, cache = work / f"out-two-{name}", work / f"cache-two-{name}"
        env = env_for(work, cache)
        try:
            first = subprocess.Popen(cli(inputs, out, server.base_url, cache), env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            while results_in(out) < start_second_at and first.poll() is None:
                time.sleep(0.02)
            started = time.perf_counter()
            second = subprocess.Popen(cli(inputs, out, server.base_url, cache), env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
            second_stderr = second.communicate()[1]
            second_seconds = time.perf_counter() - started
            first_stderr = first.communicate()[1]
            stats = server.stats()
        finally:
            server.stop()
        report[name] = {
            "exits": [first.returncode, second.returncode],
            "second_ended_after_s": round(second_seconds, 2),
            "refused_said": next((last_line(e) for e, r in ((first_stderr, first.returncode),
                                                             (second_stderr, second.returncode))
                                  if r == 4), "(none refused: the first had finished)"),
            "internal_errors": (first_stderr + second_stderr).count("internal error"),
            "paid_twice": paid_twice(stats),
            "requests": stats["requests"],
            **check_out(out, articles),
        }
    return report


class SmallDisk:
    """A tmpfs of ``size`` bytes at ``path`` (needs root); ``None`` from :meth:`mount` if it cannot be had."""

    def __init__(self, path: Path, size: int):
        self.path, self.size = path, size

    def mount(self) -> "SmallDisk | None":
        self.path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.path)],
                              capture_output=True, text=True)
        return self if done.returncode == 0 else None

    def free(self) -> int:
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def unmount(self) -> None:
        subprocess.run(["umount", str(self.path)], capture_output=True)


# Injected when no tmpfs can be mounted: the write of every result after the first `limit` fails
# with ENOSPC, as on a full disk (counted as writes start, under a lock: they run in threads).
INJECT_FULL_DISK = (
    "import errno, os, threading\nimport pipeline._io as io\n_write = io.write_json_atomic\n"
    "_started = []\n_lock = threading.Lock()\n"
    "def write(path, data):\n"
    "    if path.parent.name == 'articles':\n"
    "        with _lock:\n            _started.append(path)\n            number = len(_started)\n"
    "        if number > {limit} and os.path.exists({flag!r}):\n"
    "            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))\n"
    "    _write(path, data)\n"
    "io.write_json_atomic = write\nimport pipeline.run.analysis as s\ns.write_json_atomic = write\n"
)


def _blocks(path: Path) -> int:
    """Bytes ``path`` takes on its filesystem (whole blocks, as a full disk counts them)."""
    return int(subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True).stdout.split()[0]) * 1024


def scenario_disk_full(
    inputs: Path, work: Path, articles: int, latency: float, clean: Path, *, cache_on_it: bool
) -> dict[str, object]:
    """OUT's disk fills mid-run (about a third of the results fit), is freed, and the run resumes.
    ``cache_on_it``: the response cache is on the same disk (as with the default cache_dir and
    an OUT in one's home), else on another."""
    # What a whole OUT (and the cache) takes: the fault-free run's, in blocks.
    blocks = _blocks(clean / "out-clean") + (_blocks(clean / "cache-clean") if cache_on_it else 0)
    # And room for SQLite's write-ahead log (up to ~4 MiB before a checkpoint) and the run's reserve.
    size = 2 * blocks + 8 * 2**20 + RESERVE_BYTES
    tag = "disk-shared" if cache_on_it else "disk"
    disk = SmallDisk(work / f"small-{tag}", size).mount()
    base = disk.path if disk else work
    out, cache = base / f"out-{tag}", (base if cache_on_it else work) / f"cache-{tag}"
    env = env_for(work, cache)
    flag = work / "disk-is-full"
    server = FakeServer(latency, FAULTS)
    report: dict[str, object] = {"disk": f"tmpfs of {size / 2**20:.1f} MiB" if disk else "injected ENOSPC (no tmpfs)",
                                 "cache": "on the same disk" if cache_on_it else "on another disk",
                                 "bytes_when_complete": blocks}
    try:
        if disk:  # leave room for about a third of the results
            ballast = disk.path / "ballast"
            with ballast.open("wb") as f:
                f.truncate(0)
                chunk = b"\0" * 2**20
                third = _blocks(clean / "out-clean" / "articles") // 3
                if cache_on_it:  # the cache's third too, and its database and log to start with
                    third += _blocks(clean / "cache-clean") // 3 + 2**20
                room = max(0, disk.free() - third - RESERVE_BYTES)  # the run holds its reserve first
                while room > 0:
                    f.write(chunk[: min(room, len(chunk))])
                    room -= len(chunk)
            report["free_before_run_bytes"] = disk.free()
            command = cli(inputs, out, server.base_url, cache)
        else:
            flag.touch()
            command = [sys.executable, "-c", INJECT_FULL_DISK.format(limit=articles // 3, flag=str(flag))
                       + "from pipeline.cli import main; main()", *cli(inputs, out, server.base_url, cache)[3:]]
        started = time.perf_counter()
        stopped = subprocess.run(command, env=env, capture_output=True, text=True)
        stopped_seconds = time.perf_counter() - started
        manifest = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {"status": None}
        report["stopped"] = {
            "exit": stopped.returncode, "seconds": round(stopped_seconds, 1), "status": manifest["status"],
            "results_written": results_in(out), "unfinished_named": len(manifest.get("unfinished", [])),
            "said": last_line(stopped.stderr), "internal_errors": stopped.stderr.count("internal error"),
            "requests": server.stats()["requests"],
        }
        if disk:
            (disk.path / "ballast").unlink()
        flag.unlink(missing_ok=True)
        resumed = subprocess.run(cli(inputs, out, server.base_url, cache), env=env, capture_output=True, text=True)
        stats = server.stats()
        report["resumed"] = {"exit": resumed.returncode, "summary": last_line(resumed.stderr),
                             "status": json.loads((out / "run.json").read_text())["status"]}
        report["paid_twice"] = paid_twice(stats)
        report["requests"] = stats["requests"]
        report["answers"] = stats["served"]
        report.update(check_out(out, articles))
    finally:
        server.stop()
        if disk:
            disk.unmount()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--work", type=Path, default=None, help="Folder to work in (default: a temporary one).")
    parser.add_argument("--scenarios", nargs="+", choices=["kill", "two", "disk"], default=["kill", "two", "disk"],
                        help="kill: faults and two kill -9 / resume cycles; two: two runs on one OUT; "
                             "disk: a disk that fills.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="factcheck-soak-"))
    inputs = work / "in"
    write_articles(inputs, args.articles)
    bad = {write_bad(inputs, n) for n in range(args.articles // 50)}
    report: dict[str, object] = {"articles": args.articles, "bad_files": len(bad), "faults": FAULTS,
                                 "concurrency": CONCURRENCY, "latency_s": args.latency}

    # The fault-free run: the wall time to beat.
    clean = FakeServer(args.latency, {})
    try:
        started = time.perf_counter()
        done = subprocess.run(cli(inputs, work / "out-clean", clean.base_url, work / "cache-clean"),
                              env=env_for(work, work / "cache-clean"), capture_output=True, text=True)
        report["fault_free"] = {"seconds": round(time.perf_counter() - started, 1), "exit": done.returncode,
                                "summary": done.stderr.strip().splitlines()[-1]}
    finally:
        clean.stop()

    if "two" in args.scenarios:
        report["two_runs_on_one_folder"] = scenario_two_runs(inputs, work, args.articles, args.latency)
    if "disk" in args.scenarios:
        report["disk_fills_mid_run"] = scenario_disk_full(
            inputs, work, args.articles, args.latency, work, cache_on_it=False
        )
        if shutil.which("mount") and os.geteuid() == 0:  # injected, the cache is never full: nothing to add
            report["disk_fills_mid_run_cache_on_it"] = scenario_disk_full(
                inputs, work, args.articles, args.latency, work, cache_on_it=True
            )
    if "kill" not in args.scenarios:
        print(json.dumps(report, indent=2))
        return

    # The faulted run, killed twice.
    server = FakeServer(args.latency, FAULTS)
    out, cache = work / "out", work / "cache"
    env = env_for(work, cache)
    segments: list[dict[str, object]] = []
    try:
        started = time.perf_counter()
        for kill_at in (args.articles // 3, 2 * args.articles // 3):
            victim = subprocess.Popen(cli(inputs, out, server.base_url, cache), env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while results_in(out) < kill_at and victim.poll() is None:
                time.sleep(0.05)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            segments.append({"killed_at_results": results_in(out),
                             "status_left": json.loads((out / "run.json").read_text())["status"]})
        final = subprocess.run(cli(inputs, out, server.base_url, cache), env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        stats = server.stats()
    finally:
        server.stop()

    results = {p.stem: load_result(p) for p in (out / "articles").glob("*.json")}
    expected = {article_id(article_text(i)): i for i in range(args.articles)}
    done_ids = {k for k, r in results.items() if r is not None}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    row_keys = Counter((r["article_id"], r["claim_id"]) for r in rows)
    errors = ([json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
              if (out / "errors.jsonl").exists() else [])
    failed_sources = {Path(str(e["source"])).name for e in errors}
    by_marker: dict[str, int] = stats["by_marker"]  # type: ignore[assignment]
    answers = [by_marker.get(marker(i), 0) for i in range(args.articles)]
    manifest = json.loads((out / "run.json").read_text())
    report["faulted"] = {
        "seconds": round(seconds, 1),
        "exit": final.returncode,
        "summary": final.stderr.strip().splitlines()[-1] if final.stderr.strip() else "",
        "kills": segments,
        "good_done": f"{len(done_ids & set(expected))}/{len(expected)}",
        "unexpected_results": len(done_ids - set(expected)),
        "duplicated_result_rows": sum(n - 1 for n in row_keys.values() if n > 1),
        "articles_answered_more_than_3_times": sum(a > 3 for a in answers),
        "extra_answers": sum(max(0, a - 3) for a in answers),
        "bad_files_in_errors": f"{len(bad & failed_sources)}/{len(bad)}",
        "good_articles_in_errors": sorted(failed_sources - bad),
        "server_faults": stats["faults"],
        "requests": stats["requests"],
        "failed_attempts_in_run_json": manifest["usage"]["failed_attempts"],
        "status": manifest["status"],
    }
    report["slowdown"] = round(report["faulted"]["seconds"] / report["fault_free"]["seconds"], 2)  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
