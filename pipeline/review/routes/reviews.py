"""Reviews: a reviewer's action on a claim, appended to OUT/reviews.jsonl, and the log as it stands."""

import errno
import json
import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from pipeline.review.errors import ApiError, validation_details
from pipeline.review.routes.desk import ArticleId, ClaimId, DeskDep
from pipeline._io import DISK_FULL, NO_PERMISSION
from pipeline.review.store import REVIEWS_FILE, ReviewConflict
from schemas.review import ClaimState, ReviewEvent, ReviewRequest

router = APIRouter()
log = logging.getLogger(__name__)


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
    except OSError as error:
        raise _not_saved(error) from None
    return ReviewSaved(event=event, state=state)


def _not_saved(error: OSError) -> ApiError:
    """A review the run folder cannot take: 507 when its disk is full (or the file size limit is
    reached), 503 when it is read-only or not ours to write; the message says what to fix. The log
    is as it was (``ReviewLog.append``) and the page keeps what the reviewer typed."""
    path = error.filename or REVIEWS_FILE
    then = "the review was NOT saved; what you typed is kept: save again once fixed"
    if error.errno in DISK_FULL:
        cause = "file size limit reached" if error.errno == errno.EFBIG else "no space left on the disk"
        log.warning("review not saved: %s: %s", path, cause)
        return ApiError(507, f"{path}: {cause}; free space on the run folder's disk: {then}")
    if error.errno in NO_PERMISSION:
        cause = "read-only file system" if error.errno == errno.EROFS else "permission denied"
        log.warning("review not saved: %s: %s", path, cause)
        return ApiError(503, f"{path}: {cause}; make the run folder writable for the desk (see `ls -ld` of it): {then}")
    raise error


@router.get("/api/reviews")
def api_reviews(desk: DeskDep) -> dict[str, object]:
    contents = desk.reviews.read()
    return {"events": [e.model_dump(mode="json") for e in contents.events], "skipped_lines": contents.skipped}
