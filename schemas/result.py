"""One article's result: what ``factcheck run`` writes, the desk reads and eval scores."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from schemas.attribution import Attribution
from schemas.claims import Claim
from schemas.denials import Denial
from schemas.spans import Span
from schemas.usage import Usage
from schemas.verdicts import Verdict

SCHEMA_VERSION = "1"
# Who gives verdicts: the LLM's verify call, or the trained stance model. Results record it;
# settings, options and the CLI import it from here.
Verifier = Literal["llm", "trained"]


class ArticleMeta(BaseModel):
    id: str = Field(description="Content hash of the text: stable across runs and machines.")
    source: str = Field(description="Where the article was read from (a path, or path#line for JSONL).")
    external_id: str | None = Field(default=None, description="The id the input record gave, if any.")
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: str | None = None


class RunInfo(BaseModel):
    backend: str
    model: str
    prompt_versions: dict[str, str] = Field(description="Stage name -> content hash of its prompt template.")
    usage: dict[str, Usage] = Field(default_factory=dict, description="Stage name -> what its LLM calls used.")
    windows: int = Field(default=1, description="Context windows the article was split into.")
    verifier: Verifier = Field(
        default="llm", description="Who gave the verdicts: the LLM's verify call, or the trained stance model."
    )
    stance_model: str | None = Field(default=None, description="sha256 of the stance model artifact, when it judged.")
    started_at: datetime
    seconds: float

    @field_validator("usage", mode="before")
    @classmethod
    def _usage_by_stage(cls, usage: object) -> object:
        """Results written before usage was keyed by stage hold a list of ``{"stage": ..., ...}``."""
        if isinstance(usage, list) and all(isinstance(e, dict) and isinstance(e.get("stage"), str) for e in usage):
            return {entry["stage"]: {k: v for k, v in entry.items() if k != "stage"} for entry in usage}
        return usage


class ArticleResult(BaseModel):
    schema_version: Literal["1"] = SCHEMA_VERSION
    article: ArticleMeta
    text: str
    claims: list[Claim] = Field(default_factory=list)
    denials: list[Denial] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    attributions: list[Attribution] = Field(
        default_factory=list, description="Every reported-speech instance in the article, found by code (no LLM)."
    )
    warnings: list[str] = Field(default_factory=list)
    run: RunInfo

    def spans(self) -> list[Span]:
        found: list[Span] = []
        for claim in self.claims:
            found += claim.spans
            found += [s for s in (claim.claimant_span, claim.cue_span) if s is not None]
        for denial in self.denials:
            found += denial.spans
        for verdict in self.verdicts:
            found += verdict.supporting + verdict.contradicting
        for attribution in self.attributions:
            found += attribution.spans()
        return found

    @model_validator(mode="after")
    def _consistent(self) -> "ArticleResult":
        for span in self.spans():
            if self.text[span.start : span.end] != span.text:
                raise ValueError(f"span [{span.start}, {span.end}) {span.text[:40]!r} is not the article text there")
        claim_ids = [c.id for c in self.claims]
        if len(set(claim_ids)) != len(claim_ids):
            raise ValueError("claim ids are not unique")
        for denial in self.denials:
            if unknown := set(denial.claim_ids) - set(claim_ids):
                raise ValueError(f"denial {denial.id} targets unknown claims {sorted(unknown)}")
        for verdict in self.verdicts:
            if verdict.claim_id not in claim_ids:
                raise ValueError(f"verdict for unknown claim {verdict.claim_id}")
        return self

    def claim(self, claim_id: str) -> Claim:
        return next(c for c in self.claims if c.id == claim_id)

    def verdict_for(self, claim_id: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.claim_id == claim_id), None)

    def denials_of(self, claim_id: str) -> list[Denial]:
        return [d for d in self.denials if claim_id in d.claim_ids]
