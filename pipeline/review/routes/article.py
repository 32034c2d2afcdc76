"""Articles: the list, one article with its claims' states, one claim, and the article page."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from pipeline.review import highlight
from pipeline.review.routes.desk import ArticleId, ClaimId, DeskDep
from pipeline.review.store import claim_state, group_events
from schemas import VerdictLabel
from schemas.review import CLAIM_ID_PATTERN, ClaimState
from schemas.stories import STORY_ID_PATTERN

router = APIRouter()


@router.get("/api/articles")
def api_articles(desk: DeskDep) -> dict[str, object]:
    return {
        "articles": [
            {"id": a.article.id, "title": a.article.title, "outlet": a.article.outlet, "claims": len(a.claims)}
            for a in desk.run.articles().values()
        ],
        "unreadable": desk.run.errors(),
    }


@router.get("/api/articles/{article_id}")
def api_article(desk: DeskDep, article_id: ArticleId) -> dict[str, object]:
    article = desk.article(article_id)
    grouped = group_events(desk.reviews.events())
    states = [claim_state(article, c, grouped.get((article_id, c.id), [])) for c in article.claims]
    return {"result": article.model_dump(mode="json"), "states": [s.model_dump(mode="json") for s in states]}


@router.get("/api/articles/{article_id}/claims/{claim_id}")
def api_claim(desk: DeskDep, article_id: ArticleId, claim_id: ClaimId) -> ClaimState:
    return desk.claim_state(desk.article(article_id), claim_id)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def page_article(
    desk: DeskDep,
    article_id: ArticleId,
    claim: Annotated[str | None, Query(pattern=CLAIM_ID_PATTERN)] = None,
    story: Annotated[str | None, Query(pattern=STORY_ID_PATTERN)] = None,
) -> HTMLResponse:
    article = desk.article(article_id)
    grouped = group_events(desk.reviews.events())
    states = {c.id: claim_state(article, c, grouped.get((article_id, c.id), [])) for c in article.claims}
    selected = claim if claim in states else (article.claims[0].id if article.claims else None)
    return desk.page(
        "article.html.j2",
        article=article,
        text_html=highlight.to_html(highlight.segments(article)),
        claims=[(c, states[c.id], article.verdict_for(c.id), article.denials_of(c.id)) for c in article.claims],
        denials=article.denials,
        selected=selected,
        verdicts=list(VerdictLabel),
        reviewer_default=desk.reviewer_default or "",
        story=story,
    )
