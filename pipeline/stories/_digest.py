"""What a story needs from one result file, read once and kept in the vector cache."""

import hashlib

from pydantic import BaseModel, TypeAdapter

from pipeline.stories._meta import iso_date, outlet_of
from schemas import ArticleResult, Span, VerdictLabel


class ClaimDigest(BaseModel):
    claim_id: str
    statement: str
    claimant: str
    spans: list[Span]  # taken from a validated ArticleResult: text[start:end] == span.text
    verdict: VerdictLabel | None


class ArticleDigest(BaseModel):
    article_id: str
    source: str
    title: str | None
    url: str | None
    outlet: str | None
    published: str | None
    claims: list[ClaimDigest]


DIGESTS = TypeAdapter(list[ArticleDigest])


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(result: ArticleResult) -> ArticleDigest:
    meta = result.article
    claims = []
    for claim in result.claims:
        verdict = result.verdict_for(claim.id)
        claims.append(
            ClaimDigest(
                claim_id=claim.id, statement=claim.statement, claimant=claim.claimant, spans=claim.spans,
                verdict=verdict.verdict if verdict else None,
            )
        )  # fmt: skip
    return ArticleDigest(
        article_id=meta.id, source=meta.source, title=meta.title, url=meta.url,
        outlet=outlet_of(meta.outlet, meta.url), published=iso_date(meta.published), claims=claims,
    )  # fmt: skip


def claim_text(claim: ClaimDigest) -> str:
    """What is embedded for a claim: the model's own-words statement, with full names and no
    attribution, so that the same proposition reads alike whoever reports it."""
    return claim.statement
