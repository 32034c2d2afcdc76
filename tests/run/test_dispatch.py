"""The driver's dispatch loop (run/dispatch.py) with the run's real ledger, on a scripted cluster
in this process (no Ray): input order kept whatever order the workers answer in, lost calls
requeued, an article that kills its workers named and passed over, two calls a worker at most."""

import json
from collections import Counter
from pathlib import Path

from pipeline.llm.costs import Tally
from pipeline.run.analysis import Arrival, Outcome
from pipeline.run.budget import Budget
from pipeline.run.dispatch import PER_WORKER, STRIKES, Dispatcher, Lost, PathReport
from pipeline.run.ledger import Ledger
from pipeline.run.manifest import RunSummary, SkippedList
from pipeline.run.reserve import DiskReserve
from pipeline.settings import Settings


class Quiet:
    def emit(self, event: str, **fields: object) -> None:
        pass


class ScriptedCluster:
    """Workers that answer in the reverse order of the calls made (the latest first); an analyse
    call holding a ``killer`` article loses its worker."""

    def __init__(self, texts: dict[str, str], workers: int = 3, killer: str | None = None):
        self.texts = texts  # path -> its text's id (the same id twice: the same text)
        self.killer = killer
        self.calls: list[tuple[str, int, object]] = []  # (method, worker, what)
        self.pending: list[tuple[int, str, int, object]] = []
        self.load: Counter[int] = Counter()
        self.most = 0
        self.count = workers

    def workers(self) -> list[int]:
        return list(range(self.count))

    def read(self, worker: int, shard: int, paths: list[str]) -> object:
        return self._call("read", worker, paths)

    def analyse(self, worker: int, shard: int, paths: list[str], articles: list[tuple[str, int]]) -> object:
        return self._call("analyse", worker, articles)

    def _call(self, method: str, worker: int, what: object) -> object:
        handle = len(self.calls)
        self.calls.append((method, worker, what))
        self.load[worker] += 1
        self.most = max(self.most, self.load[worker])
        self.pending.append((handle, method, worker, what))
        return handle

    def wait(self, handles: list[object]) -> list[tuple[object, object]]:
        handle, method, worker, what = self.pending.pop()  # the latest call answers first
        self.load[worker] -= 1
        if method == "read":
            return [(handle, [PathReport([Arrival(self.texts[p], p, 100, "none")]) for p in what])]  # type: ignore[union-attr]
        ids = [article for article, _ in what]  # type: ignore[union-attr]
        if self.killer in ids:
            return [(handle, Lost("ActorDiedError: the actor died"))]
        return [(handle, [Outcome(i, f"source-of-{i}", "done", 100, Tally()) for i in ids])]

    def lost(self, worker: int) -> None:
        pass

    def cancel(self, handles: list[object]) -> None:
        pass


def ledger_for(tmp_path: Path) -> Ledger:
    out = tmp_path / "out"
    out.mkdir()
    summary = RunSummary(run_id="test")
    settings = Settings(cache_dir=tmp_path / "cache")
    budget = Budget(None, None, calls_per_window=2, window_chars=settings.window_chars)
    return Ledger(out, settings, True, summary, budget, Quiet(), SkippedList(out, summary, Quiet()), DiskReserve(out))


def test_the_first_source_of_a_text_in_input_order_is_analysed_whichever_worker_reads_first(tmp_path: Path) -> None:
    texts = {f"in/{i:02d}.txt": f"id{i:02d}" for i in range(12)}
    texts["in/11.txt"] = "id01"  # the last file has the first one's text
    ledger = ledger_for(tmp_path)
    cluster = ScriptedCluster(texts)
    Dispatcher(ledger, cluster, shard_size=2).run([Path(p) for p in texts])
    ledger.close()

    analysed = [a for method, _, what in cluster.calls if method == "analyse" for a, _ in what]  # type: ignore[union-attr]
    assert sorted(analysed) == sorted(set(texts.values())) and len(analysed) == 11
    assert (ledger.summary.done, ledger.summary.duplicates) == (11, 1)
    assert (ledger.out_dir / "skipped.txt").read_text() == "in/11.txt: same text as in/01.txt, analysed once\n"
    # The shards were read back to front, and still started in input order (the start numbers).
    numbers = {a: n for method, _, what in cluster.calls if method == "analyse" for a, n in what}  # type: ignore[union-attr]
    assert [numbers[f"id{i:02d}"] for i in range(11)] == list(range(1, 12))


def test_an_article_that_kills_its_workers_is_named_after_three_losses_and_the_run_goes_on(tmp_path: Path) -> None:
    texts = {f"in/{i:02d}.txt": f"id{i:02d}" for i in range(10)}
    ledger = ledger_for(tmp_path)
    cluster = ScriptedCluster(texts, killer="id05")
    dispatcher = Dispatcher(ledger, cluster, shard_size=4)
    dispatcher.run([Path(p) for p in texts])
    ledger.close()

    holding_killer = [what for method, _, what in cluster.calls if method == "analyse" and ("id05", 6) in what]  # type: ignore[operator]
    assert len(holding_killer) == 1 + STRIKES  # its shard once, then alone until its third loss
    assert [len(what) for what in holding_killer[1:]] == [1] * STRIKES  # type: ignore[arg-type]
    assert (ledger.summary.done, ledger.summary.failed) == (9, 1)
    error = json.loads((ledger.out_dir / "errors.jsonl").read_text())
    assert error["article"] == "id05" and error["stage"] == "worker" and "lost its worker 3 times" in error["reason"]
    usage = [json.loads(line)["article"] for line in (ledger.out_dir / "usage.jsonl").read_text().splitlines()]
    assert sorted(usage) == sorted(set(texts.values()) - {"id05"})  # the others once each
    assert dispatcher.requeued == 1 + STRIKES


def test_a_worker_never_has_more_than_two_calls_in_flight(tmp_path: Path) -> None:
    texts = {f"in/{i:03d}.txt": f"id{i:03d}" for i in range(200)}
    ledger = ledger_for(tmp_path)
    cluster = ScriptedCluster(texts, workers=4)
    Dispatcher(ledger, cluster, shard_size=3).run([Path(p) for p in texts])
    ledger.close()
    assert cluster.most == PER_WORKER and ledger.summary.done == 200
