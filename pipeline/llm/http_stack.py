"""The HTTP client the runner gives the LLM: metering -> response cache -> limiter -> network.

Order matters: the meter sees cache hits (free) and server answers (billed); the
cache answers before the limiter, so a warm run never waits for a slot.
"""

import httpx2
import openai

from pipeline.llm.cache import CachingTransport, ResponseCache
from pipeline.llm.costs import MeteringTransport
from pipeline.llm.limiter import AdaptiveLimiter, LimitedTransport
from pipeline.llm.prices import ModelPrice


def backend_identity(backend: str, endpoint: str) -> str:
    """What makes a cached answer reusable besides the request body: the embedded server's
    port changes every run, a remote endpoint does not."""
    return backend if backend == "embedded" else f"{backend}:{endpoint.rstrip('/')}"


def http_client(
    *,
    limiter: AdaptiveLimiter,
    price: ModelPrice | None,
    cache: ResponseCache | None,
    identity: str,
) -> openai.DefaultAsyncHttpxClient:
    connections = max(100, 2 * limiter.maximum)
    transport: httpx2.AsyncBaseTransport = LimitedTransport(
        httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)),
        limiter,
    )
    if cache is not None:
        transport = CachingTransport(transport, cache, identity)
    return openai.DefaultAsyncHttpxClient(transport=MeteringTransport(transport, price))
