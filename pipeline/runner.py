"""Running the pipeline over files and folders into an output folder.

Layout of OUT_DIR:
  articles/<article_id>.json   one ArticleResult per article (atomic write)
  results.jsonl                one row per claim, rebuilt from articles/ at the end of a run
  errors.jsonl                 one row per failed article or skipped file
  run.json                     manifest: config, backend, model, prompt versions, counts, usage
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from pipeline._io import append_jsonl, write_json_atomic, write_text_atomic
from pipeline.analyze import analyze, prompt_versions
from pipeline.ingest import ARTICLE_SUFFIXES, Article, InputError, read_articles
from pipeline.llm import LLM, LLMError
from pipeline.settings import Settings
from schemas import ArticleResult


class NoArticlesError(InputError):
    """Nothing to run on: every path is missing, empty or holds no article files."""


@dataclass
class RunSummary:
    done: int = 0
    reused: int = 0
    failed: int = 0
    skipped_files: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    calls: int = 0

    @property
    def attempted(self) -> int:
        return self.done + self.reused + self.failed


def discover(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Article files under ``paths`` (recursively, sorted) and one line per skipped file."""
    files: list[Path] = []
    skipped: list[str] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                if child.suffix.lower() in ARTICLE_SUFFIXES:
                    files.append(child)
                else:
                    skipped.append(f"{child}: skipped (not an article file type)")
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(f"{path}: no such file or folder")
    return files, skipped


def iter_articles(files: list[Path], on_error: Callable[[str, str], None]) -> Iterator[Article]:
    for path in files:
        try:
            yield from read_articles(path)
        except InputError as error:
            on_error(str(path), str(error))


def result_path(out_dir: Path, article_id: str) -> Path:
    return out_dir / "articles" / f"{article_id}.json"


def load_result(path: Path) -> ArticleResult | None:
    try:
        return ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def discover_or_fail(paths: list[Path]) -> tuple[list[Path], list[str]]:
    files, skipped = discover(paths)
    if not files:
        raise NoArticlesError("; ".join(skipped[:3]) or f"{', '.join(map(str, paths))}: no article files found")
    return files, skipped


async def run(
    llm: LLM,
    files: list[Path],
    skipped: list[str],
    out_dir: Path,
    settings: Settings,
    *,
    on_article: Callable[[str, str], None] | None = None,
) -> RunSummary:
    """Analyse every article; one article's failure is recorded and does not stop the others.
    An article whose valid result already exists in OUT_DIR is not analysed again."""
    summary = RunSummary(skipped_files=skipped)
    errors = out_dir / "errors.jsonl"
    started = datetime.now(UTC)
    clock = time.perf_counter()

    def record_error(source: str, reason: str, stage: str = "ingest") -> None:
        summary.failed += 1
        append_jsonl(errors, {"article": source, "stage": stage, "reason": reason, "at": datetime.now(UTC).isoformat()})
        if on_article:
            on_article(source, f"failed: {reason}")

    for article in iter_articles(files, record_error):
        target = result_path(out_dir, article.meta.id)
        if load_result(target) is not None:
            summary.reused += 1
            if on_article:
                on_article(article.meta.source, "already done")
            continue
        try:
            result = await analyze(llm, article, max_claims=settings.max_claims, window_chars=settings.window_chars)
        except LLMError as error:
            record_error(article.meta.source, str(error), stage="llm")
            continue
        write_json_atomic(target, result)
        summary.done += 1
        for stage in result.run.usage:
            summary.calls += stage.calls
            summary.prompt_tokens += stage.prompt_tokens
            summary.completion_tokens += stage.completion_tokens
            summary.cached_tokens += stage.cached_tokens
        if on_article:
            on_article(article.meta.source, f"{len(result.claims)} claims, {len(result.denials)} denials")

    write_results_table(out_dir)
    write_json_atomic(
        out_dir / "run.json",
        {
            "started_at": started.isoformat(),
            "seconds": round(time.perf_counter() - clock, 3),
            "backend": llm.backend,
            "model": llm.model,
            "endpoint": llm.endpoint if llm.backend != "embedded" else "embedded (loopback)",
            "prompt_versions": prompt_versions(),
            "config": settings.model_dump(mode="json", exclude={"api_key"}),
            "counts": {
                "done": summary.done,
                "already_done": summary.reused,
                "failed": summary.failed,
                "skipped_files": len(summary.skipped_files),
            },
            "skipped_files": summary.skipped_files,
            "tokens": {
                "calls": summary.calls,
                "prompt": summary.prompt_tokens,
                "completion": summary.completion_tokens,
                "cached": summary.cached_tokens,
            },
        },
    )
    return summary


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
    lines: list[str] = []
    for path in sorted((out_dir / "articles").glob("*.json")):
        result = load_result(path)
        if result is not None:
            lines += [json.dumps(row, ensure_ascii=False) for row in claim_rows(result)]
    write_text_atomic(out_dir / "results.jsonl", "".join(line + "\n" for line in lines))
