"""Opening the configured backend as an LLM: the embedded server's lifetime is the ``with`` block."""

from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.embedded import WEIGHTS, EmbeddedModelError, EmbeddedServer, ensure_weights
from pipeline.llm import LLM
from pipeline.settings import Settings

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# llama.cpp's default repeat penalty (1.1) discourages copying the article's words into
# quotes, so the 1.5B runs without it; the 0.5B loops inside JSON strings without it.
LABEL_LOGPROBS = 8  # alternatives per token: enough to hold every verdict label at the label's first token
EMBEDDED_SAMPLING: dict[str, dict[str, object]] = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m": {"repeat_penalty": 1.0},
    "qwen2.5-coder-0.5b-instruct-q4_k_m": {"repeat_penalty": 1.1},
}


@contextmanager
def open_llm(settings: Settings) -> Iterator[LLM]:
    if settings.resolved_backend() == "embedded":
        weights = WEIGHTS.get(settings.embedded_model)
        if weights is None:
            raise EmbeddedModelError(f"unknown embedded model {settings.embedded_model!r}; choose from {', '.join(WEIGHTS)}")
        if settings.base_url:  # a llama.cpp server the user already runs with these weights
            yield embedded_llm(settings, settings.base_url, weights.name)
            return
        path = ensure_weights(weights, settings.cache_dir / "models")
        with EmbeddedServer(path, n_ctx=settings.context_tokens) as server:
            llm = embedded_llm(settings, server.base_url, weights.name)
            yield llm
        return
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if not key and not settings.base_url:
        raise EmbeddedModelError("the openai backend needs OPENAI_API_KEY (or a --base-url for a local server)")
    yield LLM(
        backend="openai",
        base_url=settings.base_url,
        api_key=key or "not-needed",  # local OpenAI-compatible servers ignore it
        model=settings.model or DEFAULT_OPENAI_MODEL,
        temperature=settings.temperature,
        timeout=settings.timeout,
        max_attempts=settings.max_attempts,
        reasks=settings.reasks,
        top_logprobs=LABEL_LOGPROBS if settings.label_probabilities else 0,
    )


def embedded_llm(settings: Settings, base_url: str, model: str) -> LLM:
    return LLM(
        backend="embedded",
        base_url=base_url,
        api_key="embedded-no-key",
        model=model,
        temperature=settings.temperature,
        timeout=settings.timeout,
        max_attempts=settings.max_attempts,
        reasks=settings.reasks,
        extra_body=EMBEDDED_SAMPLING.get(model, {}),
        top_logprobs=LABEL_LOGPROBS if settings.label_probabilities else 0,
        json_as_text=settings.embedded_decoding == "free",
    )
