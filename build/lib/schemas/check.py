"""A given claim checked against one article: what ``factcheck check`` writes and eval scores."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from schemas.claims import Claim
from schemas.denials import Denial
from schemas.result import ArticleMeta, RunInfo
from schemas.spans import Span
from schemas.verdicts import Verdict

CHECK_SCHEMA_VERSION = "1"


class ClaimOrigin(StrEnum):
    """Where the verified claim came from."""

    article = "article"  # the given claim matched one the article itself makes
    given = "given"  # no match: built from the given text, located at its most similar sentences


class CheckResult(BaseModel):
    schema_version: Literal["1"] = CHECK_SCHEMA_VERSION
    id: str | None = Field(default=None, description="The pair's id, when the input gave one.")
    given_claim: str = Field(description="The claim as the reader or dataset stated it.")
    article: ArticleMeta
    text: str
    origin: ClaimOrigin
    match_score: float = Field(
        ge=0, le=1, description="Similarity of the given claim to the verified claim's statement (1 = identical)."
    )
    claim: Claim = Field(description="The claim that was verified.")
    denials: list[Denial] = Field(default_factory=list, description="Denials and disputes linked to the claim.")
    verdict: Verdict | None = Field(default=None, description="None when the model gave no usable verdict.")
    article_claims: list[Claim] = Field(default_factory=list, description="Every claim extracted from the article.")
    warnings: list[str] = Field(default_factory=list)
    run: RunInfo

    def spans(self) -> list[Span]:
        found = list(self.claim.spans)
        found += [s for s in (self.claim.claimant_span, self.claim.cue_span) if s is not None]
        for claim in self.article_claims:
            found += claim.spans
        for denial in self.denials:
            found += denial.spans
        if self.verdict is not None:
            found += self.verdict.supporting + self.verdict.contradicting
        return found

    @model_validator(mode="after")
    def _consistent(self) -> "CheckResult":
        for span in self.spans():
            if self.text[span.start : span.end] != span.text:
                raise ValueError(f"span [{span.start}, {span.end}) {span.text[:40]!r} is not the article text there")
        if self.verdict is not None and self.verdict.claim_id != self.claim.id:
            raise ValueError(f"verdict is for {self.verdict.claim_id}, not the checked claim {self.claim.id}")
        for denial in self.denials:
            if self.claim.id not in denial.claim_ids:
                raise ValueError(f"denial {denial.id} is not linked to the checked claim {self.claim.id}")
        return self
