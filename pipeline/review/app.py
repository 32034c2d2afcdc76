"""The fact-check desk: a local web app over one run folder.

Reads ``OUT_DIR/articles/*.json`` (never writes them) and appends reviews to
``OUT_DIR/reviews.jsonl``. Pages are rendered server-side; a little vanilla JS
selects claims and posts reviews as JSON.
"""

import json
import logging
import socket
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import uvicorn
from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pipeline.review import export, highlight
from pipeline.review.guard import RequestGuard, is_loopback
from pipeline.review.links import web_url
from pipeline.review.store import ReviewConflict, ReviewLog, RunFolder, all_states, claim_state, group_events
from pipeline.review.stories import StoriesFile, StoryNotReviewed, missing_articles, story_claim_review, story_csv
from schemas import ArticleResult, VerdictLabel
from schemas.review import ARTICLE_ID_PATTERN, CLAIM_ID_PATTERN, ClaimState, ReviewEvent, ReviewRequest, ReviewStatus
from schemas.stories import STORY_ID_PATTERN, Stance, Story

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ArticleId = Annotated[str, PathParam(pattern=ARTICLE_ID_PATTERN, description="16 lowercase hex characters")]
ClaimId = Annotated[str, PathParam(pattern=CLAIM_ID_PATTERN, description="c followed by digits")]
StoryId = Annotated[str, PathParam(pattern=STORY_ID_PATTERN, description="s and 12 lowercase hex characters")]


def _blank_is_none(value: object) -> object:
    # The queue's filter form sends "any" as an empty parameter.
    return None if value == "" else value


_Blank = BeforeValidator(_blank_is_none)
VerdictFilter = Annotated[VerdictLabel | None, _Blank]
StatusFilter = Annotated[ReviewStatus | None, _Blank]
OutletFilter = Annotated[str | None, _Blank]
CheckworthyFilter = Annotated[bool | None, _Blank]
MinCheckworthiness = Annotated[Annotated[float, Field(ge=0, le=1)] | None, _Blank]


class SortKey(StrEnum):
    article = "article"
    verdict = "verdict"
    confidence = "confidence"
    checkworthiness = "checkworthiness"
    status = "status"
    outlet = "outlet"


class QueueItem(BaseModel):
    article_id: str
    claim_id: str
    title: str | None
    outlet: str | None
    statement: str
    attribution: list[str]
    verdict: VerdictLabel | None
    machine_verdict: VerdictLabel | None
    confidence: float | None
    checkworthiness: float
    checkworthy: bool
    status: ReviewStatus
    reviewed_by: str | None


class ReviewSaved(BaseModel):
    event: ReviewEvent
    state: ClaimState


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, object] = {"error": message, "status": status}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def _validation_details(errors: list[dict[str, object]]) -> list[dict[str, str]]:
    details = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part not in ("body",))  # type: ignore[union-attr]
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        details.append({"field": loc, "message": msg})
    return details


def create_app(
    out_dir: Path, desk_name: str = "Fact-check desk", reviewer_default: str | None = None, port: int | None = None
) -> FastAPI:
    """``port``: the port the desk is served on; requests for any other Host are refused."""
    run = RunFolder(out_dir)
    reviews = ReviewLog(out_dir)
    stories_file = StoriesFile(run.out_dir)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["web_url"] = web_url
    app = FastAPI(title=desk_name, docs_url=None, redoc_url=None, openapi_url=None)
    # Static assets come from the package, never from the run folder.
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return _error(error.status, error.message, error.details)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = error.detail if error.status_code != 404 or error.detail != "Not Found" else f"no such page: {request.url.path}"
        return _error(error.status_code, str(message))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details = _validation_details(list(error.errors()))
        summary = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
        return _error(422, f"invalid request: {summary}", details)

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        # Logged for the operator; the browser gets a message, never a traceback.
        log.exception("unhandled error on %s", request.url.path)
        return _error(500, "internal error; see the server log")

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
            )
        return response

    # Outermost: Host, Origin, body size and JSON depth are checked before anything else runs.
    app.add_middleware(RequestGuard, port=port)

    def get_article(article_id: str) -> ArticleResult:
        article = run.article(article_id)
        if article is None:
            raise ApiError(404, f"unknown article id {article_id!r}")
        return article

    def get_state(article: ArticleResult, claim_id: str) -> ClaimState:
        claim = next((c for c in article.claims if c.id == claim_id), None)
        if claim is None:
            raise ApiError(404, f"article {article.article.id} has no claim {claim_id!r}; it has {[c.id for c in article.claims]}")
        mine = [e for e in reviews.events() if e.article_id == article.article.id and e.claim_id == claim_id]
        return claim_state(article, claim, mine)

    def queue(
        verdict: VerdictLabel | None,
        status: ReviewStatus | None,
        outlet: str | None,
        checkworthy: bool | None,
        min_checkworthiness: float | None,
        sort: SortKey,
        order: Literal["asc", "desc"],
    ) -> list[QueueItem]:
        items = [
            QueueItem(
                article_id=a.article.id,
                claim_id=s.claim_id,
                title=a.article.title,
                outlet=a.article.outlet,
                statement=s.statement,
                attribution=a.claim(s.claim_id).attribution,
                verdict=s.verdict,
                machine_verdict=s.machine_verdict,
                confidence=s.confidence,
                checkworthiness=s.checkworthiness,
                checkworthy=s.checkworthy,
                status=s.status,
                reviewed_by=s.reviewed_by,
            )
            for a, s in all_states(run.articles(), reviews.events())
        ]
        items = [
            i
            for i in items
            if (verdict is None or i.verdict is verdict)
            and (status is None or i.status is status)
            and (not outlet or (i.outlet or "") == outlet)
            and (checkworthy is None or i.checkworthy is checkworthy)
            and i.checkworthiness >= (min_checkworthiness or 0.0)
        ]
        keys = {
            SortKey.article: lambda i: (i.title or "", i.article_id, int(i.claim_id[1:])),
            SortKey.verdict: lambda i: (i.verdict.value if i.verdict else "~",),
            SortKey.confidence: lambda i: (i.confidence if i.confidence is not None else -1.0,),
            SortKey.checkworthiness: lambda i: (i.checkworthiness,),
            SortKey.status: lambda i: (i.status.value,),
            SortKey.outlet: lambda i: (i.outlet or "~",),
        }
        # Stable sort: ties keep article order, so the queue reads naturally.
        items.sort(key=keys[SortKey.article])
        items.sort(key=keys[sort], reverse=order == "desc")
        return items

    def get_story(story_id: str) -> Story:
        stories, _ = stories_file.effective(reviews.events())
        story = next((s for s in stories if s.id == story_id), None)
        if story is None:
            raise ApiError(404, f"unknown story id {story_id!r}")
        return story

    # ---- JSON API ----

    @app.get("/api/claims")
    def api_claims(
        verdict: VerdictFilter = None,
        status: StatusFilter = None,
        outlet: OutletFilter = None,
        checkworthy: CheckworthyFilter = None,
        min_checkworthiness: MinCheckworthiness = None,
        sort: SortKey = SortKey.article,
        order: Literal["asc", "desc"] = "asc",
    ) -> list[QueueItem]:
        return queue(verdict, status, outlet, checkworthy, min_checkworthiness, sort, order)

    @app.get("/api/articles")
    def api_articles() -> dict[str, object]:
        return {
            "articles": [
                {"id": a.article.id, "title": a.article.title, "outlet": a.article.outlet, "claims": len(a.claims)}
                for a in run.articles().values()
            ],
            "unreadable": run.errors(),
        }

    @app.get("/api/articles/{article_id}")
    def api_article(article_id: ArticleId) -> dict[str, object]:
        article = get_article(article_id)
        grouped = group_events(reviews.events())
        states = [claim_state(article, c, grouped.get((article_id, c.id), [])) for c in article.claims]
        return {"result": article.model_dump(mode="json"), "states": [s.model_dump(mode="json") for s in states]}

    @app.get("/api/articles/{article_id}/claims/{claim_id}")
    def api_claim(article_id: ArticleId, claim_id: ClaimId) -> ClaimState:
        return get_state(get_article(article_id), claim_id)

    @app.post("/api/articles/{article_id}/claims/{claim_id}/reviews", status_code=201)
    async def api_review(article_id: ArticleId, claim_id: ClaimId, request: Request) -> ReviewSaved:
        # Parsed by hand so a wrong content type or broken JSON gets a precise message.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise ApiError(415, "send the review as JSON with Content-Type: application/json")
        article = get_article(article_id)
        get_state(article, claim_id)  # 404 for an unknown claim before looking at the body
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(400, f"body is not valid JSON: {error}") from None
        if not isinstance(body, dict):
            raise ApiError(422, "body must be a JSON object with at least 'action' and 'reviewer'")
        try:
            review = ReviewRequest.model_validate(body)
        except ValidationError as error:
            details = _validation_details(list(error.errors()))  # type: ignore[arg-type]
            summary = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
            raise ApiError(422, f"invalid review: {summary}", details) from None
        try:
            # fsync blocks; keep it off the event loop so other reviewers' requests still flow.
            event, state = await run_in_threadpool(reviews.append, article, claim_id, review)
        except ReviewConflict as conflict:
            raise ApiError(409, str(conflict)) from None
        return ReviewSaved(event=event, state=state)

    @app.get("/api/reviews")
    def api_reviews() -> dict[str, object]:
        contents = reviews.read()
        return {"events": [e.model_dump(mode="json") for e in contents.events], "skipped_lines": contents.skipped}

    @app.get("/api/stories")
    def api_stories() -> dict[str, object]:
        stories, error = stories_file.effective(reviews.events())
        return {
            "stories": [s.model_dump(mode="json") for s in stories],
            "error": error,
            "articles_not_in_stories": missing_articles(stories, run.articles()),
        }

    @app.get("/api/stories/{story_id}")
    def api_story(story_id: StoryId) -> dict[str, object]:
        return get_story(story_id).model_dump(mode="json")

    # ---- exports ----

    @app.get("/export/stories/{story_id}/claimreview.json")
    def export_story_claimreview(story_id: StoryId, request: Request) -> JSONResponse:
        story = get_story(story_id)
        try:
            data = story_claim_review(story, run.articles(), reviews.events(), desk_name, str(request.base_url))
        except StoryNotReviewed as error:
            raise ApiError(409, str(error)) from None
        return JSONResponse(data, media_type="application/ld+json")

    @app.get("/export/stories/{story_id}/claims.csv")
    def export_story_csv(story_id: StoryId) -> PlainTextResponse:
        return PlainTextResponse(
            story_csv(get_story(story_id)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="story-{story_id}.csv"'},
        )

    @app.get("/export/claimreview.json")
    def export_claimreview(request: Request) -> JSONResponse:
        data = export.claim_reviews(run.out_dir, desk_name, str(request.base_url))
        return JSONResponse(data, media_type="application/ld+json")

    @app.get("/export/verdicts.csv")
    def export_csv() -> PlainTextResponse:
        return PlainTextResponse(
            export.verdicts_csv(run.out_dir),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="verdicts.csv"'},
        )

    @app.get("/export/report.html")
    def export_report() -> HTMLResponse:
        return HTMLResponse(
            export.report_html(run.out_dir, desk_name),
            headers={"Content-Disposition": 'inline; filename="report.html"'},
        )

    # ---- pages ----

    @app.get("/", response_class=HTMLResponse)
    def page_queue(
        verdict: VerdictFilter = None,
        status: StatusFilter = None,
        outlet: OutletFilter = None,
        checkworthy: CheckworthyFilter = None,
        min_checkworthiness: MinCheckworthiness = None,
        sort: SortKey = SortKey.article,
        order: Literal["asc", "desc"] = "asc",
    ) -> HTMLResponse:
        items = queue(verdict, status, outlet, checkworthy, min_checkworthiness, sort, order)
        articles = run.articles()
        outlets = sorted({a.article.outlet for a in articles.values() if a.article.outlet})
        chosen: dict[str, object] = {
            "verdict": verdict, "status": status, "outlet": outlet, "checkworthy": checkworthy,
            "min_checkworthiness": min_checkworthiness, "sort": sort, "order": order,
        }
        html = env.get_template("queue.html.j2").render(
            desk_name=desk_name,
            items=items,
            outlets=outlets,
            verdicts=list(VerdictLabel),
            statuses=list(ReviewStatus),
            sort_keys=list(SortKey),
            chosen=chosen,
            article_count=len(articles),
            unreadable=run.errors(),
        )
        return HTMLResponse(html)

    @app.get("/stories", response_class=HTMLResponse)
    def page_stories(min_articles: Annotated[int, Query(ge=1)] = 2) -> HTMLResponse:
        stories, error = stories_file.effective(reviews.events())
        html = env.get_template("stories.html.j2").render(
            desk_name=desk_name,
            stories=[s for s in stories if len(s.articles) >= min_articles],
            total=len(stories),
            min_articles=min_articles,
            error=error,
            missing=missing_articles(stories, run.articles()),
            out_dir=str(out_dir),
            stances=list(Stance),
        )
        return HTMLResponse(html)

    @app.get("/stories/{story_id}", response_class=HTMLResponse)
    def page_story(story_id: StoryId) -> HTMLResponse:
        story = get_story(story_id)
        articles = run.articles()
        html = env.get_template("story.html.j2").render(
            desk_name=desk_name,
            story=story,
            stances=list(Stance),
            titles={aid: (a.article.title or a.article.id) for aid, a in articles.items()},
            by_article={aid: [c for c in story.claims if c.article_id == aid] for aid in {c.article_id for c in story.claims}},
            reviewed=any(c.reviewed for c in story.claims),
        )
        return HTMLResponse(html)

    @app.get("/articles/{article_id}", response_class=HTMLResponse)
    def page_article(
        article_id: ArticleId,
        claim: Annotated[str | None, Query(pattern=CLAIM_ID_PATTERN)] = None,
        story: Annotated[str | None, Query(pattern=STORY_ID_PATTERN)] = None,
    ) -> HTMLResponse:
        article = get_article(article_id)
        grouped = group_events(reviews.events())
        states = {c.id: claim_state(article, c, grouped.get((article_id, c.id), [])) for c in article.claims}
        selected = claim if claim in states else (article.claims[0].id if article.claims else None)
        html = env.get_template("article.html.j2").render(
            desk_name=desk_name,
            article=article,
            text_html=highlight.to_html(highlight.segments(article)),
            claims=[(c, states[c.id], article.verdict_for(c.id), article.denials_of(c.id)) for c in article.claims],
            denials=article.denials,
            selected=selected,
            verdicts=list(VerdictLabel),
            reviewer_default=reviewer_default or "",
            story=story,
        )
        return HTMLResponse(html)

    return app


def serve(out_dir: Path, host: str = "127.0.0.1", port: int = 0, desk_name: str = "Fact-check desk", reviewer_default: str | None = None) -> None:
    """Run the desk on loopback until interrupted; port 0 picks a free port. Prints the URL."""
    if not is_loopback(host):
        raise ValueError(f"the desk serves on loopback only, not {host!r}: it has no login")
    if not (out_dir / "articles").is_dir():
        raise FileNotFoundError(f"{out_dir} is not a run folder: it has no articles/ folder")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Bind first so the printed URL carries the real port even when port is 0.
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"Fact-check desk for {out_dir} at http://{shown}:{bound}/  (Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(create_app(out_dir, desk_name, reviewer_default, port=bound), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
