"""Running the pipeline over files and folders into an output folder, concurrently.

Layout of OUT_DIR:
  articles/<article_id>.json   one ArticleResult per article (atomic write: whole or absent)
  results.jsonl                one row per claim, rebuilt (streamed) from articles/ at the end of a run
  errors.jsonl                 one row per failed article, unreadable file or entry, or missing input
                               path of the latest run
  errors/<run_id>.jsonl        the errors of earlier runs, moved aside when a new run starts
  usage.jsonl                  one row per analysed article: tokens, calls, cache hits, cost per stage
  run.json                     manifest: config, backend, model, prompt versions, counts, tokens, cost,
                               timings, errors; "status" stays "running" if the run was killed

Resuming is the default: an article whose valid result is already in OUT_DIR is not
analysed again, and every LLM answer is in the response cache, so a run killed at any
point and started again redoes no finished article and re-asks no finished call.
"""

import asyncio
import errno
import itertools
import json
import math
import os
import random
import sqlite3
import statistics
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pydantic import ValidationError

from pipeline._io import append_jsonl, atomic_writer, write_json_atomic
from pipeline.analyze import analyze, prompt_versions
from pipeline.cache import ResponseCache
from pipeline.costs import StageBill, Tally, current_tally
from pipeline.http_stack import backend_identity, http_client
from pipeline.ingest import ARTICLE_SUFFIXES, JSON_SUFFIXES, Article, InputError, read_articles
from pipeline.options import AnalysisOptions
from pipeline.limiter import AdaptiveLimiter, request_priority
from pipeline.llm import LLM, EndpointError, LLMError
from pipeline.prices import ModelPrice, price_for
from pipeline.progress import Reporter
from pipeline.redaction import redact, redact_data
from pipeline.settings import Settings
from schemas import ArticleResult

if TYPE_CHECKING:
    from pipeline.stories import StoriesUpdate

OWN_ENTRIES = ("run.json", "articles", "batch.json")
SKIPPED_FILE = "skipped.txt"  # any of these marks a folder as ours
# Budget estimate before anything is measured: tokens of one call's fixed part
# (instructions, worked example, tool schema) and of one call's answer.
CALL_OVERHEAD_TOKENS = 1_300
CALL_OUTPUT_TOKENS = 400
CALLS_PER_ARTICLE = 3
SKIPPED_LISTED = 100  # skipped files named in run.json and on stderr; all of them go to skipped.txt
SECONDS_SAMPLE = 2048  # article durations kept for the median: a uniform sample, not every article


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


class NoArticlesError(InputError):
    """Nothing to run on: every path is missing, empty or holds no article files."""


@dataclass
class RunSummary:
    run_id: str = ""
    status: str = "running"  # complete | budget_exhausted | interrupted | failed (the endpoint serves nothing)
    done: int = 0
    reused: int = 0
    failed: int = 0
    not_started: int = 0  # left out by the budget
    duplicates: int = 0
    damaged: int = 0  # earlier result files that were unreadable (truncated, corrupt): analysed again
    files: int = 0  # article files read
    skipped: int = 0  # skipped files and duplicates, all listed in skipped.txt
    skipped_files: list[str] = field(default_factory=list)  # the first SKIPPED_LISTED of them (+ a note)
    bill: Tally = field(default_factory=Tally)
    article_seconds: "SecondsSample" = field(default_factory=lambda: SecondsSample())
    budget_message: str | None = None
    fatal_error: str | None = None  # why the whole run stopped (status "failed")
    stories: "StoriesUpdate | None" = None  # OUT/stories.jsonl, when the run built it
    stories_error: str | None = None

    @property
    def attempted(self) -> int:
        return self.done + self.reused + self.failed

    @property
    def total(self) -> StageBill:
        return self.bill.total()

    # Kept for callers that read the totals directly.
    @property
    def calls(self) -> int:
        return self.total.calls

    @property
    def prompt_tokens(self) -> int:
        return self.total.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.total.completion_tokens

    @property
    def cached_tokens(self) -> int:
        return self.total.cached_tokens

    @property
    def cost_usd(self) -> float:
        return self.total.cost_usd


class SecondsSample:
    """A uniform sample of article durations (reservoir sampling): the median in bounded memory;
    exact for runs of up to SECONDS_SAMPLE articles."""

    def __init__(self, size: int = SECONDS_SAMPLE):
        self.size = size
        self.count = 0
        self.values: list[float] = []
        self._random = random.Random(0)

    def append(self, value: float) -> None:
        self.count += 1
        if len(self.values) < self.size:
            self.values.append(value)
        elif (slot := self._random.randrange(self.count)) < self.size:
            self.values[slot] = value

    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    def __len__(self) -> int:
        return self.count


class SeenTexts:
    """Article ids seen in this run and the first source of each, in a private temporary SQLite
    database (deleted on close) with a small page cache: memory stays flat however many
    articles a run reads; the same text twice is analysed once."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private temporary on-disk database
        self._db.execute("PRAGMA cache_size = -1024")  # KiB
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, source TEXT NOT NULL) WITHOUT ROWID")

    def first_source(self, article_id: str, source: str) -> str | None:
        """None the first time ``article_id`` is seen (it is remembered); else its first source."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (article_id, source)).rowcount:
            return None
        row = self._db.execute("SELECT source FROM seen WHERE id = ?", (article_id,)).fetchone()
        return str(row[0])

    def close(self) -> None:
        self._db.close()


class SkippedList:
    """Every skipped file and duplicate, one line each, streamed to OUT/skipped.txt (rewritten by
    every run); the summary keeps the first SKIPPED_LISTED lines and the count."""

    def __init__(self, out_dir: Path, summary: RunSummary, reporter: Reporter):
        self.path = out_dir / SKIPPED_FILE
        self.summary = summary
        self.reporter = reporter
        self.path.unlink(missing_ok=True)
        self._file: IO[str] | None = None

    def add(self, line: str) -> None:
        self.summary.skipped += 1
        if len(self.summary.skipped_files) < SKIPPED_LISTED:
            self.summary.skipped_files.append(line)
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(line + "\n")
        self.reporter.emit("file_skipped", reason=line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        more = self.summary.skipped - len(self.summary.skipped_files)
        if more > 0:
            self.summary.skipped_files.append(f"... and {more} more: every skipped file is listed in {self.path}")


@dataclass
class RunOptions:
    concurrency: int = 4
    budget_usd: float | None = None
    cache: bool = True
    resume: bool = True
    stories: bool = False  # group claims across articles into OUT/stories.jsonl at the end (CLI: on)


class _Quiet:
    def emit(self, event: str, **fields: object) -> None:
        pass

    def close(self) -> None:
        pass


# -- inputs ----------------------------------------------------------------------------------


class Inputs:
    """The article files under some paths, found lazily: each iteration walks the folders again
    with ``os.scandir`` (in directory order), so no list of files is ever held. Files under
    ``exclude`` (the output folder) are never inputs; hidden files are ignored."""

    def __init__(self, paths: list[Path], exclude: Path | None = None):
        self.paths = paths
        self.excluded = exclude.resolve() if exclude is not None else None

    def __iter__(self) -> Iterator[Path]:
        return self.walk()

    def __bool__(self) -> bool:
        return next(self.walk(), None) is not None

    def walk(
        self, on_skipped: Callable[[str], None] | None = None, on_unreadable: Callable[[str, str], None] | None = None
    ) -> Iterator[Path]:
        """Article files one at a time; ``on_skipped`` hears of every other file, ``on_unreadable``
        (path, reason) of every entry or folder that cannot be read; the walk goes on past both."""
        for path in self.paths:
            if path.is_dir():
                yield from self._walk_folder(path, on_skipped, on_unreadable)
            elif path.is_file():
                yield path

    def census(self) -> tuple[int, bool]:
        """How many article files, and whether any may hold several articles (JSON): one walk."""
        files = 0
        several = False
        for path in self.walk():
            files += 1
            several = several or path.suffix.lower() in JSON_SUFFIXES
        return files, several

    def _walk_folder(
        self, root: Path, on_skipped: Callable[[str], None] | None, on_unreadable: Callable[[str, str], None] | None
    ) -> Iterator[Path]:
        pending = [root]  # folders still to read: grows with the depth and breadth of folders, not files
        while pending:
            folder = pending.pop()
            try:
                scanner = os.scandir(folder)
            except OSError as error:  # an unreadable folder is reported, the rest goes on
                if on_unreadable is not None:
                    on_unreadable(str(folder), f"{folder}: cannot read folder ({error.strerror or error})")
                continue
            with scanner:
                while True:
                    try:
                        entry = next(scanner, None)
                    except OSError as error:
                        if on_unreadable is not None:
                            on_unreadable(str(folder), f"{folder}: cannot read folder ({error.strerror or error})")
                        break
                    if entry is None:
                        break
                    yield from self._visit(entry, pending, on_skipped, on_unreadable)

    def _visit(
        self, entry: os.DirEntry[str], pending: list[Path],
        on_skipped: Callable[[str], None] | None, on_unreadable: Callable[[str, str], None] | None,
    ) -> Iterator[Path]:
        """One folder entry: a subfolder to walk, an article file, or a line about it. One bad
        entry (a symlink loop, a dangling link, a file gone mid-walk) never ends the walk."""
        is_article = os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES
        try:
            if entry.is_dir(follow_symlinks=False):
                if not self._excluded(entry):
                    pending.append(Path(entry.path))
                return
            if entry.name.startswith(".") or self._excluded(entry):
                return
            if not entry.is_file():  # raises on a symlink loop; False for a dangling link
                if entry.is_symlink() and is_article:
                    raise FileNotFoundError(errno.ENOENT, "dangling symbolic link")
                return
        except OSError as error:
            if is_article and on_unreadable is not None:
                on_unreadable(entry.path, f"{entry.path}: cannot read ({error.strerror or error})")
            elif not is_article and on_skipped is not None:
                on_skipped(f"{entry.path}: skipped (cannot read: {error.strerror or error})")
            return
        if is_article:
            yield Path(entry.path)
        elif on_skipped is not None:
            on_skipped(f"{entry.path}: skipped (not an article file type)")

    def _excluded(self, entry: os.DirEntry[str]) -> bool:
        if self.excluded is None:
            return False
        if entry.is_symlink() or entry.is_dir(follow_symlinks=False):  # resolve only what can lead elsewhere
            try:
                return Path(entry.path).resolve().is_relative_to(self.excluded)
            except RuntimeError:  # a symlink loop (Python 3.11); reading it fails and is reported
                return False
        return False


def discover(paths: list[Path], exclude: Path | None = None) -> tuple[Inputs, list[str]]:
    """The article files under ``paths`` (a lazy :class:`Inputs`) and one line per path that
    does not exist. Files of other types are reported while the run walks the folders."""
    missing = [f"{path}: no such file or folder" for path in paths if not path.exists()]
    return Inputs(paths, exclude), missing


def discover_or_fail(paths: list[Path], exclude: Path | None = None) -> tuple[Inputs, list[str]]:
    files, skipped = discover(paths, exclude)
    if not files:  # stops at the first article file found
        raise NoArticlesError("; ".join(skipped[:3]) or f"{', '.join(map(str, paths))}: no article files found")
    return files, skipped


def iter_articles(files: Iterable[Path], on_error: Callable[[str, str], None]) -> Iterator[Article]:
    """Articles one at a time, file by file: memory does not grow with the folder. Whatever goes
    wrong reading one file (a bad file, JSON nested past the recursion limit, an HTML reader
    missing from the install) is that file's error, reported in one line; the next file is read."""
    for path in files:
        try:
            yield from read_articles(path)
        except InputError as error:
            on_error(str(path), str(error))
        except Exception as error:  # noqa: BLE001 - one file's failure, whatever it is (RecursionError, ImportError)
            on_error(str(path), f"{path}: cannot read as an article ({_one_line(error)})")


def check_out_dir(out_dir: Path) -> None:
    """Refuse a folder that holds something else: a run never overwrites a user's files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: output path exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not any((out_dir / name).exists() for name in OWN_ENTRIES):
        raise InputError(f"{out_dir}: folder is not empty and is not a factcheck output folder; choose a new one")


def result_path(out_dir: Path, article_id: str) -> Path:
    return out_dir / "articles" / f"{article_id}.json"


def load_result(path: Path) -> ArticleResult | None:
    try:
        return ArticleResult.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


# -- budget ----------------------------------------------------------------------------------


class Budget:
    """Spent + reserved for articles in flight + this article's estimate must stay within the limit.

    Once three fully live articles are billed, an article is estimated at the largest cost of a
    recent billed article, scaled up in proportion for an article longer than it: an upper bound
    whenever an article costs no more than a billed one at least as long (each call's fixed part
    makes cost grow slower than length). An average cost per character would not be one: it
    under-estimates every article shorter than the average, and the last one started passes the
    budget."""

    MEASURED = 256  # billed articles the estimate looks at: the most recent ones

    def __init__(self, limit: float | None, price: ModelPrice | None):
        self.limit = limit
        self.price = price
        self.spent = 0.0
        self.reserved = 0.0
        self._billed: deque[tuple[float, int]] = deque(maxlen=self.MEASURED)  # (cost, chars)

    def estimate(self, article: Article) -> float:
        if self.price is None:
            return 0.0
        chars = len(article.text)
        if len(self._billed) >= 3:  # measured, fixed part included
            return max(cost * max(1.0, chars / max(1, billed)) for cost, billed in self._billed)
        prompt = CALLS_PER_ARTICLE * (CALL_OVERHEAD_TOKENS + chars // 4)
        return self.price.cost(prompt, 0, CALLS_PER_ARTICLE * CALL_OUTPUT_TOKENS)

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, bill: StageBill, chars: int) -> None:
        self.reserved -= estimate
        self.spent += bill.cost_usd
        if bill.calls and not bill.cache_hits:  # only fully live articles say what an article costs
            self._billed.append((bill.cost_usd, chars))


# -- the run ---------------------------------------------------------------------------------


async def run(
    llm: LLM,
    files: Iterable[Path],
    missing: list[str],
    out_dir: Path,
    settings: Settings,
    *,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
) -> RunSummary:
    """Analyse every article with bounded concurrency; one article's failure is recorded and
    does not stop the others. ``files`` is streamed (an :class:`Inputs` is walked as the run goes);
    ``missing`` are lines about inputs given that do not exist: each is a failed input."""
    options = options or RunOptions(
        concurrency=settings.concurrency, budget_usd=settings.budget_usd, cache=settings.cache
    )
    reporter = reporter or _Quiet()
    check_out_dir(out_dir)
    price = price_for(llm.backend, llm.model, settings.prices)
    if options.budget_usd is not None and price is None:
        raise InputError(
            f"--budget needs a price for model {llm.model!r}: add [prices.\"{llm.model}\"] with input, output "
            "(USD per 1M tokens) to factcheck.toml"
        )
    limiter = AdaptiveLimiter(options.concurrency)
    cache = ResponseCache(settings.cache_dir / "responses") if options.cache else None
    llm.use_http_client(
        http_client(limiter=limiter, price=price, cache=cache, identity=backend_identity(llm.backend, llm.endpoint))
    )
    summary = RunSummary(run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6])
    # One cheap walk (names only) for the progress bar's total; the run walks again as it goes.
    counted, several = files.census() if isinstance(files, Inputs) else (None, True)
    manifest = _Manifest(llm, settings, options, out_dir, summary, price, limiter, counted)
    _sweep_temporaries(out_dir)
    _set_aside_errors(out_dir)
    manifest.write()
    reporter.emit(
        "run_started", run_id=summary.run_id, files=counted, out=str(out_dir), concurrency=options.concurrency,
        budget_usd=options.budget_usd, cache=options.cache, articles_estimate=None if several else counted,
    )
    skipped_list = SkippedList(out_dir, summary, reporter)
    pipeline = _Pipeline(llm, out_dir, settings, options, summary, Budget(options.budget_usd, price), reporter, skipped_list)
    try:
        for line in missing:
            pipeline.failed_input(line.rsplit(": ", 1)[0], line)
        await pipeline.go(files)
        summary.status = "budget_exhausted" if summary.not_started else "complete"
    except EndpointError as error:
        summary.status = "failed"
        summary.fatal_error = str(error)
        raise
    finally:
        pipeline.close()
        if cache is not None:
            cache.close()
        if summary.status == "running":
            summary.status = "interrupted"
        write_results_table(out_dir)
        if options.stories and summary.status in ("complete", "budget_exhausted"):
            _build_stories(out_dir, summary, reporter)  # before run_finished: that stays the last event
        manifest.write()
        reporter.emit(
            "run_finished", run_id=summary.run_id, status=summary.status, done=summary.done, reused=summary.reused,
            failed=summary.failed, not_started=summary.not_started, calls=summary.calls,
            cache_hits=summary.total.cache_hits, cost_usd=round(summary.cost_usd, 6), seconds=manifest.seconds(),
        )
    return summary


def _build_stories(out_dir: Path, summary: RunSummary, reporter: Reporter) -> None:
    """Stories over every result in OUT (earlier runs' too), once there are two articles to
    compare. Built from the result files only: no LLM call, and only new results are embedded.
    A failure here is reported and leaves the run's own results as they are."""
    from pipeline.stories import update_stories  # numpy, scikit-learn, the embedder: only when asked

    if sum(1 for _ in itertools.islice(_result_files(out_dir / "articles"), 2)) < 2:
        return
    try:
        summary.stories = update_stories(out_dir)
    except Exception as error:  # noqa: BLE001 - the analysis is done and written; stories can be rebuilt
        summary.stories_error = f"stories not updated: {_one_line(error)} (retry: factcheck stories {out_dir})"
        reporter.emit("stories_failed", reason=summary.stories_error)
        return
    update = summary.stories
    reporter.emit(
        "stories_built", stories=len(update.stories), articles=update.articles, claims=update.claims,
        embedded=update.embedded, file=str(update.path),
    )


class _Pipeline:
    def __init__(
        self, llm: LLM, out_dir: Path, settings: Settings, options: RunOptions, summary: RunSummary,
        budget: Budget, reporter: Reporter, skipped: SkippedList,
    ):
        self.llm = llm
        self.out_dir = out_dir
        self.settings = settings
        self.options = options
        self.summary = summary
        self.budget = budget
        self.reporter = reporter
        self.errors = out_dir / "errors.jsonl"
        self.skipped = skipped
        self.seen = SeenTexts()
        self.fatal: EndpointError | None = None  # set when the endpoint can serve no call: the run stops
        self._running: set[asyncio.Task[None]] = set()

    def close(self) -> None:
        self.seen.close()
        self.skipped.close()

    def _files(self, files: Iterable[Path]) -> Iterator[Path]:
        walk = files.walk(self.skipped.add, self.failed_input) if isinstance(files, Inputs) else iter(files)
        for path in walk:
            self.summary.files += 1
            yield path

    async def go(self, files: Iterable[Path]) -> None:
        """Start articles as long as fewer than ``in_progress`` are: the limiter caps the LLM calls
        in flight at the concurrency, and the extra articles keep a built request waiting for
        every slot that frees. Each article's calls have its start number as priority, so the
        articles already started are finished first and the tail stays short."""
        slots = asyncio.Semaphore(in_progress(self.options.concurrency))
        running = self._running
        startable = self._startable(files)
        try:
            while self.fatal is None:
                await slots.acquire()  # before the next article is read: reading keeps pace with the run
                item = next(startable, None) if self.fatal is None else None
                if item is None:
                    slots.release()
                    break
                task = asyncio.create_task(self._work(*item, slots))
                running.add(task)
                task.add_done_callback(running.discard)
            while running:  # tasks cancelled by a fatal error end with CancelledError: gathered, not raised
                await asyncio.gather(*running, return_exceptions=True)
        finally:
            for task in running:
                task.cancel()
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

    def _startable(self, files: Iterable[Path]) -> Iterator[tuple[Article, float, int]]:
        """The articles to analyse, one at a time, each with its budget reservation and start
        number; duplicates, finished articles and what the budget leaves out are counted here."""
        count = started = 0
        for article in iter_articles(self._files(files), self._unreadable):
            count += 1
            first = self.seen.first_source(article.meta.id, article.meta.source)
            if first is not None:
                self.summary.duplicates += 1
                self.skipped.add(f"{article.meta.source}: same text as {first}, analysed once")
                continue
            if len(article.text) > self.settings.max_chars:
                self._failed(article.meta.source, article.meta.id, "input", self._too_long(article))
                continue
            if self.options.resume:
                earlier = result_path(self.out_dir, article.meta.id)
                if load_result(earlier) is not None:
                    self.summary.reused += 1
                    self.reporter.emit("article_reused", article=article.meta.id, source=article.meta.source)
                    continue
                if earlier.exists():  # truncated or corrupt: it is no result, so the article is done again
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
                        f"${self.options.budget_usd:.4f}; no further article was started"
                    )
                    self.reporter.emit("budget_stop", message=self.summary.budget_message, spent_usd=self.budget.spent)
                self.summary.not_started += 1
                continue
            started += 1
            yield article, estimate, started
        self.reporter.emit("articles_counted", articles=count)

    async def _work(self, article: Article, estimate: float, number: int, slots: asyncio.Semaphore) -> None:
        priority = request_priority.set(number)  # this task's calls: the earlier started, the sooner served
        try:
            await self._analyse(article, estimate)
        except Exception as error:  # a bug must fail only its article, never stall an overnight run
            detail = f"internal error, please report: {_one_line(error)}"
            self._failed(article.meta.source, article.meta.id, "internal", detail)
        finally:
            request_priority.reset(priority)
            slots.release()

    async def _analyse(self, article: Article, estimate: float) -> None:
        tally = Tally()
        token = current_tally.set(tally)
        try:
            result = await analyze(self.llm, article, options=AnalysisOptions.from_settings(self.settings, self.llm.backend))
            # fsync blocks for milliseconds: in a thread, so other articles' answers keep flowing.
            await asyncio.to_thread(write_json_atomic, result_path(self.out_dir, article.meta.id), result)
        except EndpointError as error:  # not this article's failure: the whole run's
            self._stop(error)
            return
        except LLMError as error:
            self._failed(article.meta.source, article.meta.id, tally.last_stage or "llm", str(error))
            return
        except (ValidationError, ValueError, OSError) as error:  # invalid output or an unwritable folder
            self._failed(article.meta.source, article.meta.id, tally.last_stage or "analyze", _one_line(error))
            return
        finally:
            current_tally.reset(token)
            self.summary.bill.add(tally)
            self.budget.settle(estimate, tally.total(), len(article.text))
        bill = tally.total()
        self.summary.done += 1
        self.summary.article_seconds.append(result.run.seconds)
        await asyncio.to_thread(
            append_jsonl,
            self.out_dir / "usage.jsonl",
            {"run_id": self.summary.run_id, "article": article.meta.id, "source": article.meta.source,
             "cost_usd": round(bill.cost_usd, 6), "stages": tally.as_json()},
        )
        self.reporter.emit(
            "article_done", article=article.meta.id, source=article.meta.source, claims=len(result.claims),
            denials=len(result.denials), seconds=result.run.seconds, calls=bill.calls, cache_hits=bill.cache_hits,
            tokens=bill.prompt_tokens + bill.completion_tokens, cost_usd=round(bill.cost_usd, 6),
        )

    def _too_long(self, article: Article) -> str:
        """Why a huge input is not analysed, with what analysing it would take."""
        chars = len(article.text)
        calls = CALLS_PER_ARTICLE * math.ceil(chars / self.settings.window_chars)
        price = self.budget.price
        cost = (
            f"~${price.cost(calls * (CALL_OVERHEAD_TOKENS + self.settings.window_chars // 4), 0, calls * CALL_OUTPUT_TOKENS):,.2f}"
            if price else "cost unknown (no price for this model)"
        )
        return (
            f"{article.meta.source}: {chars:,} characters is over max_chars ({self.settings.max_chars:,}); analysing it "
            f"would take about {calls:,} LLM calls, {cost}. Raise max_chars (--max-chars, FACTCHECK_MAX_CHARS) to analyse it"
        )

    def _unreadable(self, source: str, reason: str) -> None:
        self._failed(source, None, "ingest", reason)

    def failed_input(self, source: str, reason: str) -> None:
        """A path given or found that cannot be read at all (missing, a symlink loop)."""
        self._failed(source, None, "input", reason)

    def _failed(self, source: str, article_id: str | None, stage: str, reason: str) -> None:
        self.summary.failed += 1
        reason = redact(reason)  # exception text may quote a server's echo of the credentials
        source = redact(source)  # as the reason quotes it: a row is redacted whole
        append_jsonl(
            self.errors,
            {"run_id": self.summary.run_id, "article": article_id, "source": source, "stage": stage,
             "reason": reason, "at": datetime.now(UTC).isoformat()},
        )
        self.reporter.emit("article_failed", article=article_id, source=source, stage=stage, reason=reason)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"


def _sweep_temporaries(out_dir: Path) -> None:
    """A run killed mid-write leaves its hidden temporary file; the real file is intact."""
    for folder in (out_dir, out_dir / "articles"):
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
            leftover.unlink(missing_ok=True)


def _set_aside_errors(out_dir: Path) -> None:
    """errors.jsonl describes the latest run; an earlier run's file moves to errors/."""
    errors = out_dir / "errors.jsonl"
    if not errors.exists():
        return
    with errors.open(encoding="utf-8") as f:
        first = f.readline()
    try:
        old_run = str(json.loads(first).get("run_id") or "earlier")
    except ValueError:
        old_run = "earlier"
    target = out_dir / "errors" / f"{old_run}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target = target.with_name(f"{old_run}-{uuid.uuid4().hex[:6]}.jsonl")
    os.replace(errors, target)


# -- manifest --------------------------------------------------------------------------------


class _Manifest:
    def __init__(
        self, llm: LLM, settings: Settings, options: RunOptions, out_dir: Path, summary: RunSummary,
        price: ModelPrice | None, limiter: AdaptiveLimiter, files: int | None,
    ):
        self.llm = llm
        self.settings = settings
        self.options = options
        self.out_dir = out_dir
        self.summary = summary
        self.price = price
        self.limiter = limiter
        self.files = files  # counted before the run (None for a plain iterable); the final count after
        self.started = datetime.now(UTC)
        self.clock = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.clock, 3)

    def write(self) -> None:
        s = self.summary
        total = s.total
        seconds = self.seconds()
        write_json_atomic(
            self.out_dir / "run.json",
            redact_data({  # the config holds the base URL, and with it any user:password
                "run_id": s.run_id,
                "status": s.status,
                "started_at": self.started.isoformat(),
                "updated_at": datetime.now(UTC).isoformat(),
                "backend": self.llm.backend,
                "model": self.llm.model,
                "endpoint": self.llm.endpoint if self.llm.backend != "embedded" else "embedded (loopback)",
                "prompt_versions": prompt_versions(),
                "config": self.settings.model_dump(mode="json", exclude={"api_key"}),
                "options": {
                    "concurrency": self.options.concurrency,
                    "budget_usd": self.options.budget_usd,
                    "cache": self.options.cache,
                    "resume": self.options.resume,
                },
                "counts": {
                    "files": s.files if s.status != "running" else self.files,
                    "done": s.done,
                    "already_done": s.reused,
                    "failed": s.failed,
                    "not_started": s.not_started,
                    "duplicates": s.duplicates,
                    "damaged_results_redone": s.damaged,
                    "skipped_files": s.skipped,
                },
                "skipped_files": s.skipped_files,
                "skipped_list": SKIPPED_FILE if s.skipped else None,
                "tokens": {
                    "calls": total.calls,
                    "cache_hits": total.cache_hits,
                    "failed_attempts": total.failed_attempts,
                    "prompt": total.prompt_tokens,
                    "completion": total.completion_tokens,
                    "cached": total.cached_tokens,
                },
                "by_stage": s.bill.as_json(),
                "cost": {
                    "estimated_usd": round(total.cost_usd, 6),
                    "price_per_1m_tokens": self.price.model_dump() if self.price else None,
                    "note": None if self.price else f"no price known for {self.llm.model!r}; cost not estimated",
                },
                "budget": {
                    "limit_usd": self.options.budget_usd,
                    "stopped": s.not_started > 0,
                    "message": s.budget_message,
                },
                "timings": {
                    "seconds": seconds,
                    "articles_per_second": round(s.done / seconds, 3) if seconds else None,
                    "article_seconds_median": round(median, 3) if (median := s.article_seconds.median()) is not None else None,
                },
                "limiter": {"limit": self.limiter.limit, "maximum": self.limiter.maximum, "decreases": self.limiter.decreases},
                "errors": {"count": s.failed, "file": "errors.jsonl", "run_stopped_by": s.fatal_error},
            }),  # type: ignore[arg-type]
        )


# -- results table ---------------------------------------------------------------------------


def claim_rows(result: ArticleResult) -> Iterator[dict[str, object]]:
    for claim in result.claims:
        verdict = result.verdict_for(claim.id)
        yield {
            "article_id": result.article.id,
            "source": result.article.source,
            "claim_id": claim.id,
            "claimant": claim.claimant,
            "via": claim.via,
            "statement": claim.statement,
            "checkworthiness": claim.checkworthiness,
            "verdict": verdict.verdict.value if verdict else None,
            "confidence": verdict.confidence if verdict else None,
            "evidence": [s.text for s in claim.spans],
            "supporting": [s.text for s in verdict.supporting] if verdict else [],
            "contradicting": [s.text for s in verdict.contradicting] if verdict else [],
            "denials": [d.id for d in result.denials_of(claim.id) if d.is_denial],
        }


def write_results_table(out_dir: Path) -> None:
    """Streamed into a temporary file and renamed: whole or absent, in flat memory."""
    articles = out_dir / "articles"
    with atomic_writer(out_dir / "results.jsonl") as f:
        for path in _result_files(articles):
            result = load_result(path)
            if result is not None:
                for row in claim_rows(result):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _result_files(articles: Path) -> Iterator[Path]:
    """The result files in directory order, streamed: no listing of the folder is held."""
    if not articles.is_dir():
        return
    with os.scandir(articles) as entries:
        for entry in entries:
            if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file():
                yield Path(entry.path)
