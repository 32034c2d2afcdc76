"""Configuration precedence: flags > environment > config file > defaults; secrets stay secret."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.settings import Settings, describe_error


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FACTCHECK_BACKEND", "FACTCHECK_MODEL", "FACTCHECK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_pick_the_embedded_model() -> None:
    settings = Settings()
    assert settings.resolved_backend() == "embedded"
    assert settings.embedded_model == "qwen2.5-coder-1.5b-instruct-q4_k_m"


def test_config_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "factcheck.toml").write_text(
        'model = "from-file"\nbase_url = "http://localhost:11434/v1"\nmax_claims = 5\n'
    )
    assert Settings().model == "from-file"
    assert Settings().resolved_backend() == "openai"  # a base URL means an OpenAI-compatible server
    monkeypatch.setenv("FACTCHECK_MODEL", "from-env")
    assert Settings().model == "from-env"
    assert Settings(model="from-flag").model == "from-flag"
    assert Settings().max_claims == 5


def test_openai_key_from_the_environment_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefghijklmnop")
    settings = Settings()
    assert settings.resolved_backend() == "openai"
    assert "sk-test" not in repr(settings) and "sk-test" not in settings.model_dump_json()


def test_config_file_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "desk.toml"
    config.write_text('backend = "embedded"\nembedded_model = "qwen2.5-coder-0.5b-instruct-q4_k_m"\n')
    monkeypatch.setenv("FACTCHECK_CONFIG", str(config))
    assert Settings().embedded_model == "qwen2.5-coder-0.5b-instruct-q4_k_m"


def test_an_unknown_key_in_the_config_file_is_an_error_with_a_guess(tmp_path: Path) -> None:
    (tmp_path / "factcheck.toml").write_text("budget = 1\n")  # the setting is budget_usd
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_error(caught.value) == "factcheck.toml: unknown setting 'budget'; did you mean 'budget_usd'?"


def test_a_missing_config_file_named_by_the_environment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ValueError, match="typo.toml: config file named by FACTCHECK_CONFIG not found"):
        Settings()


def test_config_errors_are_one_line_from_the_cli(tmp_path: Path) -> None:
    from cli_process import env_for, factcheck

    env = env_for(tmp_path)
    Path(env["FACTCHECK_CONFIG"]).write_text("budget = 1\n")
    done = factcheck(["run", str(tmp_path), "--out", str(tmp_path / "out")], env)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: configuration: {env['FACTCHECK_CONFIG']}: unknown setting 'budget'; did you mean 'budget_usd'?"
    )
    missing = factcheck(
        ["run", str(tmp_path), "--out", str(tmp_path / "out")], {**env, "FACTCHECK_CONFIG": "nope.toml"}
    )
    assert missing.stderr.strip() == "error: configuration: nope.toml: config file named by FACTCHECK_CONFIG not found"


def test_an_unknown_key_inside_a_price_table_is_an_error_with_a_guess(tmp_path: Path) -> None:
    """Issue 24, finding 4: keys at every depth, not only the top level."""
    (tmp_path / "factcheck.toml").write_text('[prices."my-model"]\ninput = 1\noutput = 2\ncached_inptu = 99\n')
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_error(caught.value) == (
        "factcheck.toml: unknown setting 'prices.my-model.cached_inptu'; did you mean 'cached_input'?"
    )


def test_an_unknown_factcheck_variable_is_an_error_with_a_guess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_BUDGET", "0.0001")  # the setting is budget_usd
    with pytest.raises(
        ValueError, match="environment variable FACTCHECK_BUDGET: no such setting; did you mean FACTCHECK_BUDGET_USD"
    ):
        Settings()
    monkeypatch.delenv("FACTCHECK_BUDGET")
    monkeypatch.setenv("FACTCHECK_BUDGET_USD", "0.5")  # the real ones, and the CLI's own, pass
    monkeypatch.setenv("FACTCHECK_DEBUG", "1")
    assert Settings().budget_usd == 0.5


def test_an_unknown_variable_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    from cli_process import env_for, factcheck

    (tmp_path / "a.txt").write_text("Officials said the bridge will open.\n")
    done = factcheck(
        ["run", str(tmp_path / "a.txt"), "--out", str(tmp_path / "out")], env_for(tmp_path, FACTCHECK_BUDGET="0.0001")
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        "error: configuration: environment variable FACTCHECK_BUDGET: no such setting; "
        "did you mean FACTCHECK_BUDGET_USD?"
    )
