"""What a run tells people and machines while it goes: a rich progress bar, JSON-lines logs.

The runner emits named events with plain fields; reporters decide how to show them.
"""

import json
import sys
import time
from datetime import UTC, datetime
from typing import IO, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipeline.llm.redaction import redact, redact_data


class Reporter(Protocol):
    def emit(self, event: str, **fields: object) -> None: ...

    def close(self) -> None: ...


class Reporters:
    """Fans every event out to several reporters."""

    def __init__(self, *reporters: Reporter):
        self.reporters = list(reporters)

    def emit(self, event: str, **fields: object) -> None:
        for reporter in self.reporters:
            reporter.emit(event, **fields)

    def close(self) -> None:
        for reporter in self.reporters:
            reporter.close()


class JsonLog:
    """One JSON object per line and event, flushed at once, for CI and log shippers."""

    def __init__(self, stream: IO[str], *, owns: bool = False):
        self.stream = stream
        self.owns = owns

    def emit(self, event: str, **fields: object) -> None:
        row = redact_data({"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields})
        self.stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.owns:
            self.stream.close()


class FailurePrinter:
    """For ``--quiet``: only failures, one line each."""

    def __init__(self, console: Console):
        self.console = console

    def emit(self, event: str, **fields: object) -> None:
        if event == "article_failed":
            self.console.print(
                redact(f"{fields['source']}: failed at {fields['stage']}: {fields['reason']}"), markup=False,
                soft_wrap=True,
            )
        elif event == "result_damaged":
            self.console.print(redact(str(fields["reason"])), markup=False, soft_wrap=True)

    def close(self) -> None:
        pass


class ProgressBar:
    """Articles done/failed, rate, tokens and estimated cost, redrawn in place on stderr."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("articles", total=None, stats="")
        self.done = self.reused = self.failed = 0
        self.tokens = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.progress.start()

    def emit(self, event: str, **fields: object) -> None:
        if event == "run_started" and fields.get("articles_estimate"):
            self.progress.update(self.task, total=int(fields["articles_estimate"]))  # type: ignore[arg-type]
        elif event == "articles_counted":
            self.progress.update(self.task, total=int(fields["articles"]))  # type: ignore[arg-type]
        elif event == "article_done":
            self.done += 1
            self.tokens += int(fields.get("tokens", 0))  # type: ignore[arg-type]
            self.cost += float(fields.get("cost_usd", 0.0))  # type: ignore[arg-type]
        elif event == "article_reused":
            self.reused += 1
        elif event == "article_failed":
            self.failed += 1
            self.progress.console.print(
                redact(f"{fields['source']}: failed at {fields['stage']}: {fields['reason']}"), markup=False,
                soft_wrap=True,
            )
        elif event == "result_damaged":
            self.progress.console.print(redact(str(fields["reason"])), markup=False, soft_wrap=True)
            return
        elif event == "budget_stop":
            self.progress.console.print(redact(f"budget reached: {fields['message']}"), markup=False, soft_wrap=True)
        else:
            return
        finished = self.done + self.reused + self.failed
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        stats = (
            f"done {self.done} reused {self.reused} failed {self.failed} | {rate:.1f}/s | "
            f"{self.tokens:,} tok | ${self.cost:.4f}"
        )
        self.progress.update(self.task, completed=finished, stats=stats)

    def close(self) -> None:
        self.progress.stop()


def json_log(target: str) -> JsonLog:
    """``-`` is stderr; anything else is a file, appended to."""
    if target == "-":
        return JsonLog(sys.stderr)
    return JsonLog(open(target, "a", encoding="utf-8"), owns=True)  # noqa: SIM115 - closed by close()
