"""Running the pipeline over files and folders into an output folder: the driver every engine
shares. It takes OUT's lock, walks the inputs, and keeps the run's book (run/ledger.py: which
articles start, what became of each); an engine runs the admitted articles, in this process
(run/local.py, the default) or on a Ray cluster (run/ray_engine.py).
(Inputs: run/inputs.py; the folder's layout: run/output.py; run.json: run/manifest.py.)

Resuming is the default: an article whose valid result is already in OUT_DIR is not
analysed again, and every LLM answer is in the response cache, so a run killed at any
point and started again redoes no finished article and re-asks no finished call.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline._io import DISK_FULL, environment_fault
from pipeline.llm.errors import EndpointError
from pipeline.llm.prices import ModelPrice, price_for
from pipeline.run.budget import Budget
from pipeline.run.inputs import Inputs, one_line
from pipeline.run.ledger import Ledger
from pipeline.run.local import LocalEngine
from pipeline.run.lock import OutputLock
from pipeline.run.manifest import Manifest, RunSummary, SkippedList
from pipeline.run.output import check_out_dir, check_writable, result_files, set_aside_errors, sweep_temporaries
from pipeline.run.output import write_results_table
from pipeline.run.progress import Reporter
from pipeline.run.reserve import DiskReserve
from pipeline.settings import Settings
from pipeline.stages.registry import calls_per_window
from pipeline.text.ingest import InputError

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM


class Engine(Protocol):
    name: str

    async def go(self, ledger: Ledger, files: Iterable[Path]) -> None: ...

    def close(self) -> str | None: ...


EngineFor = Callable[[ModelPrice | None], Engine]  # the engine of a run, given the model's price


class _Quiet:
    def emit(self, event: str, **fields: object) -> None:
        pass

    def close(self) -> None:
        pass


async def run(
    llm: LLM | None,
    files: Iterable[Path],
    missing: list[str],
    out_dir: Path,
    settings: Settings,
    *,
    resume: bool = True,
    stories: bool = False,
    reporter: Reporter | None = None,
    lock: OutputLock | None = None,
    engine: EngineFor | None = None,
) -> RunSummary:
    """Analyse every article with bounded concurrency; one article's failure is recorded and
    does not stop the others. ``files`` is streamed (an :class:`Inputs` is walked as the run goes);
    ``missing`` are lines about inputs given that do not exist: each is a failed input.
    ``llm=None``: no LLM at all (``run --no-llm``): claims from code's candidates, denials by rule,
    verdicts by the stance model; a later run with an LLM redoes those results.
    ``settings`` hold the concurrency, the budget and whether the response cache is used; what is
    this call's alone: ``resume`` keeps the articles already finished in OUT (else they are done
    again), ``stories`` groups claims across articles into OUT/stories.jsonl at the end (CLI: on).
    ``lock``: OUT's lock when the caller took it already (the CLI does, before loading models);
    else it is taken here, and a folder another run holds is refused (:class:`FolderBusyError`).
    ``engine``: who analyses the admitted articles (default: this process, :class:`LocalEngine`;
    ``run --engine ray``: run/ray_engine.py)."""
    check_out_dir(out_dir)
    if lock is not None:
        return await _run(llm, files, missing, out_dir, settings, resume, stories, reporter, engine)
    with OutputLock(out_dir):
        return await _run(llm, files, missing, out_dir, settings, resume, stories, reporter, engine)


async def _run(
    llm: LLM | None, files: Iterable[Path], missing: list[str], out_dir: Path, settings: Settings, resume: bool,
    stories: bool, reporter: Reporter | None, engine_for: EngineFor | None,
) -> RunSummary:
    reporter = reporter or _Quiet()
    price = _price(llm, settings)
    engine = engine_for(price) if engine_for is not None else LocalEngine(llm, settings, out_dir, price)
    summary = RunSummary(run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6])
    # One cheap walk (names only) for the progress bar's total; the run walks again as it goes.
    counted, several = files.census() if isinstance(files, Inputs) else (None, True)
    manifest = Manifest(llm, settings, resume, out_dir, summary, price, getattr(engine, "limiter", None), counted)
    manifest.engine = engine.name
    sweep_temporaries(out_dir)
    check_writable(out_dir)  # before the first call: no money for results that cannot be written
    reserve = DiskReserve(out_dir)
    reserve.hold()  # room to stop in when the disk fills (run/reserve.py)
    set_aside_errors(out_dir)
    manifest.write()
    reporter.emit(
        "run_started", run_id=summary.run_id, files=counted, out=str(out_dir), concurrency=settings.concurrency,
        budget_usd=settings.budget_usd, cache=settings.cache, articles_estimate=None if several else counted,
        engine=engine.name,
    )
    skipped_list = SkippedList(out_dir, summary, reporter)
    verifier = settings.resolved_verifier(llm.backend) if llm is not None else "trained"
    budget = Budget(
        settings.budget_usd, price,
        calls_per_window=calls_per_window(verifier, backend=llm.backend if llm else None),
        window_chars=settings.window_chars,
    )
    ledger = Ledger(out_dir, settings, resume, summary, budget, reporter, skipped_list, reserve)
    ledger.expected_files = counted
    ledger.calls_llm = llm is not None
    try:
        for line in missing:
            ledger.failed_input(line.rsplit(": ", 1)[0], line)
        await engine.go(ledger, files)
        if ledger.disk_fault is not None:
            summary.status = "stopped"
            summary.fatal_error = environment_fault(ledger.disk_fault)
        else:
            summary.status = "budget_exhausted" if summary.not_started else "complete"
    except EndpointError as error:
        summary.status = "failed"
        summary.fatal_error = str(error)
        raise
    finally:
        ledger.close()
        summary.cache_error = engine.close()
        if summary.status == "running":
            summary.status = "interrupted"
        _finish(out_dir, summary, manifest, reserve, reporter, stories, ledger.seen.id_of)
        ledger.seen.close()
    return summary


def _price(llm: LLM | None, settings: Settings) -> ModelPrice | None:
    """The model's price (None without an LLM, or for a model not in the tables); a budget needs one."""
    price = price_for(llm.backend, llm.model, settings.prices) if llm is not None else None
    if settings.budget_usd is not None and price is None and llm is not None:
        raise InputError(
            f"--budget needs a price for model {llm.model!r}: add [prices.\"{llm.model}\"] with input, output "
            "(USD per 1M tokens) to factcheck.toml"
        )
    return price


def _finish(
    out_dir: Path, summary: RunSummary, manifest: Manifest, reserve: DiskReserve, reporter: Reporter, stories: bool,
    read_now: Callable[[str], str | None],
) -> None:
    """However the run ended: OUT's results table, its stories when asked, run.json, the disk
    reserve given back, and the last event. On a full disk these writes may fail too: the results
    stay whole (atomic writes) and the next run rebuilds both files; what stopped the run is on
    stderr either way."""
    with _unless_disk_full():
        summary.superseded = write_results_table(out_dir, read_now)  # read_now: an edited article's current result
    if stories and summary.status in ("complete", "budget_exhausted"):
        _build_stories(out_dir, summary, reporter)  # before run_finished: that stays the last event
    with _unless_disk_full():
        manifest.write()
    reserve.release()
    reporter.emit(
        "run_finished", run_id=summary.run_id, status=summary.status, done=summary.done, reused=summary.reused,
        failed=summary.failed, not_started=summary.not_started, calls=summary.total.calls,
        cache_hits=summary.total.cache_hits, cost_usd=round(summary.total.cost_usd, 6), seconds=manifest.seconds(),
    )


@contextmanager
def _unless_disk_full() -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise


def _build_stories(out_dir: Path, summary: RunSummary, reporter: Reporter) -> None:
    """Stories over every result in OUT (earlier runs' too), once there are two articles to
    compare. Built from the result files only: no LLM call, and only new results are embedded.
    A failure here is reported and leaves the run's own results as they are."""
    from pipeline.stories import update_stories  # numpy, scikit-learn, the embedder: only when asked

    if sum(1 for _ in itertools.islice(result_files(out_dir / "articles"), 2)) < 2:
        return
    try:
        summary.stories = update_stories(out_dir)
    except Exception as error:  # noqa: BLE001 - the analysis is done and written; stories can be rebuilt
        summary.stories_error = f"stories not updated: {one_line(error)} (retry: factcheck stories {out_dir})"
        reporter.emit("stories_failed", reason=summary.stories_error)
        return
    update = summary.stories
    reporter.emit(
        "stories_built", stories=len(update.stories), articles=update.articles, claims=update.claims,
        embedded=update.embedded, file=str(update.path),
    )
