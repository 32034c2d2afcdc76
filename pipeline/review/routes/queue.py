"""The queue: every claim of the run with its effective state, filtered and sorted, as JSON and
as the desk's front page."""

from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, BeforeValidator, Field

from pipeline.review.routes.desk import Desk, DeskDep
from pipeline.review.store import all_states
from schemas import VerdictLabel
from schemas.review import ReviewStatus

router = APIRouter()


def _blank_is_none(value: object) -> object:
    # The queue's filter form sends "any" as an empty parameter.
    return None if value == "" else value


_Blank = BeforeValidator(_blank_is_none)


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


_SORT_KEYS = {
    SortKey.article: lambda i: (i.title or "", i.article_id, int(i.claim_id[1:])),
    SortKey.verdict: lambda i: (i.verdict.value if i.verdict else "~",),
    SortKey.confidence: lambda i: (i.confidence if i.confidence is not None else -1.0,),
    SortKey.checkworthiness: lambda i: (i.checkworthiness,),
    SortKey.status: lambda i: (i.status.value,),
    SortKey.outlet: lambda i: (i.outlet or "~",),
}


class QueueFilter(BaseModel):
    """The queue's query parameters, for the JSON API and the page alike."""

    verdict: Annotated[VerdictLabel | None, _Blank] = None
    status: Annotated[ReviewStatus | None, _Blank] = None
    outlet: Annotated[str | None, _Blank] = None
    checkworthy: Annotated[bool | None, _Blank] = None
    min_checkworthiness: Annotated[Annotated[float, Field(ge=0, le=1)] | None, _Blank] = None
    sort: SortKey = SortKey.article
    order: Literal["asc", "desc"] = "asc"

    def admits(self, item: QueueItem) -> bool:
        return (
            (self.verdict is None or item.verdict is self.verdict)
            and (self.status is None or item.status is self.status)
            and (not self.outlet or (item.outlet or "") == self.outlet)
            and (self.checkworthy is None or item.checkworthy is self.checkworthy)
            and item.checkworthiness >= (self.min_checkworthiness or 0.0)
        )

    def apply(self, items: list[QueueItem]) -> list[QueueItem]:
        chosen = [i for i in items if self.admits(i)]
        # Stable sort: ties keep article order, so the queue reads naturally.
        chosen.sort(key=_SORT_KEYS[SortKey.article])
        chosen.sort(key=_SORT_KEYS[self.sort], reverse=self.order == "desc")
        return chosen


QueueQuery = Annotated[QueueFilter, Query()]


def queue_items(desk: Desk) -> list[QueueItem]:
    return [
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
        for a, s in all_states(desk.run.articles(), desk.reviews.events())
    ]


@router.get("/api/claims")
def api_claims(desk: DeskDep, filters: QueueQuery) -> list[QueueItem]:
    return filters.apply(queue_items(desk))


@router.get("/", response_class=HTMLResponse)
def page_queue(desk: DeskDep, filters: QueueQuery) -> HTMLResponse:
    articles = desk.run.articles()
    return desk.page(
        "queue.html.j2",
        items=filters.apply(queue_items(desk)),
        outlets=sorted({a.article.outlet for a in articles.values() if a.article.outlet}),
        verdicts=list(VerdictLabel),
        statuses=list(ReviewStatus),
        sort_keys=list(SortKey),
        chosen=filters,
        article_count=len(articles),
        unreadable=desk.run.errors(),
    )
