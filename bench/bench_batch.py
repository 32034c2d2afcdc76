"""Benchmark of batch runs against the fake OpenAI server (not a test; prints figures).

    .venv/bin/python bench/bench_batch.py            # all parts
    .venv/bin/python bench/bench_batch.py --memory-sizes 1000 10000

1. throughput: 200 articles, 200 ms per request, concurrency 16, against the bound
   articles x calls per article x latency / concurrency;
2. warm re-run of the same 200 (same OUT): zero calls, wall time (in process and via the CLI);
3. CPU per article outside the LLM client (ingest, stage post-processing, span alignment,
   writes), at concurrency 1 with a zero-latency server;
4. peak RSS of `factcheck run` for each memory size (the CLI in a child process).

The fake server runs in its own process so its CPU is not counted against the client.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.llm.client import LLM, Reply  # noqa: E402
from pipeline.run.inputs import discover  # noqa: E402
from pipeline.run.driver import run  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.testing.articles import write_articles  # noqa: E402

CALLS_PER_ARTICLE = 3


class FakeServer:
    def __init__(self, latency: float):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", str(latency)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def requests(self) -> int:
        with urllib.request.urlopen(self.base_url.replace("/v1", "/_fake/stats")) as answer:
            return int(json.load(answer)["requests"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class TimedLLM(LLM):
    """Adds up the CPU spent inside LLM calls (request building, HTTP, parsing, validation)."""

    cpu_in_calls = 0.0

    async def ask(self, *args: Any, **kwargs: Any) -> Reply[Any]:
        started = time.process_time()
        try:
            return await super().ask(*args, **kwargs)
        finally:
            TimedLLM.cpu_in_calls += time.process_time() - started


class CpuMarks:
    """Process CPU time and LLM-call CPU at each finished article."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []

    def emit(self, event: str, **fields: object) -> None:
        if event in ("run_started", "article_done"):
            self.marks.append((time.process_time(), TimedLLM.cpu_in_calls))

    def close(self) -> None:
        pass


def llm_for(server: FakeServer, cls: type[LLM] = LLM) -> LLM:
    return cls(
        backend="openai", base_url=server.base_url, api_key="bench", model="gpt-4o-mini", timeout=30, max_attempts=3
    )


def run_once(server: FakeServer, inputs: Path, out: Path, cache: Path, concurrency: int,
             cls: type[LLM] = LLM, reporter: Any = None) -> tuple[float, Any]:
    settings = Settings(cache_dir=cache, concurrency=concurrency, _env_file=None)  # type: ignore[call-arg]
    llm = llm_for(server, cls)
    files, skipped = discover([inputs], exclude=out)

    async def go() -> Any:
        try:
            return await run(llm, files, skipped, out, settings, reporter=reporter)
        finally:
            await llm.close()

    started = time.perf_counter()
    summary = asyncio.run(go())
    return time.perf_counter() - started, summary


def throughput(work: Path, articles: int, latency: float, concurrency: int) -> None:
    server = FakeServer(latency)
    try:
        inputs = work / "throughput-in"
        write_articles(inputs, articles)
        out, cache = work / "throughput-out", work / "throughput-cache"
        wall, summary = run_once(server, inputs, out, cache, concurrency)
        bound = articles * CALLS_PER_ARTICLE * latency / concurrency
        print(f"[1] {articles} articles, {latency * 1000:.0f} ms/request, concurrency {concurrency}: "
              f"wall {wall:.2f} s, bound {bound:.2f} s, efficiency {bound / wall:.1%}; "
              f"{summary.done} done, {summary.total.calls} calls, {server.requests()} requests at the server")

        before = server.requests()
        wall, summary = run_once(server, inputs, out, cache, concurrency)
        print(f"[2] warm re-run (same OUT), in process: {wall:.2f} s, {server.requests() - before} requests, "
              f"{summary.reused} reused")
        (work / "none.toml").touch()  # an empty config file: no settings from the caller's
        env = {**os.environ, "FACTCHECK_CACHE_DIR": str(cache), "OPENAI_API_KEY": "bench",
               "FACTCHECK_CONFIG": str(work / "none.toml")}
        before = server.requests()
        started = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-c", "from pipeline.cli import main; main()", "run", str(inputs), "--out", str(out),
             "--base-url", server.base_url, "--model", "gpt-4o-mini", "--concurrency", str(concurrency), "--quiet"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        print(f"[2] warm re-run (same OUT), whole CLI process: {time.perf_counter() - started:.2f} s, "
              f"{server.requests() - before} requests, exit {cli.returncode}")
        wall, summary = run_once(server, inputs, work / "fresh-out", cache, concurrency)
        print(f"[2] fresh OUT, warm cache, in process: {wall:.2f} s, {summary.total.cache_hits} cache hits, "
              f"{summary.total.calls} calls")
    finally:
        server.stop()


def cpu_per_article(work: Path, articles: int) -> None:
    server = FakeServer(0.0)
    try:
        inputs = work / "cpu-in"
        write_articles(inputs, articles)
        marks = CpuMarks()
        run_once(server, inputs, work / "cpu-out", work / "cpu-cache", 1, TimedLLM, marks)
        outside = [
            (t1 - t0) - (c1 - c0) for (t0, c0), (t1, c1) in zip(marks.marks, marks.marks[1:], strict=False)
        ]
        inside = [c1 - c0 for (_, c0), (_, c1) in zip(marks.marks, marks.marks[1:], strict=False)]
        print(f"[3] CPU per article outside the LLM client, concurrency 1, {articles} articles: "
              f"median {statistics.median(outside) * 1000:.2f} ms, "
              f"p90 {statistics.quantiles(outside, n=10)[-1] * 1000:.2f} ms; "
              f"inside the client (3 calls: openai + instructor + transports): "
              f"median {statistics.median(inside) * 1000:.2f} ms")
    finally:
        server.stop()


def memory(work: Path, sizes: list[int], concurrency: int) -> None:
    server = FakeServer(0.0)
    try:
        for size in sizes:
            inputs = work / f"mem-{size}-in"
            write_articles(inputs, size)
            (work / "none.toml").touch()
            env = {**os.environ, "FACTCHECK_CACHE_DIR": str(work / f"mem-{size}-cache"), "OPENAI_API_KEY": "bench",
                   "FACTCHECK_CONFIG": str(work / "none.toml")}
            script = (
                "import resource, sys\n"
                "from pipeline.cli import main\n"
                "try:\n    main()\n"
                "except SystemExit as e:\n"
                "    print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, e.code, file=sys.stderr)\n"
            )
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", script, "run", str(inputs), "--out", str(work / f"mem-{size}-out"),
                 "--base-url", server.base_url, "--model", "gpt-4o-mini", "--concurrency", str(concurrency), "--quiet"],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )
            peak = next(line for line in done.stderr.splitlines() if line.startswith("peak")).split()
            print(f"[4] {size} articles: peak RSS {int(peak[1]) / 1024:.0f} MiB, exit {peak[2]}, "
                  f"{time.perf_counter() - started:.0f} s")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cpu-articles", type=int, default=100)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--parts", default="1234", help="which parts to run, e.g. 12")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp:
        work = Path(tmp)
        if "1" in args.parts or "2" in args.parts:
            throughput(work, args.articles, args.latency, args.concurrency)
        if "3" in args.parts:
            cpu_per_article(work, args.cpu_articles)
        if "4" in args.parts:
            memory(work, args.memory_sizes, 32)
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
