"""A run folder as the desk sees it: machine results read-only, reviews appended.

``reviews.jsonl`` holds one :class:`schemas.review.ReviewEvent` per line. Every
append happens under an exclusive ``flock`` on that file and is flushed and
fsynced before the lock is released, so two reviewers saving at the same moment
both land, in some order. Readers take a shared lock and skip a torn last line
(a writer killed mid-line); the next writer puts a newline after such a torn
line so it never swallows a good event. The log's first event is written to a
temporary file and linked into place, and an append the disk cannot take is cut
back: a full disk or a read-only folder never leaves an empty log or half a line.
"""

import fcntl
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from schemas import ArticleResult, Claim, VerdictLabel
from schemas.review import (
    ARTICLE_ID_PATTERN,
    ClaimState,
    ReviewAction,
    ReviewEvent,
    ReviewRequest,
    ReviewStatus,
)

log = logging.getLogger(__name__)

REVIEWS_FILE = "reviews.jsonl"
ARTICLES_DIR = "articles"
CHECKWORTHY = "check-worthy"
NOT_CHECKWORTHY = "not check-worthy"

_ARTICLE_ID = re.compile(ARTICLE_ID_PATTERN)


class ReviewConflict(Exception):
    """The action makes no sense for the claim as it stands (e.g. accept with no verdict)."""


@dataclass
class _Cached:
    stamp: tuple[int, int]  # (mtime_ns, size): re-read a file only when it changed
    result: ArticleResult | None
    error: str | None


@dataclass
class RunFolder:
    """Read-only access to ``OUT_DIR/articles/*.json``.

    Articles are found by listing the folder; a user-supplied id is only ever
    looked up in that listing, never joined onto a path.
    """

    out_dir: Path
    _cache: dict[str, _Cached] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out_dir = self.out_dir.resolve()

    @property
    def articles_dir(self) -> Path:
        return self.out_dir / ARTICLES_DIR

    def _scan(self) -> dict[str, _Cached]:
        seen: dict[str, _Cached] = {}
        if not self.articles_dir.is_dir():
            return seen
        for path in sorted(self.articles_dir.iterdir()):
            if path.suffix != ".json" or not _ARTICLE_ID.match(path.stem) or not path.is_file():
                continue
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(path.stem)
            if cached is None or cached.stamp != stamp:
                cached = _load(path, stamp)
            seen[path.stem] = cached
        self._cache = seen
        return seen

    def articles(self) -> dict[str, ArticleResult]:
        return {aid: c.result for aid, c in self._scan().items() if c.result is not None}

    def errors(self) -> dict[str, str]:
        """Article files that could not be read, with why: shown in the app, never fatal."""
        return {aid: c.error for aid, c in self._scan().items() if c.error is not None}

    def article(self, article_id: str) -> ArticleResult | None:
        if not _ARTICLE_ID.match(article_id):
            return None
        return self.articles().get(article_id)


def _load(path: Path, stamp: tuple[int, int]) -> _Cached:
    try:
        result = ArticleResult.model_validate_json(path.read_bytes())
        if result.article.id != path.stem:
            # Reviews are keyed by article id; a renamed file would attach them to the wrong text.
            return _Cached(stamp, None, f"file name {path.stem} does not match article id {result.article.id}")
        return _Cached(stamp, result, None)
    except (OSError, ValidationError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        log.warning("cannot read %s: %s", path, first)
        return _Cached(stamp, None, first)


@dataclass(frozen=True)
class LogContents:
    events: list[ReviewEvent]
    skipped: int  # lines that were not valid events (a torn tail, or hand edits)


class ReviewLog:
    """The append-only ``reviews.jsonl`` of a run folder."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir.resolve() / REVIEWS_FILE

    def read(self) -> LogContents:
        if not self.path.exists():
            return LogContents([], 0)
        with open(self.path, "rb") as handle, _locked(handle, fcntl.LOCK_SH):
            return _parse(handle.read())

    def events(self) -> list[ReviewEvent]:
        return self.read().events

    def append(self, article: ArticleResult, claim_id: str, request: ReviewRequest) -> tuple[ReviewEvent, ClaimState]:
        """Append the event for ``request`` and return it with the claim's new state.

        ``before`` is computed from the log as read under the exclusive lock, so
        concurrent saves chain: the second one's ``before`` is the first one's ``after``.
        """
        claim = next((c for c in article.claims if c.id == claim_id), None)
        if claim is None:
            raise KeyError(claim_id)
        if not self.path.exists():
            made = self._create(article, claim, request)
            if made is not None:
                return made
        with open(self.path, "a+b") as handle, _locked(handle, fcntl.LOCK_EX):
            handle.seek(0)
            data = handle.read()
            events = _parse(data).events
            mine = [e for e in events if e.article_id == article.article.id and e.claim_id == claim_id]
            event = _event(article.article.id, claim_id, request, claim_state(article, claim, mine))
            line = event.model_dump_json().encode("utf-8") + b"\n"
            if data and not data.endswith(b"\n"):
                line = b"\n" + line  # close a torn line so this event starts on its own
            _append_whole(handle.fileno(), line, len(data))
        return event, claim_state(article, claim, [*mine, event])

    def _create(
        self, article: ArticleResult, claim: Claim, request: ReviewRequest,
    ) -> tuple[ReviewEvent, ClaimState] | None:
        """The log's first event: written to a temporary file of its own, fsynced, then linked into
        place, so a full disk or an unwritable folder leaves no log rather than an empty one. None when
        another save created the log first: the caller appends under the lock instead."""
        event = _event(article.article.id, claim.id, request, claim_state(article, claim, []))
        first = self.path.with_name(f".{REVIEWS_FILE}.{uuid.uuid4().hex}.tmp")
        try:
            fd = os.open(first, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as to any file
            try:
                _append_whole(fd, event.model_dump_json().encode("utf-8") + b"\n", 0)
            finally:
                os.close(fd)
            os.link(first, self.path)  # fails if the log exists: never replaces another save's events
        except FileExistsError:
            return None
        except OSError as error:
            error.filename = str(self.path)  # the log it could not write, not a temporary name
            raise
        finally:
            first.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)
        return event, claim_state(article, claim, [event])


@contextmanager
def _locked(handle: IO[bytes], mode: int) -> Iterator[None]:
    fcntl.flock(handle.fileno(), mode)
    try:
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _append_whole(fd: int, line: bytes, size: int) -> None:
    """Append ``line`` to the log open on ``fd`` (under its exclusive lock, ``size`` bytes long) and
    fsync it; if the disk cannot take all of it, cut the log back to ``size``: no partial line stays."""
    try:
        written = 0
        while written < len(line):  # O_APPEND: each write goes to the end
            written += os.write(fd, line[written:])
        os.fsync(fd)
    except OSError:
        os.ftruncate(fd, size)
        raise


def _fsync_dir(path: Path) -> None:
    # Make the new file's directory entry durable too.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse(data: bytes) -> LogContents:
    events: list[ReviewEvent] = []
    skipped = 0
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            events.append(ReviewEvent.model_validate(json.loads(raw)))
        except (ValueError, ValidationError) as error:
            skipped += 1
            if number != len(lines):  # a torn tail is expected after a crash; anything else is worth a warning
                log.warning("reviews.jsonl line %d is not a review event: %s", number, str(error).splitlines()[0])
    return LogContents(events, skipped)


def _event(article_id: str, claim_id: str, request: ReviewRequest, current: ClaimState) -> ReviewEvent:
    before: str | None = None
    after: str | None = None
    match request.action:
        case ReviewAction.accept:
            if current.verdict is None:
                raise ReviewConflict(f"claim {claim_id} has no verdict to accept; override it with a verdict instead")
            before = after = current.verdict.value
        case ReviewAction.override:
            assert request.verdict is not None  # ReviewRequest guarantees it
            before = current.verdict.value if current.verdict else None
            after = request.verdict.value
        case ReviewAction.edit:
            before, after = current.statement, request.statement
        case ReviewAction.not_checkworthy:
            before = CHECKWORTHY if current.checkworthy else NOT_CHECKWORTHY
            after = NOT_CHECKWORTHY
        case ReviewAction.note:
            pass
    return ReviewEvent(
        article_id=article_id,
        claim_id=claim_id,
        reviewer=request.reviewer,
        action=request.action,
        before=before,
        after=after,
        reason=request.reason,
        note=request.note,
    )


def claim_state(article: ArticleResult, claim: Claim, events: list[ReviewEvent]) -> ClaimState:
    """Machine values overlaid with the latest event per field, in log order."""
    verdict = article.verdict_for(claim.id)
    state = ClaimState(
        article_id=article.article.id,
        claim_id=claim.id,
        statement=claim.statement,
        machine_statement=claim.statement,
        verdict=verdict.verdict if verdict else None,
        machine_verdict=verdict.verdict if verdict else None,
        confidence=verdict.confidence if verdict else None,
        checkworthiness=claim.checkworthiness,
    )
    verdict_action: ReviewAction | None = None
    for event in events:
        state.history.append(event)
        state.reviewed_by, state.reviewed_at = event.reviewer, event.timestamp
        match event.action:
            case ReviewAction.accept | ReviewAction.override:
                state.verdict = VerdictLabel(event.after)
                verdict_action = event.action
            case ReviewAction.edit:
                state.statement = event.after or state.statement
            case ReviewAction.not_checkworthy:
                state.checkworthy = False
            case ReviewAction.note:
                state.notes.append(event.note or "")
    if not state.checkworthy:
        state.status = ReviewStatus.not_checkworthy
    elif verdict_action is ReviewAction.override:
        state.status = ReviewStatus.overridden
    elif verdict_action is ReviewAction.accept:
        state.status = ReviewStatus.accepted
    elif events:
        state.status = ReviewStatus.annotated
    return state


def group_events(events: list[ReviewEvent]) -> dict[tuple[str, str], list[ReviewEvent]]:
    grouped: dict[tuple[str, str], list[ReviewEvent]] = {}
    for event in events:
        grouped.setdefault((event.article_id, event.claim_id), []).append(event)
    return grouped


def reviewed_verdicts(events: list[ReviewEvent]) -> dict[tuple[str, str], VerdictLabel]:
    """(article id, claim id) -> the verdict a reviewer accepted or overrode last, in log order:
    what a story shows for the claim instead of the machine's."""
    verdicts: dict[tuple[str, str], VerdictLabel] = {}
    for event in events:
        if event.action in (ReviewAction.accept, ReviewAction.override) and event.after:
            verdicts[(event.article_id, event.claim_id)] = VerdictLabel(event.after)
    return verdicts


def all_states(articles: dict[str, ArticleResult], events: list[ReviewEvent]) -> list[tuple[ArticleResult, ClaimState]]:
    """Every claim of every article with its effective state, in article then claim order."""
    grouped = group_events(events)
    rows: list[tuple[ArticleResult, ClaimState]] = []
    for article_id, article in articles.items():
        for claim in article.claims:
            rows.append((article, claim_state(article, claim, grouped.get((article_id, claim.id), []))))
    return rows
