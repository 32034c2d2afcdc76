"""Reading ``OUT/stories.jsonl`` and laying reviewers' verdicts over it.

The file holds the machine's verdicts, as ``articles/*.json`` do; what a desk or the CLI shows is
the story with, per claim, the verdict a reviewer accepted or overrode last, and each article's
stance recomputed from it.
"""

import logging
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from schemas import VerdictLabel
from schemas.stories import Story, StoryClaim, article_stance_and_claim

log = logging.getLogger(__name__)

STORIES_FILE = "stories.jsonl"

ClaimKey = tuple[str, str]  # (article id, claim id)


class StoriesFileError(ValueError):
    """stories.jsonl is missing or a line of it is not a story."""


def read_stories(out_dir: Path) -> list[Story]:
    """Every story in the file, in its order (largest first). Raises StoriesFileError naming the file."""
    path = out_dir / STORIES_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise StoriesFileError(f"{path}: no stories yet (run: factcheck stories {out_dir})") from None
    except OSError as error:
        raise StoriesFileError(f"{path}: cannot read ({error.strerror or error})") from None
    stories = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            stories.append(Story.model_validate_json(line))
        except (ValidationError, ValueError) as error:
            raise StoriesFileError(f"{path}:{number}: not a story ({str(error).splitlines()[0]})") from None
    return stories


def read_previous_ids(out_dir: Path) -> dict[ClaimKey, str]:
    """(article, claim) -> story id from the last stories.jsonl, so ids carry over; {} if none."""
    try:
        stories = read_stories(out_dir)
    except StoriesFileError as error:
        if (out_dir / STORIES_FILE).exists():
            log.warning("story ids start afresh: %s", error)
        return {}
    return {(c.article_id, c.claim_id): s.id for s in stories for c in s.claims}


def with_reviews(story: Story, reviewed: Mapping[ClaimKey, VerdictLabel]) -> Story:
    """The story as the desk sees it: reviewed verdicts replace the machine's, and each article's
    stance follows from its reviewed claims when it has any (``schemas.stories.article_stance_and_claim``)."""
    claims = [
        c.model_copy(update={"verdict": reviewed[key], "reviewed": True})
        if (key := (c.article_id, c.claim_id)) in reviewed else c
        for c in story.claims
    ]
    by_article: dict[str, list[StoryClaim]] = {}
    for claim in claims:
        by_article.setdefault(claim.article_id, []).append(claim)
    articles = []
    for article in story.articles:
        stance, deciding = article_stance_and_claim(by_article[article.article_id])
        articles.append(article.model_copy(update={"stance": stance, "claim_id": deciding.claim_id}))
    return story.model_copy(update={"claims": claims, "articles": articles})
