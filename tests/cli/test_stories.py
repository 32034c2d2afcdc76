"""``factcheck stories`` on a folder it cannot write: one line with the fix and exit 5, not a raw errno."""

from pathlib import Path

from cli_process import env_for, factcheck_bound_by_permissions
from review_fixtures import build_seed_run

from pipeline.cli._common import EXIT_ENVIRONMENT


def test_stories_on_a_read_only_output_folder_is_one_line_with_the_fix(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    run_dir.chmod(0o555)
    try:
        done = factcheck_bound_by_permissions(["stories", str(run_dir)], env_for(tmp_path))
    finally:
        run_dir.chmod(0o755)
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"error: {run_dir}/") and "\n" not in line  # the file it could not write: stories' own
    fix = "fix its permissions (see `ls -ld` of it and its folder) or choose another path"
    assert line.endswith(f": permission denied; {fix}")
    assert "Errno" not in done.stderr and not list(run_dir.glob(".*.tmp"))
