"""The CLI in a real terminal (a pseudo-terminal): rich draws its live display there, which no piped
run does, so a fault that only shows with a progress bar on screen is caught here."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, factcheck_in_terminal, run_args
from recording import SEED

from pipeline.cli import EXIT_SOME_FAILED
from pipeline.testing.articles import marker, write_articles
from pipeline.testing.fake_openai import FakeOpenAI, Faults

KEY = "sk-live-" + "Tt93kLw0Pf3Rt7Yb5Nc2Vd9Q"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def test_a_failing_article_in_a_terminal_is_printed_once_and_the_run_finishes(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 9)
    fake.faults = Faults(server_error=1.0, max_faults_per_request=99, target=marker(4))  # no answer at all
    code, shown = factcheck_in_terminal(
        run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--no-cache"), env_for(tmp_path), timeout=60
    )
    assert code == EXIT_SOME_FAILED, shown[-2000:]
    assert shown.count("article-00004.txt: failed at") == 1, shown[-2000:]
    assert len(list((tmp_path / "out" / "articles").glob("*.json"))) == 8


def test_a_key_echoed_by_the_server_is_masked_on_the_terminal(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    fake.faults = Faults(echo_credentials=1.0, max_faults_per_request=99, target=marker(1))
    code, shown = factcheck_in_terminal(
        run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--no-cache"),
        env_for(tmp_path, OPENAI_API_KEY=KEY, FACTCHECK_MAX_ATTEMPTS="2"),
    )
    assert code == EXIT_SOME_FAILED, shown[-2000:]
    assert "article-00001.txt: failed" in shown and "Authorization: Bearer ***" in shown
    assert KEY not in shown and KEY[-12:] not in shown


def test_check_in_a_terminal(tmp_path: Path) -> None:
    code, shown = factcheck_in_terminal(
        ["check", "--no-llm", "--claim", "Elon Musk spoke with Vladimir Putin about Ukraine.", str(SEED)],
        env_for(tmp_path),
    )
    assert code == 0, shown[-2000:]
    assert "disputed" in shown or "unverified" in shown or "supported" in shown, shown[-2000:]


def test_stories_in_a_terminal(fake: FakeOpenAI, tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    ran = factcheck(
        run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--quiet", "--no-stories"), env_for(tmp_path)
    )
    assert ran.returncode == 0, ran.stderr
    code, shown = factcheck_in_terminal(["stories", str(tmp_path / "out")], env_for(tmp_path))
    assert code == 0, shown[-2000:]
    assert (tmp_path / "out" / "stories.jsonl").is_file()


def test_the_bar_counts_to_every_article_that_ends_a_bad_file_included(fake: FakeOpenAI, tmp_path: Path) -> None:
    """It showed "5/4" with two unreadable files among three articles and a copy: the bad file failed (finished)
    but was never counted in the total. A duplicate is neither."""
    write_articles(tmp_path / "in", 3)
    for name in ("empty.txt", "blank.txt"):
        (tmp_path / "in" / name).write_text("", encoding="utf-8")
    (tmp_path / "in" / "copy.txt").write_text((tmp_path / "in" / "article-00001.txt").read_text(encoding="utf-8"))
    code, shown = factcheck_in_terminal(
        run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--no-cache", "--no-stories"), env_for(tmp_path),
        timeout=60,
    )
    assert code == EXIT_SOME_FAILED, shown[-2000:]
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)  # the bar's colours and cursor moves off
    counts = re.findall(r"\b(\d+)/(\d+)\b", plain)
    assert counts and counts[-1] == ("5", "5"), shown[-2000:]
    assert all(int(done) <= int(total) for done, total in counts), counts
