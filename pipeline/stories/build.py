"""Building ``OUT/stories.jsonl`` from a run's result files: no LLM, only new results embedded."""

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from pipeline._io import atomic_writer
from pipeline.stories import vectors as vector_cache
from pipeline.stories._digest import ArticleDigest, ClaimDigest, claim_text, content_hash, digest
from pipeline.stories._ids import ClaimKey, assign_ids
from pipeline.stories._polarity import negated
from pipeline.stories.cluster import DISTANCE_THRESHOLD, cluster
from pipeline.stories.view import STORIES_FILE, read_previous_ids
from schemas import ArticleResult
from schemas.stories import Story, StoryArticle, StoryClaim, article_stance_and_claim

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]


class StoriesError(ValueError):
    """The folder is not a run's output folder."""


@dataclass
class StoriesUpdate:
    stories: list[Story]
    articles: int = 0  # result files read (from the cache or anew)
    claims: int = 0
    embedded: int = 0  # claims embedded by this update (0 when no result is new)
    new_results: int = 0
    unreadable: list[str] = field(default_factory=list)
    largest_component: int = 0
    path: Path | None = None


def _default_embed(texts: Sequence[str]) -> np.ndarray:
    from pipeline.stance.embedder import shared_embedder  # loaded only when something is new

    return shared_embedder().embed(texts)


def update_stories(
    out_dir: Path, *, embed: Embed | None = None, threshold: float = DISTANCE_THRESHOLD
) -> StoriesUpdate:
    """Group every claim of ``out_dir/articles/*.json`` into stories and write ``stories.jsonl``
    atomically. Claim vectors come from ``out_dir/stories-cache/`` for result files already seen;
    only new or changed files are parsed and embedded. Clustering always covers every claim, so an
    update gives the same stories as a build from scratch (story ids carry over)."""
    articles_dir = out_dir / "articles"
    if not articles_dir.is_dir():
        raise StoriesError(f"{out_dir}: not a run output folder (no articles/ inside)")
    cache_file = vector_cache.cache_path(out_dir)
    _sweep_temporaries(cache_file.parent)
    cached = vector_cache.load(cache_file)
    entries: dict[str, vector_cache.Entry] = {}
    pending: list[tuple[str, ArticleDigest]] = []
    update = StoriesUpdate(stories=[])
    for path in _result_files(articles_dir):
        try:
            data = path.read_bytes()
        except OSError as error:
            update.unreadable.append(f"{path}: cannot read ({error.strerror or error})")
            continue
        key = content_hash(data)
        if key in cached:
            entries[key] = cached[key]
            continue
        try:
            result = ArticleResult.model_validate_json(data)  # checks every span against the text
        except (ValidationError, ValueError) as error:
            update.unreadable.append(f"{path}: not a valid result ({str(error).splitlines()[0]})")
            continue
        if result.article.id != path.stem:
            update.unreadable.append(f"{path}: file name does not match article id {result.article.id}")
            continue
        pending.append((key, digest(result)))
    texts = [claim_text(c) for _, d in pending for c in d.claims]
    fresh = (embed or _default_embed)(texts) if texts else np.zeros((0, vector_cache.DIMENSIONS), dtype=np.float32)
    start = 0
    for key, found in pending:
        entries[key] = vector_cache.Entry(found, np.asarray(fresh[start : start + len(found.claims)], dtype=np.float32))
        start += len(found.claims)
    if pending or entries.keys() != cached.keys():
        vector_cache.save(cache_file, entries)
    update.embedded, update.new_results = len(texts), len(pending)
    # Files in name (= article id) order, so the same results always cluster and number alike.
    ordered = sorted(entries.values(), key=lambda e: e.digest.article_id)
    update.articles = len(ordered)
    update.stories, update.largest_component = _stories(ordered, read_previous_ids(out_dir), threshold)
    update.claims = sum(len(e.digest.claims) for e in ordered)
    update.path = out_dir / STORIES_FILE
    with atomic_writer(update.path) as f:
        for story in update.stories:
            f.write(story.model_dump_json() + "\n")
    return update


def _stories(
    entries: list[vector_cache.Entry], previous: dict[ClaimKey, str], threshold: float
) -> tuple[list[Story], int]:
    claims: list[tuple[ArticleDigest, ClaimDigest]] = [(e.digest, c) for e in entries for c in e.digest.claims]
    if not claims:
        return [], 0
    matrix = np.concatenate([e.vectors for e in entries if len(e.vectors)])
    grouping = cluster(matrix, threshold)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(grouping.labels.tolist()):
        groups.setdefault(label, []).append(index)
    members = list(groups.values())
    ids = assign_ids([[(claims[i][0].article_id, claims[i][1].claim_id) for i in m] for m in members], previous)
    stories = [_story(story_id, [claims[i] for i in m], matrix[m]) for story_id, m in zip(ids, members, strict=True)]
    stories.sort(key=lambda s: (-len(s.articles), -len(s.claims), s.id))  # largest first
    return stories, grouping.largest_component


def _story(story_id: str, members: list[tuple[ArticleDigest, ClaimDigest]], vectors: np.ndarray) -> Story:
    # Canonical: the claim nearest the story's mean direction (the medoid in cosine terms), taken
    # from the claims that state the proposition as so when there are any, so that "backs" means
    # the article says it happened.
    centre = vectors.mean(axis=0)
    flags = np.array([negated(c.statement) for _, c in members])
    candidates = np.flatnonzero(~flags) if not flags.all() else np.arange(len(members))
    canonical = int(candidates[np.argmax(vectors[candidates] @ centre)])
    similarity = vectors @ vectors[canonical]
    story_claims = [
        StoryClaim(
            article_id=a.article_id, source=a.source, claim_id=c.claim_id, statement=c.statement, claimant=c.claimant,
            spans=c.spans, similarity=round(float(np.clip(s, -1, 1)), 4), verdict=c.verdict, machine_verdict=c.verdict,
            negates=bool(flag != flags[canonical]),
        )  # fmt: skip
        for (a, c), s, flag in zip(members, similarity.tolist(), flags.tolist(), strict=True)
    ]
    # An article's stance comes from all its claims in the story (schemas.stories.article_stance).
    by_article: dict[str, list[int]] = {}
    for index, (a, _) in enumerate(members):
        by_article.setdefault(a.article_id, []).append(index)
    articles = []
    for indices in by_article.values():
        a = members[indices[0]][0]
        stance, deciding = article_stance_and_claim([story_claims[i] for i in indices])
        articles.append(
            StoryArticle(
                article_id=a.article_id, source=a.source, title=a.title, url=a.url, outlet=a.outlet,
                published=a.published, claim_id=deciding.claim_id, stance=stance,
            )  # fmt: skip
        )
    articles.sort(key=timeline_key)
    head_article, head_claim = members[canonical]
    return Story(
        id=story_id, statement=head_claim.statement, canonical_article_id=head_article.article_id,
        canonical_claim_id=head_claim.claim_id, claims=story_claims, articles=articles,
    )  # fmt: skip


def timeline_key(article: StoryArticle) -> tuple[bool, str, str]:
    """Dated articles first, by date; then by source."""
    return (article.published is None, article.published or "", article.source)


def _result_files(articles: Path) -> Iterator[Path]:
    with os.scandir(articles) as entries:
        for entry in entries:
            if entry.name.endswith(".json") and not entry.name.startswith(".") and entry.is_file():
                yield Path(entry.path)


def _sweep_temporaries(folder: Path) -> None:
    """A write killed midway leaves its hidden temporary file; the real cache is intact."""
    for leftover in folder.glob(".*.tmp") if folder.is_dir() else []:
        leftover.unlink(missing_ok=True)
