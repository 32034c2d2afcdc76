"""``factcheck`` as a user runs it: a subprocess with a clean environment, against a local server."""

import os
import subprocess
import sys
from pathlib import Path

FACTCHECK = [sys.executable, "-c", "from pipeline.cli import main; main()"]
ROOT = Path(__file__).resolve().parent.parent  # this checkout: its code is what runs, from any cwd


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No FACTCHECK_* or OPENAI_* from the caller; an empty config file; a private cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    config = tmp_path / "factcheck-empty.toml"
    config.touch()
    env.update(
        FACTCHECK_CONFIG=str(config), FACTCHECK_CACHE_DIR=str(tmp_path / "cache"),
        FACTCHECK_TIMEOUT="0.5", FACTCHECK_MAX_ATTEMPTS="4", OPENAI_API_KEY="test", PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def factcheck(
    args: list[str], env: dict[str, str], *, before: str = "", **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """``before``: Python run in the process before the CLI starts (e.g. to hide an installed module)."""
    command = [sys.executable, "-c", f"{before}\nfrom pipeline.cli import main; main()"] if before else FACTCHECK
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def factcheck_bound_by_permissions(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The CLI as a user whom file permissions bind: as root, without the capability to override them."""
    import shutil

    import pytest

    command = [*FACTCHECK, *args]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, needs setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def run_args(inputs: Path, out: Path, base_url: str, *more: str) -> list[str]:
    # the LLM verifier too (auto is the trained one): these runs count claims and verify calls
    return [
        "run", str(inputs), "--out", str(out), "--base-url", base_url, "--model", "gpt-4o-mini",
        "--verifier", "llm", *more,
    ]


def factcheck_in_terminal(args: list[str], env: dict[str, str], *, timeout: float = 60) -> tuple[int | None, str]:
    """``factcheck`` with a pseudo-terminal for stdin, stdout and stderr, as a person runs it: rich
    then draws its live progress bar, which no piped run does. Returns (exit code, everything the
    terminal showed); the exit code is None when the process had to be killed at ``timeout``."""
    import os
    import pty
    import select
    import time

    leader, follower = pty.openpty()
    process = subprocess.Popen([*FACTCHECK, *args], env={**env, "TERM": "xterm-256color", "COLUMNS": "120"},
                               stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    chunk = b""
                if not chunk and process.poll() is not None:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
        code = process.poll()
        if code is None:
            process.kill()
            process.wait()
        return code, shown.decode("utf-8", errors="replace")
    finally:
        os.close(leader)
