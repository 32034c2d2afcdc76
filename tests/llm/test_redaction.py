"""No key or password escapes: a server that echoes the credentials in its error body, and a base
URL with user:password, leave no trace in stderr, errors.jsonl, run.json or the --log-json file."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli import EXIT_NOTHING_RAN, EXIT_SOME_FAILED
from pipeline.llm.redaction import MASK, redact, register_secret
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults

KEY = "sk-live-" + "Zq81xLw0Pf3Rt7Yb5Nc2Vd9M"
PLAIN_KEY = "proj_7f3e9a1c5b2d8e4f6a0b"  # no sk- prefix: masked because it is the configured key


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def everything_written(out: Path, stderr: str, log: Path) -> str:
    parts = [stderr, log.read_text()]
    outputs = {".json", ".jsonl", ".txt"}
    parts += [path.read_text() for path in out.rglob("*") if path.is_file() and path.suffix in outputs]
    return "\n".join(parts)


@pytest.mark.parametrize("key", [KEY, PLAIN_KEY])
def test_a_server_echoing_the_authorization_header_leaks_no_key(fake: FakeOpenAI, tmp_path: Path, key: str) -> None:
    write_articles(tmp_path / "in", 3)
    fake.faults = Faults(echo_credentials=1.0, max_faults_per_request=99, target=marker(1))
    out, log = tmp_path / "out", tmp_path / "events.jsonl"
    done = factcheck(
        run_args(tmp_path / "in", out, fake.base_url, "--quiet", "--log-json", str(log)),
        env_for(tmp_path, OPENAI_API_KEY=key, FACTCHECK_MAX_ATTEMPTS="2"),
    )
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert fake.stats.faults["echo_credentials"] >= 1
    [error] = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert "HTTP 502" in error["reason"] and f"Authorization: Bearer {MASK}" in error["reason"]
    written = everything_written(out, done.stderr, log)
    assert key not in written and key[-12:] not in written
    assert "article-00001.txt: failed" in done.stderr


def test_a_password_in_the_base_url_is_stored_nowhere(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    fake.faults = Faults(echo_credentials=1.0, max_faults_per_request=99, target=marker(1))
    out, log = tmp_path / "out", tmp_path / "events.jsonl"
    base_url = fake.base_url.replace("http://", "http://alice:Pa55w0rd-hunter2@")
    done = factcheck(
        run_args(tmp_path / "in", out, base_url, "--quiet", "--log-json", str(log)),
        env_for(tmp_path, FACTCHECK_MAX_ATTEMPTS="2"),
    )
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    written = everything_written(out, done.stderr, log)
    assert "Pa55w0rd-hunter2" not in written
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["endpoint"] == fake.base_url.replace("http://", f"http://{MASK}@")
    assert manifest["config"]["base_url"] == manifest["endpoint"]


def test_a_whole_run_failure_message_is_redacted_too(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    dead = "http://bob:Secret-Pw-123@127.0.0.1:9/v1"  # the discard port: nobody answers
    done = factcheck(run_args(tmp_path / "in", tmp_path / "out", dead), env_for(tmp_path, FACTCHECK_MAX_ATTEMPTS="1"))
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    assert "Secret-Pw-123" not in done.stderr + (tmp_path / "out" / "run.json").read_text()
    assert "cannot connect" in done.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{'Authorization': 'Bearer sk-abc123def456ghi'}", f"{{'Authorization': 'Bearer {MASK}'}}"),
        ("authorization: basic YWxpY2U6cHc=", f"authorization: basic {MASK}"),
        ("key sk-proj-AbCdEf0123456789 rejected", f"key sk-{MASK} rejected"),
        ("GET https://u:p@host:8080/v1 failed", f"GET https://{MASK}@host:8080/v1 failed"),
        ("https://medium.com/@writer/post", "https://medium.com/@writer/post"),  # no userinfo: unchanged
        ("a path /tmp/sk-ip/x.txt", "a path /tmp/sk-ip/x.txt"),  # too short to be a token
    ],
)
def test_redact_masks_tokens_and_url_passwords(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_registered_key_is_masked_wherever_it_appears_but_placeholders_are_not() -> None:
    register_secret("k3y-without-prefix-0042")
    register_secret("test")  # a placeholder key: masking it would garble "latest"
    assert redact("echo: k3y-without-prefix-0042.") == f"echo: {MASK}."
    assert redact("the latest test") == "the latest test"


def test_a_token_in_an_input_path_is_masked_in_stderr_and_errors_jsonl(fake: FakeOpenAI, tmp_path: Path) -> None:
    # Messages quoting an input path are redacted at the last step too: the CLI's stderr writer and
    # the runner's error rows, whatever wrote the message.
    gone = tmp_path / f"notes-{KEY}.txt"  # a key pasted into a file name; the file does not exist
    alone = factcheck(["run", str(gone), "--out", str(tmp_path / "out1")], env_for(tmp_path))
    assert alone.returncode == EXIT_NOTHING_RAN, alone.stderr
    assert KEY not in alone.stderr and f"notes-sk-{MASK}" in alone.stderr

    write_articles(tmp_path / "in", 1)
    out = tmp_path / "out2"
    beside = factcheck([*run_args(tmp_path / "in", out, fake.base_url, "--quiet"), str(gone)], env_for(tmp_path))
    assert beside.returncode == EXIT_SOME_FAILED, beside.stderr
    errors = (out / "errors.jsonl").read_text()
    assert KEY not in errors + beside.stderr and f"notes-sk-{MASK}" in errors


def test_a_key_in_the_base_urls_query_is_stored_nowhere(tmp_path: Path) -> None:
    """Issue 32: `--base-url …?api-key=…` (gateways that take the key in the URL) was written verbatim to
    run.json's endpoint and config and to stderr. Query values named like credentials are masked."""
    write_articles(tmp_path / "in", 1)
    dead = "http://127.0.0.1:9/v1?api-key=Query-Key-0123456789&deployment=fc&token=Tok-987654321"  # nobody answers
    done = factcheck(run_args(tmp_path / "in", tmp_path / "out", dead), env_for(tmp_path, FACTCHECK_MAX_ATTEMPTS="1"))
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    for text in (done.stderr, json.dumps(manifest)):
        assert "Query-Key-0123456789" not in text and "Tok-987654321" not in text, text
    assert manifest["endpoint"] == f"http://127.0.0.1:9/v1?api-key={MASK}&deployment=fc&token={MASK}"
    assert f"api-key={MASK}&deployment=fc" in done.stderr and "cannot connect" in done.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://gw.example/v1?key=abc123&x=1", f"https://gw.example/v1?key={MASK}&x=1"),
        ("https://gw.example/v1?x=1&access_token=t0k#frag", f"https://gw.example/v1?x=1&access_token={MASK}#frag"),
        ("https://gw.example/v1?client_secret=s3;sig=zz", f"https://gw.example/v1?client_secret={MASK};sig={MASK}"),
        ("https://gw.example/v1?page=2&lang=en", "https://gw.example/v1?page=2&lang=en"),
        ("the key=value pair in prose", "the key=value pair in prose"),
    ],
)
def test_query_values_named_like_credentials_are_masked(text: str, shown: str) -> None:
    assert redact(text) == shown
