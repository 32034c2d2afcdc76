"""A CSV of the run's effective verdicts: one row per claim, reviewed or not."""

import csv
import io

from pipeline.review._spreadsheet import safe_cell
from pipeline.review.export.format import ExportFormat, ExportSource

CSV_FIELDS = [
    "article_id", "title", "outlet", "url", "claim_id", "statement", "machine_statement", "claimant", "via",
    "verdict", "machine_verdict", "confidence", "checkworthiness", "checkworthy", "status",
    "reviewed_by", "reviewed_at", "reason",
]


def verdicts_csv(source: ExportSource) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for article, state in source.claim_states():
        claim = article.claim(state.claim_id)
        reasons = [e.reason for e in state.history if e.reason]
        row = {
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
        }
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return buffer.getvalue()


FORMAT = ExportFormat(
    name="verdicts",
    filename="verdicts.csv",
    media_type="text/csv",
    render=verdicts_csv,
    label="CSV",
    description=(
        "one row per claim with effective and machine verdict and wording, claimant and chain, confidence, "
        "check-worthiness, status, last reviewer, time and reason. Cells that a spreadsheet would run as a formula "
        "are prefixed with `'`."
    ),
)
