"""What a run records: its running summary, OUT/run.json (the manifest, with the run's options) and OUT/skipped.txt."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipeline._io import write_json_atomic
from pipeline.llm.backends import endpoint_label
from pipeline.llm.costs import Tally
from pipeline.llm.limiter import AdaptiveLimiter
from pipeline.llm.prices import ModelPrice
from pipeline.llm.redaction import redact_data
from pipeline.run.output import SKIPPED_FILE, SKIPPED_LISTED
from pipeline.run.progress import Reporter
from pipeline.settings import Settings
from pipeline.stages.analyze import prompt_versions
from pipeline.text.printable import printable
from schemas import Usage

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM
    from pipeline.stories import StoriesUpdate


SECONDS_SAMPLE = 2048  # article durations kept for the median: a uniform sample, not every article


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
    skipped_faults: int = 0  # of those, entries that may hide articles (folder loops, unreadable entries): exit 3
    skipped_files: list[str] = field(default_factory=list)  # the first SKIPPED_LISTED of them (+ a note)
    bill: Tally = field(default_factory=Tally)
    article_seconds: "SecondsSample" = field(default_factory=lambda: SecondsSample())
    budget_message: str | None = None
    fatal_error: str | None = None  # why the whole run stopped (status "failed", or "stopped": OUT's disk is full)
    cache_error: str | None = None  # the response cache stopped taking answers (a full disk)
    unfinished: list[str] = field(default_factory=list)  # in progress when the run stopped (full disk, interrupt)
    bad_lines: "BadLines" = field(default_factory=lambda: BadLines())  # JSONL lines that are no article (``file:N``)
    superseded: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (source, current id, older ids)
    stories: "StoriesUpdate | None" = None  # OUT/stories.jsonl, when the run built it
    stories_error: str | None = None

    @property
    def attempted(self) -> int:
        return self.done + self.reused + self.failed

    @property
    def total(self) -> Usage:
        return self.bill.total()


class BadLines:
    """The JSONL lines that were no article, as ``file:N``: the first SKIPPED_LISTED named in run.json, all counted
    (every one is also a row of errors.jsonl)."""

    def __init__(self) -> None:
        self.count = 0
        self.named: list[str] = []

    def append(self, source: str) -> None:
        self.count += 1
        if len(self.named) < SKIPPED_LISTED:
            self.named.append(source)

    def listed(self) -> list[str]:
        more = self.count - len(self.named)
        return self.named + ([f"... and {more} more: every one is a row of errors.jsonl"] if more > 0 else [])


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


class Manifest:
    def __init__(
        self, llm: LLM | None, settings: Settings, resume: bool, out_dir: Path, summary: RunSummary,
        price: ModelPrice | None, limiter: AdaptiveLimiter | None, files: int | None,
    ):
        self.llm = llm
        self.settings = settings
        self.resume = resume
        self.out_dir = out_dir
        self.summary = summary
        self.price = price
        self.limiter = limiter
        self.files = files  # counted before the run (None for a plain iterable); the final count after
        self.engine = "local"  # run --engine: local, or ray (each actor has a limiter of its own: none here)
        self.started = datetime.now(UTC)
        self.clock = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.clock, 3)

    def counts(self) -> dict[str, int | None]:
        s = self.summary
        return {
            "files": s.files if s.status != "running" else self.files,
            "done": s.done,
            "already_done": s.reused,
            "failed": s.failed,
            "not_started": s.not_started,
            "duplicates": s.duplicates,
            "damaged_results_redone": s.damaged,
            "skipped_files": s.skipped,
            "skipped_faults": s.skipped_faults,
            "unfinished": len(s.unfinished),
            "bad_lines": s.bad_lines.count,
        }

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
                "backend": self.llm.backend if self.llm else "none",
                "model": self.llm.model if self.llm else "none",
                "endpoint": endpoint_label(self.llm.backend, self.llm.endpoint) if self.llm else "none",
                "prompt_versions": prompt_versions(),
                "config": self.settings.model_dump(mode="json", exclude={"api_key"}),
                "options": {
                    "concurrency": self.settings.concurrency,
                    "budget_usd": self.settings.budget_usd,
                    "cache": self.settings.cache,
                    "resume": self.resume,
                },
                "engine": self.engine,
                "counts": self.counts(),
                "unfinished": s.unfinished,
                "bad_lines": s.bad_lines.listed(),
                "superseded": [{"source": src, "current": now, "superseded": old} for src, now, old in s.superseded],
                "skipped_files": s.skipped_files,
                "skipped_list": SKIPPED_FILE if s.skipped else None,
                "usage": total.model_dump(mode="json"),  # the run's, as each stage's below and in usage.jsonl
                "by_stage": s.bill.as_json(),
                "cost": {
                    "estimated_usd": round(total.cost_usd, 6),
                    "price_per_1m_tokens": self.price.model_dump() if self.price else None,
                    "note": None if self.price else (
                        f"no price known for {self.llm.model if self.llm else 'none'!r}; cost not estimated"
                    ),
                },
                "budget": {
                    "limit_usd": self.settings.budget_usd,
                    "stopped": s.not_started > 0,
                    "message": s.budget_message,
                },
                "timings": {
                    "seconds": seconds,
                    "articles_per_second": round(s.done / seconds, 3) if seconds else None,
                    "article_seconds_median": (
                        round(median, 3) if (median := s.article_seconds.median()) is not None else None
                    ),
                },
                "limiter": {
                    "limit": self.limiter.limit, "maximum": self.limiter.maximum, "decreases": self.limiter.decreases,
                } if self.limiter is not None else None,
                "errors": {"count": s.failed, "file": "errors.jsonl", "run_stopped_by": s.fatal_error},
            }),  # type: ignore[arg-type]
        )


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
        self._file.write(printable(line) + "\n")  # one line a name, whatever the name holds
        self.reporter.emit("file_skipped", reason=line)

    def fault(self, line: str) -> None:
        """An entry left out that may hide articles (a folder loop, an unreadable entry): listed
        like the others, and the run exits 3."""
        self.summary.skipped_faults += 1
        self.add(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        more = self.summary.skipped - len(self.summary.skipped_files)
        if more > 0:
            self.summary.skipped_files.append(f"... and {more} more: every skipped file is listed in {self.path}")
