"""One article through its stages, per context window: code's candidates, the claims call, one
claim per proposition, verdicts. ``--no-llm`` is the same stages with the LLM's left out."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from pipeline.stages import propositions
from pipeline.stages._stage import Analysis, Stage, bounded, check_order, run_stages
from pipeline.stages.options import AnalysisOptions
from pipeline.stages.registry import ANALYZE, LLM_STAGES, VERIFY, for_backend, for_verifier, without_llm
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

DUPLICATE_SCORE = 80  # token_set_ratio above which two claims on the same sentence are one claim


def prompt_versions() -> dict[str, str]:
    return {name: prompts.version(name) for name in ("system", *(stage.prompt for stage in LLM_STAGES))}


def usage_by_stage(stages: Sequence[Stage] = ()) -> dict[str, Usage]:
    """Every LLM stage's usage, zero until it runs: the built-in stages', then any other in ``stages``
    (a stage of code makes no call: it has none)."""
    names = [*(s.name for s in LLM_STAGES), *(s.name for s in stages if not s.is_code)]
    return {name: Usage() for name in dict.fromkeys(names)}


async def analyze(
    llm: LLM | None, article: Article, options: AnalysisOptions = AnalysisOptions(), stages: Sequence[Stage] = ANALYZE
) -> ArticleResult:
    """``stages``: run in this order on each context window (``registry.ANALYZE``); with the trained
    verifier those that write verdicts are left out, and the stance model judges the merged claims.
    ``llm=None`` with stages of code only (``run --no-llm``)."""
    stages = for_verifier(stages, options.verifier)
    unasked = [s.name for s in stages if s not in for_backend(stages, llm.backend if llm is not None else None)]
    stages = for_backend(stages, llm.backend if llm is not None else None)
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
    if unasked:
        warnings.append(
            f"{llm.backend if llm is not None else ''} model not asked for {', '.join(unasked)}: it answers no better "
            "than code here (docs/model-questions.md); claims are code's candidates in code's standalone words"
        )
    withheld = sorted({n for window in parts for n in window.withheld})
    if withheld:
        warnings.append(
            f"sentences {withheld} address AI systems; shown to the model as a placeholder, kept in the text"
        )
    for window in parts:
        found = await run_stages(llm, stages, Analysis(window, options), usage, warnings)
        _merge((found.claims, found.denials, found.verdicts), claims, denials, verdicts)
    if len(parts) > 1:  # one window's claims are merged already; across windows, here
        merged = await asyncio.to_thread(bounded, _one_per_proposition, claims, denials, verdicts, warnings)
        claims, denials, verdicts = merged
    if options.verifier == "trained":
        # One judgement per claim over the whole article, after the windows are merged.
        verdicts = await judge_with_stance_model(article.text, claims, denials, usage, attributions)
    elif unjudged := [c for c in claims if c.id not in {v.claim_id for v in verdicts}]:
        # The LLM verifier's answer was unusable for these (see warnings): the stance model's verdicts stand in.
        verdicts += await judge_with_stance_model(article.text, unjudged, denials, usage, attributions)
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


NO_LLM_WARNING = (
    "no LLM: claims are code's candidates in code's standalone words, denials found and linked by rule "
    "(run with an LLM to improve them)"
)


async def analyze_without_llm(article: Article, options: AnalysisOptions = AnalysisOptions()) -> ArticleResult:
    """Triage at scale (``run --no-llm``): ``analyze``'s stages of code alone, the stance model's
    verdicts. A complete result, marked by ``run.backend == "none"`` and a warning."""
    result = await analyze(None, article, dataclasses.replace(options, verifier="trained"), stages=without_llm(ANALYZE))
    return result.model_copy(update={"warnings": [NO_LLM_WARNING, *result.warnings]})


def attributions_of(parts: Sequence[Window]) -> tuple[Attribution, ...]:
    """The article's attributions, which its windows share (``windows`` found them once); a text
    without a sentence has none."""
    return parts[0].attributions if parts else ()


async def judge_with_stance_model(
    text: str, claims: list[Claim], denials: list[Denial], usage: dict[str, Usage], attributions: Sequence[Attribution]
) -> list[Verdict]:
    """The trained verifier in a worker thread (embedding is CPU work; other articles' calls go on).
    ``attributions``: the article's, as its windows carry them."""
    clock = time.perf_counter()
    verdicts = await asyncio.to_thread(bounded, stance_verdicts.stance_verdicts, text, claims, denials, attributions)
    usage[VERIFY.name] += Usage(seconds=time.perf_counter() - clock)
    return verdicts


def run_info(
    llm: LLM | None, usage: dict[str, Usage], windows: int, started_at: datetime, clock: float,
    verifier: Verifier = "llm",
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
