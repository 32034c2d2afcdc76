"""Configuration: CLI flags > environment (FACTCHECK_*, OPENAI_*) > config file > defaults."""

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from schemas.result import Verifier

VerifierChoice = Literal["auto", Verifier]


class ModelPrice(BaseModel):
    """USD per 1M tokens."""

    model_config = ConfigDict(extra="forbid")  # `cached_inptu = 0.1` in a price table is an error, not ignored

    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0, description="Defaults to the input price.")
    output: float = Field(ge=0)

    def cost(self, prompt: int, cached: int, completion: int) -> float:
        cached_price = self.input if self.cached_input is None else self.cached_input
        return ((prompt - cached) * self.input + cached * cached_price + completion * self.output) / 1_000_000


def config_file() -> Path:
    """``$FACTCHECK_CONFIG``, which must exist (a typo must not silently mean "no settings"),
    else ``./factcheck.toml`` if there is one."""
    named = os.environ.get("FACTCHECK_CONFIG")
    if named is not None and not Path(named).is_file():
        raise ValueError(f"{named}: config file named by FACTCHECK_CONFIG not found")
    return Path(named or "factcheck.toml")


def describe_error(error: ValidationError) -> str:
    """The first problem of a configuration, in one line naming the setting (and where it came from
    when it is unknown: a misspelt key, e.g. ``budget`` for ``budget_usd``, must not be ignored)."""
    first = error.errors()[0]
    where = ".".join(map(str, first["loc"]))
    if first["type"] == "extra_forbidden":
        key = str(first["loc"][-1])
        # A key inside a table (`[prices."model"]`) is guessed among that table's keys.
        known = (
            ModelPrice.model_fields if len(first["loc"]) > 1 and first["loc"][0] == "prices" else Settings.model_fields
        )
        guess = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        return f"{config_file()}: unknown setting {where!r}{hint}"
    return f"{where}: {first['msg']}"


# FACTCHECK_* variables that are no setting: read by the CLI (DEBUG), this module (CONFIG) and the
# test suite's recorder (RECORD_MODEL).
OTHER_VARIABLES = frozenset({"FACTCHECK_CONFIG", "FACTCHECK_DEBUG", "FACTCHECK_RECORD_MODEL"})


def check_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Every FACTCHECK_* variable is a setting or one of OTHER_VARIABLES: ``FACTCHECK_BUDGET=1``
    (the setting is budget_usd) must not mean "no budget" in silence."""
    known = {f"FACTCHECK_{name.upper()}" for name in Settings.model_fields} | OTHER_VARIABLES
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith("FACTCHECK_") and upper not in known:
            guess = difflib.get_close_matches(upper, known, n=1, cutoff=0.5)
            hint = f"; did you mean {guess[0]}?" if guess else ""
            raise ValueError(f"environment variable {name}: no such setting{hint}")


class Settings(BaseSettings):
    # extra="forbid": an unknown key in the config file is an error (environment variables are
    # read by field name only, so FACTCHECK_CONFIG and the like are unaffected).
    model_config = SettingsConfigDict(env_prefix="FACTCHECK_", extra="forbid", populate_by_name=True)

    # Any name here: the backends' registry (pipeline.llm.backends, a layer above) refuses an unknown one.
    backend: str = Field(
        default="auto",
        description="embedded (local model, no key), openai (OpenAI or any OpenAI-compatible base URL), another "
        "registered backend, or auto: openai when a base URL or API key is configured, else embedded.",
    )
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("base_url", "FACTCHECK_BASE_URL", "OPENAI_BASE_URL")
    )
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "FACTCHECK_API_KEY", "OPENAI_API_KEY")
    )
    model: str | None = Field(default=None, description="Model name for the openai backend (default gpt-4o-mini).")
    embedded_model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"
    temperature: float = 0.0
    timeout: float = Field(default=600.0, description="Seconds per HTTP request.")
    max_attempts: int = Field(default=5, ge=1, description="Attempts per call on 429, 5xx, timeouts (tenacity).")
    reasks: int = Field(default=1, ge=0, description="Re-asks on invalid model output (instructor).")
    max_claims: int = Field(default=10, ge=1)
    label_probabilities: bool = Field(
        default=False,
        description="Ask the server for token probabilities; a verdict's confidence becomes the model's probability "
        "of its label.",
    )
    verifier: VerifierChoice = Field(
        default="auto",
        description="Who gives verdicts: trained (the calibrated stance model, no LLM call), llm (the model's "
        "verify call), or auto: trained on every backend (the LLM verifier only when asked for, until it beats the "
        "trained one on held-out pairs: docs/stance-model.md).",
    )
    embedded_decoding: Literal["free", "grammar"] = Field(
        default="free",
        description="How the embedded model is asked for JSON: free (as text: under the schema's grammar given as "
        "response_format where the call gives one, the claims call and check's denials call; no tool schema in the "
        "prompt) or grammar (tool calls throughout, the tool schema in the prompt).",
    )
    window_chars: int = Field(default=12_000, ge=500, description="Article characters per context window.")
    max_chars: int = Field(
        default=200_000, ge=1,
        description="Longest article analysed (characters); a longer one fails with an estimate of its calls and cost. "
        "200,000 characters is about 17 context windows, 51 calls.",
    )
    context_tokens: int = Field(default=8192, description="Context size of the embedded model server, per slot.")
    embedded_slots: int = Field(
        default=1, ge=1, le=8,
        description="Requests the embedded server decodes side by side (at most concurrency, and as many as memory "
        "holds).",
    )
    cache_dir: Path = Field(default=Path.home() / ".cache" / "factcheck")
    concurrency: int = Field(
        default=4, ge=1, le=256,
        description="Most LLM calls in flight; up to 2 x concurrency - 1 articles are in progress.",
    )
    cache: bool = Field(default=True, description="Reuse LLM responses stored under cache_dir/responses.")
    budget_usd: float | None = Field(
        default=None, gt=0, description="Start no article once the estimated spend would pass this."
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="USD per 1M tokens per model, over the built-in table: {input, cached_input, output}.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        check_environment()
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file())

    def resolved_verifier(self, backend: str | None = None) -> Verifier:
        """``auto`` is the trained verifier whatever the backend (``backend`` is accepted for the callers
        that pass the open LLM's): on held-out FNC-1 pairs the LLM verifier scored below it, and on a
        small model served over an OpenAI-compatible API it stated 0.5 whatever the stance."""
        del backend
        return "llm" if self.verifier == "llm" else "trained"

    def resolved_backend(self) -> str:
        if self.backend != "auto":
            return self.backend
        return "openai" if self.base_url or self.api_key else "embedded"
