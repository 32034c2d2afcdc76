"""Requests the desk refuses before any route sees them, as an ASGI middleware.

The desk has no login: it is safe only while nothing but the user's own browser, on this
machine, can reach it. So it refuses
- a ``Host`` that is not its own loopback address and port (DNS rebinding: a page on
  evil.example whose name now resolves to 127.0.0.1 would otherwise be same-origin);
- a state-changing request whose ``Origin`` is another site, or this site over another scheme;
- request bodies over :data:`MAX_BODY_BYTES` (413), before they are held in memory whole;
- JSON bodies nested deeper than the parser can follow (400, not a 500 from RecursionError).
"""

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 256 * 1024  # a review is a few hundred bytes; an edited statement a few KiB
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RequestGuard:
    """``port``: the port the desk listens on; None (an app not yet bound, as under a test client)
    accepts any port, still on a loopback host."""

    def __init__(self, app: ASGIApp, port: int | None = None, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.port = port
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _reply(scope, receive, send, *refusal)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body, refusal = await self._read_body(receive, headers)
        if refusal is not None:
            await _reply(scope, receive, send, *refusal)
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        parts = urlsplit(f"//{host}")
        try:
            port = parts.port
        except ValueError:
            return 400, f"invalid Host header {host!r}"
        if not is_loopback(parts.hostname) or (self.port is not None and port != self.port):
            return 421, f"this desk answers only on its own loopback address, not for host {host!r}"
        origin = headers.get("origin")
        if method not in SAFE_METHODS and origin is not None:
            seen = urlsplit(origin)
            if seen.scheme != "http" or seen.netloc != host:
                return 403, f"cross-origin request from {origin} refused"
        return None

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> tuple[bytes, tuple[int, str] | None]:
        too_large = 413, f"request body over {self.max_body} bytes"
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return b"", too_large
        chunks: list[bytes] = []
        size = 0
        while True:  # a chunked body has no length: count as it arrives, stop at the cap
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if "json" in headers.get("content-type", "") and body:
            try:
                json.loads(body)
            except RecursionError:
                return body, (400, "invalid JSON: nested too deeply")
            except ValueError:
                pass  # malformed JSON gets the API's own 422 with the parser's message
        return body, None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the real channel (which reports the client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _reply(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    await JSONResponse({"error": message, "status": status}, status_code=status)(scope, receive, send)
