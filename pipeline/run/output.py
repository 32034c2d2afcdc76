"""The output folder of a run.

Layout of OUT_DIR:
  articles/<article_id>.json   one ArticleResult per article (atomic write: whole or absent)
  results.jsonl                one row per claim, rebuilt (streamed) from articles/ at the end of a run;
                               "current": false on the rows of an edited article's older results
  errors.jsonl                 one row per failed article, unreadable file or entry, or missing input
                               path of the latest run
  errors/<run_id>.jsonl        the errors of earlier runs, moved aside when a new run starts
  usage.jsonl                  one row per analysed article: tokens, calls, cache hits, cost per stage
  run.json                     manifest: config, backend, model, prompt versions, counts, tokens, cost,
                               timings, errors; "status" stays "running" if the run was killed
  .factcheck.lock              held by the run writing OUT (run/lock.py)
  .factcheck.reserve           4 MiB held during a run, given back when the disk fills (run/reserve.py)
"""

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from pipeline._io import atomic_writer, named
from pipeline.run.versions import Versions
from pipeline.text.ingest import InputError
from schemas import ArticleResult

OWN_ENTRIES = ("run.json", "articles", "batch.json", ".factcheck.lock")  # the lock: run/lock.py
SKIPPED_FILE = "skipped.txt"  # any of these marks a folder as ours
SKIPPED_LISTED = 100  # skipped files named in run.json and on stderr; all of them go to skipped.txt


def check_out_dir(out_dir: Path) -> None:
    """Refuse a folder that holds something else: a run never overwrites a user's files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: output path exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not any((out_dir / name).exists() for name in OWN_ENTRIES):
        raise InputError(f"{out_dir}: folder is not empty and is not a factcheck output folder; choose a new one")


def check_writable(out_dir: Path) -> None:
    """Write and remove a small file in OUT/articles: an unwritable folder or a full disk stops
    the run with an OSError naming the path before the first LLM call is paid for."""
    folder = out_dir / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".probe.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:  # a buffered write: it fails, where os.write would write part
            f.write(b"\0" * 65536)  # about the size of a large result
            f.flush()
            os.fsync(f.fileno())
    except OSError as error:
        raise named(error, folder) from None
    finally:
        os.unlink(probe)


def result_path(out_dir: Path, article_id: str) -> Path:
    return out_dir / "articles" / f"{article_id}.json"


def load_result(path: Path) -> ArticleResult | None:
    try:
        return ArticleResult.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def sweep_temporaries(out_dir: Path) -> None:
    """A run killed mid-write leaves its hidden temporary file; the real file is intact."""
    for folder in (out_dir, out_dir / "articles"):
        for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
            leftover.unlink(missing_ok=True)


def set_aside_errors(out_dir: Path) -> None:
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


def write_results_table(
    out_dir: Path, read_now: Callable[[str], str | None] = lambda source: None,
) -> list[tuple[str, str, list[str]]]:
    """Streamed into a temporary file and renamed: whole or absent, in flat memory. Each row says
    whether its article's result is ``current``: an edited article keeps its older results beside the
    new one (run/versions.py decides which is current; ``read_now``: the id this run read from a
    source). Returns (source, current id, superseded ids) for the sources this run read that have
    older versions (the first SKIPPED_LISTED)."""
    articles = out_dir / "articles"
    versions = Versions()
    try:
        for path in result_files(articles):
            if (key := _version_key(path)) is not None:
                versions.add(*key)
        versions.settle(read_now)
        with atomic_writer(out_dir / "results.jsonl") as f:
            for path in result_files(articles):
                result = load_result(path)
                if result is not None:
                    current = versions.current(result.article.source) in (None, result.article.id)
                    for row in claim_rows(result):
                        f.write(json.dumps({**row, "current": current}, ensure_ascii=False) + "\n")
        return versions.superseded_now(SKIPPED_LISTED)
    finally:
        versions.close()


def _version_key(path: Path) -> tuple[str, str, str] | None:
    """(source, article id, started at) of a result file, read without validating the rest; None if unreadable."""
    try:
        data = json.loads(path.read_bytes())
        return str(data["article"]["source"]), str(data["article"]["id"]), str(data["run"]["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def result_files(articles: Path) -> Iterator[Path]:
    """The result files in directory order, streamed: no listing of the folder is held."""
    if not articles.is_dir():
        return
    with os.scandir(articles) as entries:
        for entry in entries:
            if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file():
                yield Path(entry.path)
