"""Stage 3: a verdict per claim, reasoned before it is labelled."""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, model_validator

from schemas._refs import check_sentences
from schemas.spans import Span


class VerdictLabel(StrEnum):
    supported = "supported"  # the article's own evidence backs it
    refuted = "refuted"  # the article's evidence shows it is false
    disputed = "disputed"  # a claim and a denial both stand
    unverified = "unverified"  # only attributed; no evidence either way


Sentences = Annotated[list[int], Field(max_length=4), AfterValidator(check_sentences)]


class VerdictDraft(BaseModel):
    # Field order is generation order: evidence, then reasoning, then the label.
    claim_id: str
    supporting_sentences: Sentences = Field(description="Numbers of sentences that back the claim.")
    contradicting_sentences: Sentences = Field(description="Numbers of sentences that deny or contradict it.")
    rationale: str = Field(description="One or two sentences weighing the evidence, written before the verdict.")
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
        return self


class Verdict(BaseModel):
    claim_id: str
    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1)
    rationale: str
    supporting: list[Span] = Field(default_factory=list)
    contradicting: list[Span] = Field(default_factory=list)
