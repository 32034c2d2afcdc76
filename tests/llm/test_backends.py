"""A backend is one declared object: a toy backend declared in this file and nowhere else, once
registered through the call the built-ins use, is chosen by ``--backend`` or the settings, opened for
a run against the fake OpenAI server, priced, and named in run.json."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from recording import SEEDS
from typer.testing import CliRunner

from pipeline.cli import EXIT_NOTHING_RAN, app
from pipeline.llm.backends import backend_names, register_backend, unregister_backend
from pipeline.llm.client import LLM
from pipeline.llm.factory import backend_identity
from pipeline.llm.prices import price_for
from pipeline.settings import ModelPrice, Settings
from pipeline.testing.fake_openai import FakeOpenAI
from schemas import ArticleResult

runner = CliRunner()


class ToyHost:
    """A hosted OpenAI-compatible API with its own price list."""

    name = "toyhost"
    summary = "a hosted OpenAI-compatible API at --base-url"
    PRICE = ModelPrice(input=1.0, cached_input=0.5, output=2.0)

    @contextmanager
    def open(self, settings: Settings) -> Iterator[LLM]:
        yield LLM(backend=self.name, base_url=settings.base_url, api_key="toy-key", model=settings.model or "toy-1",
                  timeout=settings.timeout, max_attempts=settings.max_attempts)

    def price(self, model: str) -> ModelPrice | None:
        return self.PRICE if model.startswith("toy-") else None

    def identity(self, endpoint: str) -> str:
        return f"{self.name}:{endpoint}"

    def endpoint_label(self, endpoint: str) -> str:
        return f"toyhost via {endpoint}"


@pytest.fixture
def toyhost() -> Iterator[ToyHost]:
    backend = ToyHost()
    register_backend(backend)
    yield backend
    unregister_backend(backend.name)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("FACTCHECK_BACKEND", "FACTCHECK_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("chosen_by", ["--backend", "the config file"])
def test_a_backend_declared_here_runs_and_is_recorded_in_run_json(
    toyhost: ToyHost, tmp_path: Path, chosen_by: str
) -> None:
    out = tmp_path / "out"
    args = ["run", str(SEEDS / "council-stadium.txt"), "--out", str(out), "--no-stories", "--quiet"]
    env = {"FACTCHECK_MAX_ATTEMPTS": "1"}
    if chosen_by == "--backend":
        args += ["--backend", "toyhost"]
    else:
        (tmp_path / "factcheck.toml").write_text('backend = "toyhost"\n', encoding="utf-8")
        env["FACTCHECK_CONFIG"] = str(tmp_path / "factcheck.toml")
    with FakeOpenAI() as fake:
        result = runner.invoke(app, [*args, "--base-url", fake.base_url], env=env)
        assert result.exit_code == 0, result.output
        assert fake.stats.requests > 0
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (manifest["backend"], manifest["model"]) == ("toyhost", "toy-1")
    assert manifest["endpoint"] == f"toyhost via {fake.base_url}"
    assert manifest["cost"]["price_per_1m_tokens"] == ToyHost.PRICE.model_dump()
    assert manifest["cost"]["estimated_usd"] > 0
    [path] = (out / "articles").glob("*.json")
    article = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))
    # auto: the trained verifier on every backend
    assert article.run.backend == "toyhost" and article.run.verifier == "trained"


def test_prices_and_the_cache_identity_come_from_the_registered_backend(toyhost: ToyHost) -> None:
    assert price_for("toyhost", "toy-2") == ToyHost.PRICE
    mine = ModelPrice(input=9, output=9)
    assert price_for("toyhost", "toy-2", {"toy-2": mine}) == mine  # the user's [prices] come first
    assert price_for("toyhost", "other") is None
    assert backend_identity("toyhost", "http://127.0.0.1:9/v1") == "toyhost:http://127.0.0.1:9/v1"


def test_an_unknown_backend_is_refused_with_the_registered_ones(toyhost: ToyHost, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["run", str(SEEDS / "council-stadium.txt"), "--out", str(tmp_path / "out"), "--backend", "toyhos"]
    )
    assert result.exit_code == EXIT_NOTHING_RAN
    assert (
        "configuration: backend: unknown backend 'toyhos'; choose from embedded, openai, toyhost, auto"
        in result.output
    )
    assert not (tmp_path / "out").exists()


def test_a_name_is_registered_once(toyhost: ToyHost) -> None:
    for taken in ("toyhost", "openai", "auto"):
        clash = ToyHost()
        clash.name = taken
        with pytest.raises(ValueError, match="already registered"):
            register_backend(clash)
    assert backend_names() == ["embedded", "openai", "toyhost"]
