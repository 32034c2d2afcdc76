"""Exports: ClaimReview JSON-LD, the CSV of effective verdicts and the static HTML report."""

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from pipeline.review.app import create_app
from pipeline.review.export import CSV_FIELDS, write_exports
from review_fixtures import DESK_URL, MUSK_PUTIN_STATEMENT, build_seed_run, seed_ids
from schemas import VerdictLabel

MUSK, WATER = seed_ids()
DESK = "Riverton Ledger Fact Desk"

# schema.org properties allowed on each type we emit (from the schema.org vocabulary:
# ClaimReview < Review < CreativeWork < Thing; Claim < CreativeWork; Rating < Intangible < Thing).
# Listing them catches a misspelt property, which search engines silently ignore.
ALLOWED = {
    "ClaimReview": {
        "@context", "@type", "url", "claimReviewed", "itemReviewed", "reviewRating", "author", "datePublished",
    },
    "Claim": {"@type", "author", "appearance", "firstAppearance", "datePublished", "name"},
    "Rating": {"@type", "alternateName", "ratingExplanation", "ratingValue", "bestRating", "worstRating"},
    "CreativeWork": {"@type", "url", "headline"},
    "Person": {"@type", "name"},
    "Organization": {"@type", "name"},
}
# Google's ClaimReview structured data: required claimReviewed, reviewRating.alternateName, url;
# recommended author, datePublished, itemReviewed (Claim with author and appearance).
REQUIRED = {"@context", "@type", "claimReviewed", "reviewRating", "url", "author", "datePublished", "itemReviewed"}


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_seed_run(tmp_path / "run")


@pytest.fixture
def client(run_dir: Path) -> TestClient:
    return TestClient(create_app(run_dir, desk_name=DESK), base_url=DESK_URL)


def review(client: TestClient, article_id: str, claim_id: str, body: dict[str, object]) -> None:
    response = client.post(f"/api/articles/{article_id}/claims/{claim_id}/reviews", json=body)
    assert response.status_code == 201, response.text


@pytest.fixture
def reviewed(client: TestClient) -> TestClient:
    review(
        client, MUSK, "c1",
        {"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "Musk denies it on record"},
    )
    review(client, MUSK, "c4", {"action": "accept", "reviewer": "Bo"})
    review(client, MUSK, "c5", {"action": "accept", "reviewer": "Bo"})
    review(client, MUSK, "c5", {"action": "not_checkworthy", "reviewer": "Bo", "reason": "aside"})
    review(client, WATER, "c1", {"action": "accept", "reviewer": "Cy"})
    review(client, WATER, "c2", {"action": "note", "reviewer": "Cy", "note": "call the utility"})
    return client


def check_types(node: dict[str, object]) -> None:
    kind = node["@type"]
    assert kind in ALLOWED, f"unexpected @type {kind}"
    extra = set(node) - ALLOWED[str(kind)]
    assert not extra, f"{kind} has properties outside the vocabulary: {extra}"
    for value in node.values():
        if isinstance(value, dict):
            check_types(value)


def test_claimreview_jsonld_has_required_fields(reviewed: TestClient) -> None:
    response = reviewed.get("/export/claimreview.json")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    items = response.json()
    # Only claims whose verdict a reviewer accepted or overrode, and that are still check-worthy.
    assert len(items) == 3
    urls = {i["url"] for i in items}
    assert urls == {
        f"{DESK_URL}/articles/{MUSK}?claim=c1",
        f"{DESK_URL}/articles/{MUSK}?claim=c4",
        f"{DESK_URL}/articles/{WATER}?claim=c1",
    }
    today = datetime.now(UTC).date().isoformat()
    for item in items:
        assert REQUIRED <= set(item), REQUIRED - set(item)
        check_types(item)
        assert item["@context"] == "https://schema.org" and item["@type"] == "ClaimReview"
        assert isinstance(item["claimReviewed"], str) and item["claimReviewed"].strip()
        assert urlsplit(item["url"]).scheme in ("http", "https")
        assert item["reviewRating"]["@type"] == "Rating"
        assert item["reviewRating"]["alternateName"] in {v.value for v in VerdictLabel}
        assert item["author"] == {"@type": "Organization", "name": DESK}
        assert item["itemReviewed"]["@type"] == "Claim"
        assert item["itemReviewed"]["author"]["@type"] in ("Person", "Organization")
        assert item["itemReviewed"]["author"]["name"].strip()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["datePublished"]) and item["datePublished"] == today

    musk = next(i for i in items if i["url"].endswith(f"{MUSK}?claim=c1"))
    assert musk["claimReviewed"] == MUSK_PUTIN_STATEMENT
    assert musk["reviewRating"]["alternateName"] == "refuted"  # the effective verdict, not the machine's
    assert musk["reviewRating"]["ratingExplanation"] == "Musk denies it on record"
    assert musk["itemReviewed"]["author"] == {"@type": "Person", "name": "Ian Bremmer"}
    assert musk["itemReviewed"]["appearance"]["url"] == "https://news.example/2022/10/musk-putin-bremmer"

    crimea = next(i for i in items if i["url"].endswith(f"{MUSK}?claim=c4"))
    # "the article" as claimant means the outlet asserts it.
    assert crimea["itemReviewed"]["author"] == {"@type": "Organization", "name": "Daily Caller News Foundation"}
    assert crimea["reviewRating"]["alternateName"] == "supported"

    water = next(i for i in items if i["url"].endswith(f"{WATER}?claim=c1"))
    assert "appearance" not in water["itemReviewed"]  # the article URL is unknown: omit, don't invent
    assert water["itemReviewed"]["author"] == {"@type": "Person", "name": "Ana Ortiz"}


def test_claimreview_empty_before_any_review(client: TestClient) -> None:
    assert client.get("/export/claimreview.json").json() == []


def test_csv_has_effective_verdicts(reviewed: TestClient) -> None:
    response = reviewed.get("/export/verdicts.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == CSV_FIELDS
    assert len(rows) == 8
    by_key = {(r["article_id"], r["claim_id"]): r for r in rows}
    musk = by_key[(MUSK, "c1")]
    assert musk["verdict"] == "refuted" and musk["machine_verdict"] == "disputed"
    assert musk["status"] == "overridden" and musk["reviewed_by"] == "Ann"
    assert musk["reason"] == "Musk denies it on record"
    assert musk["claimant"] == "Ian Bremmer" and musk["via"] == "Elon Musk"
    assert by_key[(MUSK, "c5")]["checkworthy"] == "no" and by_key[(MUSK, "c5")]["status"] == "not_checkworthy"
    assert by_key[(WATER, "c2")]["status"] == "annotated" and by_key[(WATER, "c2")]["verdict"] == "unverified"
    assert by_key[(WATER, "c3")]["verdict"] == "" and by_key[(WATER, "c3")]["status"] == "unreviewed"


def test_csv_neutralises_spreadsheet_formulas(client: TestClient) -> None:
    review(client, MUSK, "c2", {"action": "edit", "reviewer": "Ann", "statement": '=HYPERLINK("http://evil.example","x")'})
    rows = list(csv.DictReader(io.StringIO(client.get("/export/verdicts.csv").text)))
    edited = next(r for r in rows if r["article_id"] == MUSK and r["claim_id"] == "c2")
    assert edited["statement"].startswith("'=")


def test_html_report_is_single_file_offline_and_printable(reviewed: TestClient) -> None:
    response = reviewed.get("/export/report.html")
    assert response.status_code == 200
    html = response.text
    # Self-contained: no scripts, no stylesheet links, no remote fonts or images.
    assert "<script" not in html.lower() and "<link" not in html.lower() and "<img" not in html.lower()
    assert "@import" not in html and "url(" not in html
    assert re.search(r'\b(src)=', html) is None
    assert "<style>" in html and "@media print" in html
    assert DESK in html
    assert "Musk denies it on record" in html and "disputed → refuted" in html
    assert "Ian Bremmer → via Elon Musk" in html
    assert "SpaceX and the Kremlin did not immediately respond" in html
    assert "5 of 8 claims reviewed" in html


def test_html_report_escapes_reviewer_text(client: TestClient) -> None:
    review(
        client, MUSK, "c1",
        {"action": "override", "reviewer": "<b>Ann</b>", "verdict": "refuted", "reason": "<script>alert(1)</script>"},
    )
    html = client.get("/export/report.html").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Ann</b>" not in html


def test_write_exports_writes_three_files_atomically(reviewed: TestClient, run_dir: Path) -> None:
    dest = run_dir / "exports"
    written = write_exports(run_dir, dest, DESK, "https://desk.example")
    assert sorted(p.name for p in written) == ["claimreview.jsonld", "report.html", "verdicts.csv"]
    # no temp files left
    assert sorted(p.name for p in dest.iterdir()) == ["claimreview.jsonld", "report.html", "verdicts.csv"]
    items = json.loads((dest / "claimreview.jsonld").read_text())
    assert {i["url"] for i in items} >= {f"https://desk.example/articles/{MUSK}?claim=c1"}
    # Rewriting replaces, never appends.
    write_exports(run_dir, dest, DESK, "https://desk.example")
    assert json.loads((dest / "claimreview.jsonld").read_text()) == items


SCRIPT_BREAKOUT = 'The mayor said </script><script>alert(document.domain)</script> & "more" <!--'


def test_claimreview_json_ld_cannot_end_the_script_element_it_is_pasted_into(tmp_path: Path) -> None:
    """Issue 32: JSON-LD goes into <script type="application/ld+json">; a raw "</script>" in a claim's
    wording ended the tag. <, > and & are escaped in the file and in the desk's answer; the JSON is the same."""
    from pipeline.review.store import ReviewLog, RunFolder
    from schemas.review import ReviewAction, ReviewRequest

    run_dir = build_seed_run(tmp_path / "run")
    musk = RunFolder(run_dir).article(MUSK)
    assert musk is not None
    log = ReviewLog(run_dir)
    log.append(musk, "c1", ReviewRequest(action=ReviewAction.edit, reviewer="Ann", statement=SCRIPT_BREAKOUT))
    log.append(musk, "c1", ReviewRequest(action=ReviewAction.accept, reviewer="Ann", reason="</script> & <b>"))
    write_exports(run_dir, tmp_path / "pub", DESK, "https://desk.example.org")
    served = TestClient(create_app(run_dir, desk_name=DESK), base_url=DESK_URL).get("/export/claimreview.json")
    for text in ((tmp_path / "pub" / "claimreview.jsonld").read_text(encoding="utf-8"), served.text):
        assert not {"<", ">", "&"} & set(text), text
        reviews = json.loads(text)
        assert len(reviews) == 1, reviews
        review = reviews[0]
        assert review["claimReviewed"] == SCRIPT_BREAKOUT
        assert review["reviewRating"]["ratingExplanation"] == "</script> & <b>"
