"""Issue 24, finding 3: symlinked folders inside an input folder are read, each real folder once;
a loop, a second link to a folder and an unreadable or dangling entry are named in skipped.txt
and on stderr, and the run exits 3 (they were skipped in silence, exit 0)."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli._common import EXIT_NOTHING_RAN, EXIT_SOME_FAILED
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


def no_llm_run(inputs: list[Path], out: Path, tmp_path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return factcheck(["run", *map(str, inputs), "--out", str(out), "--no-llm", "--quiet", *more], env_for(tmp_path))


def test_a_fifo_given_or_found_is_named_never_read(tmp_path: Path) -> None:
    """Issue 32: a FIFO named as an input was dropped in silence, exit 0 (and reading one waits for a writer)."""
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    os.mkfifo(inputs / "feed.txt")
    given = tmp_path / "given.jsonl"
    os.mkfifo(given)
    out = tmp_path / "out"
    done = no_llm_run([inputs, given], out, tmp_path)
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "2 analysed" in done.stderr
    assert f"{given}: not a regular file (a FIFO (named pipe)); give files or folders" in done.stderr
    skipped = (out / "skipped.txt").read_text()
    assert f"{inputs / 'feed.txt'}: skipped (not a regular file: a FIFO (named pipe))" in skipped
    alone = no_llm_run([given], tmp_path / "out2", tmp_path)
    assert alone.returncode == EXIT_NOTHING_RAN and "not a regular file (a FIFO" in alone.stderr, alone.stderr


def test_hidden_folders_are_skipped_like_hidden_files(tmp_path: Path) -> None:
    """Issue 32: `.git/`, `.drafts/` were walked while `.notes.txt` was ignored."""
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    write_articles(inputs / ".drafts", 3, start=10)
    write_articles(inputs / "sub" / ".cache", 1, start=20)
    (inputs / ".hidden.txt").write_text("The mayor said the hidden file is never read.")
    out = tmp_path / "out"
    done = no_llm_run([inputs], out, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 analysed" in done.stderr


def test_a_symlinked_file_pointing_outside_the_input_folder_is_named_and_not_read(tmp_path: Path) -> None:
    """Issue 32: `notes.txt -> /etc/passwd` was read and its text stored in the result. A link within the
    folder is read; one outside it only with --follow-symlinks."""
    inputs = tmp_path / "in"
    write_articles(inputs, 1)
    secret = tmp_path / "private" / "passwords.txt"
    secret.parent.mkdir()
    secret.write_text("The admin said the root password is hunter2 and will change in 3 weeks.")
    os.symlink(secret, inputs / "notes.txt")
    (inputs / "sub").mkdir()
    os.symlink("../article-00000.txt", inputs / "sub" / "same.txt")  # inside the folder: read (a duplicate)
    out = tmp_path / "out"
    done = no_llm_run([inputs], out, tmp_path)
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "1 analysed" in done.stderr
    line = f"{inputs / 'notes.txt'}: skipped (a link to {secret}, outside {inputs}; --follow-symlinks reads it)"
    assert line in done.stderr and line in (out / "skipped.txt").read_text()
    assert "same text as" in (out / "skipped.txt").read_text()  # the link inside was read
    assert not any("hunter2" in p.read_text() for p in (out / "articles").glob("*.json"))
    followed = no_llm_run([inputs], tmp_path / "out2", tmp_path, "--follow-symlinks")
    assert followed.returncode == 0, followed.stderr
    assert "2 analysed" in followed.stderr


def test_a_folder_of_links_outside_it_says_why_it_has_no_articles(tmp_path: Path) -> None:
    """Only links to files elsewhere (a bench linking a dataset in place): "no article files found"
    alone hid why; the error names the link and the flag that reads it."""
    elsewhere = tmp_path / "data"
    write_articles(elsewhere, 2)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in sorted(elsewhere.iterdir()):
        os.symlink(path, inputs / path.name)
    done = no_llm_run([inputs], tmp_path / "out", tmp_path)
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert "no article files found" in line and "--follow-symlinks reads it" in line and "article-00000.txt" in line
    assert not (tmp_path / "out" / "articles").exists()
    followed = no_llm_run([inputs], tmp_path / "out", tmp_path, "--follow-symlinks")
    assert followed.returncode == 0 and "2 analysed" in followed.stderr
