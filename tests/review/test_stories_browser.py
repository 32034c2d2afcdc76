"""Stories in headless Chromium: the stories page, a story's timeline, an article opened at its claim
with the evidence lit, an override there shown back on the story, and the story's exports."""

import json
from pathlib import Path

import pytest
from recording import ROOT
from review_fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MUSK_PUTIN,
    MUSK_PUTIN_CLAIM,
    build_seed_run,
    debunking_article,
    live_server,
    musk_putin_article,
    restating_article,
    seed_ids,
    write_result,
)

from pipeline.review.app import create_app
from pipeline.stories import update_stories

ARTIFACTS = ROOT / "artifacts"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")


def test_story_to_article_and_back_with_an_override(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    run_dir = build_seed_run(tmp_path / "run")
    write_result(run_dir, restating_article())
    write_result(run_dir, debunking_article())
    story = next(s for s in update_stories(run_dir).stories if s.statement == MUSK_PUTIN[0])
    musk_id, _ = seed_ids()
    article = musk_putin_article()
    support = article.verdict_for(MUSK_PUTIN_CLAIM).supporting[0]  # type: ignore[union-attr]

    with live_server(lambda port: create_app(run_dir, desk_name="E2E Desk", port=port)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # The stories page: the story, its stance counts, its outlets.
            page.goto(base + "/")
            page.get_by_role("link", name="Stories").click()
            item = page.locator(f'li.story[data-story="{story.id}"]')
            expect(item.locator("a.story-link")).to_have_text(MUSK_PUTIN[0])
            for stance in ("backs", "debunks", "disputed"):
                expect(item.locator(f'.stance-counts [data-stance="{stance}"]')).to_have_text(f"{stance} 1")
            expect(item).to_contain_text("Outlets: Check Desk, Daily Caller News Foundation, ledger.example")
            item.locator("a.story-link").click()

            # The story: a timeline in date order, each article with its stance.
            timeline = page.get_by_test_id("timeline").locator("li.entry")
            expect(timeline).to_have_count(3)
            expect(timeline.locator("time")).to_have_text(["2022-10-11", "2022-10-14", "2022-10-20"])
            expect(timeline.nth(0)).to_have_attribute("data-stance", "disputed")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "stories-e2e-story.png"), full_page=True)

            # Open the seed article at the claim that states the story: its evidence is lit.
            timeline.nth(0).locator("a.article-link").click()
            card = page.locator(f"#claim-{MUSK_PUTIN_CLAIM}")
            expect(card).to_be_visible()
            lit = page.locator("#article-text mark.sel-support")
            assert lit.count() > 0
            texts = page.eval_on_selector_all(
                "#article-text mark.sel-support",
                "(ms, start) => ms.filter(m => +m.dataset.start >= start).map(m => [+m.dataset.start, m.textContent])",
                support.start,
            )
            assert "".join(t for s, t in texts if s < support.end) == article.text[support.start : support.end]

            # Override it, then go back to the story: the override shows there.
            page.locator("#reviewer").fill("E2E Reviewer")
            form = card.locator('form[data-action="override"]')
            form.locator('select[name="verdict"]').select_option("refuted")
            form.locator('textarea[name="reason"]').fill("Musk's on-record denial")
            with page.expect_navigation():
                form.get_by_role("button", name="Override verdict").click()
            expect(card.get_by_test_id("effective-verdict")).to_have_text("refuted")
            page.get_by_test_id("back-to-story").click()
            entry = page.get_by_test_id("timeline").locator(f'li.entry[data-article="{musk_id}"]')
            expect(entry).to_have_attribute("data-stance", "debunks")
            expect(entry.locator(f'li[data-claim="{MUSK_PUTIN_CLAIM}"]')).to_contain_text("machine: disputed")
            expect(page.get_by_test_id("stance-counts").locator('[data-stance="debunks"]')).to_have_text("debunks 2")
            page.screenshot(path=str(ARTIFACTS / "stories-e2e-overridden.png"), full_page=True)

            # Its exports, as the browser gets them.
            href = page.get_by_test_id("export-claimreview").get_attribute("href")
            assert href == f"/export/stories/{story.id}/claimreview.json"
            review = json.loads(page.request.get(base + href).text())
            assert review["reviewRating"]["alternateName"] == "refuted"
            assert [a["url"] for a in review["itemReviewed"]["appearance"]] == [
                "https://news.example/2022/10/musk-putin-bremmer", "https://www.ledger.example/a",
            ]  # fmt: skip
            csv_text = page.request.get(base + str(page.get_by_test_id("export-csv").get_attribute("href"))).text()
            assert csv_text.count("\n") == len(story.claims) + 1
            assert not errors, errors
        finally:
            browser.close()
