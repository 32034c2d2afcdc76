"""``run --engine ray``: the articles analysed by :class:`ShardRunner` actors on a Ray cluster
(docs/scale-out.md), the driver's dispatch loop (run/dispatch.py) handing them shards.

Ray Core only: async actors, ``ray.wait``. Retries are the driver's: an actor restarts when it
dies (``max_restarts=-1``), but a call is never retried by Ray (``max_task_retries=0``): a
retried call would wait for that same actor, for minutes when its machine is gone; the driver
requeues the shard on another actor instead, at once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.llm.backends import chosen_backend
from pipeline.llm.named import NamedModel, embedded_named
from pipeline.llm.prices import ModelPrice
from pipeline.run.dispatch import Dispatcher, Lost
from pipeline.run.inputs import one_line
from pipeline.run.ledger import Ledger
from pipeline.run.shard_runner import ShardRunner, model_server_name
from pipeline.settings import Settings
from pipeline.text.ingest import InputError

DEFAULT_SHARD_SIZE = 16  # paths a call: ~30 s of --no-llm work, a few ms of dispatch
WAIT_SLICE = 1.0  # seconds a ray.wait blocks at most: Ctrl-C and SIGTERM are seen at once
NO_WORKER_TIMEOUT = 300.0  # seconds with no actor usable before the run gives up


class RayUnavailableError(InputError):
    """Ray is not installed, or the cluster cannot be reached."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "--engine ray needs Ray: pip install --no-deps -r requirements-ray.lock (or factcheck[ray]); "
            "see docs/scale-out.md"
        ) from None
    return ray


def model_on_cluster(settings: Settings) -> NamedModel | None:
    """For the embedded backend the driver starts no model; None for a backend it can open (a client only)."""
    if chosen_backend(settings).name != "embedded" or settings.base_url:
        return None
    return embedded_named(settings, "embedded (one server per machine)")


class RayEngine:
    name = "ray"
    limiter = None  # each actor has its own (run.json names none)

    def __init__(
        self, settings: Settings, out_dir: Path, price: ModelPrice | None, *, no_llm: bool, resume: bool,
        address: str | None = None, actors_per_node: int | None = None, shard_size: int = DEFAULT_SHARD_SIZE,
    ):
        self.settings = settings
        self.out_dir = out_dir
        self.price = price
        self.no_llm = no_llm
        self.resume = resume
        self.address = address
        self.actors_per_node = actors_per_node
        self.shard_size = shard_size
        self.requeued = 0

    async def go(self, ledger: Ledger, files: Iterable[Path]) -> None:
        """Blocking on purpose: the driver's loop has nothing else to do, and a blocking wait sees
        an interrupt at once."""
        ray = import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            try:
                # A cluster started here serves this machine only (loopback); a real one is named by --address.
                local = self.address is None and not os.environ.get("RAY_ADDRESS")
                here = {"_node_ip_address": "127.0.0.1"} if local else {}
                ray.init(
                    address=self.address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                    **here,
                )
            except (ConnectionError, RuntimeError, ValueError) as error:
                where = self.address or "auto"
                raise RayUnavailableError(f"cannot reach the Ray cluster at {where}: {one_line(error)}") from None
        cluster = RayCluster(ray, self._start_actors(ray))
        dispatcher = Dispatcher(ledger, cluster, self.shard_size, expected=ledger.expected_files)
        try:
            dispatcher.run(files)
        finally:
            self.requeued = dispatcher.requeued
            cluster.close()
            if started_here:
                ray.shutdown()

    def _start_actors(self, ray: Any) -> list[Any]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
        if not nodes:
            raise RayUnavailableError("the Ray cluster has no machine with a CPU to run on")
        runner = ray.remote(ShardRunner)
        started = datetime.now(UTC)
        out = str(self.out_dir.resolve())
        actors = []
        for node in nodes:
            cpus = float(node["Resources"]["CPU"])
            count = self.actors_per_node or max(1, int(cpus) // 2)
            threads = max(1, int(cpus // count))  # ONNX threads: the node's cores shared, not oversubscribed
            for _ in range(count):
                actors.append(runner.options(
                    num_cpus=cpus / count, max_restarts=-1, max_task_retries=0, max_concurrency=64,
                    # soft: after its machine dies, an actor restarts wherever there is room
                    scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=True),
                ).remote(self.settings, out, self.no_llm, self.resume, threads, self.price, started))
        return actors

    def close(self) -> str | None:
        return None


class RayCluster:
    """The actors, as the dispatch loop sees them (run/dispatch.py's ``Cluster``). An actor whose
    call was lost is not used again until it answers a ping: restarted, or never (its machine is
    gone and no other has room), while the others go on."""

    def __init__(self, ray: Any, actors: list[Any]):
        self.ray = ray
        self.actors = actors
        self.usable = set(range(len(actors)))
        self.probes: dict[Any, int] = {}
        self._idle_since = time.monotonic()
        for worker in range(len(actors)):  # started (models loaded) before the first shard goes out
            self.lost(worker)
        self.usable.clear()

    def workers(self) -> list[int]:
        return sorted(self.usable)

    def read(self, worker: int, shard: int, paths: list[str]) -> Any:
        return self.actors[worker].read.remote(shard, paths)

    def analyse(self, worker: int, shard: int, paths: list[str], articles: list[tuple[str, int]]) -> Any:
        return self.actors[worker].analyse.remote(shard, paths, articles)

    def lost(self, worker: int) -> None:
        self.usable.discard(worker)
        if worker not in self.probes.values():
            self.probes[self.actors[worker].ping.remote()] = worker

    def wait(self, handles: list[Any]) -> list[tuple[Any, object]]:
        ray = self.ray
        while True:
            refs = handles + list(self.probes)
            if not refs:  # nothing out and every actor usable: the dispatch loop has more to hand out
                return []
            ready, _ = ray.wait(refs, num_returns=1, timeout=WAIT_SLICE)
            if not ready:
                if not self.usable and not handles and time.monotonic() - self._idle_since > NO_WORKER_TIMEOUT:
                    raise RayUnavailableError(
                        f"no Ray actor could run for {NO_WORKER_TIMEOUT:.0f} s: is the cluster up?"
                    )
                continue
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            done: list[tuple[Any, object]] = []
            revived = False
            for ref in ready:
                if ref in self.probes:
                    revived |= self._probed(ref)
                    continue
                try:
                    done.append((ref, ray.get(ref)))
                except ray.exceptions.RayError as error:
                    done.append((ref, Lost(_reason(error))))
            if done or revived:
                self._idle_since = time.monotonic()
                return done

    def _probed(self, ref: Any) -> bool:
        worker = self.probes.pop(ref)
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayError as error:
            if getattr(error, "actor_init_failed", False):  # its models or client could not load: none will
                lines = [line for line in str(error).strip().splitlines() if line.strip()]
                cause = lines[-1].strip() if lines else str(error)
                raise RayUnavailableError(f"a Ray actor could not start: {cause}") from None
            time.sleep(0.2)  # restarting, or its machine is gone: asked again, without spinning
            self.lost(worker)
            return False
        self.usable.add(worker)
        return True

    def cancel(self, handles: list[Any]) -> None:
        for ref in handles:
            self.ray.cancel(ref)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        for node in self.ray.nodes():  # the machines' embedded model servers, if any were started
            try:
                self.ray.kill(self.ray.get_actor(model_server_name(node["NodeID"])))
            except ValueError:  # none on that machine
                continue


def _reason(error: Exception) -> str:
    """One line on why a call was lost: Ray's messages run to pages."""
    return f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0][:200]}"
