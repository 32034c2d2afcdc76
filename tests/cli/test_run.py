"""``factcheck run`` end to end: the seed on its cassette, and every bad input as one clear line."""

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck
from recording import REPLAY_URL, ROOT, SEEDS, shared_cassette
from typer.testing import CliRunner

from pipeline.cli import EXIT_NOTHING_RAN, app
from pipeline.llm.client import LLM
from pipeline.stages.analyze import analyze
from pipeline.stages.options import AnalysisOptions
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.ingest import article_id, make_article
from schemas import ArticleResult

runner = CliRunner()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FACTCHECK_MAX_ATTEMPTS", "1")


def _invoke(args: list[str], **env: str) -> tuple[int, str]:
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.output


def _outputs(out: Path) -> list[Path]:
    return sorted(out.glob("articles/*.json")) if out.exists() else []


def test_seed_run_through_the_cli_on_its_cassette(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with shared_cassette(request.config, "stages/analyze_seed/seed_run.yaml", replay_only=True):
        code, output = _invoke(
            ["run", str(SEEDS / "musk-putin-bremmer.txt"), "--out", str(out), "--backend", "embedded",
             "--base-url", REPLAY_URL, "--no-cache", "--concurrency", "1"],
        )  # fmt: skip
    assert code == 0, output
    [path] = _outputs(out)
    result = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))
    assert result.claims and result.run.backend == "embedded"
    assert result.run.usage["claims"].calls == 0  # the embedded model is asked nothing in run
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(result.claims)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["prompt_versions"] == result.run.prompt_versions
    # CI checks the live seed run's result with this script: it must read today's result shape.
    check = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "check_seed.py"), str(out)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "c1 disputed" in check.stdout


def test_the_embedded_model_is_not_started_when_no_stage_asks_it(tmp_path: Path) -> None:
    """No weights in this cache and no network: a run that started the model would fail fetching them."""
    out = tmp_path / "out"
    code, output = _invoke(["run", str(SEEDS / "musk-putin-bremmer.txt"), "--out", str(out), "--backend", "embedded"])
    assert code == 0, output
    assert "0 LLM calls" in output
    assert not (tmp_path / "cache" / "models").exists() and not (tmp_path / "cache" / "logs").exists()
    [path] = _outputs(out)
    result = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))
    assert (result.run.backend, result.run.model) == ("embedded", "qwen2.5-coder-1.5b-instruct-q4_k_m")
    assert result.run.usage["claims"].calls == 0 and len(result.claims) >= 7
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["usage"]["calls"] == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("binary.txt", b"\x00\x01\x02\x03PK\x05\x06", "binary"),
        ("latin1.txt", "déjà vu".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_file_is_one_line_and_nothing_is_written(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    out = tmp_path / "out"
    # The endpoint is never reached: ingest fails first. A fake keeps the test offline anyway.
    with FakeOpenAI() as fake:
        args = ["run", str(path), "--out", str(out), "--backend", "openai", "--base-url", fake.base_url]
        code, output = _invoke(args)
    assert code == EXIT_NOTHING_RAN
    assert f"{path}: " in output and message in output
    assert "Traceback" not in output
    assert _outputs(out) == []


def test_a_folder_without_articles(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_bytes(b"PK")
    code, output = _invoke(["run", str(tmp_path), "--out", str(tmp_path / "out")])
    assert code == EXIT_NOTHING_RAN
    assert "no article files" in output or "not an article file" in output
    assert "Traceback" not in output


def _fake_run(fake: FakeOpenAI, tmp_path: Path, out: str, *flags: str, config: str = "") -> dict[str, object]:
    """``factcheck run`` of two articles on the fake server with ``config`` as the config file; its run.json."""
    (tmp_path / "factcheck.toml").write_text(config, encoding="utf-8")
    code, output = _invoke(
        ["run", str(tmp_path / "in"), "--out", str(tmp_path / out), "--backend", "openai", "--base-url", fake.base_url,
         "--model", "gpt-4o-mini", "--quiet", "--no-stories", *flags],
        FACTCHECK_CONFIG=str(tmp_path / "factcheck.toml"), OPENAI_API_KEY="test",
    )  # fmt: skip
    assert code == 0, output
    return json.loads((tmp_path / out / "run.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("flags", "config", "cached"),
    [
        ((), "", True),
        (("--no-cache",), "cache = true\n", False),  # the flag wins over the config
        ((), "cache = false\n", False),  # the config holds without the flag
        (("--cache",), "cache = false\n", False),  # --cache (the default) does not turn a configured cache = false on
    ],
)
def test_the_response_cache_is_used_unless_the_flag_or_the_config_turns_it_off(
    tmp_path: Path, flags: tuple[str, ...], config: str, cached: bool
) -> None:
    write_articles(tmp_path / "in", 2)
    with FakeOpenAI() as fake:
        _fake_run(fake, tmp_path, "warm")  # every answer is in the cache now
        fake.reset_stats()
        manifest = _fake_run(fake, tmp_path, "out", *flags, config=config)
        asked = fake.stats.requests
    assert manifest["options"]["cache"] is manifest["config"]["cache"] is cached  # type: ignore[index]
    assert (asked == 0, manifest["usage"]["cache_hits"] > 0) == (cached, cached)  # type: ignore[index,operator]


def test_concurrency_budget_and_resume_flags_reach_the_run_and_its_manifest(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    with FakeOpenAI() as fake:
        manifest = _fake_run(fake, tmp_path, "out", "--concurrency", "3", "--budget", "5", "--no-resume")
    assert manifest["options"] == {"concurrency": 3, "budget_usd": 5.0, "cache": True, "resume": False}
    assert (manifest["config"]["concurrency"], manifest["config"]["budget_usd"]) == (3, 5.0)  # type: ignore[index]
    assert manifest["limiter"]["maximum"] == 3  # type: ignore[index]
    assert manifest["budget"]["limit_usd"] == 5.0  # type: ignore[index]


def test_unreachable_endpoint_names_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    endpoint = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    code, output = _invoke(["run", str(SEEDS / "council-stadium.txt"), "--out", str(out), "--backend", "openai",
                            "--base-url", endpoint, "--no-cache"])  # fmt: skip
    assert code == EXIT_NOTHING_RAN
    assert endpoint in output and "connect" in output
    assert "Traceback" not in output and _outputs(out) == []


class _Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        body = json.dumps({"error": error}).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unauthorized_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_invalid_api_key_is_one_line_without_the_key(tmp_path: Path, unauthorized_endpoint: str) -> None:
    out = tmp_path / "out"
    secret = "sk-test-THISKEYMUSTNOTAPPEAR0123456789"
    code, output = _invoke(["run", str(SEEDS / "council-stadium.txt"), "--out", str(out), "--backend", "openai",
                            "--base-url", unauthorized_endpoint, "--no-cache"], OPENAI_API_KEY=secret)  # fmt: skip
    assert code == EXIT_NOTHING_RAN
    assert "API key rejected" in output and unauthorized_endpoint in output
    assert secret not in output and "Traceback" not in output
    assert _outputs(out) == []
    for path in out.rglob("*") if out.exists() else []:
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace")


def test_a_long_article_is_split_into_windows_not_truncated() -> None:
    """Every window reaches the model; results keep article-wide offsets."""
    import asyncio

    long_text = " ".join(
        f"Official number {i} said the budget of district {i} rose by {i} percent in {1900 + i}." for i in range(300)
    )
    with FakeOpenAI() as fake:
        llm = LLM(backend="openai", base_url=fake.base_url, api_key="fake", model="fake-model", max_attempts=1)
        options = AnalysisOptions(window_chars=3000, verifier="llm")
        result = asyncio.run(analyze(llm, make_article(long_text, "long.txt"), options))
    assert result.run.windows >= 8
    assert sum(u.calls for u in result.run.usage.values()) == 2 * result.run.windows  # claims, verify
    for span in result.spans():
        assert long_text[span.start : span.end] == span.text
    assert max(s.end for s in result.spans()) > len(long_text) * 0.85  # findings from the last window too


def test_a_rerun_of_an_edited_article_says_which_result_is_current(tmp_path: Path) -> None:
    """Issue 32: re-running an edited article left both results in OUT with nothing saying which is
    current. The result of the text read last is current (a revert makes the older one current again);
    the other's rows in results.jsonl say "current": false, run.json and stderr name both."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    article = inputs / "council.txt"
    first = "The mayor said the bridge opens in 3 weeks. Police said the road stays closed until then."
    edited = "The mayor said the bridge opens in 5 weeks. Police said the road stays closed until then."
    out = tmp_path / "out"
    args = ["run", str(inputs), "--out", str(out), "--no-llm", "--no-stories"]

    def current_by_id() -> dict[str, bool]:
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        return {row["article_id"]: row["current"] for row in rows}

    article.write_text(first)
    assert factcheck(args, env_for(tmp_path)).returncode == 0
    article.write_text(edited)
    done = factcheck(args, env_for(tmp_path))
    assert done.returncode == 0, done.stderr
    old, new = article_id(first), article_id(edited)
    assert current_by_id() == {old: False, new: True}
    assert json.loads((out / "run.json").read_text())["superseded"] == [
        {"source": str(article), "current": new, "superseded": [old]}
    ]
    assert f"{article}: an edited article; result {new} (the text read now) is current, {old} superseded" in done.stderr
    article.write_text(first)  # reverted: nothing analysed again, the first result current again
    reverted = factcheck(args, env_for(tmp_path))
    assert "0 analysed, 1 already done" in reverted.stderr
    assert current_by_id() == {old: True, new: False}
