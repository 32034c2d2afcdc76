"""Running the pipeline over files and folders into an output folder, concurrently.
(Inputs: run/inputs.py; the folder's layout: run/output.py; run.json: run/manifest.py.)

Resuming is the default: an article whose valid result is already in OUT_DIR is not
analysed again, and every LLM answer is in the response cache, so a run killed at any
point and started again redoes no finished article and re-asks no finished call.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from pipeline._io import DISK_FULL, append_jsonl, environment_fault, write_json_atomic
from pipeline.llm.cache import ResponseCache
from pipeline.llm.costs import Tally, current_tally
from pipeline.llm.errors import EndpointError, LLMError
from pipeline.llm.factory import use_transport_stack
from pipeline.llm.limiter import AdaptiveLimiter, request_priority
from pipeline.llm.prices import ModelPrice, price_for
from pipeline.llm.redaction import redact
from pipeline.run.budget import Budget
from pipeline.run.inputs import Inputs, SeenTexts, iter_articles, one_line
from pipeline.run.lock import OutputLock
from pipeline.run.manifest import Manifest, RunSummary, SkippedList
from pipeline.run.output import (
    check_out_dir,
    check_writable,
    load_result,
    result_files,
    result_path,
    set_aside_errors,
    sweep_temporaries,
    write_results_table,
)
from pipeline.run.progress import Reporter
from pipeline.run.reserve import DiskReserve
from pipeline.settings import Settings
from pipeline.stages.registry import STAGE_BY_TOOL, calls_per_window
from pipeline.stages.analyze import analyze, analyze_without_llm
from pipeline.stages.options import AnalysisOptions
from pipeline.text.ingest import Article, InputError

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM


def in_progress(concurrency: int) -> int:
    """How many articles a run has in progress: 2 x concurrency - 1. While some articles' calls
    are at the server, the others are being read, post-processed or written, or wait with their
    next request built, so a slot that frees is taken at once instead of idling while one event
    loop works through a burst of answers (that idle time grows with the concurrency). At
    concurrency 1 it is one article at a time, as before: the gap is a few milliseconds against
    seconds of model time, and the events of a run stay in article order. Memory stays bounded
    by this number, not by the folder."""
    concurrency = max(1, concurrency)
    return 2 * concurrency - 1


class _Quiet:
    def emit(self, event: str, **fields: object) -> None:
        pass

    def close(self) -> None:
        pass


# -- the run ---------------------------------------------------------------------------------


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
    else it is taken here, and a folder another run holds is refused (:class:`FolderBusyError`)."""
    check_out_dir(out_dir)
    if lock is not None:
        return await _run(llm, files, missing, out_dir, settings, resume, stories, reporter)
    with OutputLock(out_dir):
        return await _run(llm, files, missing, out_dir, settings, resume, stories, reporter)


async def _run(
    llm: LLM | None,
    files: Iterable[Path],
    missing: list[str],
    out_dir: Path,
    settings: Settings,
    resume: bool,
    stories: bool,
    reporter: Reporter | None,
) -> RunSummary:
    reporter = reporter or _Quiet()
    price = _price(llm, settings)
    limiter = AdaptiveLimiter(settings.concurrency)
    cache = ResponseCache(settings.cache_dir / "responses") if settings.cache else None
    if llm is not None:
        use_transport_stack(llm, limiter=limiter, price=price, cache=cache, stage_by_tool=STAGE_BY_TOOL)
    summary = RunSummary(run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6])
    # One cheap walk (names only) for the progress bar's total; the run walks again as it goes.
    counted, several = files.census() if isinstance(files, Inputs) else (None, True)
    manifest = Manifest(llm, settings, resume, out_dir, summary, price, limiter, counted)
    sweep_temporaries(out_dir)
    check_writable(out_dir)  # before the first call: no money for results that cannot be written
    reserve = DiskReserve(out_dir)
    reserve.hold()  # room to stop in when the disk fills (run/reserve.py)
    set_aside_errors(out_dir)
    manifest.write()
    reporter.emit(
        "run_started", run_id=summary.run_id, files=counted, out=str(out_dir), concurrency=settings.concurrency,
        budget_usd=settings.budget_usd, cache=settings.cache, articles_estimate=None if several else counted,
    )
    skipped_list = SkippedList(out_dir, summary, reporter)
    verifier = settings.resolved_verifier(llm.backend) if llm is not None else "trained"
    budget = Budget(settings.budget_usd, price, calls_per_window=calls_per_window(verifier), window_chars=settings.window_chars)
    pipeline = _Pipeline(llm, out_dir, settings, resume, summary, budget, reporter, skipped_list, limiter, reserve)
    if cache is not None and _same_disk(cache.directory, out_dir):
        cache.on_full = pipeline.on_cache_full(asyncio.get_running_loop(), cache.directory)
    try:
        for line in missing:
            pipeline.failed_input(line.rsplit(": ", 1)[0], line)
        await pipeline.go(files)
        if pipeline.disk_fault is not None:
            summary.status = "stopped"
            summary.fatal_error = environment_fault(pipeline.disk_fault)
        else:
            summary.status = "budget_exhausted" if summary.not_started else "complete"
    except EndpointError as error:
        summary.status = "failed"
        summary.fatal_error = str(error)
        raise
    finally:
        pipeline.close()
        if cache is not None:
            cache.close()
            summary.cache_error = cache.write_error
        if summary.status == "running":
            summary.status = "interrupted"
        _finish(out_dir, summary, manifest, reserve, reporter, stories, pipeline.seen.id_of)
        pipeline.seen.close()
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


def _same_disk(one: Path, other: Path) -> bool:
    return os.stat(one).st_dev == os.stat(other).st_dev


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


async def _cancel_and_wait(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel the articles in progress and wait for each to end: Ctrl-C or SIGTERM may stop the run in
    its own task, and each article must name itself unfinished before run.json is written."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


class _Pipeline:
    def __init__(
        self, llm: LLM | None, out_dir: Path, settings: Settings, resume: bool, summary: RunSummary,
        budget: Budget, reporter: Reporter, skipped: SkippedList, limiter: AdaptiveLimiter, reserve: DiskReserve,
    ):
        self.llm = llm
        self.out_dir = out_dir
        self.settings = settings
        self.resume = resume
        self.summary = summary
        self.budget = budget
        self.reporter = reporter
        self.errors = out_dir / "errors.jsonl"
        self.skipped = skipped
        self.limiter = limiter
        self.reserve = reserve
        self.seen = SeenTexts()
        self.ended_unstarted = 0  # articles that ended before a start (reused, unreadable, too long): the bar counts them
        self.fatal: EndpointError | None = None  # set when the endpoint can serve no call: the run stops
        self.disk_fault: OSError | None = None  # set when OUT's disk is full: the run starts nothing more
        self._running: set[asyncio.Task[None]] = set()

    def close(self) -> None:  # self.seen stays open for the results table (run/versions.py); _run closes it
        self.skipped.close()

    def _files(self, files: Iterable[Path]) -> Iterator[Path]:
        walk = (
            files.walk(self.skipped.add, self.failed_input, self.skipped.fault) if isinstance(files, Inputs) else iter(files)
        )
        for path in walk:
            self.summary.files += 1
            yield path

    async def go(self, files: Iterable[Path]) -> None:
        """Start articles as long as fewer than ``in_progress`` are: the limiter caps the LLM calls
        in flight at the concurrency, and the extra articles keep a built request waiting for
        every slot that frees. Each article's calls have its start number as priority, so the
        articles already started are finished first and the tail stays short."""
        slots = asyncio.Semaphore(in_progress(self.settings.concurrency))
        running = self._running
        startable = self._startable(files)
        try:
            while self.fatal is None and self.disk_fault is None:
                await slots.acquire()  # before the next article is read: reading keeps pace with the run
                item = next(startable, None) if self.fatal is None and self.disk_fault is None else None
                if item is None:
                    slots.release()
                    break
                task = asyncio.create_task(self._work(*item, slots))
                running.add(task)
                task.add_done_callback(running.discard)
            while running:  # tasks cancelled by a fatal error end with CancelledError: gathered, not raised
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            await _cancel_and_wait(running)
        if self.fatal is not None:
            raise self.fatal

    def _stop(self, error: EndpointError) -> None:
        """No call can succeed: start nothing more and cancel the articles in flight (their
        finished calls are in the response cache; a later run resumes them)."""
        if self.fatal is None:
            self.fatal = error
            current = asyncio.current_task()
            for task in self._running:
                if task is not current:
                    task.cancel()

    def _disk_full(self, error: OSError, unfinished: str | None) -> None:
        """OUT cannot take a result: start no article (none could be written; each would be paid
        for nothing) and no new call, and name the articles in progress as unfinished; the next
        run resumes them. Their calls already at the server are not cancelled: each is paid for
        once answered, so it runs to its answer, which the response cache keeps for the next run
        (cancelled mid-call, it was asked and paid again on resume)."""
        if unfinished is not None:
            self.summary.unfinished.append(unfinished)
        if self.disk_fault is None:
            self.disk_fault = error
            self.reserve.release()  # room for those answers in the cache, and for run.json to say "stopped"
            self.limiter.close()  # the articles in progress end at their next call (or their write)

    def on_cache_full(self, loop: asyncio.AbstractEventLoop, directory: Path) -> Callable[[BaseException], bool]:
        """For a response cache on OUT's disk: a store that finds the disk full means no result can
        be written either, so the run stops as when a result's write fails. Called in the cache's
        writer thread; the reserve is given back first, so that answer is stored after all."""

        def full(error: BaseException) -> bool:
            made_room = self.reserve.release()
            fault = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory))
            loop.call_soon_threadsafe(self._disk_full, fault, None)
            return made_room

        return full

    def _startable(self, files: Iterable[Path]) -> Iterator[tuple[Article, float, int]]:
        """The articles to analyse, one at a time, each with its budget reservation and start
        number; duplicates, finished articles and what the budget leaves out are counted here."""
        started = 0
        for article in iter_articles(self._files(files), self._unreadable, self._bad_line, self.settings.max_chars):
            first = self.seen.first_source(article.meta.id, article.meta.source)
            if first is not None:
                self.summary.duplicates += 1
                self.skipped.add(f"{article.meta.source}: same text as {first}, analysed once")
                continue
            if len(article.text) > self.settings.max_chars:
                self.ended_unstarted += 1
                self._failed(article.meta.source, article.meta.id, "input", self._too_long(article))
                continue
            if self.resume:
                earlier = result_path(self.out_dir, article.meta.id)
                if (done := load_result(earlier)) is not None and (self.llm is None or done.run.backend != "none"):
                    self.summary.reused += 1
                    self.ended_unstarted += 1
                    self.reporter.emit("article_reused", article=article.meta.id, source=article.meta.source)
                    continue
                if done is None and earlier.exists():  # truncated or corrupt: no result, so the article is done again
                    # (a result without an LLM, upgraded by this run, is neither)
                    self.summary.damaged += 1
                    self.reporter.emit(
                        "result_damaged", article=article.meta.id, source=article.meta.source,
                        reason=f"{earlier}: earlier result unreadable; analysing {article.meta.source} again",
                    )
            estimate = self.budget.estimate(article)
            if self.summary.not_started or not self.budget.reserve(estimate):
                if not self.summary.not_started:
                    self.summary.budget_message = (
                        f"spent ${self.budget.spent:.4f} + ${self.budget.reserved:.4f} in flight + "
                        f"${estimate:.4f} estimated for the next article would pass the budget of "
                        f"${self.settings.budget_usd:.4f}; no further article was started"
                    )
                    self.reporter.emit("budget_stop", message=self.summary.budget_message, spent_usd=self.budget.spent)
                self.summary.not_started += 1
                continue
            started += 1
            yield article, estimate, started
        # What the bar counts to: every article that ends done, reused or failed (a file that could
        # not be read is a failed article too); duplicates and what the budget left out never end.
        self.reporter.emit("articles_counted", articles=self.ended_unstarted + started)

    async def _work(self, article: Article, estimate: float, number: int, slots: asyncio.Semaphore) -> None:
        priority = request_priority.set(number)  # this task's calls: the earlier started, the sooner served
        try:
            await self._analyse(article, estimate)
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):  # a full disk, Ctrl-C, SIGTERM, a stop
            self.summary.unfinished.append(article.meta.source)
            raise
        except OSError as error:
            if error.errno in DISK_FULL:
                self._disk_full(error, article.meta.source)  # its own error row could not be written either
            else:
                self._failed(article.meta.source, article.meta.id, "analyze", environment_fault(error) or one_line(error))
        except Exception as error:  # a bug must fail only its article, never stall an overnight run
            detail = f"internal error, please report: {one_line(error)}"
            self._failed(article.meta.source, article.meta.id, "internal", detail)
        finally:
            request_priority.reset(priority)
            slots.release()

    async def _analyse(self, article: Article, estimate: float) -> None:
        tally = Tally()
        token = current_tally.set(tally)
        try:
            if self.llm is None:
                result = await analyze_without_llm(article, AnalysisOptions.from_settings(self.settings, "none"))
            else:
                result = await analyze(self.llm, article, options=AnalysisOptions.from_settings(self.settings, self.llm.backend))
        except EndpointError as error:  # not this article's failure: the whole run's
            self._stop(error)
            return
        except LLMError as error:
            self._failed(article.meta.source, article.meta.id, tally.last_stage or "llm", str(error))
            return
        except (ValidationError, ValueError) as error:  # invalid output
            self._failed(article.meta.source, article.meta.id, tally.last_stage or "analyze", one_line(error))
            return
        finally:
            current_tally.reset(token)
            self.summary.bill.add(tally)
            self.budget.settle(estimate, tally.total(), len(article.text))
        try:
            # fsync blocks for milliseconds: in a thread, so other articles' answers keep flowing.
            await asyncio.to_thread(write_json_atomic, result_path(self.out_dir, article.meta.id), result)
        except OSError as error:
            if error.errno in DISK_FULL:
                self._disk_full(error, article.meta.source)
            else:  # the folder changed under the run (its permissions, a file in the way)
                self._failed(article.meta.source, article.meta.id, "write", environment_fault(error) or one_line(error))
            return
        bill = tally.total()
        self.summary.done += 1
        self.summary.article_seconds.append(result.run.seconds)
        try:
            await asyncio.to_thread(
                append_jsonl,
                self.out_dir / "usage.jsonl",
                {"run_id": self.summary.run_id, "article": article.meta.id, "source": article.meta.source,
                 "cost_usd": round(bill.cost_usd, 6), "stages": tally.as_json()},
            )
        except OSError as error:
            if error.errno not in DISK_FULL:
                raise
            self._disk_full(error, None)  # the result itself is written: this article is done
        self.reporter.emit(
            "article_done", article=article.meta.id, source=article.meta.source, claims=len(result.claims),
            denials=len(result.denials), seconds=result.run.seconds, calls=bill.calls, cache_hits=bill.cache_hits,
            tokens=bill.tokens, cost_usd=round(bill.cost_usd, 6),
        )

    def _too_long(self, article: Article) -> str:
        """Why a huge input is not analysed, with what analysing it would take."""
        chars = len(article.text)
        over = f"{article.meta.source}: {chars:,} characters is over max_chars ({self.settings.max_chars:,})"
        raise_it = "Raise max_chars (--max-chars, FACTCHECK_MAX_CHARS) to analyse it"
        if self.llm is None:  # --no-llm: no call to estimate
            return f"{over}. {raise_it}"
        calls, estimate = self.budget.rough(chars)
        cost = f"~${estimate:,.2f}" if self.budget.price else "cost unknown (no price for this model)"
        return f"{over}; analysing it would take about {calls:,} LLM calls, {cost}. {raise_it}"

    def _unreadable(self, source: str, reason: str) -> None:
        self.ended_unstarted += 1
        self._failed(source, None, "ingest", reason)

    def _bad_line(self, source: str, reason: str) -> None:
        """A JSONL line that is no article (``file:N``): failed like an unreadable file, and listed in run.json."""
        self.summary.bad_lines.append(redact(source))
        self._unreadable(source, reason)

    def failed_input(self, source: str, reason: str) -> None:
        """A path given or found that cannot be read at all (missing, a symlink loop)."""
        self.ended_unstarted += 1
        self._failed(source, None, "input", reason)

    def _failed(self, source: str, article_id: str | None, stage: str, reason: str) -> None:
        self.summary.failed += 1
        reason = redact(reason)  # exception text may quote a server's echo of the credentials
        source = redact(source)  # as the reason quotes it: a row is redacted whole
        try:
            append_jsonl(
                self.errors,
                {"run_id": self.summary.run_id, "article": article_id, "source": source, "stage": stage,
                 "reason": reason, "at": datetime.now(UTC).isoformat()},
            )
        except OSError as error:  # the event below still names it on stderr
            if error.errno not in DISK_FULL:
                raise
            self._disk_full(error, None)
        self.reporter.emit("article_failed", article=article_id, source=source, stage=stage, reason=reason)
