"""Stage 2: statements that dispute a claim, and non-denials kept apart."""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, computed_field

from schemas._refs import check_claim_ids, check_quote, check_sentences
from schemas.spans import Span


class DenialKind(StrEnum):
    explicit_denial = "explicit_denial"  # "that never happened", "I did not"
    contradiction = "contradiction"  # a statement of fact incompatible with the claim
    correction = "correction"  # a fix of a detail: date, number, wording
    non_denial = "non_denial"  # "did not respond", "declined to comment": not a denial


class DenialDraft(BaseModel):
    speaker: str = Field(description="Who disputes the claim, or who did not respond.")
    disputes: str = Field(description="What they dispute, in a few words.")
    kind: DenialKind
    claim_ids: Annotated[list[str], AfterValidator(check_claim_ids)] = Field(
        description="Ids of the disputed claims; [] for a non_denial."
    )
    sentence: Annotated[list[int], Field(min_length=1, max_length=3), AfterValidator(check_sentences)]
    quote: Annotated[str, AfterValidator(check_quote)] = Field(description="The disputing words, copied exactly.")


class DenialsResponse(BaseModel):
    denials: list[DenialDraft]


class Denial(BaseModel):
    id: str = Field(pattern=r"^d\d+$")
    speaker: str
    disputes: str
    kind: DenialKind
    claim_ids: list[str] = Field(default_factory=list)
    spans: list[Span] = Field(min_length=1)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_denial(self) -> bool:
        """A non-denial ("did not respond") is kept for the record but never counts."""
        return self.kind is not DenialKind.non_denial
