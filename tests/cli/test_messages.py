"""Messages are plain text: paths and hints with square brackets are printed as they are, never
parsed as Rich markup (which raised MarkupError on "[/red]" and swallowed "[bold]")."""

from pathlib import Path

import pytest
from cli_process import env_for, factcheck, run_args

from pipeline.cli import EXIT_NOTHING_RAN, EXIT_SOME_FAILED
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


FORGED = "e\nFAKE LINE: 99 analysed, 0 failed"


def test_a_newline_or_an_esc_byte_in_a_file_name_forges_no_line(tmp_path: Path) -> None:
    """Each name is one line on stderr and in skipped.txt, its control characters escaped as errors.jsonl
    writes them; no raw ESC reaches the terminal. A name with a newline printed a second, fake summary line."""
    inputs = tmp_path / "in"
    write_articles(inputs, 1)
    (inputs / f"{FORGED}.txt").write_text("")  # fails: empty
    (inputs / "esc\x1b[31mred.pdf").write_bytes(b"%PDF")  # skipped: not an article type
    (inputs / f"{FORGED}.pdf").write_bytes(b"%PDF")
    out = tmp_path / "out"
    done = factcheck(["run", str(inputs), "--out", str(out), "--no-llm"], env_for(tmp_path))
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    assert "\x1b" not in done.stderr
    assert not any(line.startswith("FAKE LINE") for line in done.stderr.splitlines()), done.stderr
    assert f"{inputs}/e\\nFAKE LINE: 99 analysed, 0 failed.txt: failed at ingest" in done.stderr
    assert f"{inputs}/esc\\u001b[31mred.pdf: skipped" in done.stderr
    skipped = (out / "skipped.txt").read_text().splitlines()
    assert sorted(skipped) == sorted([
        f"{inputs}/esc\\u001b[31mred.pdf: skipped (not an article file type)",
        f"{inputs}/e\\nFAKE LINE: 99 analysed, 0 failed.pdf: skipped (not an article file type)",
    ])


def test_an_error_line_escapes_control_characters_in_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "gone\x1b]0;owned\x07\nerror: forged.txt"
    done = factcheck(["run", str(missing), "--out", str(tmp_path / "out")], env_for(tmp_path))
    assert done.returncode == EXIT_NOTHING_RAN, done.stderr
    shown = f"{tmp_path}/gone\\u001b]0;owned\\u0007\\nerror: forged.txt"
    assert done.stderr.strip() == f"error: {shown}: no such file or folder"
