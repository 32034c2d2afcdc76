"""Stage 3: a verdict per claim, reasoned before it is labelled."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, create_model, model_validator

from schemas.spans import Span


class VerdictLabel(StrEnum):
    supported = "supported"  # the article's own evidence backs it
    refuted = "refuted"  # the article's evidence shows it is false
    disputed = "disputed"  # a claim and a denial both stand
    unverified = "unverified"  # only attributed; no evidence either way


class VerdictDraft(BaseModel):
    """The model weighs the claim and its linked denials; code attaches the evidence spans
    (the claim's own sentences support it, its linked denials contradict it)."""

    # Field order is generation order: the reasoning, then the label.
    claim_id: str
    rationale: str = Field(description="One short sentence weighing the evidence, written before the verdict.")
    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1, description="Probability that the verdict is right.")


class VerdictsResponse(BaseModel):
    verdicts: list[VerdictDraft]

    @model_validator(mode="after")
    def _one_per_claim(self, info: ValidationInfo) -> "VerdictsResponse":
        expected = (info.context or {}).get("claim_ids")
        if expected is None:
            return self
        given = [v.claim_id for v in self.verdicts]
        missing = [i for i in expected if i not in given]
        unknown = [i for i in given if i not in expected]
        if missing or unknown:
            raise ValueError(
                f"give exactly one verdict for each of {list(expected)}; missing {missing}, unknown {unknown}"
            )
        # A claim the article both asserts and denies is disputed unless the article settles it;
        # a small model often labels it by the claim alone. Point out the denial and ask again.
        denied_by: dict[str, str] = (info.context or {}).get("denied_by", {})
        overlooked = [v for v in self.verdicts if v.claim_id in denied_by and v.verdict is not VerdictLabel.disputed]
        if overlooked:
            raise ValueError(
                "; ".join(
                    f"{v.claim_id} is denied by {denied_by[v.claim_id]} in the article, so it is 'disputed' unless the "
                    f"article itself proves it {'true' if v.verdict is VerdictLabel.supported else 'false'} with facts"
                    for v in overlooked
                )
                + ". Reconsider these verdicts."
            )
        return self


class Verdict(BaseModel):
    claim_id: str
    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1)
    rationale: str
    supporting: list[Span] = Field(default_factory=list)
    contradicting: list[Span] = Field(default_factory=list)


def verdicts_response_for(claim_ids: list[str]) -> type[VerdictsResponse]:
    """The response model with ``claim_id`` restricted to these ids: servers that constrain
    decoding to the tool's JSON Schema (llama.cpp does) cannot emit an unknown id."""
    draft = create_model("VerdictDraft", __base__=VerdictDraft, claim_id=(Literal[tuple(claim_ids)], ...))
    return create_model("VerdictsResponse", __base__=VerdictsResponse, verdicts=(list[draft], ...))  # type: ignore[valid-type]
