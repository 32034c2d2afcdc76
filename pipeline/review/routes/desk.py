"""What every router of the desk shares: the desk itself (one per app) and the path parameters."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from pipeline.review._templates import templates
from pipeline.review.errors import ApiError
from pipeline.review.export import ExportFormat, export_formats
from pipeline.review.store import ReviewLog, RunFolder, claim_state
from pipeline.review.stories import StoriesFile
from schemas import ArticleResult
from schemas.review import ARTICLE_ID_PATTERN, CLAIM_ID_PATTERN, ClaimState
from schemas.stories import STORY_ID_PATTERN, Story

ArticleId = Annotated[str, PathParam(pattern=ARTICLE_ID_PATTERN, description="16 lowercase hex characters")]
ClaimId = Annotated[str, PathParam(pattern=CLAIM_ID_PATTERN, description="c followed by digits")]
StoryId = Annotated[str, PathParam(pattern=STORY_ID_PATTERN, description="s and 12 lowercase hex characters")]


@dataclass
class Desk:
    """One run folder as the desk serves it. Articles are read, never written; reviews are appended."""

    out_dir: Path
    name: str = "Fact-check desk"
    reviewer_default: str | None = None
    # The formats registered when the app was built: served, and linked in every page's header.
    exports: list[ExportFormat] = field(default_factory=export_formats)

    def __post_init__(self) -> None:
        self.run = RunFolder(self.out_dir)
        self.reviews = ReviewLog(self.out_dir)
        self.stories = StoriesFile(self.run.out_dir)
        self.pages: Environment = templates()
        self.pages.globals["exports"] = self.exports

    def article(self, article_id: str) -> ArticleResult:
        article = self.run.article(article_id)
        if article is None:
            raise ApiError(404, f"unknown article id {article_id!r}")
        return article

    def claim_state(self, article: ArticleResult, claim_id: str) -> ClaimState:
        claim = next((c for c in article.claims if c.id == claim_id), None)
        if claim is None:
            raise ApiError(
                404, f"article {article.article.id} has no claim {claim_id!r}; it has {[c.id for c in article.claims]}"
            )
        mine = [e for e in self.reviews.events() if e.article_id == article.article.id and e.claim_id == claim_id]
        return claim_state(article, claim, mine)

    def story(self, story_id: str) -> Story:
        stories, _ = self.stories.effective(self.reviews.events())
        story = next((s for s in stories if s.id == story_id), None)
        if story is None:
            raise ApiError(404, f"unknown story id {story_id!r}")
        return story

    def page(self, template: str, **values: object) -> HTMLResponse:
        return HTMLResponse(self.pages.get_template(template).render(desk_name=self.name, **values))


def _desk(request: Request) -> Desk:
    return request.app.state.desk  # type: ignore[no-any-return]


DeskDep = Annotated[Desk, Depends(_desk)]
