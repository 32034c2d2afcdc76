"""The driver's book of a run: which articles start (duplicates, ``max_chars``, resume, the budget)
and what became of each. Every engine reports to it, and it is the only writer of OUT's
errors.jsonl, usage.jsonl and skipped.txt (and of the summary that becomes run.json), whether
the articles ran in this process or in Ray actors on other machines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipeline._io import DISK_FULL, append_jsonl
from pipeline.llm.redaction import redact
from pipeline.run.analysis import Arrival, Outcome
from pipeline.run.budget import Budget
from pipeline.run.inputs import Inputs, SeenTexts
from pipeline.run.manifest import RunSummary, SkippedList
from pipeline.run.output import result_path
from pipeline.run.progress import Reporter
from pipeline.run.reserve import DiskReserve
from pipeline.settings import Settings


class Ledger:
    def __init__(
        self, out_dir: Path, settings: Settings, resume: bool, summary: RunSummary, budget: Budget,
        reporter: Reporter, skipped: SkippedList, reserve: DiskReserve,
    ):
        self.out_dir = out_dir
        self.settings = settings
        self.resume = resume
        self.summary = summary
        self.budget = budget
        self.reporter = reporter
        self.skipped = skipped
        self.reserve = reserve
        self.errors = out_dir / "errors.jsonl"
        self.seen = SeenTexts()
        self.started = 0  # articles admitted: the start number of the latest
        self.ended_unstarted = 0  # ended before a start (reused, unreadable, too long): the bar counts them
        self.disk_fault: OSError | None = None  # set when OUT's disk is full: the run starts nothing more
        self.calls_llm = True  # False for run --no-llm: no call to estimate for a too-long article
        self.expected_files: int | None = None  # the input's article files, when counted before the run
        self.on_disk_full: list[Callable[[OSError], None]] = []  # the engine stops its calls
        self._reserved: dict[str, float] = {}  # article id -> its budget reservation, while it runs

    @property
    def stopping(self) -> bool:
        return self.disk_fault is not None

    def close(self) -> None:  # self.seen stays open for the results table (run/versions.py); the driver closes it
        self.skipped.close()

    # -- what starts -------------------------------------------------------------------------

    def files(self, files: Iterable[Path]) -> Iterator[Path]:
        """The input paths, walked lazily, each counted; skipped entries and unreadable ones noted."""
        walk = (
            files.walk(self.skipped.add, self.failed_input, self.skipped.fault) if isinstance(files, Inputs)
            else iter(files)
        )
        for path in walk:
            self.summary.files += 1
            yield path

    def admit(self, article: Arrival) -> bool:
        """Whether ``article`` starts: the first of its text, not too long, not already done (on
        resume), within the budget (its estimate is reserved until :meth:`record`). Called in
        input order: the first source of a text is the one analysed."""
        first = self.seen.first_source(article.id, article.source)
        if first is not None:
            self.summary.duplicates += 1
            self.skipped.add(f"{article.source}: same text as {first}, analysed once")
            return False
        if article.chars > self.settings.max_chars:
            self.ended_unstarted += 1
            self.failed(article.source, article.id, "input", self._too_long(article))
            return False
        if self.resume and article.prior == "valid":
            self.summary.reused += 1
            self.ended_unstarted += 1
            self.reporter.emit("article_reused", article=article.id, source=article.source)
            return False
        if self.resume and article.prior == "damaged":  # truncated or corrupt: no result, so the article is done again
            self.summary.damaged += 1
            earlier = result_path(self.out_dir, article.id)
            self.reporter.emit(
                "result_damaged", article=article.id, source=article.source,
                reason=f"{earlier}: earlier result unreadable; analysing {article.source} again",
            )
        estimate = self.budget.estimate_chars(article.chars)
        if self.summary.not_started or not self.budget.reserve(estimate):
            if not self.summary.not_started:
                self.summary.budget_message = (
                    f"spent ${self.budget.spent:.4f} + ${self.budget.reserved:.4f} in flight + "
                    f"${estimate:.4f} estimated for the next article would pass the budget of "
                    f"${self.settings.budget_usd:.4f}; no further article was started"
                )
                self.reporter.emit("budget_stop", message=self.summary.budget_message, spent_usd=self.budget.spent)
            self.summary.not_started += 1
            return False
        self._reserved[article.id] = estimate
        self.started += 1
        return True

    def counted(self) -> None:
        """What the bar counts to: every article that ends done, reused or failed (a file that could
        not be read is a failed article too); duplicates and what the budget left out never end."""
        self.reporter.emit("articles_counted", articles=self.ended_unstarted + self.started)

    # -- what became of them -------------------------------------------------------------------

    async def record(self, outcome: Outcome) -> None:
        """One article's end. Its ``usage.jsonl`` row is written in a thread (fsync blocks for milliseconds)."""
        if outcome.kind != "done":
            self._record_sync(outcome)
            return
        self._settle(outcome)
        self._done(outcome)
        try:
            await asyncio.to_thread(append_jsonl, self.out_dir / "usage.jsonl", self._usage_row(outcome))
        except OSError as error:
            if error.errno not in DISK_FULL:
                raise
            self.disk_full(error, None)  # the result itself is written: this article is done
        self._emit_done(outcome)

    def record_batch(self, outcomes: list[Outcome]) -> None:
        """A shard's outcomes at once (the Ray engine): their usage rows in one append, one fsync."""
        rows = []
        for outcome in outcomes:
            if outcome.kind != "done":
                self._record_sync(outcome)
                continue
            self._settle(outcome)
            self._done(outcome)
            rows.append(self._usage_row(outcome))
        if rows:
            try:
                append_jsonl(self.out_dir / "usage.jsonl", *rows)
            except OSError as error:
                if error.errno not in DISK_FULL:
                    raise
                self.disk_full(error, None)
        for outcome in outcomes:
            if outcome.kind == "done":
                self._emit_done(outcome)

    def _record_sync(self, outcome: Outcome) -> None:
        self._settle(outcome)
        if outcome.kind == "failed":
            self.failed(outcome.source, outcome.article, outcome.stage or "analyze", outcome.reason or "")
        elif outcome.kind == "disk_full" and isinstance(outcome.error, OSError):
            self.disk_full(outcome.error, outcome.source)
        elif outcome.kind in ("disk_full", "unfinished"):
            self.unfinished(None, outcome.source)

    def _settle(self, outcome: Outcome) -> None:
        self.summary.bill.add(outcome.tally)
        estimate = self._reserved.pop(outcome.article, None)
        if estimate is not None:
            self.budget.settle(estimate, outcome.tally.total(), outcome.chars)

    def release(self, article_id: str) -> None:
        """An admitted article that will not run after all (its shard is requeued): its reservation freed."""
        if (estimate := self._reserved.pop(article_id, None)) is not None:
            self.budget.reserved -= estimate

    def _done(self, outcome: Outcome) -> None:
        self.summary.done += 1
        self.summary.article_seconds.append(outcome.seconds)

    def _usage_row(self, outcome: Outcome) -> dict[str, object]:
        return {
            "run_id": self.summary.run_id, "article": outcome.article, "source": outcome.source,
            "cost_usd": round(outcome.tally.total().cost_usd, 6), "stages": outcome.tally.as_json(),
        }

    def _emit_done(self, outcome: Outcome) -> None:
        bill = outcome.tally.total()
        self.reporter.emit(
            "article_done", article=outcome.article, source=outcome.source, claims=outcome.claims,
            denials=outcome.denials, seconds=outcome.seconds, calls=bill.calls, cache_hits=bill.cache_hits,
            tokens=bill.tokens, cost_usd=round(bill.cost_usd, 6),
        )

    def unfinished(self, article_id: str | None, source: str) -> None:
        """In progress when the run stopped (a full disk, an interrupt): the next run resumes it."""
        if article_id is not None:
            self.release(article_id)
        self.summary.unfinished.append(source)

    def disk_full(self, error: OSError, unfinished: str | None) -> None:
        """OUT cannot take a result: the run starts nothing more and names the articles in progress
        as unfinished; the next run resumes them. The reserve is given back: room for the answers
        of the calls at the server, in the cache, and for run.json to say "stopped"."""
        if unfinished is not None:
            self.summary.unfinished.append(unfinished)
        if self.disk_fault is None:
            self.disk_fault = error
            self.reserve.release()
            for stop in self.on_disk_full:
                stop(error)

    def _too_long(self, article: Arrival) -> str:
        """Why a huge input is not analysed, with what analysing it would take."""
        over = f"{article.source}: {article.chars:,} characters is over max_chars ({self.settings.max_chars:,})"
        raise_it = "Raise max_chars (--max-chars, FACTCHECK_MAX_CHARS) to analyse it"
        if not self.calls_llm:  # --no-llm: no call to estimate
            return f"{over}. {raise_it}"
        calls, estimate = self.budget.rough(article.chars)
        cost = f"~${estimate:,.2f}" if self.budget.price else "cost unknown (no price for this model)"
        return f"{over}; analysing it would take about {calls:,} LLM calls, {cost}. {raise_it}"

    def unreadable(self, source: str, reason: str) -> None:
        self.ended_unstarted += 1
        self.failed(source, None, "ingest", reason)

    def bad_line(self, source: str, reason: str) -> None:
        """A JSONL line that is no article (``file:N``): failed like an unreadable file, and listed in run.json."""
        self.summary.bad_lines.append(redact(source))
        self.unreadable(source, reason)

    def failed_input(self, source: str, reason: str) -> None:
        """A path given or found that cannot be read at all (missing, a symlink loop)."""
        self.ended_unstarted += 1
        self.failed(source, None, "input", reason)

    def failed(self, source: str, article_id: str | None, stage: str, reason: str) -> None:
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
            self.disk_full(error, None)
        self.reporter.emit("article_failed", article=article_id, source=source, stage=stage, reason=reason)
