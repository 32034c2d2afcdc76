"""Stories: the run's stories with the reviews laid over, their pages, and a story's own exports."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from pipeline.review.errors import ApiError
from pipeline.review.export.claimreview import jsonld_text
from pipeline.review.routes.desk import DeskDep, StoryId
from pipeline.review.stories import StoryNotReviewed, missing_articles, story_claim_review, story_csv
from schemas.stories import Stance

router = APIRouter()


@router.get("/api/stories")
def api_stories(desk: DeskDep) -> dict[str, object]:
    stories, error = desk.stories.effective(desk.reviews.events())
    return {
        "stories": [s.model_dump(mode="json") for s in stories],
        "error": error,
        "articles_not_in_stories": missing_articles(stories, desk.run.articles()),
    }


@router.get("/api/stories/{story_id}")
def api_story(desk: DeskDep, story_id: StoryId) -> dict[str, object]:
    return desk.story(story_id).model_dump(mode="json")


@router.get("/export/stories/{story_id}/claimreview.json")
def export_story_claimreview(desk: DeskDep, story_id: StoryId, request: Request) -> Response:
    story = desk.story(story_id)
    try:
        data = story_claim_review(story, desk.run.articles(), desk.reviews.events(), desk.name, str(request.base_url))
    except StoryNotReviewed as error:
        raise ApiError(409, str(error)) from None
    return Response(jsonld_text(data, compact=True), media_type="application/ld+json")


@router.get("/export/stories/{story_id}/claims.csv")
def export_story_csv(desk: DeskDep, story_id: StoryId) -> PlainTextResponse:
    return PlainTextResponse(
        story_csv(desk.story(story_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="story-{story_id}.csv"'},
    )


@router.get("/stories", response_class=HTMLResponse)
def page_stories(desk: DeskDep, min_articles: Annotated[int, Query(ge=1)] = 2) -> HTMLResponse:
    stories, error = desk.stories.effective(desk.reviews.events())
    return desk.page(
        "stories.html.j2",
        stories=[s for s in stories if len(s.articles) >= min_articles],
        total=len(stories),
        min_articles=min_articles,
        error=error,
        missing=missing_articles(stories, desk.run.articles()),
        out_dir=str(desk.out_dir),
        stances=list(Stance),
    )


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def page_story(desk: DeskDep, story_id: StoryId) -> HTMLResponse:
    story = desk.story(story_id)
    articles = desk.run.articles()
    return desk.page(
        "story.html.j2",
        story=story,
        stances=list(Stance),
        titles={aid: (a.article.title or a.article.id) for aid, a in articles.items()},
        by_article={
            aid: [c for c in story.claims if c.article_id == aid] for aid in {c.article_id for c in story.claims}
        },
        reviewed=any(c.reviewed for c in story.claims),
    )
