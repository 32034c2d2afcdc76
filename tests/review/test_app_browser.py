"""End to end in headless Chromium: select the Musk-Putin claim, see its evidence, override, reload."""

from pathlib import Path

import pytest

from pipeline.review.app import create_app
from review_fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MUSK_PUTIN_CLAIM,
    MUSK_PUTIN_STATEMENT,
    build_seed_run,
    live_server,
    musk_putin_article,
    seed_ids,
)
from recording import ROOT

ARTIFACTS = ROOT / "artifacts"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")


def test_override_musk_putin_claim_in_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    run_dir = build_seed_run(tmp_path / "run")
    article = musk_putin_article()
    musk_id, _ = seed_ids()
    verdict = article.verdict_for(MUSK_PUTIN_CLAIM)
    assert verdict is not None and verdict.supporting and verdict.contradicting
    support, contra = verdict.supporting[0], verdict.contradicting[0]
    denial_span = article.denials_of(MUSK_PUTIN_CLAIM)[1].spans[0]  # d2, the explicit denial

    with live_server(create_app(run_dir, desk_name="E2E Desk")) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # The queue lists the claim; open it from there.
            page.goto(base + "/")
            link = page.locator(f'tr[data-article="{musk_id}"][data-claim="{MUSK_PUTIN_CLAIM}"] a.claim-link')
            expect(link).to_have_text(MUSK_PUTIN_STATEMENT)
            # Start on another claim so selecting the Musk-Putin claim is a real interaction.
            page.goto(f"{base}/articles/{musk_id}?claim=c4")
            expect(page.locator("#claim-c1")).to_be_hidden()
            page.locator(f'.claim-tab[data-claim="{MUSK_PUTIN_CLAIM}"]').click()
            card = page.locator(f"#claim-{MUSK_PUTIN_CLAIM}")
            expect(card).to_be_visible()
            expect(card.get_by_test_id("statement")).to_have_text(MUSK_PUTIN_STATEMENT)
            expect(card.get_by_test_id("chain")).to_have_text("Ian Bremmer → via Elon Musk")
            expect(card.get_by_test_id("effective-verdict")).to_have_text("disputed")

            # Its evidence is highlighted, and the highlighted text is the article text at the span.
            colours = {"support": "rgb(185, 236, 196)", "contra": "rgb(255, 201, 194)", "denial": "rgb(245, 179, 224)"}
            for span, kind in ((support, "support"), (contra, "contra"), (denial_span, "denial")):
                lit = page.locator(f"#article-text mark.sel-{kind}")
                assert lit.count() > 0, f"no {kind} highlight"
                texts = page.eval_on_selector_all(
                    f"#article-text mark.sel-{kind}",
                    "(ms, start) => ms.filter(m => +m.dataset.start >= start)"
                    ".map(m => [+m.dataset.start, m.textContent])",
                    span.start,
                )
                joined = "".join(t for s, t in texts if s < span.end)
                assert joined == article.text[span.start : span.end] == span.text
                backgrounds = {
                    m.evaluate("m => getComputedStyle(m).backgroundColor")
                    for m in lit.all()
                    if span.start <= int(m.get_attribute("data-start") or -1) < span.end
                }
                assert backgrounds == {colours[kind]}, f"{kind} evidence is not shown in its colour: {backgrounds}"
            # Another claim's evidence is not lit for this one.
            assert page.locator('#article-text mark.sel-claim[data-roles~="c4:claim"]').count() == 0
            assert page.locator('#article-text mark[data-roles~="c4:claim"]').count() > 0

            # Override with a reason.
            page.locator("#reviewer").fill("E2E Reviewer")
            form = card.locator('form[data-action="override"]')
            form.locator('select[name="verdict"]').select_option("refuted")
            form.locator('textarea[name="reason"]').fill("Musk's on-record denial outweighs the second-hand account")
            with page.expect_navigation():
                form.get_by_role("button", name="Override verdict").click()

            page.reload()
            card = page.locator(f"#claim-{MUSK_PUTIN_CLAIM}")
            expect(card).to_be_visible()  # the reload keeps the selected claim
            expect(card.get_by_test_id("effective-verdict")).to_have_text("refuted")
            expect(card.get_by_test_id("status")).to_have_text("overridden")
            expect(card).to_contain_text("machine said disputed")
            history = card.locator(f"#history-{MUSK_PUTIN_CLAIM} li.event")
            expect(history).to_have_count(1)
            expect(history.first).to_contain_text("E2E Reviewer")
            expect(history.first).to_contain_text("override")
            expect(history.first).to_contain_text("disputed → refuted")
            expect(history.first).to_contain_text("Musk's on-record denial outweighs the second-hand account")

            # A second override without a reason is refused in the page, not saved.
            page.locator("#reviewer").fill("E2E Reviewer")
            form = card.locator('form[data-action="override"]')
            form.locator('select[name="verdict"]').select_option("supported")
            form.locator('textarea[name="reason"]').evaluate("t => t.removeAttribute('required')")
            form.get_by_role("button", name="Override verdict").click()
            expect(card.locator(".form-error")).to_contain_text("reason")
            expect(card.get_by_test_id("effective-verdict")).to_have_text("refuted")

            # Frame the screenshot on the contradicting evidence and the history panel.
            page.locator("#article-text mark.sel-contra").first.evaluate("m => m.scrollIntoView({block: 'center'})")
            card.locator(f"#history-{MUSK_PUTIN_CLAIM}").evaluate("h => h.scrollIntoView({block: 'end'})")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "review-e2e.png"), full_page=False)
            assert not errors, errors
        finally:
            browser.close()


def test_a_review_the_full_disk_refused_stays_in_the_form_even_across_a_reload(tmp_path: Path) -> None:
    """Issue 32, item 6: the desk answers 507 on a full disk (here the file size limit, a real kernel
    fault, in a desk started as the operator does); the page says so and keeps what the reviewer typed,
    in the form and across a reload, until it is saved."""
    from cli_process import env_for
    from playwright.sync_api import expect, sync_playwright
    from review_fixtures import desk_process

    run_dir = build_seed_run(tmp_path / "run")
    musk_id, _ = seed_ids()
    reason = "Musk's on-record denial outweighs the second-hand account"
    limit = "import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))"
    with desk_process(run_dir, env_for(tmp_path), before=limit) as (base, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/articles/{musk_id}?claim={MUSK_PUTIN_CLAIM}")
            page.locator("#reviewer").fill("E2E Reviewer")
            card = page.locator(f"#claim-{MUSK_PUTIN_CLAIM}")
            form = card.locator('form[data-action="override"]')
            form.locator('select[name="verdict"]').select_option("refuted")
            form.locator('textarea[name="reason"]').fill(reason)
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                form.get_by_role("button", name="Override verdict").click()
            assert answer.value.status == 507
            expect(card.locator(".form-error")).to_contain_text("Not saved")
            expect(card.locator(".form-error")).to_contain_text("file size limit reached")
            expect(form.locator('textarea[name="reason"]')).to_have_value(reason)
            expect(form.get_by_role("button", name="Override verdict")).to_be_enabled()  # the reviewer can retry

            page.reload()
            card = page.locator(f"#claim-{MUSK_PUTIN_CLAIM}")
            form = card.locator('form[data-action="override"]')
            expect(form.locator('textarea[name="reason"]')).to_have_value(reason)
            expect(form.locator('select[name="verdict"]')).to_have_value("refuted")
            expect(card.locator(".form-error")).to_contain_text("Not saved yet")
            assert not errors, errors
        finally:
            browser.close()
    assert not (run_dir / "reviews.jsonl").exists()
