"""The dispatch loop of a run on many workers, owned by the driver and free of Ray: the Ray engine
(run/ray_engine.py) gives it a cluster of actors, the simulation (bench/bench_scale_sim.py) a
discrete-event one, and both run this same code with the run's ledger.

The driver walks the input names only and cuts them into shards of ``shard_size`` paths. A shard
goes to a worker in two calls: ``read`` (the worker ingests the files and says, per article, its
digest, length and whether OUT holds a result of it) and ``analyse`` (the articles the ledger
admitted, in input order: duplicates, resume and the budget are decided here, once). At most two
calls per worker are in flight. A call lost with its worker (the process or its machine died) is
requeued elsewhere, cut into single paths or articles; one that loses its worker three times on
its own is named in errors.jsonl and the run goes on.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal, Protocol

from pipeline.llm.errors import EndpointError
from pipeline.run.analysis import Arrival, Outcome
from pipeline.run.ledger import Ledger

PER_WORKER = 2  # calls in flight per worker: one running, one ready to start the moment it ends
STRIKES = 3  # losses of a worker by one path or article alone before it is failed
Phase = Literal["read", "analyse"]


@dataclass(frozen=True)
class PathReport:
    """What a worker found in one input path: its articles, and what ended the reading, if anything."""

    arrivals: list[Arrival]
    unreadable: str | None = None


class Lost:
    """A call that ended with its worker: the process or its machine died, or the call raised."""

    def __init__(self, reason: str):
        self.reason = reason


class Cluster(Protocol):
    """The workers as the dispatch loop sees them. A call returns a handle; ``wait`` blocks until at
    least one handle is done or a worker became usable again, and gives each done handle with its
    value (a list of :class:`PathReport` for ``read``, of :class:`Outcome` for ``analyse``) or a
    :class:`Lost`."""

    def workers(self) -> list[int]: ...

    def read(self, worker: int, shard: int, paths: list[str]) -> object: ...

    def analyse(self, worker: int, shard: int, paths: list[str], articles: list[tuple[str, int]]) -> object: ...

    def wait(self, handles: list[object]) -> list[tuple[object, object]]: ...

    def lost(self, worker: int) -> None: ...

    def cancel(self, handles: list[object]) -> None: ...


@dataclass
class Shard:
    number: int
    paths: list[str]
    reports: list[PathReport | None] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)  # admitted article id -> its path's index
    open_articles: int = 0  # admitted and not yet ended
    reader: int | None = None  # the worker that read it holds its texts: analysed there if it can

    def __post_init__(self) -> None:
        self.reports = [None] * len(self.paths)


@dataclass
class Call:
    shard: Shard
    phase: Phase
    items: list[int] | list[str]  # read: indexes into shard.paths; analyse: admitted article ids
    worker: int = -1
    prefer: int | None = None


class Dispatcher:
    def __init__(self, ledger: Ledger, cluster: Cluster, shard_size: int, expected: int | None = None):
        self.ledger = ledger
        self.cluster = cluster
        self.shard_size = max(1, shard_size)
        self.fatal: EndpointError | None = None
        self.queue: deque[Call] = deque()  # calls to make before any new shard: requeued, or admitted
        self.inflight: dict[object, Call] = {}
        self.load: dict[int, int] = {}  # calls in flight per worker
        self.open: dict[int, Shard] = {}  # shards taken from the walk and not yet ended
        self.next_admit = 0  # the shard whose reading is admitted next: input order
        self.strikes: dict[str, int] = {}  # path or article id -> calls it lost on its own
        self.numbers: dict[str, int] = {}  # admitted article id -> its start number (its calls' priority)
        self.expected = expected  # input paths, when counted before the run: shards shrink at its end
        self._taken = 0  # paths taken from the walk so far
        self._walk: Iterator[Path] | None = None
        self._shards = 0
        self.requeued = 0  # calls requeued after a loss (the run's figure for run.json and the bench)

    @property
    def stopping(self) -> bool:
        return self.fatal is not None or self.ledger.stopping

    def run(self, files: Iterable[Path]) -> None:
        """Every shard of ``files`` through the workers; an EndpointError stops the run (raised)."""
        self._walk = self.ledger.files(files)
        try:
            while True:
                self._fill()
                if not self.inflight and (self.stopping or self._walk is None and not self.queue):
                    break
                for handle, value in self.cluster.wait(list(self.inflight)):
                    self._ended(self.inflight.pop(handle), value)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): the articles being analysed are named
            for call in self.inflight.values():
                if call.phase == "analyse":
                    for article in call.items:
                        source = call.shard.paths[call.shard.where[article]]  # type: ignore[index]
                        self.ledger.unfinished(article, source)  # type: ignore[arg-type]
            raise
        finally:
            if self.inflight:  # interrupted or stopped: nothing more will be read from them
                self.cluster.cancel(list(self.inflight))
        if self._walk is None:
            self.ledger.counted()
        if self.fatal is not None:
            raise self.fatal

    # -- handing out calls ---------------------------------------------------------------------

    def _fill(self) -> None:
        workers = self.cluster.workers()  # once a fill: with 1,000 workers a scan is what costs
        usable = set(workers)
        while not self.stopping:
            call = self._next_call(len(workers))
            if call is None:
                return
            worker = self._free_worker(call.prefer, workers, usable)
            if worker is None:
                self.queue.appendleft(call)
                return
            self._submit(call, worker)

    def _next_call(self, workers: int) -> Call | None:
        if self.queue:
            return self.queue.popleft()
        if self._walk is None or len(self.open) >= (PER_WORKER + 1) * max(1, workers):
            return None  # shards read and waiting for their turn count too: memory stays bounded
        paths = [str(path) for path in islice(self._walk, self._size(workers))]
        self._taken += len(paths)
        if not paths:
            self._walk = None
            self._admit_ready()  # the last shards may all be read already
            return None
        shard = Shard(self._shards, paths)
        self._shards += 1
        self.open[shard.number] = shard
        return Call(shard, "read", list(range(len(paths))))

    def _size(self, workers: int) -> int:
        """Guided self-scheduling: full shards while the input is long, then ever smaller ones, down to
        one path, so that the run ends with every worker busy to the last minutes, not one worker
        finishing a long shard alone (``expected``: the paths the driver counted, when it did)."""
        if self.expected is None:
            return self.shard_size
        left = max(0, self.expected - self._taken)
        return max(1, min(self.shard_size, math.ceil(left / (2 * PER_WORKER * max(1, workers)))))

    def _free_worker(self, prefer: int | None, workers: list[int], usable: set[int]) -> int | None:
        """``prefer`` (the worker holding the shard's texts) if it has a free slot, else an idle
        worker, else one with a free slot."""
        if prefer is not None and prefer in usable and self.load.get(prefer, 0) < PER_WORKER:
            return prefer
        some = None
        for worker in workers:
            load = self.load.get(worker, 0)
            if load == 0:
                return worker
            if load < PER_WORKER and some is None:
                some = worker
        return some

    def _submit(self, call: Call, worker: int) -> None:
        call.worker = worker
        shard = call.shard
        if call.phase == "read":
            paths = [shard.paths[i] for i in call.items]  # type: ignore[index]
            handle = self.cluster.read(worker, shard.number, paths)
        else:
            ids: list[str] = call.items  # type: ignore[assignment]
            paths = [shard.paths[i] for i in sorted({shard.where[i] for i in ids})]
            handle = self.cluster.analyse(worker, shard.number, paths, [(i, self.numbers[i]) for i in ids])
        self.inflight[handle] = call
        self.load[worker] = self.load.get(worker, 0) + 1

    # -- what comes back -----------------------------------------------------------------------

    def _ended(self, call: Call, value: object) -> None:
        self.load[call.worker] -= 1
        if isinstance(value, Lost):
            self.cluster.lost(call.worker)
            self._lost(call, value.reason)
        elif call.phase == "read":
            for index, report in zip(call.items, value, strict=True):  # type: ignore[call-overload]
                call.shard.reports[index] = report
            call.shard.reader = call.worker
            self._admit_ready()
        else:
            self._analysed(call, value)  # type: ignore[arg-type]

    def _admit_ready(self) -> None:
        """Admit read shards in input order: the first source of a text is the one analysed, as in
        a local run, whichever worker read it first."""
        while (shard := self.open.get(self.next_admit)) is not None and None not in shard.reports:
            self.next_admit += 1
            admitted: list[str] = []
            for index, report in enumerate(shard.reports):
                assert report is not None
                for article in report.arrivals:
                    if not self.stopping and self.ledger.admit(article):
                        shard.where[article.id] = index
                        self.numbers[article.id] = self.ledger.started
                        admitted.append(article.id)
                if report.unreadable is not None:
                    self.ledger.unreadable(shard.paths[index], report.unreadable)
            shard.reports = []  # read and admitted: only the admitted ids are kept
            shard.open_articles = len(admitted)
            if admitted:
                self.queue.append(Call(shard, "analyse", admitted, prefer=shard.reader))
            else:
                del self.open[shard.number]

    def _analysed(self, call: Call, outcomes: list[Outcome]) -> None:
        shard = call.shard
        self.ledger.record_batch(outcomes)
        ended = {outcome.article for outcome in outcomes}
        for outcome in outcomes:
            if outcome.kind == "fatal" and self.fatal is None:
                error = outcome.error
                self.fatal = error if isinstance(error, EndpointError) else EndpointError(outcome.reason or "")
                self.cluster.cancel(list(self.inflight))
        missing = [i for i in call.items if i not in ended]  # cancelled by a stop on its worker
        for article in missing:
            self.ledger.release(article)  # type: ignore[arg-type]
        if missing and not self.stopping:  # not this call's doing: asked again, no strike
            self.queue.append(Call(shard, "analyse", missing))
            self._close(shard, len(call.items) - len(missing))
        else:
            self._close(shard, len(call.items))

    def _close(self, shard: Shard, ended: int) -> None:
        shard.open_articles -= ended
        if shard.open_articles <= 0 and shard.number < self.next_admit:
            self.open.pop(shard.number, None)
            for article in shard.where:
                self.numbers.pop(article, None)

    def _lost(self, call: Call, reason: str) -> None:
        """Requeue a lost call elsewhere, one path or article a call, so that what kills workers is
        found; one that was lost alone ``STRIKES`` times ends as a failure, and the run goes on."""
        if self.stopping:
            if call.phase == "analyse":
                for article in call.items:
                    source = call.shard.paths[call.shard.where[article]]  # type: ignore[index]
                    self.ledger.unfinished(article, source)  # type: ignore[arg-type]
            return
        self.requeued += 1
        shard = call.shard
        if len(call.items) > 1:
            self.queue.extend(Call(shard, call.phase, [item]) for item in call.items)  # type: ignore[list-item]
            return
        item = call.items[0]
        key = shard.paths[item] if isinstance(item, int) else item
        self.strikes[key] = strikes = self.strikes.get(key, 0) + 1
        if strikes < STRIKES:
            self.queue.append(Call(shard, call.phase, [item]))  # type: ignore[list-item]
            return
        why = f"lost its worker {STRIKES} times ({reason}); not analysed, the run went on"
        if isinstance(item, int):  # a file that kills whoever reads it
            shard.reports[item] = PathReport([], f"{key}: {why}")
            self._admit_ready()
        else:
            source = shard.paths[shard.where[item]]
            self.ledger.record_batch([Outcome(item, source, "failed", 0, stage="worker", reason=f"{source}: {why}")])
            self._close(shard, 1)
