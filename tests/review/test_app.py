"""The desk's HTTP API and review log, through FastAPI's TestClient and a live server."""

import hashlib
import json
import multiprocessing
import os
import re
import threading
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_fixtures import (
    DESK_URL,
    MUSK_PUTIN_CLAIM,
    MUSK_PUTIN_STATEMENT,
    build_seed_run,
    live_server,
    musk_putin_article,
    raw_get,
    seed_ids,
)

from pipeline.review.app import create_app
from pipeline.review.store import REVIEWS_FILE, ReviewLog, RunFolder, reviewed_verdicts
from pipeline.text.ingest import article_id
from schemas import ArticleMeta, ArticleResult, Claim, ClaimKind, RunInfo, Span, Verdict, VerdictLabel
from schemas.review import ReviewAction, ReviewEvent, ReviewRequest

MUSK, WATER = seed_ids()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_seed_run(tmp_path / "run")


@pytest.fixture
def client(run_dir: Path) -> TestClient:
    return TestClient(create_app(run_dir, desk_name="Test Desk", reviewer_default="Ann"), base_url=DESK_URL)


def review_url(article_id: str = MUSK, claim_id: str = MUSK_PUTIN_CLAIM) -> str:
    return f"/api/articles/{article_id}/claims/{claim_id}/reviews"


def post(client: TestClient, body: dict[str, object], article_id: str = MUSK, claim_id: str = MUSK_PUTIN_CLAIM) -> dict:
    response = client.post(review_url(article_id, claim_id), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def fingerprint(run_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((run_dir / "articles").iterdir())}


# ---- queue ----


def test_queue_lists_every_claim_across_articles(client: TestClient) -> None:
    items = client.get("/api/claims").json()
    assert {(i["article_id"], i["claim_id"]) for i in items} == {
        *((MUSK, f"c{n}") for n in range(1, 6)),
        *((WATER, f"c{n}") for n in range(1, 4)),
    }
    musk = next(i for i in items if i["article_id"] == MUSK and i["claim_id"] == "c1")
    assert musk["statement"] == MUSK_PUTIN_STATEMENT
    assert musk["attribution"] == ["Ian Bremmer", "Elon Musk"]
    assert musk["verdict"] == "disputed" and musk["status"] == "unreviewed"


def test_queue_filters(client: TestClient) -> None:
    disputed = client.get("/api/claims", params={"verdict": "disputed"}).json()
    assert {(i["article_id"], i["claim_id"]) for i in disputed} == {(MUSK, "c1"), (MUSK, "c2")}
    ledger = client.get("/api/claims", params={"outlet": "Riverton Ledger"}).json()
    assert {i["article_id"] for i in ledger} == {WATER} and len(ledger) == 3
    worthy = client.get("/api/claims", params={"min_checkworthiness": 0.85}).json()
    assert all(i["checkworthiness"] >= 0.85 for i in worthy) and len(worthy) == 3

    post(client, {"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "Musk denies it"})
    post(client, {"action": "not_checkworthy", "reviewer": "Ann"}, claim_id="c4")
    overridden = client.get("/api/claims", params={"status": "overridden"}).json()
    assert [(i["article_id"], i["claim_id"]) for i in overridden] == [(MUSK, "c1")]
    assert overridden[0]["verdict"] == "refuted" and overridden[0]["machine_verdict"] == "disputed"
    not_worthy = client.get("/api/claims", params={"checkworthy": "false"}).json()
    assert [(i["article_id"], i["claim_id"]) for i in not_worthy] == [(MUSK, "c4")]
    # The HTML form sends "any" as an empty value; that must mean "no filter", not an error.
    page = client.get(
        "/", params={"verdict": "", "status": "", "outlet": "", "checkworthy": "", "min_checkworthiness": ""}
    )
    assert page.status_code == 200 and page.text.count('class="claim-link"') == 8


def test_queue_sorts(client: TestClient) -> None:
    by_conf = client.get("/api/claims", params={"sort": "confidence", "order": "desc"}).json()
    confidences = [i["confidence"] if i["confidence"] is not None else -1 for i in by_conf]
    assert confidences == sorted(confidences, reverse=True) and confidences[0] == 0.9
    by_worth = client.get("/api/claims", params={"sort": "checkworthiness"}).json()
    worth = [i["checkworthiness"] for i in by_worth]
    assert worth == sorted(worth) and worth[0] == 0.3
    by_outlet = client.get("/api/claims", params={"sort": "outlet"}).json()
    assert [i["outlet"] for i in by_outlet] == ["Daily Caller News Foundation"] * 5 + ["Riverton Ledger"] * 3


def test_queue_page_renders_filters_and_rows(client: TestClient) -> None:
    page = client.get("/", params={"verdict": "refuted"})
    assert page.status_code == 200
    assert "Riverton&#39;s water rates will stay flat through 2026" in page.text
    assert MUSK_PUTIN_STATEMENT not in page.text
    assert f'/articles/{WATER}?claim=c1' in page.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "nonsense"}, "sort"),
        ({"verdict": "false-ish"}, "verdict"),
        ({"min_checkworthiness": "2"}, "min_checkworthiness"),
        ({"order": "up"}, "order"),
    ],
)
def test_queue_bad_parameters_are_422_json(client: TestClient, params: dict[str, str], field: str) -> None:
    response = client.get("/api/claims", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"].startswith("invalid request") and field in body["error"]
    assert "Traceback" not in response.text


# ---- article view ----


class MarkParser(HTMLParser):
    """Collects <mark class="seg"> elements of the article text with their attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict[str, str]] = []
        self._in_text = 0
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if attributes.get("id") == "article-text":
            self._in_text = 1
        elif self._in_text and tag == "mark":
            self._current = {**attributes, "text": ""}
        elif self._in_text and tag == "div":
            self._in_text += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark" and self._current is not None:
            self.marks.append(self._current)
            self._current = None
        elif tag == "div" and self._in_text:
            self._in_text -= 1

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["text"] += data


def marks_of(html: str) -> list[dict[str, str]]:
    parser = MarkParser()
    parser.feed(html)
    return parser.marks


def test_article_view_highlights_every_span_at_its_offsets(client: TestClient) -> None:
    article = musk_putin_article()
    page = client.get(f"/articles/{MUSK}", params={"claim": "c1"})
    assert page.status_code == 200
    marks = marks_of(page.text)
    assert marks, "no highlighted spans rendered"
    for mark in marks:
        start = int(mark["data-start"])
        assert article.text[start : start + len(mark["text"])] == mark["text"]

    def rendered(span_id: str) -> str:
        return "".join(m["text"] for m in marks if span_id in m["data-spans"].split())

    verdict = article.verdict_for("c1")
    assert verdict is not None
    assert rendered("v-c1-sup0") == verdict.supporting[0].text
    assert rendered("v-c1-con0") == verdict.contradicting[0].text
    assert rendered("c1-claimant") == "Ian Bremmer"
    assert rendered("d3-s0") == "SpaceX and the Kremlin did not immediately respond"
    # Roles tell the page what to light up when c1 is selected: its evidence and linked denials.
    # A non-denial is shown (d3 above) but bears on no claim, as the pipeline never links one.
    roles = {r for m in marks for r in m["data-roles"].split()}
    assert {"c1:claim", "c1:support", "c1:contra", "c1:denial"} <= roles and "c1:nondenial" not in roles
    # The side panel shows the claimant chain, verdict, confidence and rationale.
    assert "Ian Bremmer <span class=\"arrow\">→ via</span> Elon Musk" in page.text
    assert 'data-testid="effective-verdict">disputed<' in page.text
    assert "0.72" in page.text and "Both stand." in page.text


def test_article_text_is_escaped_piece_by_piece(tmp_path: Path) -> None:
    text = 'Mayor said <script>alert("x")</script> & more <b>bold</b> claims.'
    quote = '<script>alert("x")</script>'
    start = text.index(quote)
    result = ArticleResult(
        article=ArticleMeta(id=article_id(text), source="t", title="<i>Title</i>"),
        text=text,
        claims=[
            Claim(
                id="c1", statement="<img src=x onerror=alert(1)>", claimant="Mayor", cue="said", kind=ClaimKind.fact,
                checkworthiness=0.5, spans=[Span(start=start, end=start + len(quote), text=quote)],
            )
        ],
        run=RunInfo(
            backend="fixture", model="fixture", prompt_versions={}, started_at=datetime(2024, 1, 1, tzinfo=UTC),
            seconds=0,
        ),
    )
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / f"{result.article.id}.json").write_text(result.model_dump_json())
    page = TestClient(create_app(tmp_path), base_url=DESK_URL).get(f"/articles/{result.article.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page and "<i>Title" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    marks = marks_of(page)
    assert [m["text"] for m in marks] == [quote]  # HTMLParser unescapes: the text round-trips exactly


def test_unknown_article_and_claim_get_clear_4xx(client: TestClient) -> None:
    missing = client.get("/articles/0123456789abcdef")
    assert missing.status_code == 404 and "unknown article id" in missing.json()["error"]
    malformed = client.get("/api/articles/NOT-AN-ID")
    assert malformed.status_code == 422 and "article_id" in malformed.json()["error"]
    claim = client.get(f"/api/articles/{MUSK}/claims/c99")
    assert claim.status_code == 404 and "has no claim 'c99'" in claim.json()["error"]
    bad_claim = client.get(f"/api/articles/{MUSK}/claims/x1")
    assert bad_claim.status_code == 422
    selected = client.get(f"/articles/{MUSK}", params={"claim": "../etc"})
    assert selected.status_code == 422


def test_refuses_paths_outside_the_run_folder(client: TestClient, run_dir: Path) -> None:
    (run_dir / "secret.txt").write_text("TOP SECRET")
    encoded = [
        f"/articles/..%2F{MUSK}",
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/api/articles/..%2Fsecret.txt",
        "/static/..%2F..%2F..%2Fschemas%2Freview.py",
        "/static/%2e%2e/%2e%2e/secret.txt",
    ]
    for path in encoded:
        response = client.get(path)
        assert 400 <= response.status_code < 500, path
        assert "TOP SECRET" not in response.text and "pydantic" not in response.text
    # httpx folds "../" before sending, so check the raw request line against a live server too.
    with live_server(create_app(run_dir)) as base:
        for raw in [
            "/static/../secret.txt", "/static/../../../../etc/passwd", f"/articles/../{MUSK}", "/articles/../secret.txt"
        ]:
            status, body = raw_get(base, raw)
            assert 400 <= status < 500, raw
            assert b"TOP SECRET" not in body and b"root:" not in body


# ---- review actions ----


def test_accept_records_before_after_and_keeps_verdict(client: TestClient, run_dir: Path) -> None:
    before_files = fingerprint(run_dir)
    saved = post(client, {"action": "accept", "reviewer": "Ann", "reason": "matches the article"})
    event, state = saved["event"], saved["state"]
    assert event["action"] == "accept" and event["before"] == "disputed" and event["after"] == "disputed"
    assert event["reviewer"] == "Ann" and event["timestamp"].endswith("Z")
    assert state["status"] == "accepted" and state["verdict"] == "disputed"
    assert fingerprint(run_dir) == before_files  # machine output untouched


def test_override_requires_reason_and_valid_verdict(client: TestClient, run_dir: Path) -> None:
    no_reason = client.post(review_url(), json={"action": "override", "reviewer": "Ann", "verdict": "refuted"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["error"]
    blank_reason = client.post(
        review_url(), json={"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "   "}
    )
    assert blank_reason.status_code == 422 and "non-empty reason" in blank_reason.json()["error"]
    bad_label = client.post(
        review_url(), json={"action": "override", "reviewer": "Ann", "verdict": "pants-on-fire", "reason": "x"}
    )
    assert bad_label.status_code == 422 and "verdict" in bad_label.json()["error"]
    no_label = client.post(review_url(), json={"action": "override", "reviewer": "Ann", "reason": "x"})
    assert no_label.status_code == 422 and "needs a verdict" in no_label.json()["error"]
    assert not (run_dir / REVIEWS_FILE).exists(), "a rejected review must not be written"

    saved = post(
        client,
        {"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "Musk's denial is on the record"},
    )
    assert saved["event"]["before"] == "disputed" and saved["event"]["after"] == "refuted"
    assert saved["event"]["reason"] == "Musk's denial is on the record"
    state = client.get(f"/api/articles/{MUSK}/claims/c1").json()
    assert state["verdict"] == "refuted" and state["machine_verdict"] == "disputed" and state["status"] == "overridden"
    machine = ArticleResult.model_validate_json((run_dir / "articles" / f"{MUSK}.json").read_text())
    assert machine.verdict_for("c1").verdict.value == "disputed"  # type: ignore[union-attr]


def test_edit_requires_wording_and_changes_statement(client: TestClient) -> None:
    missing = client.post(review_url(), json={"action": "edit", "reviewer": "Ann", "statement": "  "})
    assert missing.status_code == 422 and "new wording" in missing.json()["error"]
    saved = post(
        client,
        {
            "action": "edit", "reviewer": "Bo",
            "statement": "Elon Musk spoke with Vladimir Putin about Ukraine in October 2022",
        },
    )
    assert saved["event"]["before"] == MUSK_PUTIN_STATEMENT
    assert saved["state"]["statement"].endswith("in October 2022")
    assert saved["state"]["machine_statement"] == MUSK_PUTIN_STATEMENT
    assert saved["state"]["status"] == "annotated" and saved["state"]["verdict"] == "disputed"


def test_not_checkworthy_and_note(client: TestClient) -> None:
    saved = post(client, {"action": "not_checkworthy", "reviewer": "Ann", "reason": "background fact"}, claim_id="c4")
    assert saved["event"]["before"] == "check-worthy" and saved["event"]["after"] == "not check-worthy"
    assert saved["state"]["checkworthy"] is False and saved["state"]["status"] == "not_checkworthy"
    empty = client.post(review_url(claim_id="c4"), json={"action": "note", "reviewer": "Ann", "note": ""})
    assert empty.status_code == 422 and "note" in empty.json()["error"]
    noted = post(client, {"action": "note", "reviewer": "Cy", "note": "ask the Kremlin desk"}, claim_id="c4")
    assert noted["state"]["notes"] == ["ask the Kremlin desk"]
    assert [e["action"] for e in noted["state"]["history"]] == ["not_checkworthy", "note"]


def test_effective_state_is_latest_event_per_field(client: TestClient, run_dir: Path) -> None:
    post(client, {"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "first look"})
    post(client, {"action": "edit", "reviewer": "Bo", "statement": "Musk talked to Putin about Ukraine"})
    second = post(client, {"action": "override", "reviewer": "Bo", "verdict": "unverified", "reason": "second look"})
    assert second["event"]["before"] == "refuted"  # the history chains
    final = post(client, {"action": "accept", "reviewer": "Cy"})
    state = final["state"]
    assert state["verdict"] == "unverified" and state["status"] == "accepted" and state["reviewed_by"] == "Cy"
    assert state["statement"] == "Musk talked to Putin about Ukraine"
    assert [e["action"] for e in state["history"]] == ["override", "edit", "override", "accept"]
    # A fresh app over the same folder sees the same state: the log is the only memory.
    again = TestClient(create_app(run_dir), base_url=DESK_URL)
    assert again.get(f"/api/articles/{MUSK}/claims/c1").json()["verdict"] == "unverified"


def test_accept_without_machine_verdict_is_409(client: TestClient) -> None:
    response = client.post(review_url(WATER, "c3"), json={"action": "accept", "reviewer": "Ann"})
    assert response.status_code == 409 and "no verdict to accept" in response.json()["error"]
    saved = post(
        client, {"action": "override", "reviewer": "Ann", "verdict": "supported", "reason": "filing says March"},
        WATER, "c3",
    )
    assert saved["event"]["before"] is None and saved["state"]["verdict"] == "supported"


@pytest.mark.parametrize(
    ("kwargs", "status", "phrase"),
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, 422, "JSON object"),
        (
            {"content": b"action=accept", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            415, "application/json",
        ),
        ({"json": {"action": "approve", "reviewer": "Ann"}}, 422, "action"),
        ({"json": {"action": "accept"}}, 422, "reviewer"),
        ({"json": {"action": "accept", "reviewer": "   "}}, 422, "reviewer"),
        ({"json": {"action": "accept", "reviewer": "Ann", "admin": True}}, 422, "admin"),
        (
            {"json": {"action": "accept", "reviewer": "Ann", "verdict": "refuted"}},
            422, "only accepted with action override",
        ),
        ({"json": {"action": "note", "reviewer": "Ann", "note": "x" * 5000}}, 422, "note"),
        (
            {"json": {"action": "accept", "reviewer": "Ann"}, "headers": {"Origin": "http://evil.example"}},
            403, "cross-origin",
        ),
    ],
)
def test_malformed_reviews_get_clear_4xx(
    client: TestClient, run_dir: Path, kwargs: dict, status: int, phrase: str
) -> None:
    response = client.post(review_url(), **kwargs)
    assert response.status_code == status, response.text
    assert phrase in response.json()["error"]
    assert not (run_dir / REVIEWS_FILE).exists()


def test_review_of_unknown_claim_or_article_is_404(client: TestClient, run_dir: Path) -> None:
    body = {"action": "accept", "reviewer": "Ann"}
    unknown_claim = client.post(review_url(MUSK, "c42"), json=body)
    assert unknown_claim.status_code == 404 and "c42" in unknown_claim.json()["error"]
    unknown_article = client.post(review_url("ffffffffffffffff", "c1"), json=body)
    assert unknown_article.status_code == 404 and "unknown article" in unknown_article.json()["error"]
    traversal = client.post("/api/articles/..%2F..%2Ftmp/claims/c1/reviews", json=body)
    assert 400 <= traversal.status_code < 500
    assert not (run_dir / REVIEWS_FILE).exists()


def test_internal_error_is_json_without_traceback(run_dir: Path) -> None:
    (run_dir / REVIEWS_FILE).mkdir()  # the log path is unusable: a real fault, not a mock
    client = TestClient(create_app(run_dir), base_url=DESK_URL, raise_server_exceptions=False)
    response = client.post(review_url(), json={"action": "accept", "reviewer": "Ann"})
    assert response.status_code == 500
    assert response.json()["error"].startswith("internal error") and "Traceback" not in response.text


def test_unreadable_article_file_is_reported_not_fatal(client: TestClient, run_dir: Path) -> None:
    (run_dir / "articles" / "00000000000000aa.json").write_text("{ broken")
    listing = client.get("/api/articles").json()
    assert "00000000000000aa" in listing["unreadable"] and len(listing["articles"]) == 2
    assert "Unreadable article files" in client.get("/").text


# ---- the log itself ----


def _hammer(out_dir: str, reviewer: str, count: int) -> None:
    run = RunFolder(Path(out_dir))
    log = ReviewLog(Path(out_dir))
    article = run.article(MUSK)
    assert article is not None
    labels = list(VerdictLabel)
    for n in range(count):
        label = labels[n % len(labels)]
        log.append(
            article, "c1",
            ReviewRequest(action=ReviewAction.override, reviewer=reviewer, verdict=label, reason=f"{reviewer} {n}"),
        )


def test_concurrent_saves_lose_nothing(run_dir: Path) -> None:
    threads = [threading.Thread(target=_hammer, args=(str(run_dir), f"t{i}", 25)) for i in range(2)]
    processes = [
        multiprocessing.get_context("fork").Process(target=_hammer, args=(str(run_dir), f"p{i}", 25)) for i in range(2)
    ]
    for worker in [*threads, *processes]:
        worker.start()
    for thread in threads:
        thread.join(timeout=60)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    lines = (run_dir / REVIEWS_FILE).read_text().splitlines()
    assert len(lines) == 100
    events = [ReviewEvent.model_validate_json(line) for line in lines]  # every line whole and valid
    assert {e.reason for e in events} == {f"{who} {n}" for who in ("t0", "t1", "p0", "p1") for n in range(25)}
    assert len({e.id for e in events}) == 100
    # Each append read the log under the same lock it wrote under, so "before" chains exactly.
    assert events[0].before == "disputed"
    for previous, event in zip(events, events[1:]):
        assert event.before == previous.after


def test_concurrent_overrides_chain_before_and_after(client: TestClient) -> None:
    labels = ["refuted", "supported", "unverified", "disputed"] * 5
    errors: list[str] = []

    def save(label: str, n: int) -> None:
        response = client.post(
            review_url(), json={"action": "override", "reviewer": f"r{n}", "verdict": label, "reason": f"r{n}"}
        )
        if response.status_code != 201:
            errors.append(response.text)

    threads = [threading.Thread(target=save, args=(label, n)) for n, label in enumerate(labels)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    history = client.get(f"/api/articles/{MUSK}/claims/c1").json()["history"]
    assert len(history) == 20
    assert history[0]["before"] == "disputed"
    for previous, event in zip(history, history[1:]):
        assert event["before"] == previous["after"]  # each save saw the one before it


def test_torn_last_line_is_tolerated(client: TestClient, run_dir: Path) -> None:
    post(client, {"action": "note", "reviewer": "Ann", "note": "whole"})
    with open(run_dir / REVIEWS_FILE, "a", encoding="utf-8") as handle:
        handle.write('{"id": "abc", "article_id": "47df')  # a writer died mid-line
    listing = client.get("/api/reviews").json()
    assert [e["note"] for e in listing["events"]] == ["whole"] and listing["skipped_lines"] == 1
    assert client.get(f"/articles/{MUSK}").status_code == 200
    post(client, {"action": "note", "reviewer": "Ann", "note": "after the crash"})
    listing = client.get("/api/reviews").json()
    assert [e["note"] for e in listing["events"]] == ["whole", "after the crash"]
    lines = (run_dir / REVIEWS_FILE).read_text().splitlines()
    assert json.loads(lines[-1])["note"] == "after the crash"


def test_log_lines_are_the_documented_event_format(client: TestClient, run_dir: Path) -> None:
    post(client, {"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": "why"})
    (line,) = (run_dir / REVIEWS_FILE).read_text().splitlines()
    raw = json.loads(line)
    assert set(raw) == {
        "id", "article_id", "claim_id", "reviewer", "timestamp", "action", "before", "after", "reason", "note"
    }
    assert re.fullmatch(r"[0-9a-f]{32}", raw["id"]) and raw["article_id"] == MUSK and raw["claim_id"] == "c1"
    assert raw["timestamp"].endswith("Z")


# ---- reviews belong to one article's claim ----


def test_accepting_c1_in_one_article_never_publishes_another_articles_override(run_dir: Path) -> None:
    # Claim ids restart at c1 in every article: the history is the article's and the claim's.
    run, log = RunFolder(run_dir), ReviewLog(run_dir)
    water, musk = run.article(WATER), run.article(MUSK)
    assert water is not None and musk is not None
    musk_machine = musk.verdict_for("c1")
    assert musk_machine is not None and musk_machine.verdict is not VerdictLabel.supported
    log.append(water, "c1", ReviewRequest(action=ReviewAction.override, reviewer="Bo", verdict=VerdictLabel.supported,
                                          reason="the filing was withdrawn"))
    event, state = log.append(musk, "c1", ReviewRequest(action=ReviewAction.accept, reviewer="Ann"))
    assert event.before == event.after == musk_machine.verdict
    assert state.verdict is musk_machine.verdict and [e.reviewer for e in state.history] == ["Ann"]


def test_a_renamed_article_file_gets_no_other_articles_reviews(client: TestClient, run_dir: Path) -> None:
    post(client, {"action": "override", "reviewer": "Bo", "verdict": "refuted", "reason": "checked"}, WATER, "c1")
    articles = run_dir / "articles"
    (articles / f"{WATER}.json").unlink()
    (articles / f"{MUSK}.json").rename(articles / f"{WATER}.json")  # Musk's text under the water article's name
    run = RunFolder(run_dir)
    assert run.article(WATER) is None and run.article(MUSK) is None
    assert "does not match article id" in run.errors()[WATER]
    assert client.get(f"/articles/{WATER}").status_code == 404
    assert client.get("/api/articles").json()["articles"] == []


def test_a_file_renamed_either_way_between_two_articles_is_refused(run_dir: Path) -> None:
    articles = run_dir / "articles"
    (articles / f"{WATER}.json").rename(articles / "ffffffffffffffff.json")  # a name above its id
    (articles / f"{MUSK}.json").rename(articles / "0000000000000000.json")  # and one below
    run = RunFolder(run_dir)
    assert run.articles() == {}
    assert set(run.errors()) == {"ffffffffffffffff", "0000000000000000"}


def test_files_in_the_articles_folder_that_are_not_results_are_ignored(run_dir: Path) -> None:
    articles = run_dir / "articles"
    result = (articles / f"{MUSK}.json").read_bytes()
    (articles / "0000000000000000.bak").write_bytes(result)  # sorts before the results; suffix before .json
    (articles / f"{MUSK}.txt").write_text("not a result")  # suffix after .json, same stem as a result
    (articles / "notes.json").write_text("{}")  # not an article id
    (articles / "1111111111111111.json").mkdir()  # not a file
    run = RunFolder(run_dir)
    assert sorted(run.articles()) == sorted([MUSK, WATER])
    assert run.errors() == {}


def test_a_result_rewritten_while_the_desk_runs_is_read_again(run_dir: Path) -> None:
    run = RunFolder(run_dir)
    path = run_dir / "articles" / f"{MUSK}.json"
    article = run.article(MUSK)
    assert article is not None and article.article.title != "Re-run"
    rewritten = article.model_copy(update={"article": article.article.model_copy(update={"title": "Re-run"})})
    path.write_text(rewritten.model_dump_json(), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later write, whatever the clock
    changed = run.article(MUSK)
    assert changed is not None and changed.article.title == "Re-run"


def test_an_unreadable_result_is_named_by_the_first_line_of_its_error(run_dir: Path) -> None:
    (run_dir / "articles" / "00000000000000aa.json").write_text('{"article": {"id": "00000000000000aa"}}')
    reason = RunFolder(run_dir).errors()["00000000000000aa"]
    assert reason.startswith("validation error") or reason.endswith("validation errors for ArticleResult"), reason
    assert "\n" not in reason and "pydantic.dev" not in reason


def test_no_review_log_yet_is_no_events_and_no_skipped_lines(client: TestClient) -> None:
    assert client.get("/api/reviews").json() == {"events": [], "skipped_lines": 0}


def test_blank_and_hand_edited_lines_in_the_log_keep_the_events_after_them(
    client: TestClient, run_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    post(client, {"action": "note", "reviewer": "Ann", "note": "first"})
    with open(run_dir / REVIEWS_FILE, "a", encoding="utf-8") as handle:
        handle.write('\n   \n{"note": "hand edit"}\n')  # blank lines and a hand edit, mid-file
    post(client, {"action": "note", "reviewer": "Ann", "note": "second"})
    with open(run_dir / REVIEWS_FILE, "a", encoding="utf-8") as handle:
        handle.write('{"id": "abc", "article_id": "47df')  # and a torn tail
    caplog.clear()
    with caplog.at_level("WARNING", logger="pipeline.review.store"):
        listing = client.get("/api/reviews").json()
    assert [e["note"] for e in listing["events"]] == ["first", "second"] and listing["skipped_lines"] == 2
    # The hand edit (line 4) is worth a warning that names it; the torn tail after a crash is expected.
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("reviews.jsonl line 4 is not a review event: ") and "\n" not in warning, warning
    assert warning.endswith("validation errors for ReviewEvent"), warning  # the error's first line, not its details


@pytest.mark.parametrize(("other", "reviewed"), [
    (("water", "c1"), "musk"), (("musk", "c1"), "water"), (("musk", "c2"), "musk"), (("musk", "c5"), "musk")])
def test_a_review_starts_from_its_own_claims_history_only(run_dir: Path, other: tuple[str, str], reviewed: str) -> None:
    # Another claim's override, in another article (its id sorting below or above) or in the
    # same one, is never the "before" of this claim's review.
    run, log = RunFolder(run_dir), ReviewLog(run_dir)
    articles = {"water": run.article(WATER), "musk": run.article(MUSK)}
    article, overridden = articles[reviewed], articles[other[0]]
    assert article is not None and overridden is not None
    log.append(overridden, other[1], ReviewRequest(action=ReviewAction.override, reviewer="Bo",
                                                   verdict=VerdictLabel.supported, reason="checked"))
    for claim_id in ("c1", "c2"):
        if (other[0], other[1]) == (reviewed, claim_id) or (machine := article.verdict_for(claim_id)) is None:
            continue
        assert machine.verdict is not VerdictLabel.supported
        event, state = log.append(article, claim_id, ReviewRequest(action=ReviewAction.accept, reviewer="Ann"))
        assert event.before == event.after == machine.verdict.value
        assert [e.reviewer for e in state.history] == ["Ann"]


def _article_with_claims(count: int) -> ArticleResult:
    sentences = [f"Speaker {n} said the budget grew by {n} percent." for n in range(1, count + 1)]
    text = " ".join(sentences)
    claims, verdicts = [], []
    labels = [VerdictLabel.supported, VerdictLabel.refuted, VerdictLabel.unverified, VerdictLabel.disputed]
    for n, sentence in enumerate(sentences, start=1):
        start = text.index(sentence)
        span = Span(start=start, end=start + len(sentence), text=sentence)
        claims.append(Claim(id=f"c{n}", statement=sentence, claimant=f"Speaker {n}", cue="said", kind=ClaimKind.fact,
                            checkworthiness=0.5, spans=[span]))
        verdicts.append(Verdict(claim_id=f"c{n}", verdict=labels[n % 3], confidence=0.5, rationale="r",
                                supporting=[span]))
    return ArticleResult(article=ArticleMeta(id=article_id(text), source="many.txt"), text=text, claims=claims,
                         verdicts=verdicts, run=RunInfo(backend="b", model="m", prompt_versions={},
                                                        started_at=datetime.now(UTC), seconds=1.0))


def test_accepting_claim_c10_records_c10s_verdict_not_c2s(tmp_path: Path) -> None:
    article = _article_with_claims(11)
    assert article.verdict_for("c10").verdict is not article.verdict_for("c2").verdict  # type: ignore[union-attr]
    event, state = ReviewLog(tmp_path).append(article, "c10", ReviewRequest(action=ReviewAction.accept, reviewer="Ann"))
    assert event.claim_id == state.claim_id == "c10"
    assert event.after == state.verdict == article.verdict_for("c10").verdict  # type: ignore[union-attr]
    assert state.statement == "Speaker 10 said the budget grew by 10 percent."


def test_the_reviewed_verdict_is_the_last_accept_or_override_of_that_claim_in_that_article() -> None:
    a, b = "0123456789abcdef", "fedcba9876543210"

    def event(article: str, claim: str, action: ReviewAction, after: str | None) -> ReviewEvent:
        reason = "the source says otherwise" if action is ReviewAction.override else None
        note = "checked with the desk" if action is ReviewAction.note else None
        return ReviewEvent(
            article_id=article, claim_id=claim, reviewer="ed", action=action, after=after, reason=reason, note=note
        )

    events = [
        event(a, "c1", ReviewAction.accept, "supported"),
        event(a, "c1", ReviewAction.override, "refuted"),  # the later one wins
        event(b, "c1", ReviewAction.accept, "disputed"),  # c1 of another article: its own entry
        event(a, "c2", ReviewAction.edit, "A new wording."),  # not a verdict
        event(a, "c3", ReviewAction.note, None),
        event(a, "c4", ReviewAction.not_checkworthy, "not check-worthy"),
    ]
    assert reviewed_verdicts(events) == {(a, "c1"): VerdictLabel.refuted, (b, "c1"): VerdictLabel.disputed}


def test_the_queue_shows_each_article_by_its_title_with_the_id_in_small_print(client: TestClient) -> None:
    page = client.get("/").text
    assert "Here’s What Elon Musk Allegedly Said About Putin" in page or "Here&#39;s" in page or "Here’s" in page
    assert '<small class="article-id">' in page
