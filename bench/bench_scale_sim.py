"""1,000 workers by simulation: the real driver (run/dispatch.py's Dispatcher and run/ledger.py's
Ledger, as ``run --engine ray`` uses them, writing a real OUT's usage/errors/skipped files) driven
by a discrete-event cluster instead of Ray (not a test; prints figures).

    python bench/bench_scale_sim.py                         # 1M paths, 1,000 workers, shard 16, 2 s + 60 s mixes
    python bench/bench_scale_sim.py --paths 200000 --sweep  # straggler tail against the shard size
    python bench/bench_scale_sim.py --paths 200000 --sweep --fixed  # the same without shards shrinking at the end

The simulated cluster: ``--nodes`` machines of ``--actors`` workers each. A worker analyses one
shard at a time in arrival order (the driver keeps two calls in flight each); it reads beside
that, as the real actor does (reading a path costs 5 ms);
an article's analysis is sampled (gamma, shape 4) around ``--service`` seconds: 2 s is --no-llm,
60 s the embedded model. One machine is lost at ``--loss-at`` of the run: its calls in flight are
lost and its workers come back (restarted elsewhere) ``--restart`` seconds later. 1 % of the paths
repeat an earlier text (the driver dedupes them). With ``--budget`` the run has a price and a
spending limit: each article's cost is sampled around $0.001 (gamma, shape 8), so the overshoot
past the limit is measured, not assumed.

Reported: driver CPU per completion (the process's CPU minus the simulator's own, timed around
each of its calls) and the completions per second it can sustain; the driver's RSS sampled along
the run (flat = constant memory); the straggler tail (time from 99 % of articles done to the end,
and the makespan over the ideal, total work / workers); the budget's overshoot.
"""

from __future__ import annotations

import argparse
import heapq
import random
import resource
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.llm.costs import Tally
from pipeline.llm.prices import ModelPrice
from pipeline.run.analysis import Arrival, Outcome
from pipeline.run.budget import Budget
from pipeline.run.dispatch import Dispatcher, Lost, PathReport
from pipeline.run.ledger import Ledger
from pipeline.run.manifest import RunSummary, SkippedList
from pipeline.run.reserve import DiskReserve
from pipeline.settings import Settings
from schemas import Usage

READ_SECONDS = 0.005
CHARS = 4000


class Quiet:
    def emit(self, event: str, **fields: object) -> None:
        pass


@dataclass
class Worker:
    node: int
    queue: deque[int] = field(default_factory=deque)  # handles waiting, in arrival order
    busy_until: float = 0.0
    down_until: float = -1.0


class SimCluster:
    """run/dispatch.py's Cluster on a virtual clock: ``wait`` jumps to the next completion."""

    def __init__(self, args: argparse.Namespace, rng: random.Random):
        self.args = args
        self.rng = rng
        self.now = 0.0
        self.pool = [Worker(n) for n in range(args.nodes) for _ in range(args.actors)]
        self.calls: dict[int, tuple[int, str, object]] = {}  # handle -> (worker, method, what)
        self.events: list[tuple[float, int]] = []  # (time, handle) of calls that will end
        self.lost_calls: dict[int, float] = {}
        self.revive: list[tuple[float, int]] = []
        self.handles = 0
        self.seconds = 0.0  # the simulator's own CPU, subtracted from the driver's
        self.done_at: Counter[int] = Counter()  # completions per second of virtual time: small, unlike a list of 1M
        self.work = 0.0  # sampled service seconds, all of it
        self.loss_at: float | None = None  # virtual time of the node loss, once the run is under way
        self.lost_node = -1
        self.end = 0.0

    def _timed(self, started: float) -> None:
        self.seconds += time.process_time() - started

    def workers(self) -> list[int]:
        started = time.process_time()
        try:
            return [i for i, w in enumerate(self.pool) if w.down_until < self.now]
        finally:
            self._timed(started)

    def read(self, worker: int, shard: int, paths: list[str]) -> int:
        started = time.process_time()
        handle = self._enqueue(worker, "read", paths, READ_SECONDS * len(paths))
        self._timed(started)
        return handle

    def analyse(self, worker: int, shard: int, paths: list[str], articles: list[tuple[str, int]]) -> int:
        started = time.process_time()
        shape = 4.0
        seconds = sum(self.rng.gammavariate(shape, self.args.service / shape) for _ in articles)
        self.work += seconds
        handle = self._enqueue(worker, "analyse", articles, seconds)
        self._timed(started)
        return handle

    def _enqueue(self, worker: int, method: str, what: object, seconds: float) -> int:
        """Analyses run one at a time per worker, in arrival order (ShardRunner's one-shard lock);
        a read runs beside them at once (in a thread of the actor), as in the real actor."""
        self.handles += 1
        handle = self.handles
        w = self.pool[worker]
        if method == "read":
            end = max(self.now, w.down_until) + seconds
        else:
            end = w.busy_until = max(self.now, w.busy_until) + seconds
        self.calls[handle] = (worker, method, what)
        heapq.heappush(self.events, (end, handle))
        return handle

    def wait(self, handles: list[object]) -> list[tuple[object, object]]:
        started = time.process_time()
        try:
            return self._wait()
        finally:
            self._timed(started)

    def _wait(self) -> list[tuple[object, object]]:
        if self.lost_calls:
            handle, _ = self.lost_calls.popitem()
            return [(handle, Lost("NodeDiedError: simulated"))]
        while True:
            if self.loss_at is not None and self.events and self.events[0][0] >= self.loss_at:
                self._lose_a_node()
                if self.lost_calls:
                    return self._wait()
            if not self.events:
                return []
            at, handle = heapq.heappop(self.events)
            if handle not in self.calls:
                continue  # lost with its node
            self.now = at
            worker, method, what = self.calls.pop(handle)
            if method == "read":
                return [(handle, [self._report(path) for path in what])]  # type: ignore[union-attr]
            outcomes = [self._outcome(article) for article, _ in what]  # type: ignore[union-attr]
            self.done_at[int(at)] += len(outcomes)
            self.end = max(self.end, at)
            return [(handle, outcomes)]

    def _lose_a_node(self) -> None:
        assert self.loss_at is not None
        self.now = self.loss_at
        self.loss_at = None
        self.lost_node = self.rng.randrange(self.args.nodes)
        for handle, (worker, _, _) in list(self.calls.items()):
            if self.pool[worker].node == self.lost_node:
                del self.calls[handle]
                self.lost_calls[handle] = self.now
        for w in self.pool:
            if w.node == self.lost_node:
                w.down_until = self.now + self.args.restart
                w.busy_until = w.down_until

    def _report(self, path: str) -> PathReport:
        number = int(path.rsplit("/", 1)[1].split(".")[0])
        text = number - 1 if number % 100 == 99 else number  # 1 % repeat the text before them
        return PathReport([Arrival(f"{text:016x}", path, CHARS, "none")])

    def _outcome(self, article: str) -> Outcome:
        tally = Tally()
        if self.args.budget:
            cost = self.rng.gammavariate(8.0, 0.001 / 8.0)
            tally.stages["claims"] = Usage(calls=2, prompt_tokens=2000, completion_tokens=400, cost_usd=cost)
        return Outcome(article, f"/archive/{int(article, 16):07d}.txt", "done", CHARS, tally, claims=3, seconds=2.0)

    def lost(self, worker: int) -> None:
        pass

    def cancel(self, handles: list[object]) -> None:
        for handle in handles:
            self.calls.pop(handle, None)  # type: ignore[call-overload]


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def paths(count: int, samples: list[tuple[int, float]], cluster: SimCluster, loss_fraction: float) -> Iterator[Path]:
    for i in range(count):
        if i % (count // 10) == 0:
            samples.append((i, rss_mib()))
        if i == int(count * loss_fraction) and cluster.loss_at is None and cluster.lost_node < 0:
            cluster.loss_at = cluster.now + 1.0  # mid-run: the walk is this far, the workers busy
        yield Path(f"/archive/{i:07d}.txt")


def simulate(args: argparse.Namespace, shard_size: int, service: float, count: int) -> dict[str, float]:
    args.service = service
    rng = random.Random(args.seed)
    cluster = SimCluster(args, rng)
    # OUT on tmpfs: the driver's fsyncs (one a shard: 31 a second at 500 completions/s) cost no
    # wall time here, where a simulated hour passes in seconds; its CPU is what is measured.
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as folder:
        out = Path(folder)
        summary = RunSummary(run_id="sim")
        settings = Settings(cache_dir=out / "cache", budget_usd=args.budget)
        price = ModelPrice(input=0.15, output=0.6) if args.budget else None
        budget = Budget(args.budget, price, calls_per_window=2, window_chars=settings.window_chars)
        ledger = Ledger(
            out, settings, True, summary, budget, Quiet(), SkippedList(out, summary, Quiet()), DiskReserve(out)
        )
        samples: list[tuple[int, float]] = []
        cpu, wall = time.process_time(), time.perf_counter()
        dispatcher = Dispatcher(ledger, cluster, shard_size, expected=None if args.fixed else count)
        dispatcher.run(paths(count, samples, cluster, args.loss_at))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        ledger.close()
        samples.append((count, rss_mib()))
    completions = summary.done
    driver = cpu - cluster.seconds
    end, p99, seen = cluster.end, 0.0, 0
    for second in sorted(cluster.done_at):
        seen += cluster.done_at[second]
        if seen >= 0.99 * completions:
            p99 = float(second)
            break
    ideal = cluster.work / len(cluster.pool)
    return {
        "completions": completions, "duplicates": summary.duplicates, "not_started": summary.not_started,
        "driver_cpu_us": 1e6 * driver / max(1, completions), "sustains_per_s": completions / max(driver, 1e-9),
        "sim_cpu_s": cluster.seconds, "wall_s": wall, "rss": " ".join(f"{r:.0f}" for _, r in samples[1:]),
        "makespan_h": end / 3600,
        "over_ideal": end / ideal if ideal else 0.0, "tail_s": end - p99, "limit": args.budget or 0.0,
        "spent": summary.total.cost_usd, "overshoot": summary.total.cost_usd - (args.budget or 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=125)
    parser.add_argument("--actors", type=int, default=8, help="workers per machine (125 x 8 = 1,000)")
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--services", type=float, nargs="+", default=[2.0, 60.0])
    parser.add_argument("--loss-at", type=float, default=0.5, help="share of the walk when a machine is lost")
    parser.add_argument("--restart", type=float, default=120.0)
    parser.add_argument("--budget", type=float, default=None, help="USD limit (articles cost ~$0.001)")
    parser.add_argument("--sweep", action="store_true", help="shard sizes 1, 4, 16, 64")
    parser.add_argument("--fixed", action="store_true", help="shards of the full size to the end (no count given)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = (1, 4, 16, 64) if args.sweep else (args.shard_size,)
    runs = [(size, service) for service in args.services for size in sizes]
    print(f"{args.paths:,} paths, {args.nodes * args.actors:,} workers ({args.nodes} x {args.actors}), "
          f"one machine lost at {args.loss_at:.0%} of the walk, back after {args.restart:.0f} s"
          + (f", budget ${args.budget:,.2f}" if args.budget else "")
          + (", shards of the full size to the end" if args.fixed else ", shards shrinking at the end of the input"))
    for size, service in runs:
        r = simulate(args, size, service, args.paths)
        print(
            f"shard {size:>3}, {service:>4.0f} s/article: {r['completions']:,.0f} done, "
            f"{r['duplicates']:,.0f} duplicates, "
            f"{r['not_started']:,.0f} not started | driver {r['driver_cpu_us']:.0f} us CPU a completion = "
            f"{r['sustains_per_s']:,.0f} completions/s | RSS at each tenth of the walk {r['rss']} MiB | "
            f"makespan {r['makespan_h']:.2f} h = {r['over_ideal']:.3f} x ideal, "
            f"tail (99% -> 100%) {r['tail_s']:.0f} s | wall {r['wall_s']:.0f} s (simulator {r['sim_cpu_s']:.0f} s CPU)"
            + (f" | budget ${r['limit']:.2f}, spent ${r['spent']:.4f}, overshoot ${r['overshoot']:+.4f}"
               if args.budget else "")
        )


if __name__ == "__main__":
    main()
