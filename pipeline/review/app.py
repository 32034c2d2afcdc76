"""The fact-check desk: a local web app over one run folder.

Reads ``OUT_DIR/articles/*.json`` (never writes them) and appends reviews to
``OUT_DIR/reviews.jsonl``. Pages are rendered server-side; a little vanilla JS
selects claims and posts reviews as JSON.
"""

import errno
import logging
import socket
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pipeline.review._templates import STATIC
from pipeline.review.errors import install_error_handlers
from pipeline.review.guard import RequestGuard, is_loopback
from pipeline.review.routes import article, queue, reviews, stories
from pipeline.review.routes.desk import Desk
from pipeline.review.routes.exports import exports_router

log = logging.getLogger(__name__)


class PortUnavailable(Exception):
    """The desk cannot listen on the port asked for; the message says why and what to do."""


def create_app(
    out_dir: Path, desk_name: str = "Fact-check desk", reviewer_default: str | None = None, port: int | None = None
) -> FastAPI:
    """``port``: the port the desk is served on; requests for any other Host are refused."""
    desk = Desk(out_dir, desk_name, reviewer_default)
    app = FastAPI(title=desk_name, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.desk = desk
    # Static assets come from the package, never from the run folder.
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_error_handlers(app, log)
    # Outermost: Host, Origin, body size and JSON depth are checked before anything else runs.
    app.add_middleware(RequestGuard, port=port)
    for router in (queue.router, article.router, reviews.router, stories.router, exports_router(desk.exports)):
        app.include_router(router)
    return app


def serve(
    out_dir: Path, host: str = "127.0.0.1", port: int = 0, desk_name: str = "Fact-check desk",
    reviewer_default: str | None = None,
) -> None:
    """Run the desk on loopback until interrupted; port 0 picks a free port. Prints the URL."""
    if not is_loopback(host):
        raise ValueError(f"the desk serves on loopback only, not {host!r}: it has no login")
    if not (out_dir / "articles").is_dir():
        raise FileNotFoundError(f"{out_dir} is not a run folder: it has no articles/ folder")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Bind first so the printed URL carries the real port even when port is 0.
    sock = _bound(family, host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"Fact-check desk for {out_dir} at http://{shown}:{bound}/  (Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(create_app(out_dir, desk_name, reviewer_default, port=bound), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def _bound(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} on {host} is in use (another desk or program listens there); choose another --port, "
                "or --port 0 for any free one"
            ) from None
        if error.errno == errno.EACCES:
            raise PortUnavailable(f"port {port} on {host}: permission denied (ports below 1024 need root); "
                                  "choose a port from 1024 up, or --port 0 for any free one") from None
        raise
    return sock
