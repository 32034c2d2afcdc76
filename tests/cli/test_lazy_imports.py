"""The paths that call no model must not load the openai SDK or instructor (issue 11: about
0.65 s of ``check --no-llm``'s start went to importing them), and judging with the stance model
must not load scikit-learn, scipy or joblib (another 0.7 s: it runs as ONNX with onnxruntime)."""

import json
import subprocess
import sys
from pathlib import Path

from cli_process import ROOT, env_for, factcheck

SEED = ROOT / "seeds" / "musk-putin-bremmer.txt"
SDKS = ("openai", "instructor")
TRAINING = ("sklearn", "scipy", "joblib", "threadpoolctl", "skl2onnx", "onnx")  # training and export only
REPORT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('LOADED', [m for m in %r if m in sys.modules], file=sys.stderr))\n"
    % (SDKS + TRAINING,)
)


def test_starting_the_cli_loads_no_sdk_and_no_model(tmp_path: Path) -> None:
    code = (
        "import sys\nimport pipeline.cli\n"
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('openai', 'instructor', 'numpy', 'sklearn', 'onnxruntime')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env_for(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_check_no_llm_answers_without_the_openai_sdk_or_scikit_learn(tmp_path: Path) -> None:
    claim = "Elon Musk spoke with Vladimir Putin about Ukraine"
    done = factcheck(
        ["check", "--no-llm", "--verifier", "trained", "--claim", claim, str(SEED)], env_for(tmp_path), before=REPORT
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["verdict"]["verdict"]
    assert "LOADED []" in done.stderr, done.stderr


def test_judging_with_the_stance_model_loads_no_training_library(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from pipeline.stance.features import DENSE_NAMES\n"
        "from pipeline.stance.model import load\n"
        "rows = load().distribution(np.zeros((2, len(DENSE_NAMES)), dtype=np.float32))\n"
        "assert len(rows) == 2 and all(abs(sum(r.values()) - 1) < 1e-6 for r in rows)\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {TRAINING!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env_for(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_run_no_llm_loads_no_sdk_and_no_training_library(tmp_path: Path) -> None:
    done = factcheck(
        ["run", str(SEED), "--out", str(tmp_path / "out"), "--no-llm", "--quiet"], env_for(tmp_path), before=REPORT
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stderr, done.stderr
