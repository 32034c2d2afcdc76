"""Stage 2: statements that dispute a claim, and non-denials kept apart."""

import functools
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, computed_field, create_model, model_validator

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

    @model_validator(mode="after")
    def _not_the_claim_itself(self, info: ValidationInfo) -> "DenialDraft":
        # The pipeline passes a check that the quote is not one of the disputed claims' own sentences.
        quotes_claim = (info.context or {}).get("quotes_claim")
        if quotes_claim is not None and quotes_claim(self.quote, self.claim_ids):
            raise ValueError(
                f"the quote {self.quote[:60]!r} is the claim itself; quote the words of {self.speaker} that dispute it"
            )
        return self


class DenialsResponse(BaseModel):
    denials: list[DenialDraft]


@functools.lru_cache(maxsize=64)  # the same few id lists recur: reuse the class, and so its tool schema
def denials_response_for(claim_ids: tuple[str, ...]) -> type[DenialsResponse]:
    """The response model with ``claim_ids`` restricted to these ids: servers that constrain
    decoding to the tool's JSON Schema (llama.cpp does) cannot emit an unknown id."""
    ids = Literal[tuple(claim_ids)] if claim_ids else str
    draft = create_model(
        "DenialDraft",
        __base__=DenialDraft,
        claim_ids=(list[ids], Field(description="Ids of the disputed claims; [] for a non_denial.")),  # type: ignore[valid-type]
    )
    return create_model("DenialsResponse", __base__=DenialsResponse, denials=(list[draft], ...))  # type: ignore[valid-type]


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
