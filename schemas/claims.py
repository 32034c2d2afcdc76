"""Stage 1: check-worthy claims and who asserts them."""

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from schemas._refs import check_sentences
from schemas.spans import Span


class ClaimKind(StrEnum):
    fact = "fact"
    quote = "quote"
    opinion = "opinion"
    prediction = "prediction"


SentenceNumbers = Annotated[list[int], Field(min_length=1), AfterValidator(check_sentences)]


class ClaimDraft(BaseModel):
    """A claim as the model states it; code turns sentence numbers into spans."""

    statement: str = Field(
        description="The claim as one self-contained sentence: full names instead of pronouns, "
        "understandable without the article."
    )
    claimant: str = Field(
        description="Who asserts the claim in the article: the outermost source, "
        "or 'the article' when the author states it directly."
    )
    via: list[str] = Field(
        default_factory=list,
        description="People the claim passed through, in order, when it is nested: "
        "if A wrote that B told him C said X, claimant is A and via is [B, C].",
    )
    cue: str = Field(description="The word that attributes it: said, wrote, told, claimed, reported...; 'none' if stated directly.")
    kind: ClaimKind
    checkworthiness: float = Field(ge=0, le=1, description="1 = a factual claim a fact-checker must verify; 0 = trivial.")
    sentences: SentenceNumbers = Field(description="Numbers of the article sentences that state the claim.")


class ClaimsResponse(BaseModel):
    claims: list[ClaimDraft]


class Claim(BaseModel):
    id: str = Field(pattern=r"^c\d+$")
    statement: str
    claimant: str
    via: list[str] = Field(default_factory=list)
    cue: str
    kind: ClaimKind
    checkworthiness: float = Field(ge=0, le=1)
    spans: list[Span] = Field(min_length=1, description="Where the article states the claim.")
    claimant_span: Span | None = Field(default=None, description="The claimant's name in the article, when found.")
    cue_span: Span | None = Field(default=None, description="The attribution cue in the article, when found.")

    @property
    def attribution(self) -> list[str]:
        """The chain from the outermost source inward, e.g. [Bremmer, Musk]."""
        return [self.claimant, *self.via]
