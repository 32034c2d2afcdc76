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


def factcheck(args: list[str], env: dict[str, str], *, before: str = "", **kwargs: object) -> subprocess.CompletedProcess[str]:
    """``before``: Python run in the process before the CLI starts (e.g. to hide an installed module)."""
    command = [sys.executable, "-c", f"{before}\nfrom pipeline.cli import main; main()"] if before else FACTCHECK
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def run_args(inputs: Path, out: Path, base_url: str, *more: str) -> list[str]:
    return ["run", str(inputs), "--out", str(out), "--base-url", base_url, "--model", "gpt-4o-mini", *more]
