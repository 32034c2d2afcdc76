"""Issue 24, finding 3: symlinked folders inside an input folder are read, each real folder once;
a loop, a second link to a folder and an unreadable or dangling entry are named in skipped.txt
and on stderr, and the run exits 3 (they were skipped in silence, exit 0)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli._common import EXIT_SOME_FAILED
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.002) as server:
        yield server


def test_a_symlinked_folder_is_read(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    write_articles(tmp_path / "other3", 3, start=10)
    os.symlink("../other3", inputs / "more")
    out = tmp_path / "out"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "5 analysed" in done.stderr
    assert len(list((out / "articles").glob("*.json"))) == 5


def test_a_folder_loop_and_a_second_link_are_named_and_exit_3(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    write_articles(tmp_path / "other3", 3, start=10)
    os.symlink(".", inputs / "loop")  # the folder itself
    (inputs / "sub").mkdir()
    os.symlink("..", inputs / "sub" / "up")  # its parent
    os.symlink("../other3", inputs / "more")
    os.symlink("../../other3", inputs / "sub" / "again")  # the same real folder by another path
    os.symlink("/nonexistent/mount", inputs / "archive")  # a folder not mounted
    out = tmp_path / "out"
    done = factcheck(run_args(inputs, out, fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "5 analysed" in done.stderr and "0 failed" in done.stderr  # each real article once
    skipped = (out / "skipped.txt").read_text()
    for name in ("loop", "up", "archive"):
        assert name in skipped, skipped
    assert "a folder loop" in skipped and "a second path to it" in skipped and "dangling symbolic link" in skipped
    for line in skipped.splitlines():
        assert line in done.stderr  # named on stderr too
    assert json.loads((out / "run.json").read_text())["counts"]["skipped_faults"] == 4


def test_other_file_types_still_do_not_change_the_exit_code(fake: FakeOpenAI, tmp_path: Path) -> None:
    """A picture beside the articles is not a fault (a nightly run would always exit 3)."""
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    (inputs / "photo.jpg").write_bytes(b"\xff\xd8")
    done = factcheck(run_args(inputs, tmp_path / "out", fake.base_url, "--quiet"), env_for(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "photo.jpg: skipped" in done.stderr
