"""A static HTML report of the run: one self-contained file to read, print or send."""

from datetime import UTC, datetime

from pipeline.review import highlight
from pipeline.review._templates import STATIC, templates
from pipeline.review.export.format import ExportFormat, ExportSource
from schemas.review import ClaimState, ReviewStatus


def report_html(source: ExportSource) -> str:
    """One self-contained HTML file: inline CSS, no scripts, no external requests."""
    articles = source.articles()
    rows = source.claim_states(articles)
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
                "claims": [
                    (article.claim(s.claim_id), s, article.verdict_for(s.claim_id), article.denials_of(s.claim_id))
                    for s in states
                ],
            }
        )
    css = (STATIC / "report.css").read_text(encoding="utf-8")
    return templates().get_template("report.html.j2").render(
        desk_name=source.desk_name,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        sections=sections,
        css=css,
        total=len(rows),
        reviewed=sum(1 for _, s in rows if s.status is not ReviewStatus.unreviewed),
    )


FORMAT = ExportFormat(
    name="report",
    filename="report.html",
    media_type="text/html",
    render=report_html,
    label="Report",
    disposition="inline",
    description=(
        "one self-contained file (inline CSS, no scripts, no external requests) with every article, its claims, "
        "verdicts, evidence, denials and review history, and the highlighted text; a print stylesheet starts each "
        "article on a new page."
    ),
)
