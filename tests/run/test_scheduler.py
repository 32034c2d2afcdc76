"""The concurrent runner against the fake OpenAI server: faults, resume, cache, budget, isolation."""

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.llm.client import LLM
from pipeline.llm.prices import ModelPrice
from pipeline.run import analysis as runner
from pipeline.run.inputs import discover
from pipeline.run.manifest import RunSummary
from pipeline.run.output import load_result
from pipeline.run.driver import run
from pipeline.run.scheduler import in_progress
from pipeline.llm.errors import EndpointError
from pipeline.run.budget import Budget
from pipeline.run.inputs import NoArticlesError, discover_or_fail
from pipeline.run.output import SKIPPED_LISTED
from pipeline.settings import Settings
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults
from pipeline.text.ingest import Article, make_article
from schemas import ArticleResult, Usage

MODEL = "gpt-4o-mini"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "cache_dir": tmp_path / "cache", "timeout": 0.4, "max_attempts": 6, "concurrency": 8,
        "verifier": "llm",  # claims + the LLM verifier's call per article, as these tests count (auto is trained)
    }
    return Settings(**{**values, **overrides})


def analyse(fake: FakeOpenAI, inputs: Path, out: Path, settings: Settings) -> RunSummary:
    llm = LLM(
        backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, timeout=settings.timeout,
        max_attempts=settings.max_attempts, reasks=settings.reasks,
    )
    files, skipped = discover([inputs], exclude=out)

    async def go() -> RunSummary:
        try:
            return await run(llm, files, skipped, out, settings)
        finally:
            await llm.close()

    return asyncio.run(go())


def result_ids(out: Path) -> set[str]:
    return {p.stem for p in (out / "articles").glob("*.json")}


def test_every_article_completes_through_429s_5xx_timeouts_and_drops(fake: FakeOpenAI, tmp_path: Path) -> None:
    fake.faults = Faults(rate_limit=0.10, server_error=0.05, timeout=0.03, drop=0.02, retry_after=0.05,
                         timeout_sleep=0.6, seed=7)
    write_articles(tmp_path / "in", 30)
    out = tmp_path / "out"
    summary = analyse(fake, tmp_path / "in", out, settings_for(tmp_path))

    assert (summary.done, summary.failed) == (30, 0)
    assert fake.stats.faults["rate_limit"] > 0 and fake.stats.faults["server_error"] > 0
    assert fake.stats.faults["timeout"] > 0
    assert len(result_ids(out)) == 30
    for path in (out / "articles").glob("*.json"):
        assert load_result(path) is not None  # valid: schema and every span aligned
    # Each article's two calls were answered exactly once: nothing lost, nothing duplicated.
    assert {fake.stats.by_marker[marker(i)] for i in range(30)} == {2}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    claims = sum(len(r.claims) for r in map(load_result, (out / "articles").glob("*.json")) if r)
    assert len(rows) == claims >= 5 * 30 and len({(r["article_id"], r["claim_id"]) for r in rows}) == claims
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["counts"]["done"] == 30
    assert manifest["usage"]["failed_attempts"] > 0
    assert manifest["limiter"]["decreases"] >= 1  # the 429s halved the calls in flight
    assert not (out / "errors.jsonl").exists()


def test_warm_rerun_makes_zero_calls_and_a_fresh_folder_hits_the_cache(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 12)
    settings = settings_for(tmp_path)
    first = analyse(fake, tmp_path / "in", tmp_path / "out", settings)
    assert first.done == 12 and first.total.calls == 24 and fake.stats.requests == 24  # claims, verify

    fake.reset_stats()
    again = analyse(fake, tmp_path / "in", tmp_path / "out", settings)
    assert fake.stats.requests == 0
    assert (again.done, again.reused, again.total.calls) == (0, 12, 0)

    fresh = analyse(fake, tmp_path / "in", tmp_path / "out2", settings)
    assert fake.stats.requests == 0
    assert (fresh.done, fresh.total.cache_hits, fresh.total.cost_usd) == (12, 24, 0.0)
    # Answered from the cache, the fresh folder gets the same claims, one results row each.
    assert (
        (tmp_path / "out2" / "results.jsonl").read_text().count("\n")
        == (tmp_path / "out" / "results.jsonl").read_text().count("\n")
        >= 5 * 12
    )

    uncached = analyse(fake, tmp_path / "in", tmp_path / "out3", settings.model_copy(update={"cache": False}))
    assert uncached.total.calls == 24 and fake.stats.requests == 24


def test_usage_has_the_same_fields_in_results_run_json_and_usage_jsonl(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    out = tmp_path / "out"
    summary = analyse(
        fake, tmp_path / "in", out, settings_for(tmp_path, prices={MODEL: ModelPrice(input=1.0, output=2.0)})
    )
    fields = list(Usage.model_fields)
    manifest = json.loads((out / "run.json").read_text())
    assert list(manifest["usage"]) == fields and manifest["usage"] == summary.total.model_dump(mode="json")
    assert set(manifest["by_stage"]) == {"claims", "verify"}
    rows = [json.loads(line) for line in (out / "usage.jsonl").read_text().splitlines()]
    results = [json.loads(path.read_text()) for path in (out / "articles").glob("*.json")]
    assert len(rows) == len(results) == 3
    for stage, used in manifest["by_stage"].items():
        assert list(used) == fields
        assert used["calls"] == 3 and used["prompt_tokens"] > 0 and used["cost_usd"] > 0 and used["seconds"] > 0
        assert all(list(row["stages"][stage]) == fields for row in rows)
        assert all(list(result["run"]["usage"][stage]) == fields for result in results)  # the result file's: the same
    assert sum(row["stages"]["claims"]["calls"] for row in rows) == manifest["by_stage"]["claims"]["calls"]


def test_results_written_with_usage_as_a_list_are_reused_not_redone(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 4)
    out = tmp_path / "out"
    analyse(fake, tmp_path / "in", out, settings_for(tmp_path))
    for path in (out / "articles").glob("*.json"):  # as the version before usage was keyed by stage wrote them
        data = json.loads(path.read_text())
        data["run"]["usage"] = [
            {
                "stage": stage,
                **{k: used[k] for k in ("calls", "prompt_tokens", "completion_tokens", "cached_tokens", "seconds")},
            }
            for stage, used in data["run"]["usage"].items()
        ]
        path.write_text(json.dumps(data))
    fake.reset_stats()
    again = analyse(fake, tmp_path / "in", out, settings_for(tmp_path, cache_dir=tmp_path / "no-cache"))
    assert (again.done, again.reused, again.damaged, fake.stats.requests) == (0, 4, 0, 0)
    assert (out / "results.jsonl").read_text().count("\n") >= 5 * 4


def test_one_failing_article_is_recorded_and_the_others_finish(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 6)
    (inputs / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (inputs / "notes.pdf").write_bytes(b"%PDF")
    (inputs / "copy.txt").write_text((inputs / "article-00001.txt").read_text())
    # Article 3's requests always meet a server error: its calls exhaust their attempts.
    fake.faults = Faults(server_error=1.0, max_faults_per_request=99, target=marker(3))
    out = tmp_path / "out"
    summary = analyse(fake, inputs, out, settings_for(tmp_path))
    assert (summary.done, summary.failed, summary.duplicates) == (5, 2, 1)

    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    by_source = {Path(e["source"]).name: e for e in errors}
    assert set(by_source) == {"binary.txt", "article-00003.txt"}
    assert by_source["binary.txt"]["stage"] == "ingest"
    # No answer at all (not an unusable one, which code's claims and the stance model's verdicts outlast).
    assert by_source["article-00003.txt"]["stage"] == "claims"
    manifest = json.loads((out / "run.json").read_text())
    assert any("notes.pdf" in line for line in manifest["skipped_files"])
    assert any("copy.txt" in line and "same text" in line for line in manifest["skipped_files"])

    # The fault is gone: a re-run redoes only the failed article; the old errors move aside.
    fake.faults = Faults()
    fake.reset_stats()
    again = analyse(fake, inputs, out, settings_for(tmp_path))
    assert (again.done, again.reused, again.failed) == (1, 5, 1)  # the binary file still fails
    assert fake.stats.requests == 2
    assert len(list((out / "errors").glob("*.jsonl"))) == 1


def test_schema_violating_tool_calls_leave_codes_claims_and_the_stance_models_verdicts(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    """Unusable answers (tool arguments that break the schema, re-ask included) no longer fail the
    article: the claims stay in code's words, the stance model judges them, and warnings say so."""
    write_articles(tmp_path / "in", 4)
    fake.faults = Faults(bad_tool_call=1.0, max_faults_per_request=99, target=marker(2))
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", settings_for(tmp_path, reasks=1))
    assert (summary.done, summary.failed) == (4, 0)
    [result] = [r for r in map(load_result, (tmp_path / "out" / "articles").glob("*.json"))
                if r is not None and r.article.source.endswith("article-00002.txt")]  # fmt: skip
    assert result.claims and {v.claim_id for v in result.verdicts} == {c.id for c in result.claims}
    assert all(v.confidence_basis.value == "stance_model" for v in result.verdicts)
    assert any("the stance model judges these claims" in w for w in result.warnings)


@pytest.mark.parametrize("concurrency", [2, 8])  # at 8, up to 15 articles are in flight: each one's money is reserved
def test_budget_stops_before_the_spend_passes_it(fake: FakeOpenAI, tmp_path: Path, concurrency: int) -> None:
    write_articles(tmp_path / "in", 20)
    price = {MODEL: ModelPrice(input=100.0, cached_input=50.0, output=400.0)}  # dear, so a few articles reach it
    settings = settings_for(tmp_path, prices=price, concurrency=concurrency, budget_usd=1.0)
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", settings)
    assert summary.done > 0 and summary.not_started > 0
    assert summary.done + summary.not_started == 20
    assert 0 < summary.total.cost_usd <= 1.0
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["status"] == "budget_exhausted"
    assert manifest["budget"]["stopped"] and "budget" in manifest["budget"]["message"]
    assert manifest["cost"]["estimated_usd"] <= 1.0
    per_article = [json.loads(line)["cost_usd"] for line in (tmp_path / "out" / "usage.jsonl").read_text().splitlines()]
    assert len(per_article) == summary.done and abs(sum(per_article) - summary.total.cost_usd) < 1e-5


def test_a_folder_of_someone_elses_files_is_refused(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "results.jsonl").write_text("mine\n")
    with pytest.raises(ValueError, match="not a factcheck output folder"):
        analyse(fake, tmp_path / "in", theirs, settings_for(tmp_path))
    assert (theirs / "results.jsonl").read_text() == "mine\n"


def test_the_output_folder_inside_the_input_folder_is_not_read_as_input(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    out = tmp_path / "in" / "out"
    analyse(fake, tmp_path / "in", out, settings_for(tmp_path))
    again = analyse(fake, tmp_path / "in", out, settings_for(tmp_path))
    assert (again.reused, again.done, again.failed) == (3, 0, 0)


def test_an_unexpected_error_fails_only_its_article_and_never_stalls_the_run(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug (here a TypeError raised for one article) used to kill its worker, and the producer
    # then waited forever on the full queue.
    real_analyze = runner.analyze

    async def buggy(llm: LLM, article: Article, **kwargs: int) -> ArticleResult:
        if marker(2) in article.text:
            raise TypeError("unsupported operand")
        return await real_analyze(llm, article, **kwargs)

    monkeypatch.setattr(runner, "analyze", buggy)
    inputs, out = tmp_path / "in", tmp_path / "out"
    write_articles(inputs, 12)
    def stalled(*_: object) -> None:
        raise TimeoutError("the run stalled")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(120)  # a stalled run fails the test instead of hanging it
    try:
        summary = analyse(fake, inputs, out, settings_for(tmp_path, concurrency=2))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert (summary.done, summary.failed) == (11, 1)
    [error] = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert error["stage"] == "internal" and "TypeError: unsupported operand" in error["reason"]


@pytest.mark.parametrize("concurrency", [1, 2])
def test_budget_holds_once_the_cost_per_character_is_measured(
    fake: FakeOpenAI, tmp_path: Path, concurrency: int
) -> None:
    # Cheap enough that several articles are billed before the budget binds: from the fourth article
    # on, the estimate is the measured cost per character, and the spend still never passes the budget.
    write_articles(tmp_path / "in", 30)
    price = {MODEL: ModelPrice(input=10.0, cached_input=5.0, output=40.0)}
    settings = settings_for(tmp_path, prices=price, concurrency=concurrency, budget_usd=0.5)
    summary = analyse(fake, tmp_path / "in", tmp_path / "out", settings)
    assert summary.done >= 6 and summary.not_started > 0, (summary.done, summary.not_started)
    assert 0 < summary.total.cost_usd <= 0.5
    assert json.loads((tmp_path / "out" / "run.json").read_text())["status"] == "budget_exhausted"


class _Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, object]]] = []

    def emit(self, event: str, **fields: object) -> None:
        self.seen.append((event, fields))

    def close(self) -> None:
        pass


def _started(fake: FakeOpenAI, inputs: Path, out: Path, settings: Settings) -> dict[str, object]:
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, timeout=settings.timeout)
    files, missing = discover([inputs], exclude=out)
    events = _Events()

    async def go() -> None:
        try:
            await run(llm, files, missing, out, settings, reporter=events)
        finally:
            await llm.close()

    asyncio.run(go())
    return next(fields for event, fields in events.seen if event == "run_started")


def test_the_progress_total_is_the_number_of_article_files(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 5)
    (tmp_path / "in" / "scan.pdf").write_bytes(b"%PDF")  # not an article file: not counted
    started = _started(fake, tmp_path / "in", tmp_path / "out", settings_for(tmp_path, concurrency=2))
    assert (started["files"], started["articles_estimate"]) == (5, 5)
    # A JSON Lines file may hold any number of articles: files are counted, articles are not estimated.
    (tmp_path / "in" / "more.jsonl").write_text('{"text": "One more article about the council budget."}\n')
    started = _started(fake, tmp_path / "in", tmp_path / "out2", settings_for(tmp_path, concurrency=2))
    assert (started["files"], started["articles_estimate"]) == (6, None)


def _billed(budget: Budget, cost: float, chars: int) -> None:
    budget.settle(0.0, Usage(calls=3, cost_usd=cost), chars)


def test_a_measured_estimate_never_under_prices_an_article_shorter_or_longer_than_those_billed() -> None:
    # Each call's fixed part (instructions, schema) makes an article's cost grow slower than its
    # length. An average cost per character priced a short article below what it cost, so the last
    # article started passed the budget ($0.50041 of $0.50 on the fake server).
    budget = Budget(1.0, ModelPrice(input=10.0, cached_input=5.0, output=40.0), calls_per_window=1, window_chars=12_000)
    for cost, chars in [(0.030, 1000), (0.031, 1100), (0.029, 900)]:
        _billed(budget, cost, chars)
    short = make_article("x" * 500, "short.txt")
    assert budget.estimate(short) == pytest.approx(0.031)  # no billed article cost less per article
    long = make_article("x" * 2200, "long.txt")
    assert budget.estimate(long) == pytest.approx(max(0.030 * 2.2, 0.031 * 2, 0.029 * 2200 / 900))
    same = make_article("x" * 1000, "same.txt")  # longer than the 900-character one: scaled from it
    assert budget.estimate(same) == pytest.approx(0.029 * 1000 / 900)
    # An article answered from the cache says nothing about what an article costs.
    budget.settle(0.0, Usage(calls=3, cache_hits=1, cost_usd=0.0), 400)
    assert budget.estimate(short) == pytest.approx(0.031)
    assert budget.spent == pytest.approx(0.090) and budget.reserved == 0.0


def test_the_first_three_articles_are_priced_from_tokens_not_yet_measured() -> None:
    price = ModelPrice(input=10.0, cached_input=5.0, output=40.0)
    budget = Budget(1.0, price, calls_per_window=2, window_chars=12_000)  # claims and verify calls
    article = make_article("x" * 4000, "a.txt")
    rough = price.cost(2 * (1_300 + 1000), 0, 2 * 400)
    for _ in range(2):
        assert budget.estimate(article) == pytest.approx(rough)
        _billed(budget, 0.001, 4000)
    assert budget.estimate(article) == pytest.approx(rough)
    _billed(budget, 0.001, 4000)
    assert budget.estimate(article) == pytest.approx(0.001)
    assert Budget(1.0, None, calls_per_window=2, window_chars=12_000).estimate(article) == 0.0


def test_the_rough_estimate_counts_the_calls_the_stages_make_per_window() -> None:
    from pipeline.stages.registry import calls_per_window

    assert calls_per_window("trained") == 1 and calls_per_window("llm") == 2  # claims; claims + verify
    price = ModelPrice(input=10.0, cached_input=5.0, output=40.0)
    budget = Budget(1.0, price, calls_per_window=calls_per_window("llm"), window_chars=1000)
    calls, cost = budget.rough(2500)  # three windows
    assert calls == 6 and cost == pytest.approx(price.cost(6 * 1_300 + 2 * 625, 0, 6 * 400))


def test_reserve_refuses_what_would_pass_the_limit_counting_money_in_flight() -> None:
    budget = Budget(1.0, ModelPrice(input=10.0, cached_input=5.0, output=40.0), calls_per_window=1, window_chars=12_000)
    assert budget.reserve(0.6) and budget.reserved == pytest.approx(0.6)
    assert not budget.reserve(0.41) and budget.reserved == pytest.approx(0.6)
    assert budget.reserve(0.4)  # exactly the limit is within it
    budget.settle(0.6, Usage(calls=3, cost_usd=0.5), 100)
    assert (budget.spent, budget.reserved) == (pytest.approx(0.5), pytest.approx(0.4))
    assert Budget(None, None, calls_per_window=1, window_chars=12_000).reserve(1e9)


def test_a_rejected_key_cancels_the_articles_in_flight(fake: FakeOpenAI, tmp_path: Path) -> None:
    # Article 0's request hangs; article 1's key is rejected: the run stops at once, and article 0
    # is cancelled rather than retried to the end and reported as an article failure.
    write_articles(tmp_path / "in", 2)
    fake.faults = Faults(by_target={marker(0): "timeout", marker(1): "unauthorized"}, timeout_sleep=20.0,
                         max_faults_per_request=99)
    settings = settings_for(tmp_path, concurrency=2, timeout=5.0, max_attempts=2)  # the 401 comes long before 5 s
    try:
        with pytest.raises(EndpointError, match="401"):
            analyse(fake, tmp_path / "in", tmp_path / "out", settings)
    finally:
        fake.faults = Faults()
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["status"] == "failed" and "401" in manifest["errors"]["run_stopped_by"]
    assert manifest["counts"]["failed"] == 0 and not (tmp_path / "out" / "errors.jsonl").exists()
    assert fake.stats.faults["timeout"] == 1  # its first attempt only: never retried


def test_each_article_done_event_counts_its_tokens_and_the_results_table_carries_each_verdict(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out"
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, timeout=5.0)
    files, missing = discover([tmp_path / "in"], exclude=out)
    events = _Events()

    async def go() -> None:
        try:
            await run(llm, files, missing, out, settings_for(tmp_path, concurrency=1), reporter=events)
        finally:
            await llm.close()

    asyncio.run(go())
    usage = {row["article"]: row for row in map(json.loads, (out / "usage.jsonl").read_text().splitlines())}
    done = [fields for event, fields in events.seen if event == "article_done"]
    assert len(done) == 2
    for fields in done:
        stages = usage[fields["article"]]["stages"].values()
        assert fields["tokens"] == sum(s["prompt_tokens"] + s["completion_tokens"] for s in stages) > 0
        assert fields["calls"] == 2 and fields["cache_hits"] == 0

    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for path in (out / "articles").glob("*.json"):
        result = load_result(path)
        assert result is not None and result.verdicts
        mine = [r for r in rows if r["article_id"] == result.article.id]
        assert [r["claim_id"] for r in mine] == [c.id for c in result.claims]
        for row in mine:
            verdict = result.verdict_for(row["claim_id"])
            assert verdict is not None
            assert (row["verdict"], row["confidence"]) == (verdict.verdict.value, verdict.confidence)
            assert row["supporting"] == [s.text for s in verdict.supporting]
            assert row["contradicting"] == [s.text for s in verdict.contradicting]


def test_a_failure_building_stories_is_reported_and_leaves_the_run_complete(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.stories

    def broken(out: Path) -> object:
        raise RuntimeError("no room for the embeddings")

    monkeypatch.setattr(pipeline.stories, "update_stories", broken)
    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out"
    price = {MODEL: ModelPrice(input=0.15, cached_input=0.075, output=0.6)}  # costs with more than 5 decimals
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, timeout=5.0)
    files, missing = discover([tmp_path / "in"], exclude=out)
    events = _Events()

    async def go() -> RunSummary:
        try:
            return await run(llm, files, missing, out, settings_for(tmp_path, prices=price, concurrency=2),
                             stories=True, reporter=events)
        finally:
            await llm.close()

    summary = asyncio.run(go())
    assert summary.status == "complete" and summary.done == 2 and len(result_ids(out)) == 2
    assert summary.stories is None
    assert summary.stories_error == (
        f"stories not updated: RuntimeError: no room for the embeddings (retry: factcheck stories {out})"
    )
    assert ("stories_failed", {"reason": summary.stories_error}) in events.seen
    event, finished = events.seen[-1]
    assert event == "run_finished" and finished["status"] == "complete"
    assert finished["cost_usd"] == round(summary.total.cost_usd, 6) > 0  # the event's cost: to the micro-dollar


def test_a_folder_without_article_files_is_no_run(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "scan.pdf").write_bytes(b"%PDF")
    with pytest.raises(NoArticlesError, match="no article files found"):
        discover_or_fail([tmp_path / "in"])
    gone = [tmp_path / f"gone{i}" for i in range(5)]
    with pytest.raises(NoArticlesError) as raised:  # the first three missing paths, not a wall of them
        discover_or_fail(gone)
    assert str(raised.value) == "; ".join(f"{path}: no such file or folder" for path in gone[:3])
    write_articles(tmp_path / "in", 1)
    files, missing = discover_or_fail([tmp_path / "in", tmp_path / "gone"])
    assert [p.name for p in files] == ["article-00000.txt"]
    assert missing == [f"{tmp_path / 'gone'}: no such file or folder"]


def test_articles_in_progress_are_twice_the_concurrency_less_one_and_at_least_one() -> None:
    assert [in_progress(c) for c in (0, 1, 2, 8)] == [1, 1, 3, 15]


def test_a_symlink_loop_among_article_files_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    (tmp_path / "in" / "zz.txt").symlink_to("zz.txt")  # a loop
    (tmp_path / "in" / "scan.pdf").write_bytes(b"%PDF")
    skipped: list[str] = []
    unreadable: list[tuple[str, str]] = []
    files, _ = discover([tmp_path / "in"])
    found = sorted(p.name for p in files.walk(skipped.append, lambda path, why: unreadable.append((path, why))))
    assert found == ["article-00000.txt", "article-00001.txt", "article-00002.txt"]
    [(path, why)] = unreadable
    assert path == str(tmp_path / "in" / "zz.txt") and "cannot read" in why
    assert skipped == [f"{tmp_path / 'in' / 'scan.pdf'}: skipped (not an article file type)"]


def test_past_the_listed_skipped_files_the_summary_says_how_many_more(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    for i in range(SKIPPED_LISTED + 3):
        (tmp_path / "in" / f"scan{i:03d}.pdf").write_bytes(b"%PDF")
    out = tmp_path / "out"
    summary = analyse(fake, tmp_path / "in", out, settings_for(tmp_path))
    assert summary.skipped == SKIPPED_LISTED + 3
    assert len(summary.skipped_files) == SKIPPED_LISTED + 1
    assert summary.skipped_files[-1] == f"... and 3 more: every skipped file is listed in {out / 'skipped.txt'}"
    assert len((out / "skipped.txt").read_text().splitlines()) == SKIPPED_LISTED + 3

    write_articles(tmp_path / "few", 1)
    (tmp_path / "few" / "scan.pdf").write_bytes(b"%PDF")
    few = analyse(fake, tmp_path / "few", tmp_path / "out2", settings_for(tmp_path))
    assert few.skipped_files == [f"{tmp_path / 'few' / 'scan.pdf'}: skipped (not an article file type)"]  # no note
