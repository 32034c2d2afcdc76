"""An export format is one declared object: a toy format declared in this file and nowhere else is
written by ``factcheck export``, served by the desk at its URL and linked in every page's header,
once registered through the call the built-ins use. docs/review.md lists the registered formats."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_fixtures import DESK_URL, MUSK_PUTIN_STATEMENT, build_seed_run
from typer.testing import CliRunner
from recording import ROOT

from pipeline.cli import EXIT_NOTHING_RAN, app
from pipeline.review.app import create_app
from pipeline.review.export import ExportFormat, ExportSource, export_formats, register_export, unregister_export
from pipeline.review.export.__main__ import markdown

DOCS = ROOT / "docs" / "review.md"
runner = CliRunner()


def claim_lines(source: ExportSource) -> str:
    """One line per claim: its id, effective verdict and wording."""
    return "".join(
        f"{article.article.id}/{state.claim_id}\t{state.verdict.value if state.verdict else '-'}\t{state.statement}\n"
        for article, state in source.claim_states()
    )


CLAIM_LINES = ExportFormat(
    name="claim-lines",
    filename="claims.txt",
    media_type="text/plain",
    render=claim_lines,
    label="Claims as text",
    description="one line per claim: its id, effective verdict and wording.",
)


@pytest.fixture
def claim_lines_format() -> Iterator[ExportFormat]:
    register_export(CLAIM_LINES)
    yield CLAIM_LINES
    unregister_export(CLAIM_LINES.name)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_seed_run(tmp_path / "run")


def test_a_format_declared_here_is_written_by_the_cli(
    claim_lines_format: ExportFormat, run_dir: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "all")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "claimreview.jsonld", "claims.txt", "report.html", "verdicts.csv"
    ]
    text = (tmp_path / "all" / "claims.txt").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 8 and MUSK_PUTIN_STATEMENT in text

    only = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "only"), "--format", "claim-lines"])
    assert only.exit_code == 0, only.output
    assert [p.name for p in (tmp_path / "only").iterdir()] == ["claims.txt"]
    assert (tmp_path / "only" / "claims.txt").read_text(encoding="utf-8") == text


def test_a_format_declared_here_is_served_and_linked_by_the_desk(
    claim_lines_format: ExportFormat, run_dir: Path
) -> None:
    client = TestClient(create_app(run_dir), base_url=DESK_URL)
    served = client.get("/export/claims.txt")
    assert served.status_code == 200
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-disposition"] == 'attachment; filename="claims.txt"'
    assert MUSK_PUTIN_STATEMENT in served.text and len(served.text.splitlines()) == 8
    for page in ("/", "/stories"):
        assert '<a href="/export/claims.txt">Claims as text</a>' in client.get(page).text


def test_an_unknown_format_is_refused_with_the_registered_ones(run_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "x"), "--format", "pdf"])
    assert result.exit_code == EXIT_NOTHING_RAN
    assert "unknown export format 'pdf'; choose from report, verdicts, claimreview" in result.output
    assert not (tmp_path / "x").exists()


def test_a_second_format_with_a_taken_name_or_file_is_refused() -> None:
    for clash in (replace(CLAIM_LINES, name="report"), replace(CLAIM_LINES, filename="verdicts.csv")):
        with pytest.raises(ValueError, match="clashes with"):
            register_export(clash)
    assert [f.name for f in export_formats()] == ["report", "verdicts", "claimreview"]


def test_docs_list_every_registered_format() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    listed = docs.split("<!-- export formats:", 1)[1].split("-->\n", 1)[1].split("<!-- end of export formats -->")[0]
    assert listed == markdown(), "run: python -m pipeline.review.export, and paste its output into docs/review.md"
