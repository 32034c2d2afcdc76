"""Reviews: a reviewer's action on a claim, appended to OUT/reviews.jsonl, and the log as it stands."""

import json

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from pipeline.review.errors import ApiError, validation_details
from pipeline.review.routes.desk import ArticleId, ClaimId, DeskDep
from pipeline.review.store import ReviewConflict
from schemas.review import ClaimState, ReviewEvent, ReviewRequest

router = APIRouter()


class ReviewSaved(BaseModel):
    event: ReviewEvent
    state: ClaimState


# Parsed by hand so a wrong content type or broken JSON gets a precise message.
def _require_json(request: Request) -> None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "send the review as JSON with Content-Type: application/json")


async def _review_request(request: Request) -> ReviewRequest:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ApiError(422, "body must be a JSON object with at least 'action' and 'reviewer'")
    try:
        return ReviewRequest.model_validate(body)
    except ValidationError as error:
        details = validation_details(list(error.errors()))  # type: ignore[arg-type]
        summary = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
        raise ApiError(422, f"invalid review: {summary}", details) from None


@router.post("/api/articles/{article_id}/claims/{claim_id}/reviews", status_code=201)
async def api_review(desk: DeskDep, article_id: ArticleId, claim_id: ClaimId, request: Request) -> ReviewSaved:
    _require_json(request)
    article = desk.article(article_id)
    desk.claim_state(article, claim_id)  # 404 for an unknown claim before looking at the body
    review = await _review_request(request)
    try:
        # fsync blocks; keep it off the event loop so other reviewers' requests still flow.
        event, state = await run_in_threadpool(desk.reviews.append, article, claim_id, review)
    except ReviewConflict as conflict:
        raise ApiError(409, str(conflict)) from None
    return ReviewSaved(event=event, state=state)


@router.get("/api/reviews")
def api_reviews(desk: DeskDep) -> dict[str, object]:
    contents = desk.reviews.read()
    return {"events": [e.model_dump(mode="json") for e in contents.events], "skipped_lines": contents.skipped}
