"""The one place an LLM client and its transport stack are built.

``open_llm`` opens the configured backend (the embedded server's lifetime is the ``with``
block); ``openai_llm`` and ``embedded_llm`` build the client for each backend; ``http_client``
builds the transport stack every call goes through, metering -> response cache -> limiter ->
network, and ``use_transport_stack`` puts it under a client. Order matters: the meter sees cache
hits (free) and server answers (billed); the cache answers before the limiter, so a warm run
never waits for a slot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx2

from pipeline.llm.cache import CachingTransport, ResponseCache
from pipeline.llm.costs import MeteringTransport
from pipeline.llm.embedded import WEIGHTS, EmbeddedModelError, EmbeddedServer, ensure_weights
from pipeline.llm.limiter import AdaptiveLimiter, LimitedTransport
from pipeline.settings import ModelPrice, Settings

if TYPE_CHECKING:  # the openai SDK and instructor load when a client is built: on the embedded
    # backend that is after the server process starts, so their import overlaps the model's load
    import openai

    from pipeline.llm.client import LLM

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
        with EmbeddedServer(path, n_ctx=settings.context_tokens, wait=False, log_dir=settings.cache_dir / "logs") as server:
            llm = embedded_llm(settings, server.base_url, weights.name)  # the SDK loads while the model does
            llm.server = server
            server.wait_ready()
            yield llm
        return
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if not key and not settings.base_url:
        raise EmbeddedModelError("the openai backend needs OPENAI_API_KEY (or a --base-url for a local server)")
    yield openai_llm(settings)


def openai_llm(settings: Settings, *, http_client: openai.DefaultAsyncHttpxClient | None = None, **overrides: object) -> LLM:
    """The openai backend's client as the settings say; ``overrides`` replace single arguments
    (the Batch API's planning client makes one attempt and asks for no token probabilities)."""
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


def embedded_llm(settings: Settings, base_url: str, model: str) -> LLM:
    from pipeline.llm.client import LLM

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


def backend_identity(backend: str, endpoint: str) -> str:
    """What makes a cached answer reusable besides the request body: the embedded server's
    port changes every run, a remote endpoint does not."""
    return backend if backend == "embedded" else f"{backend}:{endpoint.rstrip('/')}"


def http_client(
    *,
    identity: str,
    limiter: AdaptiveLimiter | None = None,
    price: ModelPrice | None = None,
    cache: ResponseCache | None = None,
    network: httpx2.AsyncBaseTransport | None = None,
    stage_by_tool: Mapping[str, str] | None = None,
) -> openai.DefaultAsyncHttpxClient:
    """The transport stack. ``network``: the innermost transport (default: real connections,
    as many as the limiter can use); ``limiter=None``: no limit on calls in flight;
    ``stage_by_tool``: which stage the meter bills a request to, by its tool (the stages declare it)."""
    import openai

    if network is None:
        connections = max(100, 2 * limiter.maximum) if limiter is not None else 100
        network = httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections))
    transport = LimitedTransport(network, limiter) if limiter is not None else network
    if cache is not None:
        transport = CachingTransport(transport, cache, identity)
    return openai.DefaultAsyncHttpxClient(transport=MeteringTransport(transport, price, stage_by_tool or {}))


def use_transport_stack(
    llm: LLM, *, limiter: AdaptiveLimiter | None, price: ModelPrice | None, cache: ResponseCache | None,
    stage_by_tool: Mapping[str, str] | None = None,
) -> None:
    """Send every call of ``llm`` through the transport stack (a run's, an evaluation's)."""
    identity = backend_identity(llm.backend, llm.endpoint)
    llm.use_http_client(
        http_client(identity=identity, limiter=limiter, price=price, cache=cache, stage_by_tool=stage_by_tool)
    )
