"""Content-addressed cache of LLM responses on disk, as an httpx2 transport layer.

Key: sha256 of the backend identity, the model and the canonical JSON request body
(the model is in the body). Only 200 chat-completion responses that parse as a
completion are stored, so errors and truncated bodies are always asked again. The
store is diskcache (SQLite, one committed transaction per entry, written from one thread of
its own), shared by every run and safe across processes; a killed run loses at most the
calls in flight.
"""

import asyncio
import hashlib
import json
import os
import shlex
import sqlite3
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import diskcache
import httpx2

from pipeline._io import DISK_FULL, environment_fault, named

CACHE_HEADER = "x-factcheck-cache"  # "hit" on responses served from the cache
SIZE_LIMIT = 16 * 2**30  # diskcache evicts least-recently-stored entries beyond this
# diskcache's defaults map up to 64 MiB of the database file and keep up to 32 MiB of pages:
# a run's resident memory then grew with the cache (answers are read once or twice per run).
SQLITE_MMAP_SIZE = 0
SQLITE_CACHE_PAGES = 512  # 2 MiB at 4 KiB pages
_DROP_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}


def canonical(body: bytes) -> str:
    return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_completion(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("choices"), list) and bool(data["choices"])


def is_chat_completion(request: httpx2.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/chat/completions")


class CacheError(RuntimeError):
    """The response cache cannot be opened: one line naming it and how to move it aside."""


def _why_unusable(directory: Path, error: Exception) -> tuple[str, bool]:
    """Unwritable (permissions, a full disk: fix the machine) and corrupt (move it aside) call
    for different fixes: tell them apart by writing a probe file beside the database."""
    fault = environment_fault(error)
    if fault is None and not _corrupt(error):
        try:
            with tempfile.TemporaryFile(dir=directory) as probe:
                probe.write(b"\0" * 65536)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as probe_error:
            fault = environment_fault(named(probe_error, directory))
    if fault is not None:
        return (
            f"response cache cannot be written: {fault}; "
            "or set cache_dir (FACTCHECK_CACHE_DIR) elsewhere, or run with --no-cache"
        ), True
    if _corrupt(error):
        return (
            f"{directory}: response cache is corrupt ({error}); move it aside with "
            f"`mv {shlex.quote(str(directory))} {shlex.quote(f'{directory}.broken')}` (it is rebuilt), "
            "or run with --no-cache"
        ), False
    return (
        f"{directory}: response cache cannot be opened ({error}); check the disk it is on, or move it aside with "
        f"`mv {shlex.quote(str(directory))} {shlex.quote(f'{directory}.broken')}` (it is rebuilt), "
        "or run with --no-cache"
    ), False


def _corrupt(error: Exception) -> bool:
    return isinstance(error, sqlite3.DatabaseError) and any(
        words in str(error) for words in ("not a database", "malformed", "corrupt")
    )


def disk_full(error: BaseException) -> bool:
    """The store failed for want of space: SQLite's "database or disk is full", or ENOSPC and kin."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in DISK_FULL


class CacheUnwritableError(CacheError):
    """The cache's folder or disk takes no writes (permissions, full): the machine's fault, not the cache's."""


class ResponseCache:
    def __init__(self, directory: Path):
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._store = diskcache.Cache(
                str(directory), size_limit=SIZE_LIMIT, sqlite_mmap_size=SQLITE_MMAP_SIZE,
                sqlite_cache_size=SQLITE_CACHE_PAGES,
            )
        except (sqlite3.Error, OSError) as error:  # a damaged database file, a full or read-only disk
            message, environment = _why_unusable(directory, error)
            raise (CacheUnwritableError if environment else CacheError)(message) from None
        self.write_error: str | None = None  # set when a store failed (a full disk): later stores are skipped
        # Called (in the writer thread) when a store fails for want of space; True if it made room,
        # and the store is tried once more. A run sets it: its disk reserve, and a stop (run/reserve.py).
        self.on_full: Callable[[BaseException], bool] | None = None
        self._writer: ThreadPoolExecutor | None = None

    @staticmethod
    def key(identity: str, body: bytes) -> str:
        return hashlib.sha256(f"{identity}\n{canonical(body)}".encode()).hexdigest()

    def get(self, key: str) -> bytes | None:
        value = self._store.get(key)
        return value if isinstance(value, bytes) else None

    def put(self, key: str, body: bytes) -> None:
        if self.write_error is not None:
            return
        try:
            self._store.set(key, body)
        except (sqlite3.Error, OSError) as error:  # a disk that filled mid-run: the answer is still served
            if disk_full(error) and self.on_full is not None and self.on_full(error):
                try:
                    self._store.set(key, body)  # room was made: an answer paid for is kept after all
                    return
                except (sqlite3.Error, OSError) as again:
                    error = again
            self.write_error = f"{self.directory}: response cache not written from here on ({error})"

    async def store(self, key: str, body: bytes) -> None:
        """:meth:`put` in the cache's own writer thread: the SQLite commit (~0.1-1 ms, more when it
        writes to disk) no longer holds up the event loop that serves every other call. One
        thread, so stores are in order and never contend for the write lock; awaited, so an
        answer is stored before the client sees it, as before. Shielded: the answer is paid for, so
        a caller cancelled while its store waits in the queue (a stopped run, Ctrl-C) must not take
        the store out of it; :meth:`close` waits for every store queued."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="response-cache")
        await asyncio.shield(asyncio.get_running_loop().run_in_executor(self._writer, self.put, key, body))

    def close(self) -> None:
        if self._writer is not None:  # after the stores it has queued; closes that thread's connection
            self._writer.submit(self._store.close).result()
            self._writer.shutdown()
            self._writer = None
        self._store.close()


class CachingTransport(httpx2.AsyncBaseTransport):
    """Serves repeated chat-completion requests from ``cache``; everything else passes through."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, cache: ResponseCache, identity: str):
        self.inner = inner
        self.cache = cache
        self.identity = identity  # backend (+ endpoint): the same model name elsewhere is another model

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not is_chat_completion(request):
            return await self.inner.handle_async_request(request)
        key = self.cache.key(self.identity, request.content)
        stored = self.cache.get(key)
        if stored is not None:
            headers = {"content-type": "application/json", CACHE_HEADER: "hit"}
            return httpx2.Response(200, headers=headers, content=stored, request=request)
        response = await self.inner.handle_async_request(request)
        if response.status_code != 200:
            return response
        body = await response.aread()
        if is_completion(body):
            await self.cache.store(key, body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _DROP_HEADERS]
        return httpx2.Response(200, headers=headers, content=body, request=request, extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()
