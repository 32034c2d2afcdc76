"""Checking a given claim against an article: one LLM call at most, or none.

The claim is given, so no claims call is made: it is located at the article's most similar
sentences and credited to whoever the article credits there (the attribution stage, code only).
The denials stage (one call) finds who disputes it; ``llm=None`` skips it, for an answer with
no LLM at all. The trained stance model then judges it, including whether the article addresses
it at all (``not_addressed``); ``verifier="llm"`` asks the LLM's verify call instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, utils

from pipeline.stages._stage import Analysis, Stage, check_order, run_stages
from pipeline.stages.analyze import judge_with_stance_model, run_info, usage_by_stage
from pipeline.stages.options import AnalysisOptions
from pipeline.stages.registry import CHECK, for_backend, for_verifier, without_llm
from pipeline.text.document import Window, windows
from pipeline.text.ingest import Article, InputError, make_article, parse_json_object, read_articles
from schemas import Claim, ClaimKind, Span
from schemas.check import CheckResult, ClaimOrigin

if TYPE_CHECKING:  # the client loads the openai SDK: not for code that makes no call
    from pipeline.llm.client import LLM

GIVEN_CLAIM_ID = "c0"  # extracted claims are c1..cN, so c0 never collides
ARTICLE_VOICE = "the article"  # the claimant of what the article states in its own voice
MAX_GIVEN_SENTENCES = 2
SENTENCE_TIE = 5.0  # a second sentence joins the given claim's spans when this close to the best


@dataclass(frozen=True)
class Pair:
    """One claim to check against one article."""

    claim: str
    article: Article
    id: str | None = None


def similarity(a: str, b: str) -> float:
    """0-100; case, punctuation and word order do not matter."""
    return max(
        fuzz.token_set_ratio(a, b, processor=utils.default_process),
        fuzz.partial_ratio(a, b, processor=utils.default_process),
    )


def similar_sentences(window: Window, given: str) -> list[Span]:
    """Spans of the window sentence(s) most similar to ``given``, in article order."""
    ranked = sorted(
        window.sentences,
        key=lambda s: (similarity(given, s.text), fuzz.ratio(given, s.text, processor=utils.default_process)),
        reverse=True,
    )
    best = similarity(given, ranked[0].text)
    chosen = [s for s in ranked[:MAX_GIVEN_SENTENCES] if similarity(given, s.text) >= best - SENTENCE_TIE]
    return [window.span(s.number) for s in sorted(chosen, key=lambda s: s.number)]


def given_claim(window: Window, given: str) -> Claim:
    """The given claim located at its most similar sentences, credited to whoever the article
    credits there ("city officials said"), or to the article itself when nobody is: whether the
    article reports a claim or asserts it is what the verdict turns on."""
    spans = similar_sentences(window, given)
    credited = next(
        (
            a
            for a in window.attributions
            if a.source is not None and any(s.start <= a.cue.start < s.end for s in spans)
        ),
        None,
    )
    return Claim(
        id=GIVEN_CLAIM_ID,
        statement=given,
        claimant=credited.source.text if credited and credited.source else ARTICLE_VOICE,
        cue=credited.cue.text if credited else "none",
        kind=ClaimKind.fact,
        checkworthiness=1.0,
        spans=spans,
        claimant_span=credited.source if credited else None,
        cue_span=credited.cue if credited else None,
    )


@lru_cache(maxsize=4)
def _windows(text: str, title: str | None, max_chars: int) -> tuple[Window, ...]:
    """An article's windows (and attributions), found once for all the claims checked against it."""
    return tuple(windows(text, title=title, max_chars=max_chars))


def best_window(parts: list[Window], given: str) -> Window:
    """A long article is checked in the one window that holds the sentence closest to the claim."""
    return max(parts, key=lambda w: max(similarity(given, s.text) for s in w.sentences))


async def check_claim(
    llm: LLM | None,
    article: Article,
    given: str,
    options: AnalysisOptions = AnalysisOptions(),
    *,
    pair_id: str | None = None,
    stages: Sequence[Stage] = CHECK,
) -> CheckResult:
    """``llm=None``: no LLM at all (denials by rule; the trained verifier judges).
    ``stages``: run in this order on the given claim (``registry.CHECK``); with the trained
    verifier those that write verdicts are left out, and the stance model judges; the stages a
    backend is not asked (the embedded model: the denials call) are left out too."""
    if not given.strip():
        raise ValueError("the claim to check is empty")
    if llm is None and options.verifier == "llm":
        raise ValueError("the LLM verifier needs an LLM")
    stages = for_verifier(stages, options.verifier)
    stages = for_backend(stages, llm.backend) if llm is not None else without_llm(stages)
    check_order(stages, given=("window", "options", "claims"))
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    parts = list(_windows(article.text, article.meta.title, options.window_chars))
    window = best_window(parts, given)
    usage = usage_by_stage(stages)
    warnings: list[str] = []
    if len(parts) > 1:
        warnings.append(
            f"check: article split into {len(parts)} windows; denials looked for in the window of sentences "
            f"{min(window.numbers)}-{max(window.numbers)}, closest to the claim"
        )
    claim = given_claim(window, given)
    analysis = Analysis(window, options, claims=[claim])
    await run_stages(llm, stages, analysis, usage, warnings)
    if llm is None or not any(not s.is_code for s in stages if "denials" in s.writes):
        warnings.append("check: denials found by rule and linked by code (no model asked)")
    linked = analysis.denials
    if options.verifier == "trained":
        verdicts = await judge_with_stance_model(article.text, [claim], linked, usage, window.attributions)
    else:
        verdicts = analysis.verdicts
    verdict = next((v for v in verdicts if v.claim_id == claim.id), None)

    return CheckResult(
        id=pair_id,
        given_claim=given,
        article=article.meta,
        text=article.text,
        origin=ClaimOrigin.given,
        match_score=round(similarity(given, claim.statement) / 100, 3),
        claim=claim,
        denials=linked,
        verdict=verdict,
        article_claims=[],
        warnings=warnings,
        run=run_info(llm, usage, len(parts), started_at, clock, options.verifier),
    )


def read_article(path: Path) -> Article:
    """The one article in ``path``; InputError naming the file otherwise."""
    found = list(read_articles(path))
    if len(found) != 1:
        raise InputError(f"{path}: expected one article, found {len(found)}")
    return found[0]


def read_pairs(path: Path) -> list[Pair]:
    """Pairs from JSONL: ``claim`` plus ``text`` or ``text_file``, optional ``id``; FNC-1 labels.jsonl reads as is.
    Every line is read and checked before any model runs; the first bad line raises InputError."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    pairs: list[Pair] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            pairs.append(_pair(line, f"{path}:{number}", path.parent))
    if not pairs:
        raise InputError(f"{path}: no claim/article pairs (empty)")
    return pairs


def _pair(line: str, where: str, base: Path) -> Pair:
    record = parse_json_object(line, where, expected="a JSON object with 'claim' and 'text' or 'text_file'")
    claim = record.get("claim")
    if not isinstance(claim, str) or not claim.strip():
        raise InputError(f"{where}: no string 'claim' field")
    pair_id = record.get("id")
    text, text_file = record.get("text"), record.get("text_file")
    if isinstance(text, str):
        article = make_article(text, where, external_id=str(pair_id) if pair_id is not None else None)
    elif isinstance(text_file, str):
        # Relative to the JSONL's folder, or to its parent as in FNC-1's labels.jsonl ("fnc1_dev/1118.txt").
        path = next((p for p in (base / text_file, base.parent / text_file) if p.is_file()), base / text_file)
        try:
            article = read_article(path)
        except InputError as error:
            raise InputError(f"{where}: {error}") from None
    else:
        raise InputError(f"{where}: needs a string 'text' or 'text_file' field")
    return Pair(claim=claim, article=article, id=str(pair_id) if pair_id is not None else None)
