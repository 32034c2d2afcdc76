"""A fake OpenAI-compatible server for tests and benchmarks.

It answers ``/v1/chat/completions`` with valid instructor TOOLS-mode tool calls for
the three stages (chosen by ``tools[0].function.name``), with configurable latency
and injected faults, and implements the Files and Batches endpoints. It counts every
request so tests can assert that a warm re-run makes zero calls.

Faults are decided by a hash of (seed, request body, attempt number for that body):
the same request meets the same fault whatever order concurrent requests arrive in,
and ``max_faults_per_request`` caps how often one request can fail, so a test with
enough retries always completes.

Run standalone (for benchmarks, so its CPU is not counted against the client):
    python -m pipeline.testing.fake_openai --latency 0.2
prints the base URL on the first line of stdout and serves until terminated.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiohttp import web

from pipeline.testing._answers import article_marker, body_key, completion, tool_arguments


@dataclass
class Faults:
    """Probabilities per request attempt (they add up; the rest is a normal answer)."""

    rate_limit: float = 0.0  # 429 with Retry-After
    server_error: float = 0.0  # 500
    unavailable: float = 0.0  # 503 with Retry-After
    timeout: float = 0.0  # sleep ``timeout_sleep`` before answering (past the client's timeout)
    drop: float = 0.0  # close the connection without a response
    invalid_json: float = 0.0  # 200 with a truncated body
    bad_tool_call: float = 0.0  # 200 with tool arguments that violate the schema
    echo_credentials: float = 0.0  # 502 whose body quotes the request's Authorization header and URL
    unauthorized: float = 0.0  # 401: the key is rejected
    no_choices: float = 0.0  # 200 with an empty "choices" list
    retry_after: float = 0.05  # seconds, sent with 429 and 503
    timeout_sleep: float = 2.0
    max_faults_per_request: int = 2
    seed: int = 0
    target: str | None = None  # only requests whose body contains this text meet faults
    # text -> fault: requests whose body contains the text meet that fault (first attempts, up
    # to max_faults_per_request), whatever the probabilities; e.g. one article's marker -> "timeout"
    by_target: dict[str, str] = field(default_factory=dict)

    def pick(self, key: str, attempt: int, raw: str = "") -> str | None:
        if attempt >= self.max_faults_per_request:
            return None
        for text, fault in self.by_target.items():
            if text in raw:
                return fault
        if self.target is not None and self.target not in raw:
            return None
        draw = random.Random(f"{self.seed}:{key}:{attempt}").random()
        for name in (
            "rate_limit", "server_error", "unavailable", "timeout", "drop", "invalid_json", "bad_tool_call",
            "echo_credentials", "unauthorized", "no_choices",
        ):
            draw -= getattr(self, name)
            if draw < 0:
                return name
        return None


@dataclass
class Stats:
    requests: int = 0  # every chat-completion request received
    served: int = 0  # answered 200 with a valid completion
    faults: Counter[str] = field(default_factory=Counter)
    by_tool: Counter[str] = field(default_factory=Counter)  # 200 answers per tool name
    by_marker: Counter[str] = field(default_factory=Counter)  # 200 answers per article (its first sentence)
    by_body: Counter[str] = field(default_factory=Counter)  # 200 answers per request body hash
    in_flight: int = 0  # chat-completion requests being answered now
    most_in_flight: int = 0  # the most answered at once
    batch_items: int = 0
    files: int = 0
    batches: int = 0

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        for name in ("faults", "by_tool", "by_marker", "by_body"):
            data[name] = dict(getattr(self, name))
        return data


class FakeOpenAI:
    """Start with ``with FakeOpenAI(...) as fake:``; ``fake.base_url`` ends in ``/v1``."""

    def __init__(self, *, latency: float = 0.0, faults: Faults | None = None, batch_delay: float = 0.0,
                 batch_item_error: float = 0.0, port: int = 0, crash: str | None = None):
        self.latency = latency
        self.faults = faults or Faults()
        self.batch_delay = batch_delay
        self.batch_item_error = batch_item_error  # share of batch lines answered with an error
        self.port = port
        # A stand-in for a model server that dies answering: "always" kills the process with
        # SIGSEGV at its first chat request; a path does so once, leaving that file behind.
        self.crash = crash
        self.stats = Stats()
        self._attempts: Counter[str] = Counter()
        self._files: dict[str, tuple[dict[str, object], bytes]] = {}
        self._batches: dict[str, dict[str, object]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}", self._file)
        app.router.add_get("/v1/files/{id}/content", self._file_content)
        app.router.add_post("/v1/batches", self._create_batch)
        app.router.add_get("/v1/batches/{id}", self._batch)
        app.router.add_get("/_fake/stats", self._stats)
        app.router.add_post("/_fake/reset", self._reset)
        return app

    async def start_async(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop_async(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        # Batches still "processing" (a long batch_delay): ended, not left pending at exit.
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def start(self) -> "FakeOpenAI":
        """Serve from a background thread with its own event loop."""
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start_async())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop_async())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fake-openai", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_stats(self) -> None:
        self.stats = Stats()

    # -- chat completions ----------------------------------------------------------------------
    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        if self.crash is not None and (self.crash == "always" or not Path(self.crash).exists()):
            if self.crash != "always":
                Path(self.crash).touch()
            print("fake: segfaulting on purpose", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)
        stats = self.stats
        stats.in_flight += 1
        stats.most_in_flight = max(stats.most_in_flight, stats.in_flight)
        try:
            return await self._answer(request)
        finally:
            stats.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body = json.loads(raw)
        self.stats.requests += 1
        key = body_key(body)
        attempt = self._attempts[key]
        self._attempts[key] += 1
        fault = self.faults.pick(key, attempt, raw)
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault:
            self.stats.faults[fault] += 1
        if fault == "rate_limit":
            return _error(429, "rate limit reached", {"Retry-After": str(self.faults.retry_after)})
        if fault == "server_error":
            return _error(500, "internal server error")
        if fault == "unavailable":
            return _error(503, "overloaded", {"Retry-After": str(self.faults.retry_after)})
        if fault == "timeout":  # the client has given up by the time this answers
            await asyncio.sleep(self.faults.timeout_sleep)
            return _error(504, "answered after the client's timeout")
        if fault == "drop":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)  # never reaches the client: the socket is gone
        if fault == "echo_credentials":  # as a misconfigured proxy does: the secrets come back in the error
            auth = request.headers.get("Authorization", "")
            raw_key = auth.split(" ", 1)[-1]
            message = f"bad gateway: upstream refused {request.url} with Authorization: {auth} (key {raw_key})"
            return _error(502, message)
        if fault == "unauthorized":
            return _error(401, "Incorrect API key provided")
        if fault == "no_choices":
            return web.json_response({**completion(body, "{}"), "choices": []})
        if fault == "invalid_json":
            return web.Response(
                status=200, text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json"
            )
        arguments = json.dumps({}) if fault == "bad_tool_call" else json.dumps(tool_arguments(body))
        self._count_served(body, key)
        return web.json_response(completion(body, arguments))

    def _count_served(self, body: dict[str, object], key: str) -> None:
        self.stats.served += 1
        self.stats.by_tool[body["tools"][0]["function"]["name"]] += 1
        self.stats.by_body[key] += 1
        self.stats.by_marker[article_marker(body)] += 1

    # -- files ---------------------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        data = upload.file.read() if hasattr(upload, "file") else str(upload).encode()
        file_id = f"file-{uuid.uuid4().hex[:12]}"
        meta = self._file_object(
            file_id, getattr(upload, "filename", "upload.jsonl"), str(form.get("purpose", "batch")), data
        )
        self._files[file_id] = (meta, data)
        self.stats.files += 1
        return web.json_response(meta)

    @staticmethod
    def _file_object(file_id: str, name: str, purpose: str, data: bytes) -> dict[str, object]:
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": purpose, "status": "processed"}

    async def _file(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info["id"])
        return web.json_response(found[0]) if found else _error(404, "no such file")

    async def _file_content(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info["id"])
        return web.Response(body=found[1], content_type="application/jsonl") if found else _error(404, "no such file")

    # -- batches -------------------------------------------------------------------------------
    async def _create_batch(self, request: web.Request) -> web.Response:
        body = await request.json()
        source = self._files.get(body.get("input_file_id", ""))
        if source is None:
            return _error(400, "input_file_id not found")
        batch_id = f"batch_{uuid.uuid4().hex[:12]}"
        batch: dict[str, object] = {
            "id": batch_id, "object": "batch", "endpoint": body.get("endpoint", "/v1/chat/completions"),
            "input_file_id": body["input_file_id"], "completion_window": body.get("completion_window", "24h"),
            "status": "in_progress", "created_at": int(time.time()), "output_file_id": None, "error_file_id": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        }
        self._batches[batch_id] = batch
        self.stats.batches += 1
        asyncio.get_running_loop().create_task(self._process(batch, source[1]))
        return web.json_response(batch)

    async def _process(self, batch: dict[str, object], data: bytes) -> None:
        outputs: list[str] = []
        errors: list[str] = []
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        for n, line in enumerate(lines):
            self.stats.batch_items += 1
            rid = f"batch_req_{uuid.uuid4().hex[:12]}"
            if random.Random(f"{self.faults.seed}:batch:{line['custom_id']}").random() < self.batch_item_error:
                errors.append(json.dumps({"id": rid, "custom_id": line["custom_id"], "response": None,
                                          "error": {"code": "server_error", "message": "injected batch item failure"}}))
                continue
            answer = completion(line["body"], json.dumps(tool_arguments(line["body"])))
            outputs.append(json.dumps({"id": rid, "custom_id": line["custom_id"], "error": None,
                                       "response": {"status_code": 200, "request_id": rid, "body": answer}}))
            if n % 200 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(self.batch_delay)
        for name, rows in (("output_file_id", outputs), ("error_file_id", errors)):
            if rows:
                file_id = f"file-{uuid.uuid4().hex[:12]}"
                content = ("\n".join(rows) + "\n").encode()
                self._files[file_id] = (
                    self._file_object(file_id, f"{batch['id']}_{name}.jsonl", "batch_output", content), content
                )
                batch[name] = file_id
        batch["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": len(errors)}
        batch["status"] = "completed"
        batch["completed_at"] = int(time.time())

    async def _batch(self, request: web.Request) -> web.Response:
        found = self._batches.get(request.match_info["id"])
        return web.json_response(found) if found else _error(404, "no such batch")

    # -- control -------------------------------------------------------------------------------
    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_json())

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return web.json_response({"ok": True})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "fake", "code": status}}, status=status, headers=headers
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--faults", default="{}", help='JSON of Faults fields, e.g. {"rate_limit": 0.1}')
    parser.add_argument(
        "--crash", help='"always", or a file: die by SIGSEGV at the first chat request (once, if a file)'
    )
    args = parser.parse_args(argv)
    fake = FakeOpenAI(latency=args.latency, faults=Faults(**json.loads(args.faults)), port=args.port, crash=args.crash)

    async def serve() -> None:
        await fake.start_async()
        print(fake.base_url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await fake.stop_async()

    asyncio.run(serve())
    sys.exit(0)


if __name__ == "__main__":
    main()
