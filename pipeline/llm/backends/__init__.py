"""The LLM backends, one module each, and their registry.

A backend is one object with the :class:`Backend` attributes; ``register_backend(backend)`` makes
its name a value of the ``backend`` setting and of ``--backend``, which ``open_llm`` opens, which
``price_for`` prices and which run.json names. The built-ins (``embedded``, ``openai``) register
through the same call.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from pipeline.llm.backends.embedded import EmbeddedBackend
from pipeline.llm.backends.openai import OpenAIBackend
from pipeline.settings import ModelPrice, Settings

if TYPE_CHECKING:
    from pipeline.llm.client import LLM

AUTO = "auto"  # the setting's default: openai when a base URL or API key is configured, else embedded


class Backend(Protocol):
    name: str  # the `backend` setting and --backend; the LLM's `backend`, as run.json and each result record it
    summary: str  # one line for --backend's help

    def open(self, settings: Settings) -> AbstractContextManager[LLM]:
        """The client (the LLM, named ``backend=self.name`` and the model it asks for) for the ``with``
        block, and anything it needs meanwhile (a server). A setup problem (no key) raises LLMError."""
        ...

    def price(self, model: str) -> ModelPrice | None:
        """USD per 1M tokens of ``model`` (the settings' ``[prices]`` come first); None: unknown, not estimated."""
        ...

    def identity(self, endpoint: str) -> str:
        """Who answers at ``endpoint``: with the request body, the key of a cached answer."""
        ...

    def endpoint_label(self, endpoint: str) -> str:
        """Where calls go, as run.json's ``endpoint`` says it."""
        ...


class UnknownBackend(ValueError):
    pass


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    if backend.name == AUTO or backend.name in _BACKENDS:
        raise ValueError(f"a backend named {backend.name!r} is already registered")
    _BACKENDS[backend.name] = backend
    return backend


def unregister_backend(name: str) -> None:
    _BACKENDS.pop(name, None)


def backend_names() -> list[str]:
    return list(_BACKENDS)


def registered(name: str) -> Backend | None:
    """The backend registered as ``name`` (an LLM built by hand may name none)."""
    return _BACKENDS.get(name)


def chosen_backend(settings: Settings) -> Backend:
    """The backend the settings choose (``auto`` resolved); an unknown name is refused with the choices."""
    name = settings.resolved_backend()
    if name not in _BACKENDS:
        raise UnknownBackend(f"unknown backend {name!r}; choose from {', '.join([*_BACKENDS, AUTO])}")
    return _BACKENDS[name]


def cache_identity(backend: str, endpoint: str) -> str:
    known = registered(backend)
    return known.identity(endpoint) if known else f"{backend}:{endpoint.rstrip('/')}"


def endpoint_label(backend: str, endpoint: str) -> str:
    known = registered(backend)
    return known.endpoint_label(endpoint) if known else endpoint


for _builtin in (EmbeddedBackend(), OpenAIBackend()):
    register_backend(_builtin)
