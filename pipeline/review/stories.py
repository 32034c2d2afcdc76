"""Stories in the desk: ``OUT/stories.jsonl`` with the review log laid over it, and a story's
exports (ClaimReview with every appearance, and a CSV of its claims).

The desk never builds stories (that needs the embedder); ``factcheck run`` and ``factcheck stories``
write the file, and the desk re-reads it when it changes, as it does the article files.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from pipeline.review._spreadsheet import safe_cell
from pipeline.review.export.claimreview import claimant_thing
from pipeline.review.links import web_url
from pipeline.review.store import reviewed_verdicts
from pipeline.stories import STORIES_FILE, StoriesFileError, read_stories, with_reviews
from schemas import ArticleResult
from schemas.review import CreativeWorkRef, Rating, ReviewAction, ReviewEvent, Thing
from schemas.stories import Story, StoryClaimRef, StoryClaimReviewLD


class StoryNotReviewed(Exception):
    """No claim of the story has an accepted or overridden verdict: nothing to publish."""


@dataclass
class StoriesFile:
    """The run's stories, re-read only when the file changes."""

    out_dir: Path
    _stamp: tuple[int, int] | None = None
    _stories: list[Story] = field(default_factory=list)
    _error: str | None = None

    def load(self) -> tuple[list[Story], str | None]:
        """(stories, why there are none) from the file as it is now."""
        path = self.out_dir / STORIES_FILE
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._stamp or stamp is None:
            try:
                self._stories, self._error = read_stories(self.out_dir), None
            except StoriesFileError as error:
                self._stories, self._error = [], str(error)
            self._stamp = stamp
        return self._stories, self._error

    def effective(self, events: list[ReviewEvent]) -> tuple[list[Story], str | None]:
        stories, error = self.load()
        reviewed = reviewed_verdicts(events)
        return [with_reviews(s, reviewed) for s in stories], error


def missing_articles(stories: list[Story], articles: dict[str, ArticleResult]) -> int:
    """Articles with claims that no story lists yet (added since the stories were built)."""
    covered = {a.article_id for s in stories for a in s.articles}
    return sum(1 for aid, a in articles.items() if a.claims and aid not in covered)


def story_url(base_url: str, story_id: str) -> str:
    return f"{base_url.rstrip('/')}/stories/{story_id}"


def story_claim_review(
    story: Story, articles: dict[str, ArticleResult], events: list[ReviewEvent], desk_name: str, base_url: str
) -> dict[str, object]:
    """One ClaimReview for the story's proposition. The rating is the latest verdict a reviewer
    accepted or overrode on any of its claims (the desk's word on it); ``itemReviewed.appearance``
    lists every article that carries the claim and has an http(s) URL, earliest first."""
    keys = {(c.article_id, c.claim_id) for c in story.claims}
    decided = [
        e for e in events
        if (e.article_id, e.claim_id) in keys and e.action in (ReviewAction.accept, ReviewAction.override)
    ]
    if not decided:
        raise StoryNotReviewed(
            f"story {story.id} has no reviewed verdict yet: accept or override one of its claims first"
        )
    last = decided[-1]
    article = articles.get(last.article_id)
    machine = article.verdict_for(last.claim_id) if article else None
    appearances = [
        CreativeWorkRef(url=link, headline=a.title) for a in story.articles if (link := web_url(a.url)) is not None
    ]  # story.articles is in date order, so the first is the earliest dated appearance
    canonical = articles.get(story.canonical_article_id)
    claimant = next(
        c.claimant for c in story.claims
        if (c.article_id, c.claim_id) == (story.canonical_article_id, story.canonical_claim_id)
    )
    author = claimant_thing(claimant, canonical) if canonical else Thing(type="Person", name=claimant)
    review = StoryClaimReviewLD(
        url=story_url(base_url, story.id),
        claimReviewed=story.statement,
        itemReviewed=StoryClaimRef(
            author=author, appearance=appearances, firstAppearance=appearances[0] if appearances else None
        ),
        reviewRating=Rating(
            alternateName=str(last.after), ratingExplanation=last.reason or (machine.rationale if machine else None)
        ),
        author=Thing(type="Organization", name=desk_name),
        datePublished=last.timestamp.astimezone(UTC).date().isoformat(),
    )
    return review.to_jsonld()


STORY_CSV_FIELDS = [
    "story_id", "story_statement", "article_id", "source", "title", "outlet", "url", "published", "claim_id",
    "statement", "claimant", "states_story", "similarity", "stance", "verdict", "machine_verdict", "reviewed",
]


def story_csv(story: Story) -> str:
    """One row per claim of the story, with its article's outlet and date and its effective stance."""
    by_article = {a.article_id: a for a in story.articles}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STORY_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for claim in sorted(
        story.claims, key=lambda c: (by_article[c.article_id].published or "~", c.article_id, c.claim_id)
    ):
        article = by_article[claim.article_id]
        row = {
            "story_id": story.id, "story_statement": story.statement, "article_id": claim.article_id,
            "source": claim.source, "title": article.title, "outlet": article.outlet, "url": article.url,
            "published": article.published, "claim_id": claim.claim_id, "statement": claim.statement,
            "claimant": claim.claimant, "states_story": "yes" if article.claim_id == claim.claim_id else "no",
            "similarity": claim.similarity, "stance": claim.stance.value,
            "verdict": claim.verdict.value if claim.verdict else None,
            "machine_verdict": claim.machine_verdict.value if claim.machine_verdict else None,
            "reviewed": "yes" if claim.reviewed else "no",
        }  # fmt: skip
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return buffer.getvalue()
