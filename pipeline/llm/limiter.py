"""How many LLM calls are in flight: an AIMD limiter, as an httpx2 transport layer.

The runner bounds how many articles are in progress (more than the concurrency, so
a built request always waits for the next free slot); this bounds how many requests
reach the server. Waiting requests get slots in priority order (lowest first; the
runner gives each article its start number, so articles already started finish
before new ones take slots). A 429 (or 503) halves the limit, never below the floor;
every ``limit`` successes in a row add one slot back, up to the configured maximum.

Backoff is per request: the Retry-After a server sends delays only the request that got
it (the LLM client's tenacity layer waits it out), never the others, so one article's
long Retry-After does not freeze the healthy ones. The floor (two slots, when the run
has two) keeps one hung request from holding the only slot until its timeout.
"""

import asyncio
import heapq
import itertools
from contextvars import ContextVar

import httpx2

CONGESTED = frozenset({429, 503})
FLOOR = 2  # slots a congested limiter keeps (if it has them): one hung request cannot stall the run

# The priority of the requests made in the current context: lower goes first; equal
# priorities go in the order they asked. The runner sets it per article.
request_priority: ContextVar[int] = ContextVar("request_priority", default=0)


class AdaptiveLimiter:
    def __init__(self, limit: int, *, minimum: int = FLOOR):
        self.maximum = max(1, limit)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.decreases = 0
        self.most_in_flight = 0  # the high-water mark of in_flight: never above the maximum
        self._generation = 0  # bumped on each decrease; a 429 from an older request does not halve again
        self._successes = 0
        # Requests waiting for a slot: (priority, arrival, future). A slot is handed to one
        # waiter at a time (no thundering herd of wake-ups when many requests wait).
        self._waiting: list[tuple[int, int, asyncio.Future[int]]] = []
        self._arrivals = itertools.count()
        self.closed = False  # set by :meth:`close`: no request gets a slot from then on

    @property
    def waiting(self) -> int:
        return sum(not future.done() for _, _, future in self._waiting)

    async def acquire(self, priority: int | None = None) -> int:
        """Wait for a free slot; returns the generation to hand back to :meth:`release`.
        ``priority`` defaults to :data:`request_priority` of the calling context. Once the limiter
        is closed, the request is cancelled instead: it never reaches the server."""
        if self.closed:
            raise asyncio.CancelledError("the run is stopping: no new calls")
        if not self._waiting and self.in_flight < self.limit:
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

    async def release(self, generation: int, status: int | None) -> None:
        self.in_flight -= 1
        if status in CONGESTED:
            if generation == self._generation and self.limit > self.minimum:
                self.limit = max(self.minimum, self.limit // 2)
                self._generation += 1
                self.decreases += 1
            self._successes = 0
        elif status is not None and status < 400:
            self._successes += 1
            if self._successes >= self.limit and self.limit < self.maximum:
                self.limit += 1
                self._successes = 0
        self._grant()

    def close(self) -> None:
        """Admit no more requests: the waiting ones and any asked later are cancelled, while those
        holding a slot go on to their answer (and the response cache above). A run that stops on
        a full disk drains this way instead of cancelling its articles mid-call: an answer the
        server was already computing is paid for, so it must be kept for the next run."""
        self.closed = True
        waiting, self._waiting = self._waiting, []
        for _, _, future in waiting:
            future.cancel()

    def _take(self) -> int:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return self._generation

    def _grant(self) -> None:
        """Hand free slots to the waiting requests, best priority first."""
        while self._waiting and self.in_flight < self.limit:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter is dropped
                future.set_result(self._take())


class LimitedTransport(httpx2.AsyncBaseTransport):
    """Holds a limiter slot from sending a request until its body is read."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limiter: AdaptiveLimiter):
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        generation = await self.limiter.acquire()
        status: int | None = None
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            status = response.status_code
            return response
        finally:
            await self.limiter.release(generation, status)

    async def aclose(self) -> None:
        await self.inner.aclose()
