"""Only http(s) URLs become links: an article ``url`` of ``javascript:`` (or data:, file:) is shown
as text in the exported report, the desk and ClaimReview, never as an href."""

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from review_fixtures import DESK_URL, MUSK_PUTIN_CLAIM, build_seed_run, seed_ids

from pipeline.review.app import create_app
from pipeline.review.export import write_exports
from pipeline.review.links import web_url
from schemas import ArticleResult

HOSTILE = ["javascript:alert(document.domain)", "JavaScript:alert(1)", "java\tscript:alert(1)", " javascript:alert(1)",
           "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "//evil.example/x", "vbscript:msgbox(1)"]


@pytest.mark.parametrize("url", HOSTILE)
def test_only_absolute_web_urls_pass(url: str) -> None:
    assert web_url(url) is None


@pytest.mark.parametrize("url", ["https://news.example/a?b=1#c", "http://127.0.0.1:8080/x", "HTTPS://NEWS.EXAMPLE/"])
def test_web_urls_pass_unchanged(url: str) -> None:
    assert web_url(url) == url


def with_url(run_dir: Path, article_id: str, url: str) -> None:
    path = run_dir / "articles" / f"{article_id}.json"
    result = ArticleResult.model_validate_json(path.read_text())
    result.article.url = url
    path.write_text(result.model_dump_json())


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


@pytest.mark.parametrize("url", HOSTILE[:1] + HOSTILE[4:6])
def test_a_script_url_is_not_a_link_in_the_report_or_claimreview(tmp_path: Path, url: str) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    musk, _ = seed_ids()
    with_url(run_dir, musk, url)
    client = TestClient(create_app(run_dir, reviewer_default="Ann"), base_url=DESK_URL)
    accepted = client.post(
        f"/api/articles/{musk}/claims/{MUSK_PUTIN_CLAIM}/reviews", json={"action": "accept", "reviewer": "Ann"}
    )
    assert accepted.status_code == 201, accepted.text
    write_exports(run_dir, tmp_path / "published", "Desk", "https://desk.example")
    report = (tmp_path / "published" / "report.html").read_text()
    assert url.split(":")[0] + ":" not in " ".join(hrefs(report))
    assert str(escape(url)) in report  # still shown, as text
    [review] = json.loads((tmp_path / "published" / "claimreview.jsonld").read_text())
    assert review["claimReviewed"] and url not in json.dumps(review)


def test_a_script_url_is_not_a_link_in_the_desk(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    musk, _ = seed_ids()
    with_url(run_dir, musk, HOSTILE[0])
    page = TestClient(create_app(run_dir), base_url=DESK_URL).get(f"/articles/{musk}").text
    assert not [h for h in hrefs(page) if "javascript" in h.lower()]
    assert "javascript:alert(document.domain)" in page  # shown as text
    with_url(run_dir, musk, "https://news.example/musk")
    page = TestClient(create_app(run_dir), base_url=DESK_URL).get(f"/articles/{musk}").text
    assert "https://news.example/musk" in hrefs(page)


@pytest.mark.parametrize("url", ["https://news.example/a\nb", "https://news.example/\tx", "https://news .example/",
                                 "https://news.example/\x00", "https://news.example/\x7f"])
def test_a_web_url_with_whitespace_or_control_characters_is_not_a_link(url: str) -> None:
    # Browsers drop or rewrite such characters: the link would not go where the text says.
    assert web_url(url) is None
