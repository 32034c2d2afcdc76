"""The embedded backend: a local GGUF model behind llama.cpp's own OpenAI-compatible server,
started for the ``with`` block (``pipeline.llm.embedded``), or a llama.cpp server the user runs
(``base_url``). No key; free."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pipeline.llm._label_probability import LABEL_LOGPROBS
from pipeline.settings import ModelPrice, Settings

if TYPE_CHECKING:
    from pipeline.llm.client import LLM

FREE = ModelPrice(input=0, cached_input=0, output=0)
# llama.cpp's default repeat penalty (1.1) discourages copying the article's words into
# quotes, so the 1.5B runs without it; the 0.5B loops inside JSON strings without it.
EMBEDDED_SAMPLING: dict[str, dict[str, object]] = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m": {"repeat_penalty": 1.0},
    "qwen2.5-coder-0.5b-instruct-q4_k_m": {"repeat_penalty": 1.1},
}


def embedded_llm(settings: Settings, base_url: str, model: str) -> LLM:
    """The client for a llama.cpp server at ``base_url`` serving ``model``."""
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


def embedded_slots(settings: Settings, available_bytes: int | None = None) -> int:
    """Requests the server decodes side by side: ``embedded_slots``, at most ``concurrency``, and
    no more than half the memory now available holds (each slot has its own context's KV cache)."""
    available = available_bytes if available_bytes is not None else _available_memory()
    per_slot = settings.context_tokens * KV_BYTES_PER_TOKEN.get(
        settings.embedded_model, max(KV_BYTES_PER_TOKEN.values())
    )
    fits = max(1, (available // 2) // per_slot) if available else 1
    return max(1, min(settings.embedded_slots, settings.concurrency, fits))


# f16 K and V for every layer: 1.5B 28 layers x 2 x 256; 0.5B 24 layers x 2 x 128 (x 2 bytes).
KV_BYTES_PER_TOKEN = {"qwen2.5-coder-1.5b-instruct-q4_k_m": 28_672, "qwen2.5-coder-0.5b-instruct-q4_k_m": 12_288}


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class EmbeddedBackend:
    name = "embedded"
    summary = "a local model (no key), served by llama.cpp on loopback"

    @contextmanager
    def open(self, settings: Settings) -> Iterator[LLM]:
        # Imported here: the server's code is not needed to start the CLI.
        from pipeline.llm.embedded import WEIGHTS, EmbeddedModelError, EmbeddedServer, ensure_weights

        weights = WEIGHTS.get(settings.embedded_model)
        if weights is None:
            known = ", ".join(WEIGHTS)
            raise EmbeddedModelError(f"unknown embedded model {settings.embedded_model!r}; choose from {known}")
        if settings.base_url:  # a llama.cpp server the user already runs with these weights
            yield embedded_llm(settings, settings.base_url, weights.name)
            return
        path = ensure_weights(weights, settings.cache_dir / "models")
        server = EmbeddedServer(
            path, n_ctx=settings.context_tokens, wait=False, log_dir=settings.cache_dir / "logs",
            slots=embedded_slots(settings), alias=weights.name,
        )  # fmt: skip
        with server:
            llm = embedded_llm(settings, server.base_url, weights.name)  # the SDK loads while the model does
            llm.server = server
            server.wait_ready()
            yield llm

    def price(self, model: str) -> ModelPrice:
        return FREE

    def identity(self, endpoint: str) -> str:
        return self.name  # the server's port changes every run; the model (in the request) says the rest

    def endpoint_label(self, endpoint: str) -> str:
        return "embedded (loopback)"
