"""The one place an LLM client and its transport stack are built.

``open_llm`` opens the backend the settings choose (``pipeline.llm.backends``: the embedded
server's lifetime is the ``with`` block); ``http_client`` builds the transport stack every call
goes through, metering -> response cache -> limiter -> network, and ``use_transport_stack`` puts
it under a client. Order matters: the meter sees cache hits (free) and server answers (billed);
the cache answers before the limiter, so a warm run never waits for a slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import httpx2

from pipeline.llm.backends import cache_identity, chosen_backend
from pipeline.llm.cache import CachingTransport, ResponseCache
from pipeline.llm.costs import MeteringTransport
from pipeline.llm.limiter import AdaptiveLimiter, LimitedTransport
from pipeline.settings import ModelPrice, Settings

if TYPE_CHECKING:  # the openai SDK and instructor load when a client is built: on the embedded
    # backend that is after the server process starts, so their import overlaps the model's load
    import openai

    from pipeline.llm.client import LLM


def open_llm(settings: Settings) -> AbstractContextManager[LLM]:
    return chosen_backend(settings).open(settings)


def backend_identity(backend: str, endpoint: str) -> str:
    """What makes a cached answer reusable besides the request body (the backend says: the embedded
    server's port changes every run, a remote endpoint does not)."""
    return cache_identity(backend, endpoint)


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
        network = httpx2.AsyncHTTPTransport(
            limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
        )
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
