"""Scaling of ``run --engine ray``: 8 workers (Ray actors on a local cluster, loopback only), each
article 2 s of sleep-like waiting, against the ideal of 8 articles every 2 s (not a test; prints
figures). Needs the ray extra.

    python bench/bench_ray_scaling.py                       # 8 actors, 320 articles, shard size 2
    python bench/bench_ray_scaling.py --actors 4 --articles 160

The stages sleep: the fake OpenAI server (a separate process) answers each call after 1 s, and
an article makes two calls (claims, verify), one article at a time per actor (``--concurrency 1``).
So the 2 cores of this machine are not what is measured: the engine is, its dispatch, its
round trips and its tail. The real driver, ledger, actors and analysis run; only the model sleeps.

Throughput is measured in steady state: from the first article's start (its end minus 2 s) to
the last article's end, against articles x 2 s / actors. Starting the cluster and the actors is
reported apart (once per run, not per article).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only

import ray  # noqa: E402

from pipeline.llm.client import LLM  # noqa: E402
from pipeline.run.driver import run  # noqa: E402
from pipeline.run.inputs import discover  # noqa: E402
from pipeline.run.ray_engine import RayEngine  # noqa: E402
from pipeline.settings import Settings  # noqa: E402
from pipeline.testing.articles import write_articles  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"


class Clock:
    """A reporter that keeps when each article ended."""

    def __init__(self) -> None:
        self.done: list[float] = []

    def emit(self, event: str, **fields: object) -> None:
        if event == "article_done":
            self.done.append(time.monotonic())

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, default=8)
    parser.add_argument("--articles", type=int, default=320)
    parser.add_argument("--shard-size", type=int, default=2)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds a call (two calls an article)")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", str(args.latency)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    started = time.monotonic()
    ray.init(num_cpus=args.actors, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    cluster_seconds = time.monotonic() - started
    try:
        with tempfile.TemporaryDirectory() as folder:
            inputs, out = Path(folder) / "in", Path(folder) / "out"
            write_articles(inputs, args.articles)
            settings = Settings(backend="openai", base_url=base_url, api_key="bench", model=MODEL, concurrency=1,
                                cache=False, verifier="llm", timeout=60)
            files, missing = discover([inputs], exclude=out)
            clock = Clock()

            def engine(price: object) -> RayEngine:
                return RayEngine(settings, out, price, no_llm=False, resume=True,  # type: ignore[arg-type]
                                 actors_per_node=args.actors, shard_size=args.shard_size)

            async def go() -> object:
                llm = LLM(backend="openai", base_url=base_url, api_key="bench", model=MODEL)
                try:
                    return await run(llm, files, missing, out, settings, reporter=clock, engine=engine)
                finally:
                    await llm.close()

            began = time.monotonic()
            summary = asyncio.run(go())
            total = time.monotonic() - began
            with urllib.request.urlopen(base_url.replace("/v1", "/_fake/stats")) as answer:
                requests = int(json.load(answer)["requests"])
    finally:
        ray.shutdown()
        server.terminate()
        server.wait(10)
    per_article = 2 * args.latency
    steady = clock.done[-1] - (clock.done[0] - per_article)
    ideal = args.articles * per_article / args.actors
    print(f"{args.actors} actors, {args.articles} articles, {per_article:.1f} s an article, "
          f"shard size {args.shard_size}: "
          f"{summary.done} done, {requests} requests")  # type: ignore[attr-defined]
    print(f"steady state {steady:.1f} s against the ideal {ideal:.1f} s: {ideal / steady:.1%} of ideal throughput "
          f"({args.articles / steady:.2f} articles/s, ideal {args.actors / per_article:.2f})")
    print(f"whole run {total:.1f} s (actors starting and the first articles: {total - steady:.1f} s); "
          f"local cluster start {cluster_seconds:.1f} s")


if __name__ == "__main__":
    main()
