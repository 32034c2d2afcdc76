"""``factcheck export``: the desk's reviewed verdicts leave the app as files."""

import csv
import json
from pathlib import Path

from review_fixtures import MUSK_PUTIN_CLAIM, build_seed_run, seed_ids
from typer.testing import CliRunner

from pipeline.cli import EXIT_NOTHING_RAN, app
from pipeline.review.store import ReviewLog, RunFolder
from schemas import VerdictLabel
from schemas.review import ReviewAction, ReviewRequest

runner = CliRunner()


def test_export_writes_the_three_files(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    run, log = RunFolder(run_dir), ReviewLog(run_dir)
    musk, water = (run.article(i) for i in seed_ids())
    assert musk is not None and water is not None
    log.append(musk, MUSK_PUTIN_CLAIM, ReviewRequest(action=ReviewAction.accept, reviewer="Ann"))
    log.append(water, "c1", ReviewRequest(action=ReviewAction.override, reviewer="Bo", verdict=VerdictLabel.supported,
                                          reason="the filing was withdrawn"))
    dest = tmp_path / "published"
    result = runner.invoke(app, ["export", str(run_dir), "--to", str(dest), "--desk", "Desk", "--base-url", "https://x.test/fc"])
    assert result.exit_code == 0, result.output
    reviews = json.loads((dest / "claimreview.jsonld").read_text(encoding="utf-8"))
    published = {(r["url"], r["reviewRating"]["alternateName"]) for r in reviews}
    assert published == {
        (f"https://x.test/fc/articles/{musk.article.id}?claim=c1", "disputed"),  # accepted: the machine's verdict
        (f"https://x.test/fc/articles/{water.article.id}?claim=c1", "supported"),  # overridden: the reviewer's
    }
    assert all(r["author"]["name"] == "Desk" for r in reviews)
    rows = list(csv.DictReader((dest / "verdicts.csv").open(encoding="utf-8")))
    effective = {(row["article_id"], row["claim_id"]): row for row in rows}
    assert len(rows) == sum(len(a.claims) for a in (musk, water))
    assert effective[(water.article.id, "c1")]["verdict"] == "supported"
    assert "Elon Musk" in (dest / "report.html").read_text(encoding="utf-8")


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", str(tmp_path), "--to", str(tmp_path / "x")])
    assert result.exit_code == EXIT_NOTHING_RAN
    assert "not a run output folder" in result.output


def test_export_base_url_must_be_http_or_https(tmp_path: Path) -> None:
    """Issue 24, finding 6: the prefix goes into every ClaimReview `url`: never `javascript:`."""
    run_dir = build_seed_run(tmp_path / "run")
    for bad in ("javascript:alert(1)//", "data:text/html,x", "file:///etc", "//evil.example", "ftp://x.test"):
        result = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "pub"), "--base-url", bad])
        assert result.exit_code == EXIT_NOTHING_RAN, (bad, result.output)
        assert "not an absolute http(s) URL" in result.output
        assert not (tmp_path / "pub" / "claimreview.jsonld").exists()
    ok = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "pub"), "--base-url", "HTTPS://desk.example/fc"])
    assert ok.exit_code == 0, ok.output


def test_export_to_a_file_is_one_line_not_an_internal_error(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    afile = tmp_path / "afile"
    afile.write_text("mine")
    result = runner.invoke(app, ["export", str(run_dir), "--to", str(afile)])
    assert result.exit_code == EXIT_NOTHING_RAN, result.output
    assert f"{afile}: a file, not a folder; give --to a folder" in result.output
    assert afile.read_text() == "mine"


def test_export_never_replaces_an_earlier_export_without_force(tmp_path: Path) -> None:
    """Issue 32: a second export into the same folder silently replaced the first one's report.html."""
    run_dir = build_seed_run(tmp_path / "run")
    dest = tmp_path / "published"
    dest.mkdir()
    (dest / "report.html").write_text("last week's report")
    refused = runner.invoke(app, ["export", str(run_dir), "--to", str(dest)])
    assert refused.exit_code == EXIT_NOTHING_RAN, refused.output
    assert "already holds report.html" in refused.output and "--force" in refused.output
    assert (dest / "report.html").read_text() == "last week's report"
    assert not (dest / "verdicts.csv").exists()  # nothing written at all
    forced = runner.invoke(app, ["export", str(run_dir), "--to", str(dest), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "last week's report" not in (dest / "report.html").read_text()


def test_export_into_the_runs_articles_folder_is_refused(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    before = sorted(p.name for p in (run_dir / "articles").iterdir())
    for to in (run_dir / "articles", run_dir / "articles" / "published"):
        result = runner.invoke(app, ["export", str(run_dir), "--to", str(to)])
        assert result.exit_code == EXIT_NOTHING_RAN, result.output
        assert "inside the run's articles/ folder" in result.output
    assert sorted(p.name for p in (run_dir / "articles").iterdir()) == before


def test_export_base_url_with_credentials_quotes_or_a_query_is_refused(tmp_path: Path) -> None:
    """Issue 32: `https://ok.example/"><script>…` and `http://user:pw@…` were accepted, and the password
    published in every file."""
    run_dir = build_seed_run(tmp_path / "run")
    cases = {
        'https://ok.example/"><script>alert(1)</script>': "which a URL must escape",
        "https://ok.example/it's": "which a URL must escape",
        "http://editor:Hunter2-secret@desk.example.org/fc": "holds credentials",
        "https://editor@desk.example.org/fc": "holds credentials",
        "https://desk.example.org/fc?x=1": "query or fragment",
        "https://desk.example.org/fc#top": "query or fragment",
    }
    for base_url, why in cases.items():
        dest = tmp_path / "published"
        result = runner.invoke(app, ["export", str(run_dir), "--to", str(dest), "--base-url", base_url])
        assert result.exit_code == EXIT_NOTHING_RAN, (base_url, result.output)
        assert why in result.output and "Hunter2-secret" not in result.output, result.output
        assert not dest.exists()
    ok = runner.invoke(app, ["export", str(run_dir), "--to", str(tmp_path / "ok"), "--base-url", "https://desk.example.org/fc/"])
    assert ok.exit_code == 0, ok.output
