"""The desk's review log: one event per reviewer action, appended, never rewritten.

The machine output (``articles/*.json``) is never modified; what a reader sees
is the machine result with the latest review of each field laid over it.
Imports nothing from ``pipeline``.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, Self
from uuid import uuid4

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from schemas.verdicts import VerdictLabel

ARTICLE_ID_PATTERN = r"^[0-9a-f]{16}$"
CLAIM_ID_PATTERN = r"^c\d+$"
MAX_TEXT = 4000  # long enough for a reasoned override, short enough to refuse junk


class ReviewAction(StrEnum):
    accept = "accept"  # the reviewer agrees with the effective verdict
    override = "override"  # a different verdict label; a reason is required
    edit = "edit"  # new wording for the claim statement
    not_checkworthy = "not_checkworthy"  # the claim should not be checked at all
    note = "note"  # a free-text note; changes nothing else


class ReviewStatus(StrEnum):
    unreviewed = "unreviewed"
    accepted = "accepted"
    overridden = "overridden"
    not_checkworthy = "not_checkworthy"
    annotated = "annotated"  # only edits or notes so far; the verdict is still the machine's


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class ReviewRequest(BaseModel):
    """What a reviewer submits; the server adds ids, timestamps and the before/after."""

    model_config = {"extra": "forbid"}

    action: ReviewAction
    reviewer: str = Field(min_length=1, max_length=120)
    verdict: VerdictLabel | None = Field(default=None, description="The new label, for override only.")
    statement: str | None = Field(default=None, max_length=MAX_TEXT, description="New wording, for edit only.")
    reason: str | None = Field(default=None, max_length=MAX_TEXT, description="Why; required for override.")
    note: str | None = Field(default=None, max_length=MAX_TEXT, description="The note text, for note only.")

    @field_validator("reviewer", mode="before")
    @classmethod
    def _strip_reviewer(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("statement", "reason", "note", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # An emptied form field means "not given", so "reason required" catches whitespace.
        return _clean(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fits_action(self) -> Self:
        if self.action is ReviewAction.override:
            if self.verdict is None:
                raise ValueError(f"override needs a verdict, one of {[v.value for v in VerdictLabel]}")
            if not self.reason:
                raise ValueError("override needs a non-empty reason")
        elif self.verdict is not None:
            raise ValueError(f"verdict is only accepted with action override, not {self.action.value}")
        if self.action is ReviewAction.edit and not self.statement:
            raise ValueError("edit needs the new wording in 'statement'")
        if self.action is not ReviewAction.edit and self.statement is not None:
            raise ValueError(f"statement is only accepted with action edit, not {self.action.value}")
        if self.action is ReviewAction.note and not self.note:
            raise ValueError("note needs a non-empty 'note'")
        return self


class ReviewEvent(BaseModel):
    """One line of ``reviews.jsonl``.

    ``before``/``after`` hold the value of the field the action touches:
    accept/override -> the verdict label; edit -> the statement;
    not_checkworthy -> "check-worthy"/"not check-worthy"; note -> both empty.
    ``before`` is the effective value when the event was appended (computed
    under the log's lock), so the history reads as a chain.
    """

    id: str = Field(default_factory=lambda: uuid4().hex, pattern=r"^[0-9a-f]{32}$")
    article_id: str = Field(pattern=ARTICLE_ID_PATTERN)
    claim_id: str = Field(pattern=CLAIM_ID_PATTERN)
    reviewer: str = Field(min_length=1)
    timestamp: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    action: ReviewAction
    before: str | None = None
    after: str | None = None
    reason: str | None = None
    note: str | None = None

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.action in (ReviewAction.accept, ReviewAction.override):
            if self.after not in {v.value for v in VerdictLabel}:
                raise ValueError(f"{self.action.value} must record a verdict label as 'after', got {self.after!r}")
        if self.action is ReviewAction.override and not (self.reason and self.reason.strip()):
            raise ValueError("override needs a non-empty reason")
        if self.action is ReviewAction.edit and not (self.after and self.after.strip()):
            raise ValueError("edit must record the new wording as 'after'")
        if self.action is ReviewAction.note and not (self.note and self.note.strip()):
            raise ValueError("note needs a non-empty note")
        return self


class ClaimState(BaseModel):
    """A claim as the desk sees it now: machine values with the latest review per field."""

    article_id: str
    claim_id: str
    statement: str
    machine_statement: str
    verdict: VerdictLabel | None
    machine_verdict: VerdictLabel | None
    confidence: float | None
    checkworthiness: float
    checkworthy: bool = True
    status: ReviewStatus = ReviewStatus.unreviewed
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    notes: list[str] = Field(default_factory=list)
    history: list[ReviewEvent] = Field(default_factory=list)


# schema.org ClaimReview, the subset the desk publishes.


class Thing(BaseModel):
    model_config = {"populate_by_name": True}

    type: Literal["Person", "Organization"] = Field(alias="@type")
    name: str


class CreativeWorkRef(BaseModel):
    model_config = {"populate_by_name": True}

    type: Literal["CreativeWork"] = Field(default="CreativeWork", alias="@type")
    url: str
    headline: str | None = None


class ClaimRef(BaseModel):
    model_config = {"populate_by_name": True}

    type: Literal["Claim"] = Field(default="Claim", alias="@type")
    author: Thing
    appearance: CreativeWorkRef | None = None
    firstAppearance: CreativeWorkRef | None = None


class Rating(BaseModel):
    model_config = {"populate_by_name": True}

    type: Literal["Rating"] = Field(default="Rating", alias="@type")
    alternateName: str
    ratingExplanation: str | None = None


class ClaimReviewLD(BaseModel):
    model_config = {"populate_by_name": True}

    context: Literal["https://schema.org"] = Field(default="https://schema.org", alias="@context")
    type: Literal["ClaimReview"] = Field(default="ClaimReview", alias="@type")
    url: str
    claimReviewed: str = Field(min_length=1)
    itemReviewed: ClaimRef
    reviewRating: Rating
    author: Thing
    datePublished: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    def to_jsonld(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
