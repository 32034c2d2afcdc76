"""``run --engine`` and ``--shard`` as a user meets them without Ray installed: one line, no traceback."""

import subprocess
import sys
from pathlib import Path

from cli_process import FACTCHECK, env_for

from pipeline.testing.articles import write_articles


def test_without_ray_the_engine_is_one_line_and_exit_1(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 1)
    hide = "import sys; sys.modules['ray'] = None"
    done = subprocess.run([sys.executable, "-c", f"{hide}\nfrom pipeline.cli import main; main()", "run", str(inputs),
                           "--out", str(tmp_path / "out"), "--no-llm", "--engine", "ray"],
                          env=env_for(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "--engine ray needs Ray" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "articles").exists()


def test_ray_options_without_the_ray_engine_and_a_bad_share_are_refused_in_one_line(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 1)
    base = [*FACTCHECK, "run", str(inputs), "--out", str(tmp_path / "out"), "--no-llm"]
    for extra, message in ((["--address", "auto"], "are for --engine ray"),
                           (["--engine", "spark"], "choose local or ray"),
                           (["--shard", "3/2"], "i must be between 1 and N"), (["--shard", "x"], "give i/N")):
        done = subprocess.run([*base, *extra], env=env_for(tmp_path), capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, (extra, done.stderr)
    assert not (tmp_path / "out" / "articles").exists()
