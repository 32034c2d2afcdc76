"""How many LLM calls are in flight: an AIMD limiter, as an httpx2 transport layer.

The runner bounds how many articles are in progress (more than the concurrency, so
a built request always waits for the next free slot); this bounds how many requests
reach the server. Waiting requests get slots in priority order (lowest first; the
runner gives each article its start number, so articles already started finish
before new ones take slots). A 429 (or 503) halves the limit and pauses new
requests for the Retry-After the server sent; every ``limit`` successes in a row add
one slot back, up to the configured maximum. The LLM client's tenacity layer still
waits Retry-After per call; this layer stops the *other* calls from piling on.
"""

import asyncio
import heapq
import itertools
import time
from contextvars import ContextVar

import httpx2

from pipeline.llm import MAX_RETRY_AFTER

CONGESTED = frozenset({429, 503})

# The priority of the requests made in the current context: lower goes first; equal
# priorities go in the order they asked. The runner sets it per article.
request_priority: ContextVar[int] = ContextVar("request_priority", default=0)


class AdaptiveLimiter:
    def __init__(self, limit: int, *, minimum: int = 1):
        self.maximum = max(1, limit)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.decreases = 0
        self.most_in_flight = 0  # the high-water mark of in_flight: never above the maximum
        self._generation = 0  # bumped on each decrease; a 429 from an older request does not halve again
        self._successes = 0
        self._resume_at = 0.0
        # Requests waiting for a slot: (priority, arrival, future). A slot is handed to one
        # waiter at a time (no thundering herd of wake-ups when many requests wait).
        self._waiting: list[tuple[int, int, asyncio.Future[int]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return sum(not future.done() for _, _, future in self._waiting)

    async def acquire(self, priority: int | None = None) -> int:
        """Wait for a free slot; returns the generation to hand back to :meth:`release`.
        ``priority`` defaults to :data:`request_priority` of the calling context."""
        if not self._waiting and self.in_flight < self.limit and time.monotonic() >= self._resume_at:
            return self._take()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        order = request_priority.get() if priority is None else priority
        heapq.heappush(self._waiting, (order, next(self._arrivals), future))
        self._grant()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then cancelled: hand the slot on
                self.in_flight -= 1
                self._grant()
            raise

    async def release(self, generation: int, status: int | None, retry_after: float | None = None) -> None:
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
        self._grant()

    def _take(self) -> int:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return self._generation

    def _grant(self) -> None:
        """Hand free slots to the waiting requests, best priority first; while paused, come back
        when the pause ends."""
        pause = self._resume_at - time.monotonic()
        if pause > 0:
            if self._waiting and self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(pause, self._resume)
            return
        while self._waiting and self.in_flight < self.limit:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter is dropped
                future.set_result(self._take())

    def _resume(self) -> None:
        self._timer = None
        self._grant()


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
