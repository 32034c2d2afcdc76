"""ClaimReview JSON-LD: one schema.org ClaimReview per claim whose verdict a reviewer accepted or overrode."""

import json
import re
from datetime import UTC

from pipeline.review.export.format import ExportFormat, ExportSource
from pipeline.review.links import web_url
from schemas import ArticleResult
from schemas.review import (
    ClaimRef,
    ClaimReviewLD,
    ClaimState,
    CreativeWorkRef,
    Rating,
    ReviewAction,
    ReviewStatus,
    Thing,
)

# Words that mark a claimant as an organisation rather than a person; schema.org
# wants the right type for itemReviewed.author.
_ORG_WORDS = re.compile(
    r"\b(group|foundation|news|times|post|journal|reuters|press|agency|ministry|department|government|kremlin|"
    r"white house|inc|corp|company|ltd|llc|council|committee|university|institute|party|office|police|army|"
    r"spacex|tesla|utility|bank|court|union|association|network|media|bbc|cnn|afp)\b",
    re.IGNORECASE,
)
PUBLISHED = (ReviewStatus.accepted, ReviewStatus.overridden)


def claimant_thing(claimant: str, article: ArticleResult) -> Thing:
    if claimant.strip().lower() in {"the article", "article", "the author"}:
        # The article itself asserts it: its outlet is the author.
        return Thing(type="Organization", name=article.article.outlet or article.article.title or "Unknown outlet")
    kind = "Organization" if _ORG_WORDS.search(claimant) else "Person"
    return Thing(type=kind, name=claimant)


def review_url(base_url: str, article_id: str, claim_id: str) -> str:
    return f"{base_url.rstrip('/')}/articles/{article_id}?claim={claim_id}"


def claim_review(article: ArticleResult, state: ClaimState, desk_name: str, base_url: str) -> ClaimReviewLD:
    """One ClaimReview for a claim whose verdict a reviewer accepted or overrode."""
    claim = article.claim(state.claim_id)
    verdict_events = [e for e in state.history if e.action in (ReviewAction.accept, ReviewAction.override)]
    if state.verdict is None or not verdict_events:
        raise ValueError(f"claim {state.claim_id} has no reviewed verdict")
    last = verdict_events[-1]
    machine = article.verdict_for(claim.id)
    explanation = last.reason or (machine.rationale if machine else None)
    link = web_url(article.article.url)  # consumers render it as a link: http(s) only
    appearance = CreativeWorkRef(url=link, headline=article.article.title) if link else None
    return ClaimReviewLD(
        url=review_url(base_url, article.article.id, claim.id),
        claimReviewed=state.statement,
        itemReviewed=ClaimRef(author=claimant_thing(claim.claimant, article), appearance=appearance),
        reviewRating=Rating(alternateName=state.verdict.value, ratingExplanation=explanation),
        author=Thing(type="Organization", name=desk_name),
        datePublished=last.timestamp.astimezone(UTC).date().isoformat(),
    )


def claim_reviews(source: ExportSource) -> list[dict[str, object]]:
    """JSON-LD objects for every reviewed, check-worthy claim of the run."""
    rows = source.claim_states()
    return [claim_review(a, s, source.desk_name, source.base_url).to_jsonld() for a, s in rows if s.status in PUBLISHED]


# JSON-LD is pasted into <script type="application/ld+json">: a "</script>" in a claim's wording would
# end the tag there and the rest run as HTML. Escaped as \u003c etc., the JSON means the same.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def jsonld_text(data: object, *, compact: bool = False) -> str:
    """``data`` as JSON that is safe inside an HTML script element (``<``, ``>``, ``&`` escaped)."""
    if compact:  # the desk answers compact JSON, as FastAPI's JSONResponse writes it
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return text.translate(_SCRIPT_SAFE)


def render(source: ExportSource) -> str:
    return jsonld_text(claim_reviews(source), compact=source.served)


FORMAT = ExportFormat(
    name="claimreview",
    filename="claimreview.jsonld",
    path="claimreview.json",
    media_type="application/ld+json",
    render=render,
    label="ClaimReview JSON-LD",
    disposition=None,
    description=(
        "a list of schema.org `ClaimReview` objects, one per claim whose verdict was accepted or overridden and that "
        "is still check-worthy: `@context` `https://schema.org`, `claimReviewed` (effective wording), `itemReviewed` = "
        "`Claim` with `author` (a `Person`, or an `Organization` for organisation names and for claims the article "
        "itself makes, then named after the outlet) and `appearance` (a `CreativeWork` with the article URL, omitted "
        "when the URL is unknown), `reviewRating` = `Rating` with `alternateName` = effective verdict and "
        "`ratingExplanation` = the override reason or the machine rationale, `author` = the desk (`Organization`), "
        "`datePublished` = date of the latest verdict review (UTC), `url` = the claim's page in the desk."
    ),
)
