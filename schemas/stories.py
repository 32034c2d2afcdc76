"""Stories: one proposition across many articles, whatever their wording.

A story groups the claims of a run's articles that state the same proposition, with each
article's stance toward it (from its verdict), its outlet and its date. ``OUT/stories.jsonl`` holds
one :class:`Story` per line; its verdicts are the machine's (as in ``articles/*.json``): the desk and
``factcheck stories`` lay the review log over them. Imports nothing from ``pipeline``.
"""

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, Field, computed_field, model_validator

from schemas.review import ARTICLE_ID_PATTERN, CLAIM_ID_PATTERN, ClaimRef, CreativeWorkRef, Rating, Thing
from schemas.spans import Span
from schemas.verdicts import VerdictLabel

STORY_ID_PATTERN = r"^s[0-9a-f]{12}$"
STORIES_SCHEMA_VERSION = "1"


class Stance(StrEnum):
    """An article's stance toward a story's proposition, from its verdict on the claim."""

    backs = "backs"  # supported: the article's own content asserts it
    debunks = "debunks"  # refuted: the article shows it is false
    reports = "reports"  # unverified: the article only reports it
    disputed = "disputed"  # disputed: the article carries a denial of it (or both backs and debunks it)
    unknown = "unknown"  # no verdict for the claim


STANCE_OF_VERDICT: dict[VerdictLabel, Stance] = {
    VerdictLabel.supported: Stance.backs,
    VerdictLabel.refuted: Stance.debunks,
    VerdictLabel.unverified: Stance.reports,
    VerdictLabel.disputed: Stance.disputed,
}


def stance_of(verdict: VerdictLabel | None, *, negates: bool = False) -> Stance:
    """The stance a verdict on a claim gives toward the story; a claim that states the story's
    proposition negated ("the claim that X is false") turns backs into debunks and back."""
    stance = STANCE_OF_VERDICT.get(verdict, Stance.unknown) if verdict is not None else Stance.unknown
    if negates:
        return {Stance.backs: Stance.debunks, Stance.debunks: Stance.backs}.get(stance, stance)
    return stance


def article_stance(stances: Sequence[Stance]) -> Stance:
    """An article's stance toward a story from the stances of all its claims in the story, read the
    way the verification stage reads one claim's evidence: the article's own voice settles it
    (backs, or debunks; both at once is a conflict it does not settle: disputed); else a linked
    denial makes it disputed; else it reports; else unknown."""
    found = set(stances)
    if Stance.backs in found and Stance.debunks in found:
        return Stance.disputed
    for stance in (Stance.backs, Stance.debunks, Stance.disputed, Stance.reports):
        if stance in found:
            return stance
    return Stance.unknown


def article_stance_and_claim(claims: Sequence["StoryClaim"]) -> tuple[Stance, "StoryClaim"]:
    """The stance of one article's claims in a story (see :func:`article_stance`) and the claim that
    decides it: of those with that stance (all, for a conflict), the one nearest the canonical
    statement. When a reviewer has decided any of them, only the reviewed claims count: the desk's
    word over the machine's."""
    if not claims:
        raise ValueError("an article in a story has at least one claim in it")
    counted = [c for c in claims if c.reviewed] or list(claims)
    stance = article_stance([c.stance for c in counted])
    deciding = [c for c in counted if c.stance is stance] or counted
    return stance, max(deciding, key=lambda c: c.similarity)


class StoryClaim(BaseModel):
    """One claim of one article in the story."""

    article_id: str = Field(pattern=ARTICLE_ID_PATTERN)
    source: str = Field(description="The article's input file (path, or path:line for JSONL).")
    claim_id: str = Field(pattern=CLAIM_ID_PATTERN)
    statement: str
    claimant: str
    spans: list[Span] = Field(default_factory=list, description="Where the article states it (offsets into its text).")
    similarity: float = Field(ge=-1, le=1, description="Cosine of the claim's embedding with the canonical claim's.")
    verdict: VerdictLabel | None = Field(description="The effective verdict: the reviewer's when there is one.")
    machine_verdict: VerdictLabel | None = Field(description="The pipeline's verdict.")
    reviewed: bool = Field(default=False, description="A reviewer accepted or overrode the verdict.")
    negates: bool = Field(
        default=False,
        description="The statement says the story's proposition is not so (\"the claim that X is false\"): "
        "its verdict's backs and debunks count the other way round toward the story.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stance(self) -> Stance:
        """The claim's stance toward the story's proposition."""
        return stance_of(self.verdict, negates=self.negates)


class StoryArticle(BaseModel):
    """One article in the story and its stance, from all its claims in the story (see article_stance)."""

    article_id: str = Field(pattern=ARTICLE_ID_PATTERN)
    source: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = Field(default=None, description="The outlet the input named, else the URL's host.")
    published: str | None = Field(default=None, description="ISO date (YYYY-MM-DD) when the input gave a readable one.")
    claim_id: str = Field(
        pattern=CLAIM_ID_PATTERN,
        description="The claim that decides the article's stance: of its claims in the story with that stance, the one "
        "closest to the canonical statement.",
    )
    stance: Stance = Field(description="From all the article's claims in the story: backs or debunks in its own voice, "
                           "else disputed by a denial, else reports.")


class Story(BaseModel):
    schema_version: Literal["1"] = STORIES_SCHEMA_VERSION
    id: str = Field(
        pattern=STORY_ID_PATTERN, description="Stable across updates: kept while the story keeps most of its claims."
    )
    statement: str = Field(description="The canonical statement: the claim nearest the centre of the story.")
    canonical_article_id: str = Field(pattern=ARTICLE_ID_PATTERN)
    canonical_claim_id: str = Field(pattern=CLAIM_ID_PATTERN)
    claims: list[StoryClaim] = Field(min_length=1)
    articles: list[StoryArticle] = Field(min_length=1, description="In date order (undated last).")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outlets(self) -> list[str]:
        return sorted({a.outlet for a in self.articles if a.outlet})

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stance_counts(self) -> dict[Stance, int]:
        """Articles per stance, every stance listed."""
        counts = dict.fromkeys(Stance, 0)
        for article in self.articles:
            counts[article.stance] += 1
        return counts

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = [(c.article_id, c.claim_id) for c in self.claims]
        if len(set(keys)) != len(keys):
            raise ValueError("a claim is listed twice")
        if (self.canonical_article_id, self.canonical_claim_id) not in keys:
            raise ValueError("the canonical claim is not one of the story's claims")
        ids = [a.article_id for a in self.articles]
        if len(set(ids)) != len(ids) or set(ids) != {c.article_id for c in self.claims}:
            raise ValueError("articles must be exactly the claims' articles, once each")
        for article in self.articles:
            if (article.article_id, article.claim_id) not in keys:
                raise ValueError(f"article {article.article_id}'s claim {article.claim_id} is not in the story")
        return self


# schema.org ClaimReview for a whole story: the claim and every article that carries it.


class StoryClaimRef(ClaimRef):
    model_config = {"populate_by_name": True}

    appearance: list[CreativeWorkRef] = Field(default_factory=list)  # type: ignore[assignment]


class StoryClaimReviewLD(BaseModel):
    model_config = {"populate_by_name": True}

    context: Literal["https://schema.org"] = Field(default="https://schema.org", alias="@context")
    type: Literal["ClaimReview"] = Field(default="ClaimReview", alias="@type")
    url: str
    claimReviewed: str = Field(min_length=1)
    itemReviewed: StoryClaimRef
    reviewRating: Rating
    author: Thing
    datePublished: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    def to_jsonld(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
