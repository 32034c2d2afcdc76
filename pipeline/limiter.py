"""How many LLM calls are in flight: an AIMD limiter, as an httpx2 transport layer.

The runner bounds how many articles overlap; this bounds how many requests reach
the server. A 429 (or 503) halves the limit and pauses new requests for the
Retry-After the server sent; every ``limit`` successes in a row add one slot back,
up to the configured maximum. The LLM client's tenacity layer still waits
Retry-After per call; this layer stops the *other* calls from piling on.
"""

import asyncio
import time

import httpx2

from pipeline.llm import MAX_RETRY_AFTER

CONGESTED = frozenset({429, 503})


class AdaptiveLimiter:
    def __init__(self, limit: int, *, minimum: int = 1):
        self.maximum = max(1, limit)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.decreases = 0
        self._generation = 0  # bumped on each decrease; a 429 from an older request does not halve again
        self._successes = 0
        self._resume_at = 0.0
        self._changed: asyncio.Condition | None = None

    @property
    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def acquire(self) -> int:
        """Wait for a free slot; returns the generation to hand back to :meth:`release`."""
        async with self._condition:
            while True:
                pause = self._resume_at - time.monotonic()
                if pause <= 0 and self.in_flight < self.limit:
                    self.in_flight += 1
                    return self._generation
                try:
                    await asyncio.wait_for(self._condition.wait(), pause if pause > 0 else None)
                except TimeoutError:
                    pass

    async def release(self, generation: int, status: int | None, retry_after: float | None = None) -> None:
        async with self._condition:
            self.in_flight -= 1
            if status in CONGESTED:
                if generation == self._generation:
                    self.limit = max(self.minimum, self.limit // 2)
                    self._generation += 1
                    self.decreases += 1
                self._successes = 0
                if retry_after:
                    self._resume_at = max(self._resume_at, time.monotonic() + retry_after)
            elif status is not None and status < 400:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._successes = 0
            self._condition.notify_all()


def _retry_after(response: httpx2.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(max(value, 0.0), MAX_RETRY_AFTER)


class LimitedTransport(httpx2.AsyncBaseTransport):
    """Holds a limiter slot from sending a request until its body is read."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limiter: AdaptiveLimiter):
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        generation = await self.limiter.acquire()
        status: int | None = None
        retry_after: float | None = None
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            status = response.status_code
            retry_after = _retry_after(response)
            return response
        finally:
            await self.limiter.release(generation, status, retry_after)

    async def aclose(self) -> None:
        await self.inner.aclose()
