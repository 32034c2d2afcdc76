"""``--verifier auto`` is the trained verifier on every backend; the LLM verifier only when asked for.

On a compatible backend (``--backend openai --base-url …``) auto used to pick the LLM's verify call,
which on held-out FNC-1 pairs scored below the trained model and on a small served model stated 0.5
whatever the stance (issue 31)."""

import json
from pathlib import Path

import pytest
from recording import SEEDS
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.testing.fake_openai import FakeOpenAI
from schemas import ArticleResult
from schemas.verdicts import ConfidenceBasis

runner = CliRunner()
VERIFY_TOOL = "VerdictsResponse"


@pytest.fixture(autouse=True)
def _private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("FACTCHECK_BACKEND", "FACTCHECK_CONFIG", "FACTCHECK_VERIFIER", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _run(tmp_path: Path, fake: FakeOpenAI, *extra: str) -> ArticleResult:
    out = tmp_path / "out"
    args = ["run", str(SEEDS / "council-stadium.txt"), "--out", str(out), "--no-stories", "--quiet",
            "--backend", "openai", "--base-url", fake.base_url, *extra]  # fmt: skip
    result = runner.invoke(app, args, env={"FACTCHECK_MAX_ATTEMPTS": "1", "FACTCHECK_API_KEY": "test"})
    assert result.exit_code == 0, result.output
    [path] = (out / "articles").glob("*.json")
    return ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))


def test_auto_on_a_compatible_backend_gives_the_trained_verifiers_verdicts(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        article = _run(tmp_path, fake)
        assert fake.stats.requests > 0  # the LLM was used (claims, denials) ...
        assert fake.stats.by_tool[VERIFY_TOOL] == 0  # ... but never asked for verdicts
    assert article.run.verifier == "trained"
    assert article.verdicts and all(v.confidence_basis is ConfidenceBasis.stance_model for v in article.verdicts)
    manifest = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "openai"


def test_the_llm_verifier_only_when_asked_for(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        article = _run(tmp_path, fake, "--verifier", "llm")
        assert fake.stats.by_tool[VERIFY_TOOL] > 0
    assert article.run.verifier == "llm"
