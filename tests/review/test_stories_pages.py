"""Stories in the desk: the pages, a reviewer's override shown on its story, and a story's exports."""

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_fixtures import (
    DESK_URL,
    MUSK_PUTIN,
    article,
    build_seed_run,
    debunking_article,
    restating_article,
    seed_ids,
    write_result,
)

from pipeline.review.app import create_app
from pipeline.stories import update_stories
from schemas import VerdictLabel
from schemas.stories import Story

FORMULA = "=HYPERLINK(\"http://evil.example\")"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    out = build_seed_run(tmp_path / "out")
    write_result(out, restating_article())
    debunks = debunking_article()
    debunks.article.url = "javascript:alert(1)"  # never an appearance, never a link
    write_result(out, debunks)
    update_stories(out)
    return out


@pytest.fixture
def client(run_dir: Path) -> TestClient:
    return TestClient(create_app(run_dir, desk_name="Test Desk"), base_url=DESK_URL)


def musk_story(client: TestClient) -> Story:
    stories = [Story.model_validate(s) for s in client.get("/api/stories").json()["stories"]]
    return next(s for s in stories if s.statement == MUSK_PUTIN[0])


def override(client: TestClient, article_id: str, claim_id: str, verdict: str, reason: str = "call logs") -> None:
    body = {"action": "override", "reviewer": "Ann", "verdict": verdict, "reason": reason}
    response = client.post(f"/api/articles/{article_id}/claims/{claim_id}/reviews", json=body)
    assert response.status_code == 201, response.text


def test_stories_page_lists_counts_outlets_and_a_timeline(client: TestClient) -> None:
    story = musk_story(client)
    page = client.get("/stories")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    html = page.text
    assert f'href="/stories/{story.id}"' in html and MUSK_PUTIN[0] in html
    for stance in ("backs", "debunks", "disputed"):
        assert f'data-stance="{stance}" data-count="1"' in html
    assert "Outlets: Check Desk, Daily Caller News Foundation, ledger.example" in html
    assert (
        html.index('datetime="2022-10-11"') < html.index('datetime="2022-10-14"') < html.index('datetime="2022-10-20"')
    )
    # Stories carried by one article only are shown on request.
    assert "Riverton" not in html
    assert "Riverton" in client.get("/stories?min_articles=1").text


def test_story_page_opens_each_article_at_its_claim(client: TestClient) -> None:
    story = musk_story(client)
    html = client.get(f"/stories/{story.id}").text
    for entry in story.articles:
        link = f"/articles/{entry.article_id}?claim={entry.claim_id}&amp;story={story.id}"
        assert link in html
        article_page = client.get(link.replace("&amp;", "&"))
        assert article_page.status_code == 200
        assert f'data-selected="{entry.claim_id}"' in article_page.text  # the claim is selected, its evidence lit
        assert f'href="/stories/{story.id}"' in article_page.text  # and the way back
    assert 'href="javascript:' not in html
    # The fact-check's claim states the negation, which it backs: the page says how that reads.
    assert html.count('data-testid="claim-negates"') == 1 and "states the story negated: debunks" in html


def test_an_override_on_one_claim_shows_on_its_story(client: TestClient) -> None:
    story = musk_story(client)
    seed_id = seed_ids()[0]
    entry = next(a for a in story.articles if a.article_id == seed_id)
    assert entry.stance.value == "disputed"
    override(client, seed_id, entry.claim_id, "supported")
    after = musk_story(client)
    assert next(a for a in after.articles if a.article_id == seed_id).stance.value == "backs"
    assert after.stance_counts["backs"] == 2 and after.stance_counts["disputed"] == 0
    claim = next(c for c in after.claims if (c.article_id, c.claim_id) == (seed_id, entry.claim_id))
    assert claim.reviewed and claim.verdict is VerdictLabel.supported and claim.machine_verdict is VerdictLabel.disputed
    html = client.get(f"/stories/{story.id}").text
    assert 'data-stance="backs" data-count="2"' in html and "machine: disputed" in html


def test_story_claimreview_lists_the_http_appearances(client: TestClient) -> None:
    story = musk_story(client)
    url = f"/export/stories/{story.id}/claimreview.json"
    refused = client.get(url)
    assert refused.status_code == 409 and "no reviewed verdict" in refused.json()["error"]
    seed_id = seed_ids()[0]
    override(
        client, seed_id, next(a.claim_id for a in story.articles if a.article_id == seed_id), "refuted", "Musk's denial"
    )
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    review = response.json()
    assert review["@type"] == "ClaimReview" and review["claimReviewed"] == story.statement
    assert review["url"].endswith(f"/stories/{story.id}")
    appearances = review["itemReviewed"]["appearance"]
    assert [a["url"] for a in appearances] == ["https://news.example/2022/10/musk-putin-bremmer", "https://www.ledger.example/a"]
    assert all(a["@type"] == "CreativeWork" for a in appearances)
    assert review["itemReviewed"]["firstAppearance"]["url"] == appearances[0]["url"]
    assert review["itemReviewed"]["author"] == {"@type": "Person", "name": "Ian Bremmer"}
    assert review["reviewRating"] == {
        "@type": "Rating", "alternateName": "refuted", "ratingExplanation": "Musk's denial"
    }
    assert review["author"] == {"@type": "Organization", "name": "Test Desk"}


def test_story_csv_has_a_row_per_claim_and_no_formulas(client: TestClient, run_dir: Path) -> None:
    text = f"{FORMULA} said the bridge will reopen in May.\n"
    write_result(run_dir, article(text, [("The bridge will reopen in May", "the bridge will reopen in May", None)],
                                  source="formula.txt", outlet=FORMULA))  # fmt: skip
    write_result(run_dir, article("Officials confirmed the bridge will reopen in May.\n",
                                  [("The bridge will reopen in May, officials confirmed",
                                    "the bridge will reopen in May", VerdictLabel.supported)],
                                  source="bridge.txt"))  # fmt: skip
    update_stories(run_dir)
    stories = [Story.model_validate(s) for s in client.get("/api/stories").json()["stories"]]
    bridge = next(s for s in stories if "bridge" in s.statement)
    response = client.get(f"/export/stories/{bridge.id}/claims.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 2 and {r["story_id"] for r in rows} == {bridge.id}
    assert {r["stance"] for r in rows} == {"backs", "unknown"}
    assert any(r["outlet"] == "'" + FORMULA for r in rows)  # quoted: a spreadsheet shows it, never runs it

    musk = musk_story(client)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/export/stories/{musk.id}/claims.csv").text)))
    assert len(rows) == len(musk.claims) and sum(r["states_story"] == "yes" for r in rows) == len(musk.articles)


def test_unknown_story_and_bad_ids(client: TestClient) -> None:
    assert client.get("/stories/s000000000000").status_code == 404
    assert client.get("/api/stories/s000000000000").json()["error"] == "unknown story id 's000000000000'"
    assert client.get("/stories/..%2Fetc").status_code in (404, 422)
    assert client.get("/export/stories/not-an-id/claims.csv").status_code == 422


def test_without_stories_the_page_says_how_to_build_them(tmp_path: Path) -> None:
    out = build_seed_run(tmp_path / "out")
    client = TestClient(create_app(out), base_url=DESK_URL)
    html = client.get("/stories").text
    assert "no stories yet" in html and f"factcheck stories {out}" in html
    assert client.get("/api/stories").json()["stories"] == []


def test_articles_added_after_the_stories_are_pointed_out(client: TestClient, run_dir: Path) -> None:
    write_result(
        run_dir,
        article(
            "The mayor said taxes will fall next year.\n", [("Taxes will fall next year", "taxes will fall", None)]
        ),
    )
    assert "1 article with claims is not in the stories yet" in client.get("/stories").text
    update_stories(run_dir)
    assert "not in the stories yet" not in client.get("/stories").text


def test_the_guard_covers_the_story_pages(run_dir: Path) -> None:
    client = TestClient(create_app(run_dir), base_url="http://evil.example")
    assert client.get("/stories").status_code == 421
