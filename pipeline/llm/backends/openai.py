"""The openai backend: OpenAI's API, or any OpenAI-compatible server at ``base_url`` (Ollama, vLLM,
llama.cpp), with OpenAI's list prices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipeline.llm._label_probability import LABEL_LOGPROBS
from pipeline.llm.errors import EndpointError
from pipeline.settings import ModelPrice, Settings

if TYPE_CHECKING:  # the SDK loads when a client is built, never to start the CLI
    import openai

    from pipeline.llm.client import LLM

OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Published list prices (USD / 1M tokens) when this table was written; override them in
# factcheck.toml ([prices."model-name"] input = ..., cached_input = ..., output = ...).
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, cached_input=0.075, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, cached_input=1.25, output=10.00),
    "gpt-4.1-nano": ModelPrice(input=0.10, cached_input=0.025, output=0.40),
    "gpt-4.1-mini": ModelPrice(input=0.40, cached_input=0.10, output=1.60),
    "gpt-4.1": ModelPrice(input=2.00, cached_input=0.50, output=8.00),
    "gpt-5-nano": ModelPrice(input=0.05, cached_input=0.005, output=0.40),
    "gpt-5-mini": ModelPrice(input=0.25, cached_input=0.025, output=2.00),
    "gpt-5": ModelPrice(input=1.25, cached_input=0.125, output=10.00),
}


def openai_llm(
    settings: Settings, *, http_client: openai.DefaultAsyncHttpxClient | None = None, **overrides: object
) -> LLM:
    """The client as the settings say; ``overrides`` replace single arguments (the Batch API's
    planning client makes one attempt and asks for no token probabilities)."""
    from pipeline.llm.client import LLM

    key = settings.api_key.get_secret_value() if settings.api_key else None
    arguments: dict[str, object] = {
        "backend": "openai",
        "base_url": settings.base_url,
        "api_key": key or "not-needed",  # local OpenAI-compatible servers ignore it
        "model": settings.model or DEFAULT_OPENAI_MODEL,
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_attempts": settings.max_attempts,
        "reasks": settings.reasks,
        "top_logprobs": LABEL_LOGPROBS if settings.label_probabilities else 0,
    }
    return LLM(**{**arguments, **overrides}, http_client=http_client)  # type: ignore[arg-type]


class OpenAIBackend:
    name = "openai"
    summary = "OpenAI, or any OpenAI-compatible server at --base-url"

    @contextmanager
    def open(self, settings: Settings) -> Iterator[LLM]:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if not key and not settings.base_url:
            raise EndpointError("the openai backend needs OPENAI_API_KEY (or a --base-url for a local server)")
        yield openai_llm(settings)

    def price(self, model: str) -> ModelPrice | None:
        """The list price of ``model``, or of the longest name it starts with
        (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``); None for a model not listed."""
        prefixes = sorted((name for name in DEFAULT_PRICES if model.startswith(name)), key=len, reverse=True)
        return DEFAULT_PRICES[prefixes[0]] if prefixes else None

    def identity(self, endpoint: str) -> str:
        return f"{self.name}:{endpoint.rstrip('/')}"

    def endpoint_label(self, endpoint: str) -> str:
        return endpoint
