"""One article through the three stages: claims -> denials -> verdicts, per context window."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from rapidfuzz import fuzz

from pipeline.stages import candidates, propositions
from pipeline.stages._stage import Analysis, Stage, check_order, run_stages
from pipeline.stages.options import AnalysisOptions
from pipeline.stages.registry import ANALYZE, STAGES, VERIFY, for_verifier
from pipeline.stance import verdicts as stance_verdicts
from pipeline.stance.embedder import shared_embedder
from pipeline.stance.model import stance_model_sha256
from pipeline.text import prompts
from pipeline.text.document import Window, windows
from pipeline.text.ingest import Article
from schemas import ArticleResult, Attribution, Claim, Denial, RunInfo, Usage, Verdict
from schemas.result import Verifier

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from pipeline.llm.client import LLM

T = TypeVar("T")
DUPLICATE_SCORE = 80  # token_set_ratio above which two claims on the same sentence are one claim


def prompt_versions() -> dict[str, str]:
    return {name: prompts.version(name) for name in ("system", *(stage.prompt for stage in STAGES))}


def usage_by_stage(stages: Sequence[Stage] = ()) -> dict[str, Usage]:
    """Every stage's usage, zero until it runs: the built-in stages', then any other in ``stages``."""
    return {name: Usage() for name in dict.fromkeys([*(s.name for s in STAGES), *(s.name for s in stages)])}


async def analyze(
    llm: LLM, article: Article, options: AnalysisOptions = AnalysisOptions(), stages: Sequence[Stage] = ANALYZE
) -> ArticleResult:
    """``stages``: run in this order on each context window (``registry.ANALYZE``); with the trained
    verifier those that write verdicts are left out, and the stance model judges the merged claims."""
    stages = for_verifier(stages, options.verifier)
    check_order(stages)
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    # The text work (sentences, attributions, embeddings) runs in worker threads: a pathological
    # article must not hold the event loop that serves every other article's calls.
    parts = await asyncio.to_thread(windows, article.text, title=article.meta.title, max_chars=options.window_chars)
    attributions = attributions_of(parts)
    usage = usage_by_stage(stages)
    claims: list[Claim] = []
    denials: list[Denial] = []
    verdicts: list[Verdict] = []
    warnings: list[str] = []
    withheld = sorted({n for window in parts for n in window.withheld})
    if withheld:
        warnings.append(f"sentences {withheld} address AI systems; shown to the model as a placeholder, kept in the text")
    for window in parts:
        found = await run_stages(llm, stages, Analysis(window, options), usage, warnings)
        _merge((found.claims, found.denials, found.verdicts), claims, denials, verdicts)
    if len(parts) > 1:  # one window's claims are merged already; across windows, here
        claims, denials, verdicts = await asyncio.to_thread(_one_per_proposition, claims, denials, verdicts, warnings)
    if options.verifier == "trained":
        # One judgement per claim over the whole article, after the windows are merged.
        verdicts = await judge_with_stance_model(article.text, claims, denials, usage, attributions)
    return ArticleResult(
        article=article.meta,
        text=article.text,
        claims=claims,
        denials=denials,
        verdicts=verdicts,
        attributions=list(attributions),  # code, not LLM: every who-said-what
        warnings=warnings,
        run=run_info(llm, usage, len(parts), started_at, clock, options.verifier),
    )


NO_LLM_WARNING = "no LLM: claims are code's candidates in the article's words, denials found by rule (run with an LLM to rewrite and link them)"


async def analyze_without_llm(article: Article, options: AnalysisOptions = AnalysisOptions()) -> ArticleResult:
    """Triage at scale (``run --no-llm``): every candidate claim the code proposes above the
    check-worthiness threshold, its content as the statement; denials by rule; the stance model's
    verdicts. A complete result, marked by ``run.backend == "none"`` and a warning."""
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    parts = await asyncio.to_thread(windows, article.text, title=article.meta.title, max_chars=options.window_chars)
    attributions = attributions_of(parts)
    usage = usage_by_stage()
    claims: list[Claim] = []
    denials: list[Denial] = []
    for window in parts:
        found = await asyncio.to_thread(_bounded, _window_without_llm, window)
        _merge((*found, []), claims, denials, [])
    warnings = [NO_LLM_WARNING]
    if len(parts) > 1:
        claims, denials, _ = _one_per_proposition(claims, denials, [], warnings)
    verdicts = await judge_with_stance_model(article.text, claims, denials, usage, attributions)
    return ArticleResult(
        article=article.meta, text=article.text, claims=claims, denials=denials, verdicts=verdicts,
        attributions=list(attributions), warnings=warnings,
        run=run_info(None, usage, len(parts), started_at, clock, "trained"),
    )  # fmt: skip


def attributions_of(parts: Sequence[Window]) -> tuple[Attribution, ...]:
    """The article's attributions, which its windows share (``windows`` found them once); a text
    without a sentence has none."""
    return parts[0].attributions if parts else ()


def _window_without_llm(window: Window) -> tuple[list[Claim], list[Denial]]:
    proposed, denial_candidates = candidates.propose(window)
    claims = candidates.claims_from(window, proposed, len(proposed))
    return claims, candidates.denials_from(window, denial_candidates, claims, shared_embedder().embed)


# The text work of articles in flight (candidates, embeddings, the stance model) runs at most one
# a core at once: more threads buy nothing on CPU-bound work, and each holds its article's arrays
# (--no-llm on 40 PolNeAR articles peaked at 1.8 GB with every article's work at once).
_TEXT_WORK = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def _bounded(work: Callable[..., T], *args: object) -> T:
    with _TEXT_WORK:
        return work(*args)


async def judge_with_stance_model(
    text: str, claims: list[Claim], denials: list[Denial], usage: dict[str, Usage], attributions: Sequence[Attribution]
) -> list[Verdict]:
    """The trained verifier in a worker thread (embedding is CPU work; other articles' calls go on).
    ``attributions``: the article's, as its windows carry them."""
    clock = time.perf_counter()
    verdicts = await asyncio.to_thread(_bounded, stance_verdicts.stance_verdicts, text, claims, denials, attributions)
    usage[VERIFY.name] += Usage(seconds=time.perf_counter() - clock)
    return verdicts


def run_info(
    llm: LLM | None, usage: dict[str, Usage], windows: int, started_at: datetime, clock: float, verifier: Verifier = "llm"
) -> RunInfo:
    """What a result records about how it was made; ``clock`` is the perf_counter at the start.
    ``llm=None``: no LLM took part (``check --no-llm``)."""
    return RunInfo(
        backend=llm.backend if llm is not None else "none",
        model=llm.model if llm is not None else "none",
        prompt_versions=prompt_versions(),
        usage=dict(usage),
        windows=windows,
        verifier=verifier,
        stance_model=stance_model_sha256() if verifier == "trained" else None,
        started_at=started_at,
        seconds=round(time.perf_counter() - clock, 3),
    )


def _merge(
    found: tuple[list[Claim], list[Denial], list[Verdict]],
    claims: list[Claim],
    denials: list[Denial],
    verdicts: list[Verdict],
) -> None:
    """Add one window's findings with article-wide ids; a claim already found in an
    overlapping window keeps its first id, verdict and spans."""
    new_claims, new_denials, new_verdicts = found
    ids: dict[str, str] = {}
    for claim in new_claims:
        same = next((c for c in claims if _same_claim(c, claim)), None)
        if same is not None:
            ids[claim.id] = same.id
            continue
        ids[claim.id] = f"c{len(claims) + 1}"
        claims.append(claim.model_copy(update={"id": ids[claim.id]}))
        verdict = next((v for v in new_verdicts if v.claim_id == claim.id), None)
        if verdict is not None:
            verdicts.append(verdict.model_copy(update={"claim_id": ids[claim.id]}))
    for denial in new_denials:
        if any(d.spans == denial.spans and d.speaker == denial.speaker for d in denials):
            continue
        targets = list(dict.fromkeys(ids[i] for i in denial.claim_ids))
        denials.append(denial.model_copy(update={"id": f"d{len(denials) + 1}", "claim_ids": targets}))


def _one_per_proposition(
    claims: list[Claim], denials: list[Denial], verdicts: list[Verdict], warnings: list[str]
) -> tuple[list[Claim], list[Denial], list[Verdict]]:
    """The same proposition found in two windows (not on a shared sentence) becomes one claim;
    denials follow their claims, and a merged claim keeps the first verdict."""
    merged, moved = propositions.merge_duplicates(claims, shared_embedder().embed)
    if len(merged) == len(claims):
        return claims, denials, verdicts
    warnings.append(f"claims: {len(claims) - len(merged)} claim(s) found in more than one window merged")
    denials = [d.model_copy(update={"claim_ids": list(dict.fromkeys(moved[i] for i in d.claim_ids))}) for d in denials]
    kept: dict[str, Verdict] = {}
    for verdict in verdicts:
        kept.setdefault(moved[verdict.claim_id], verdict.model_copy(update={"claim_id": moved[verdict.claim_id]}))
    return merged, denials, list(kept.values())


def _same_claim(a: Claim, b: Claim) -> bool:
    """Windows overlap by a few sentences, so a claim can be found twice: on a shared
    sentence and in similar words. Similar words alone are not enough ("rose 3%" vs "rose 30%")."""
    shared = any(x.start < y.end and y.start < x.end for x in a.spans for y in b.spans)
    return shared and fuzz.token_set_ratio(a.statement, b.statement) >= DUPLICATE_SCORE
