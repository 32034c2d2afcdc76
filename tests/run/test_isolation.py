"""One bad input never stops the rest, and nothing is dropped silently: every unreadable entry,
bad file and missing path is one line in errors.jsonl and on stderr, and the run exits 3."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli import EXIT_NOTHING_RAN, EXIT_SOME_FAILED
from pipeline.run.output import load_result
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def errors_of(out: Path) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    return {Path(str(row["source"])).name: row for row in rows}


def assert_no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "File \"" not in stderr, stderr


def test_a_symlink_loop_is_reported_and_every_other_article_is_analysed(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 8)
    os.symlink("zz.txt", inputs / "zz.txt")  # a link to itself: reading it fails with ELOOP
    os.symlink("nowhere.txt", inputs / "dangling.txt")
    out = tmp_path / "out"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "8 analysed" in done.stderr and "2 failed" in done.stderr
    assert len(list((out / "articles").glob("*.json"))) == 8
    errors = errors_of(out)
    assert set(errors) == {"zz.txt", "dangling.txt"}
    assert "zz.txt: cannot read" in str(errors["zz.txt"]["reason"])
    assert "zz.txt: failed" in done.stderr
    assert_no_traceback(done.stderr)


def test_json_nested_past_the_recursion_limit_fails_only_its_file(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 3)
    (inputs / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (inputs / "deep.jsonl").write_text('{"text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    out = tmp_path / "out"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "3 analysed" in done.stderr
    assert set(errors_of(out)) == {"deep.json", "deep.jsonl:1"}  # a JSONL line fails alone, named by number
    assert "deep.jsonl:1: invalid JSON" in str(errors_of(out)["deep.jsonl:1"]["reason"])
    assert "nested too deeply" in str(errors_of(out)["deep.json"]["reason"])
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    assert_no_traceback(done.stderr)
    assert len(done.stderr.splitlines()) <= 4, done.stderr


def test_an_html_file_without_the_html_reader_fails_only_its_file(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    (inputs / "page.html").write_text("<html><body><p>Some news.</p></body></html>")
    out = tmp_path / "out"
    hide = "import sys; sys.modules['trafilatura'] = None  # as on an install without it"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path), before=hide)
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "2 analysed" in done.stderr
    assert "HTML reader is not installed" in str(errors_of(out)["page.html"]["reason"])
    assert_no_traceback(done.stderr)


def test_a_reader_that_crashes_fails_only_its_file(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    (inputs / "page.html").write_text("<html><body><p>Some news.</p></body></html>")
    out = tmp_path / "out"
    # The HTML library itself failing on a file, with an error nobody anticipated.
    crash = "import trafilatura\ndef extract(*a, **k): raise KeyError('lxml node')\ntrafilatura.extract = extract"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path), before=crash)
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "2 analysed" in done.stderr
    reason = str(errors_of(out)["page.html"]["reason"])
    assert "page.html: cannot read as an article (KeyError" in reason
    assert_no_traceback(done.stderr)


def test_a_missing_input_beside_good_ones_exits_3(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 2)
    out = tmp_path / "out"
    args = run_args(tmp_path / "in", out, fake.base_url, "--quiet")
    done = factcheck([*args, str(tmp_path / "gone.txt")], env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "gone.txt: no such file or folder" in done.stderr
    assert errors_of(out)["gone.txt"]["stage"] == "input"


def test_an_endpoint_nobody_listens_on_stops_the_run_with_one_line(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 12)
    out = tmp_path / "out"
    dead = "http://127.0.0.1:9/v1"  # the discard port: connection refused
    done = factcheck(
        run_args(tmp_path / "in", out, dead, "--concurrency", "2"), env_for(tmp_path, FACTCHECK_MAX_ATTEMPTS="2")
    )
    assert done.returncode == EXIT_NOTHING_RAN
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {dead}: cannot connect")
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["status"] == "failed" and "cannot connect" in manifest["errors"]["run_stopped_by"]
    assert not (out / "errors.jsonl").exists()  # not twelve article failures: one run failure


def test_a_rejected_key_stops_the_run_with_one_line_and_a_true_hint(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 12)
    fake.faults = Faults(unauthorized=1.0, max_faults_per_request=99)
    try:
        done = factcheck(run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--quiet"), env_for(tmp_path))
    finally:
        fake.faults = Faults()
    assert done.returncode == EXIT_NOTHING_RAN
    [line] = done.stderr.splitlines()
    assert "API key rejected (HTTP 401)" in line and "OPENAI_API_KEY" in line
    assert "--api-key" not in line  # no such flag
    assert fake.stats.faults["unauthorized"] <= 2 * 4 - 1  # articles in flight at most, not all twelve


def test_an_input_over_max_chars_fails_with_an_estimate_of_calls_and_cost(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    long_text = " ".join(f"Sentence number {i} of a very long report says little." for i in range(600))  # ~32k chars
    (inputs / "huge.txt").write_text(long_text)
    out = tmp_path / "out"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet", "--max-chars", "20000"), env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    reason = str(errors_of(out)["huge.txt"]["reason"])
    assert f"{len(long_text):,} characters is over max_chars (20,000)" in reason
    assert "about 6 LLM calls, ~$0.0" in reason and "--max-chars" in reason  # 3 windows of 12,000: claims, verify
    assert "2 analysed" in done.stderr

    raised = factcheck(run_args(inputs, out, fake.base_url, "--quiet", "--max-chars", "40000"), env_for(tmp_path))
    assert raised.returncode == 0, raised.stderr
    assert "1 analysed, 2 already done" in raised.stderr


def test_a_damaged_result_file_is_reported_and_the_article_redone(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 4)
    out = tmp_path / "out"
    first = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert first.returncode == 0, first.stderr
    truncated, corrupt, *_ = sorted((out / "articles").glob("*.json"))
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])  # a crash mid-copy
    corrupt.write_text('{"article": "not a result"}')
    again = factcheck(run_args(tmp_path / "in", out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "2 analysed, 2 already done" in again.stderr
    for damaged in (truncated, corrupt):
        assert f"{damaged}: earlier result unreadable" in again.stderr
    assert all(load_result(path) is not None for path in (truncated, corrupt))
    assert json.loads((out / "run.json").read_text())["counts"]["damaged_results_redone"] == 2


def test_bad_jsonl_lines_are_each_named_and_every_later_line_is_still_analysed(tmp_path: Path) -> None:
    """A broken line, a lone surrogate escape and bytes that are not UTF-8 each fail their own line
    (named by number, in errors.jsonl and run.json); lines after them are analysed. It dropped them all."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    lines = [
        b'{"text": "The mayor said line one is fine in 3 weeks."}',
        b"{broken json",
        b'{"text": "The council said line three is fine in 4 weeks."}',
        b'{"text": "A lone \\ud800 escape, said line four."}',
        b'{"text": "Police said line five is fine in 5 weeks."}',
        b'{"text": "Not UTF-8: \xff said line six."}',
        b'{"text": "The governor said line seven is fine in 6 weeks."}',
    ]
    (inputs / "x.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    done = factcheck(["run", str(inputs), "--out", str(out), "--no-llm", "--quiet"], env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "4 analysed" in done.stderr and "3 failed" in done.stderr
    sources = {load_result(p).article.source for p in (out / "articles").glob("*.json")}  # type: ignore[union-attr]
    assert sources == {f"{inputs / 'x.jsonl'}:{n}" for n in (1, 3, 5, 7)}
    rows = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [row["source"] for row in rows] == [f"{inputs / 'x.jsonl'}:{n}" for n in (2, 4, 6)]
    for n in (2, 4, 6):
        assert f"x.jsonl:{n}: " in done.stderr
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["bad_lines"] == [f"{inputs / 'x.jsonl'}:{n}" for n in (2, 4, 6)]
    assert manifest["counts"]["bad_lines"] == 3 and manifest["counts"]["done"] == 4
    assert_no_traceback(done.stderr)


# Run before the CLI in its process: its own peak RSS, in KiB, as the last stderr line. VmHWM, not
# getrusage's ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child of a big pytest
# process reported pytest's size.
REPORT_PEAK_RSS = (
    "import atexit, re, sys\n"
    "def _peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    sys.stderr.write('peak_rss_kib=' + re.search(r'VmHWM:\\s*(\\d+)', status).group(1) + '\\n')\n"
    "atexit.register(_peak)"
)


def peak_rss_mib(stderr: str) -> float:
    return int(stderr.rsplit("peak_rss_kib=", 1)[1].split()[0]) / 1024


def _two_gb_line_between(path: Path, first: bytes, last: bytes) -> None:
    """A JSONL file whose second line is 2 GB (sparse: text, then NUL bytes past the sniffed start)."""
    with open(path, "wb") as f:
        f.write(first + b'{"text": "' + b"words " * 2000)
        f.seek((2 << 30) - 100)
        f.write(b'"}\n' + last)


def test_a_2_gb_file_is_refused_unread_with_little_memory(tmp_path: Path) -> None:
    """A sparse 2 GB file (all NUL: binary), a 2 GB text file (over what max_chars can hold) and a 2 GB
    JSONL line are each refused before they are read; the process peaks under 200 MB (the stance model
    loaded, no article analysed). It read them whole: 2.25 GB."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    with open(inputs / "zeros.txt", "wb") as f:
        f.truncate(2 << 30)
    with open(inputs / "text.md", "wb") as f:
        f.write(b"The mayor said the bridge opens in three weeks. " * 200)  # past the sniffed bytes: text
        f.truncate(2 << 30)
    _two_gb_line_between(inputs / "lines.jsonl", b"", b"")
    out = tmp_path / "out"
    args = ["run", str(inputs), "--out", str(out), "--no-llm", "--quiet"]
    done = factcheck(args, env_for(tmp_path), before=REPORT_PEAK_RSS)
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    assert "0 analysed" in done.stderr and "3 failed" in done.stderr
    rows = map(json.loads, (out / "errors.jsonl").read_text().splitlines())
    errors = {str(row["source"]).rsplit("/", 1)[1]: str(row["reason"]) for row in rows}
    assert set(errors) == {"zeros.txt", "text.md", "lines.jsonl:1"}
    assert "binary file, not text" in errors["zeros.txt"]
    too_big = "2,147,483,648 bytes, too big for an article of max_chars (200,000 characters); not read"
    assert too_big in errors["text.md"]
    assert "--max-chars" in errors["text.md"] and "too big" in errors["lines.jsonl:1"]
    assert peak_rss_mib(done.stderr) < 200, done.stderr


def test_a_2_gb_jsonl_line_fails_alone_and_the_next_line_is_analysed(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    _two_gb_line_between(
        inputs / "lines.jsonl", b'{"text": "The mayor said line one is fine in 3 weeks."}\n',
        b'{"text": "The council said line three is fine in 4 weeks."}\n',
    )
    out = tmp_path / "out"
    done = factcheck(["run", str(inputs), "--out", str(out), "--no-llm", "--quiet"], env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "2 analysed" in done.stderr and "1 failed" in done.stderr
    assert "lines.jsonl:2: 2,147,483," in str(errors_of(out)["lines.jsonl:2"]["reason"])
    assert json.loads((out / "run.json").read_text())["bad_lines"] == [f"{inputs / 'lines.jsonl'}:2"]


def test_the_max_chars_message_of_a_run_without_llm_promises_no_llm_calls(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 1)
    (inputs / "long.txt").write_text("The mayor said the bridge opens in three weeks. " * 100)
    out = tmp_path / "out"
    done = factcheck(["run", str(inputs), "--out", str(out), "--no-llm", "--max-chars", "3000"], env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    reason = str(errors_of(out)["long.txt"]["reason"])
    assert "4,800 characters is over max_chars (3,000)" in reason and "--max-chars" in reason
    assert "LLM" not in reason and "LLM calls" not in done.stderr.split(" analysed")[0]
