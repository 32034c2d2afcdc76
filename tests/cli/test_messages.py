"""Messages are plain text: paths and hints with square brackets are printed as they are, never
parsed as Rich markup (which raised MarkupError on "[/red]" and swallowed "[bold]")."""

from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli import EXIT_NOTHING_RAN
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI


@pytest.mark.parametrize("name", ["notes[/red]", "a [bold]b[/bold]", "x[link=javascript:alert(1)]y"])
def test_a_path_with_brackets_is_printed_verbatim(tmp_path: Path, name: str) -> None:
    missing = tmp_path / name / "gone.txt"
    done = factcheck(["run", str(missing), "--out", str(tmp_path / "out")], env_for(tmp_path))
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    assert done.stderr.strip() == f"error: {missing}: no such file or folder"


def test_a_hint_with_brackets_keeps_them(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 1)
    with FakeOpenAI() as fake:
        args = run_args(tmp_path / "in", tmp_path / "out", fake.base_url, "--budget", "1", "--model", "my-model")
        done = factcheck(args, env_for(tmp_path))  # the later --model wins
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    assert '[prices."my-model"]' in done.stderr
    assert "Traceback" not in done.stderr
