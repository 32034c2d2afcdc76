"""The Ray engine's workers (run/ray_engine.py makes them Ray actors; nothing here imports Ray
but the per-node model server's lookup).

A :class:`ShardRunner` loads the stance model and the embedder once, with explicit thread counts
so that the actors on one machine share its cores instead of oversubscribing them; keeps the
response cache on the machine's own disk (several actors of one machine share it, no machine
shares another's); reaches the embedded model through the one :class:`ModelServer` of its
machine. It reads shards (``read``) and analyses the articles the driver admitted (``analyse``),
writing each result into OUT as the local engine does: atomically, and idempotently (an article
written by this run before its call was lost is reported, not analysed again)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import OrderedDict
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.llm.backends import chosen_backend
from pipeline.llm.cache import ResponseCache
from pipeline.llm.costs import Tally
from pipeline.llm.factory import open_llm, use_transport_stack
from pipeline.llm.limiter import AdaptiveLimiter
from pipeline.llm.prices import ModelPrice
from pipeline.run.model import open_model
from pipeline.run.analysis import Outcome, arrival
from pipeline.run.dispatch import PathReport
from pipeline.run.inputs import iter_articles
from pipeline.run.output import load_result, result_path
from pipeline.run.scheduler import Scheduler
from pipeline.settings import Settings
from pipeline.stages.registry import ANALYZE, STAGE_BY_TOOL
from pipeline.text.ingest import Article

if TYPE_CHECKING:
    from pipeline.llm.client import LLM

KEPT_SHARDS = 4  # shards read and not yet analysed whose texts an actor keeps (the driver sends 2 at a time)
NETWORK_FILESYSTEMS = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "lustre", "gpfs", "ceph", "glusterfs", "beegfs", "fuse.sshfs",
}


class ShardRunner:
    def __init__(
        self, settings: Settings, out_dir: str, no_llm: bool, resume: bool, threads: int, price: ModelPrice | None,
        run_started: datetime,
    ):
        self.settings = settings
        self.out_dir = Path(out_dir)
        self.resume = resume
        self.run_started = run_started  # a result started after it was written by this run
        self.texts: OrderedDict[int, dict[str, Article]] = OrderedDict()
        # One shard analysed at a time: --concurrency means per actor what it means per local run;
        # the driver's second call waits here, read and ready, and starts the moment the first ends.
        self.one_shard = asyncio.Lock()
        if no_llm or settings.resolved_verifier(chosen_backend(settings).name) == "trained":
            from pipeline.stance import model as stance_model
            from pipeline.stance.embedder import shared_embedder

            stance_model.load()
            shared_embedder(threads)
        self.limiter = AdaptiveLimiter(settings.concurrency)
        self.cache = ResponseCache(node_local(settings.cache_dir) / "responses") if settings.cache else None
        self._open = ExitStack()
        self.llm: LLM | None = None
        if not no_llm:  # not started when no stage asks it (the embedded model in run): only named
            self.llm = self._open.enter_context(open_model(_on_this_node(settings), ANALYZE))
            use_transport_stack(
                self.llm, limiter=self.limiter, price=price, cache=self.cache, stage_by_tool=STAGE_BY_TOOL
            )

    async def ping(self) -> int:
        return os.getpid()

    async def read(self, shard: int, paths: list[str]) -> list[PathReport]:
        """Each path's articles as the driver admits them (digest, length, an earlier result);
        their texts stay here for ``analyse``. Read in a thread: the shards being analysed go on."""
        reports, texts = await asyncio.to_thread(self._read, paths)
        self.texts[shard] = texts
        while len(self.texts) > KEPT_SHARDS:
            self.texts.popitem(last=False)
        return reports

    def _read(self, paths: list[str]) -> tuple[list[PathReport], dict[str, Article]]:
        backend = self.llm.backend if self.llm is not None else None
        reports, texts = [], {}
        for path in paths:
            errors: list[str] = []
            arrivals = []
            for article in iter_articles(
                [Path(path)], lambda _source, reason: errors.append(reason), max_chars=self.settings.max_chars,
            ):
                arrivals.append(arrival(article, self.out_dir, backend, self.resume))
                texts[article.meta.id] = article
            reports.append(PathReport(arrivals, errors[0] if errors else None))
        return reports, texts

    async def analyse(self, shard: int, paths: list[str], articles: list[tuple[str, int]]) -> list[Outcome]:
        """The admitted ``articles`` (id, start number) of ``shard``, analysed as the local engine
        does; read again from ``paths`` when this actor did not read the shard (a requeued call)."""
        texts = self.texts.pop(shard, {})
        if any(article not in texts for article, _ in articles):
            texts = (await asyncio.to_thread(self._read, paths))[1]
        collected = _Collected()
        startable = []
        for article, number in articles:
            if (earlier := self._written_by_this_run(article)) is not None:
                collected.outcomes.append(earlier)
            elif article in texts:
                startable.append((texts[article], number))
            else:  # the file changed since the driver admitted it
                source = ", ".join(paths)
                reason = f"{source}: changed during the run (article {article} is gone)"
                collected.outcomes.append(Outcome(article, source, "failed", 0, stage="ingest", reason=reason))
        async with self.one_shard:
            scheduler = Scheduler(self.llm, self.settings, self.out_dir, self.limiter, collected)
            await scheduler.go(iter(startable))
        return collected.outcomes

    def _written_by_this_run(self, article: str) -> Outcome | None:
        result = load_result(result_path(self.out_dir, article))
        if result is None or result.run.started_at < self.run_started:
            return None
        tally = Tally(dict(result.run.usage))
        return Outcome(article, result.article.source, "done", len(result.text), tally, claims=len(result.claims),
                       denials=len(result.denials), seconds=result.run.seconds)

    def close(self) -> None:
        self._open.close()
        if self.cache is not None:
            self.cache.close()


class _Collected:
    """A shard's outcomes, returned to the driver at its end (the driver writes every file)."""

    stopping = False

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    async def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def unfinished(self, article_id: str, source: str) -> None:
        self.outcomes.append(Outcome(article_id, source, "unfinished", 0))


class ModelServer:
    """The embedded model of one machine, shared by its actors: one llama.cpp server per machine
    (a Ray actor pinned there by name), never one per actor."""

    def __init__(self, settings: Settings):
        self._open = ExitStack()
        self.url = self._open.enter_context(open_llm(settings)).endpoint

    def base_url(self) -> str:
        return self.url


def model_server_name(node_id: str) -> str:
    return f"factcheck-model-{node_id}"


def _on_this_node(settings: Settings) -> Settings:
    """The settings as this machine's actors use them: the embedded backend served by the
    machine's own model server (started by the first actor here that asks)."""
    if chosen_backend(settings).name != "embedded" or settings.base_url:
        return settings
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    server = ray.remote(ModelServer).options(  # type: ignore[attr-defined]
        name=model_server_name(node), get_if_exists=True, num_cpus=0, max_restarts=-1, lifetime="detached",
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
    ).remote(settings)
    return settings.model_copy(update={"base_url": ray.get(server.base_url.remote())})


def node_local(folder: Path) -> Path:
    """``folder``, or a private one in this machine's temporary folder when ``folder`` is on a
    network filesystem: a response cache (SQLite) is never shared between machines."""
    if _filesystem(folder) not in NETWORK_FILESYSTEMS:
        return folder
    return Path(tempfile.gettempdir()) / f"factcheck-{os.getuid()}"


def _filesystem(folder: Path) -> str:
    """The type of the filesystem holding ``folder`` (the longest mount point above it)."""
    path = folder.resolve()
    best, kind = "", ""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) >= 3 and path.is_relative_to(fields[1]) and len(fields[1]) > len(best):
                    best, kind = fields[1], fields[2]
    except OSError:
        return ""
    return kind
