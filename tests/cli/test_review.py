"""``factcheck review``: an operator's mistake with the port is one line with the fix, never an internal error."""

import socket
from pathlib import Path

from cli_process import env_for, factcheck
from review_fixtures import build_seed_run

from pipeline.cli import EXIT_NOTHING_RAN
from pipeline.cli._common import EXIT_ENVIRONMENT


def test_a_port_in_use_is_one_line_with_the_fix(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = factcheck(["review", str(run_dir), "--port", str(port)], env_for(tmp_path))
    assert done.returncode == EXIT_ENVIRONMENT, done.stderr
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use (another desk or program listens there); choose another --port, "
        "or --port 0 for any free one"
    )


def test_a_port_out_of_range_is_one_line_with_the_fix(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    for port in ("70000", "-1"):
        done = factcheck(["review", str(run_dir), "--port", port], env_for(tmp_path))
        assert done.returncode == EXIT_NOTHING_RAN, done.stderr
        fix = "give one from 1024 to 65535, or 0 for any free one"
        assert done.stderr.strip() == f"error: --port {port}: not a port; {fix}"
