"""One article analysed and written into OUT: the step every engine runs, in the local process or
in a Ray actor. It touches no file of the run's but the article's own result; what happened comes
back as an :class:`Outcome` (plain data, sent across processes) for the driver to record.

An :class:`Arrival` is what the driver needs to admit an article without its text: its id (the
text's digest: duplicates), its source, its length (budget, ``max_chars``), and whether OUT holds
a result of it already (resume)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from pipeline._io import DISK_FULL, environment_fault, write_json_atomic
from pipeline.llm.costs import Tally, current_tally
from pipeline.llm.errors import EndpointError, LLMError
from pipeline.run.inputs import one_line
from pipeline.run.output import load_result, result_path
from pipeline.settings import Settings
from pipeline.stages.analyze import analyze, analyze_without_llm
from pipeline.stages.options import AnalysisOptions
from pipeline.text.ingest import Article
from schemas import ArticleResult

if TYPE_CHECKING:  # the client loads the openai SDK: run --no-llm never needs it
    from pipeline.llm.client import LLM

Prior = Literal["none", "valid", "damaged"]


@dataclass(frozen=True)
class Arrival:
    id: str
    source: str
    chars: int
    prior: Prior  # an earlier result in OUT: none, valid (kept on resume), or unreadable (analysed again)


def arrival(article: Article, out_dir: Path, llm_backend: str | None, resume: bool) -> Arrival:
    """``llm_backend``: the run's (None for ``--no-llm``): a result made without an LLM is not kept
    by a run with one, which upgrades it."""
    prior: Prior = "none"
    if resume:
        earlier = result_path(out_dir, article.meta.id)
        done = load_result(earlier)
        if done is not None and (llm_backend is None or done.run.backend != "none"):
            prior = "valid"
        elif done is None and earlier.exists():
            prior = "damaged"
    return Arrival(article.meta.id, article.meta.source, len(article.text), prior)


Kind = Literal["done", "failed", "fatal", "disk_full", "unfinished"]


@dataclass
class Outcome:
    """``done``: the result is written. ``failed``: this article's failure (``stage``, ``reason``).
    ``fatal``: the endpoint serves no call (``reason``): the run stops. ``disk_full``: OUT took no
    result (``reason``): the run starts nothing more. ``unfinished``: stopped before its end by one
    of those two; the next run resumes it."""

    article: str
    source: str
    kind: Kind
    chars: int
    tally: Tally = field(default_factory=Tally)
    stage: str | None = None
    reason: str | None = None
    claims: int = 0
    denials: int = 0
    seconds: float = 0.0
    error: Exception | None = None  # fatal: the EndpointError; disk_full: the OSError (run.json's one line)


async def analyse_article(llm: LLM | None, article: Article, settings: Settings, out_dir: Path) -> Outcome:
    """Analyse ``article`` and write its result atomically; whatever goes wrong is this article's
    outcome, never an exception (a bug fails only its article), but cancellation."""
    meta, chars = article.meta, len(article.text)
    tally = Tally()
    try:
        result = await _analyse(llm, article, settings, tally)
    except EndpointError as error:  # not this article's failure: the whole run's
        return Outcome(meta.id, meta.source, "fatal", chars, tally, reason=str(error), error=error)
    except LLMError as error:
        return Outcome(meta.id, meta.source, "failed", chars, tally, tally.last_stage or "llm", str(error))
    except (ValidationError, ValueError) as error:  # invalid output
        return Outcome(meta.id, meta.source, "failed", chars, tally, tally.last_stage or "analyze", one_line(error))
    except OSError as error:
        return _os_error(meta.id, meta.source, chars, tally, "analyze", error)
    except Exception as error:  # a bug must fail only its article, never stall an overnight run
        reason = f"internal error, please report: {one_line(error)}"
        return Outcome(meta.id, meta.source, "failed", chars, tally, "internal", reason)
    try:
        # fsync blocks for milliseconds: in a thread, so other articles' answers keep flowing.
        await asyncio.to_thread(write_json_atomic, result_path(out_dir, meta.id), result)
    except OSError as error:  # the folder changed under the run (its permissions, a file in the way), or is full
        return _os_error(meta.id, meta.source, chars, tally, "write", error)
    return Outcome(
        meta.id, meta.source, "done", chars, tally, claims=len(result.claims), denials=len(result.denials),
        seconds=result.run.seconds,
    )


def _os_error(article_id: str, source: str, chars: int, tally: Tally, stage: str, error: OSError) -> Outcome:
    if error.errno in DISK_FULL:  # its own error row could not be written either
        return Outcome(article_id, source, "disk_full", chars, tally, reason=str(error), error=error)
    return Outcome(article_id, source, "failed", chars, tally, stage, environment_fault(error) or one_line(error))


async def _analyse(llm: LLM | None, article: Article, settings: Settings, tally: Tally) -> ArticleResult:
    token = current_tally.set(tally)
    try:
        if llm is None:
            return await analyze_without_llm(article, AnalysisOptions.from_settings(settings, "none"))
        return await analyze(llm, article, options=AnalysisOptions.from_settings(settings, llm.backend))
    finally:
        current_tally.reset(token)
