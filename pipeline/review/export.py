"""Publishing the desk's work: ClaimReview JSON-LD, a CSV of effective verdicts, a static HTML report."""

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from pipeline.review.links import web_url

from pipeline._io import write_text_atomic
from pipeline.review import highlight
from pipeline.review.store import ReviewLog, RunFolder, all_states
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

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

# Words that mark a claimant as an organisation rather than a person; schema.org
# wants the right type for itemReviewed.author.
_ORG_WORDS = re.compile(
    r"\b(group|foundation|news|times|post|journal|reuters|press|agency|ministry|department|government|kremlin|"
    r"white house|inc|corp|company|ltd|llc|council|committee|university|institute|party|office|police|army|"
    r"spacex|tesla|utility|bank|court|union|association|network|media|bbc|cnn|afp)\b",
    re.IGNORECASE,
)
PUBLISHED = (ReviewStatus.accepted, ReviewStatus.overridden)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["web_url"] = web_url
    return env


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


def claim_reviews(out_dir: Path, desk_name: str, base_url: str) -> list[dict[str, object]]:
    """JSON-LD objects for every reviewed, check-worthy claim of the run."""
    rows = all_states(RunFolder(out_dir).articles(), ReviewLog(out_dir).events())
    return [claim_review(a, s, desk_name, base_url).to_jsonld() for a, s in rows if s.status in PUBLISHED]


CSV_FIELDS = [
    "article_id", "title", "outlet", "url", "claim_id", "statement", "machine_statement", "claimant", "via",
    "verdict", "machine_verdict", "confidence", "checkworthiness", "checkworthy", "status",
    "reviewed_by", "reviewed_at", "reason",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets execute cells starting with these; quote them so a claim can't become a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def verdicts_csv(out_dir: Path) -> str:
    rows = all_states(RunFolder(out_dir).articles(), ReviewLog(out_dir).events())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for article, state in rows:
        claim = article.claim(state.claim_id)
        reasons = [e.reason for e in state.history if e.reason]
        writer.writerow(
            {
                key: _cell(value)
                for key, value in {
                    "article_id": article.article.id,
                    "title": article.article.title,
                    "outlet": article.article.outlet,
                    "url": article.article.url,
                    "claim_id": claim.id,
                    "statement": state.statement,
                    "machine_statement": state.machine_statement,
                    "claimant": claim.claimant,
                    "via": " > ".join(claim.via),
                    "verdict": state.verdict.value if state.verdict else None,
                    "machine_verdict": state.machine_verdict.value if state.machine_verdict else None,
                    "confidence": state.confidence,
                    "checkworthiness": claim.checkworthiness,
                    "checkworthy": "yes" if state.checkworthy else "no",
                    "status": state.status.value,
                    "reviewed_by": state.reviewed_by,
                    "reviewed_at": state.reviewed_at.isoformat() if state.reviewed_at else None,
                    "reason": reasons[-1] if reasons else None,
                }.items()
            }
        )
    return buffer.getvalue()


def report_html(out_dir: Path, desk_name: str) -> str:
    """One self-contained HTML file: inline CSS, no scripts, no external requests."""
    articles = RunFolder(out_dir).articles()
    rows = all_states(articles, ReviewLog(out_dir).events())
    by_article: dict[str, list[ClaimState]] = {}
    for article, state in rows:
        by_article.setdefault(article.article.id, []).append(state)
    sections = []
    for article_id, article in articles.items():
        states = by_article.get(article_id, [])
        sections.append(
            {
                "article": article,
                "text": highlight.to_html(highlight.segments(article)),
                "claims": [(article.claim(s.claim_id), s, article.verdict_for(s.claim_id), article.denials_of(s.claim_id)) for s in states],
            }
        )
    css = (STATIC / "report.css").read_text(encoding="utf-8")
    return _env().get_template("report.html.j2").render(
        desk_name=desk_name,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=sections,
        css=css,
        total=len(rows),
        reviewed=sum(1 for _, s in rows if s.status is not ReviewStatus.unreviewed),
    )


def write_exports(out_dir: Path, dest: Path, desk_name: str, base_url: str) -> list[Path]:
    """Write claimreview.jsonld, verdicts.csv and report.html into ``dest``, each atomically.
    ``base_url``: empty (relative review URLs) or an absolute http(s) URL, never ``javascript:``."""
    if base_url and web_url(base_url) is None:
        raise ValueError(f"--base-url {base_url!r}: not an absolute http(s) URL (e.g. https://desk.example.org)")
    files = {
        dest / "claimreview.jsonld": json.dumps(claim_reviews(out_dir, desk_name, base_url), indent=2, ensure_ascii=False) + "\n",
        dest / "verdicts.csv": verdicts_csv(out_dir),
        dest / "report.html": report_html(out_dir, desk_name),
    }
    for path, content in files.items():
        write_text_atomic(path, content)
    return list(files)
