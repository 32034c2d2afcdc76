"""``factcheck export``: the desk's reviewed verdicts leave the app as files."""

import csv
import json
from pathlib import Path

from review_fixtures import build_seed_run
from typer.testing import CliRunner

from pipeline.cli import EXIT_NOTHING_RAN, app

runner = CliRunner()


def test_export_writes_the_three_files(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    dest = tmp_path / "published"
    result = runner.invoke(app, ["export", str(run_dir), "--to", str(dest), "--desk", "Desk", "--base-url", "https://x.test/fc"])
    assert result.exit_code == 0, result.output
    reviews = json.loads((dest / "claimreview.jsonld").read_text(encoding="utf-8"))
    assert isinstance(reviews, list)
    rows = list(csv.DictReader((dest / "verdicts.csv").open(encoding="utf-8")))
    assert rows and "Elon Musk" in (dest / "report.html").read_text(encoding="utf-8")


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(tmp_path), "--to", str(tmp_path / "x")])
    assert result.exit_code == EXIT_NOTHING_RAN
    assert "not a run output folder" in result.output
