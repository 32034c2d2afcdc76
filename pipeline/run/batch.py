"""Scale-out through the OpenAI Batch API: one batch per stage, results fed to the live path.

How a request for a batch is made: each article runs through the ordinary ``analyze``
with a transport stack of response cache -> capture. Stages whose answers are in the
cache pass; the first request that would reach the network is captured instead, and
that request body -- byte for byte what a live run would send -- becomes one line of
the next batch (``custom_id`` = article id : stage : round). When a batch completes,
each answer is stored in the response cache under the key of its request. So:

* round 1 captures every article's claims request, round 2 (after the claims answers
  are cached) its denials request, round 3 its verification request: one batch per
  stage, each built from the previous stage's validated output;
* ``collect`` is a normal run: every answer comes from the cache and goes through the
  same schemas, instructor validation and span alignment as a live answer; anything
  missing, failed or invalid (a re-ask is a new request) is asked live.

State lives in ``OUT/batch.json`` (atomic writes); request files in ``OUT/batch/``. Every step
that writes there holds OUT's lock (``run/lock.py``), the one ``factcheck run`` takes: a
``submit``, ``status`` or ``collect`` and a run on one folder never write it at once.
"""

import json
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import openai

from pipeline._io import write_json_atomic
from pipeline.llm.backends.openai import openai_llm
from pipeline.llm.cache import ResponseCache, is_chat_completion
from pipeline.llm.client import LLM
from pipeline.llm.errors import LLMError
from pipeline.llm.factory import backend_identity, http_client
from pipeline.llm.prices import BATCH_DISCOUNT, price_for
from pipeline.run.inputs import discover, iter_articles
from pipeline.run.lock import OutputLock
from pipeline.run.output import check_out_dir, load_result, result_path
from pipeline.settings import Settings
from pipeline.stages.registry import STAGE_BY_TOOL
from pipeline.stages.analyze import analyze
from pipeline.stages.options import AnalysisOptions
from pipeline.text.ingest import Article

STATE_FILE = "batch.json"
ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS_PER_BATCH = 50_000  # the Batch API's limit per input file
FINAL_STATUSES = {"completed", "failed", "expired", "cancelled"}
# Settings that change request bodies: fixed at submit so later rounds and collect match.
PINNED_SETTINGS = (
    "base_url", "model", "temperature", "max_claims", "window_chars", "verifier", "reasks", "cache_dir", "prices",
)  # fmt: skip


class BatchError(RuntimeError):
    """A batch operation that cannot go on; the message says why in one line."""


class _Captured(Exception):
    """Raised by the capture transport: the request was recorded, not sent."""


_capture: ContextVar[list[dict[str, object]] | None] = ContextVar("_capture", default=None)


class CaptureTransport(httpx2.AsyncBaseTransport):
    """The network end of a planning run: records the request body and stops."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        sink = _capture.get()
        if sink is None or not is_chat_completion(request):
            raise BatchError(f"unexpected request while planning a batch: {request.method} {request.url}")
        sink.append(json.loads(request.content))
        raise _Captured()


@dataclass
class Plan:
    requests: int = 0
    ready: int = 0  # every answer cached: collect will finish it without a call
    already_done: int = 0
    failed: int = 0  # could not be planned (bad input, a bug): collect runs it live
    stages: dict[str, int] | None = None


def _state_path(out_dir: Path) -> Path:
    return out_dir / STATE_FILE


def load_state(out_dir: Path) -> dict[str, object]:
    path = _state_path(out_dir)
    if not path.exists():
        raise BatchError(f"{out_dir}: no batch here ({STATE_FILE} missing); start with `factcheck batch submit`")
    return json.loads(path.read_text(encoding="utf-8"))


def save_state(out_dir: Path, state: dict[str, object]) -> None:
    state["updated_at"] = datetime.now(UTC).isoformat()
    write_json_atomic(_state_path(out_dir), state)


def pinned_settings(state: dict[str, object], base: Settings) -> Settings:
    pinned = Settings(**state["settings"]).model_dump().items()  # type: ignore[arg-type]
    return base.model_copy(update={k: v for k, v in pinned if k in PINNED_SETTINGS})


def _identity(settings: Settings) -> str:
    return backend_identity("openai", settings.base_url or "https://api.openai.com/v1")


def _api_key(settings: Settings) -> str:
    return settings.api_key.get_secret_value() if settings.api_key else "not-needed"


def _client(settings: Settings) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=settings.base_url, api_key=_api_key(settings), timeout=max(settings.timeout, 60.0), max_retries=3
    )


def _articles(state: dict[str, object], out_dir: Path, max_chars: int) -> Iterator[Article]:
    files, _ = discover([Path(p) for p in state["inputs"]], exclude=out_dir)  # type: ignore[union-attr]
    # unreadable inputs are reported by collect; one too big for max_chars is refused unread
    yield from iter_articles(files, lambda source, reason: None, max_chars=max_chars)


# -- planning a round ------------------------------------------------------------------------


async def plan_round(state: dict[str, object], out_dir: Path, settings: Settings, round_no: int) -> tuple[Path, Plan]:
    """Write the next round's request file: one line per article that still needs a call."""
    cache = ResponseCache(settings.cache_dir / "responses")
    # The live client's requests, captured instead of sent: one attempt, no token probabilities.
    stack = http_client(identity=_identity(settings), cache=cache, network=CaptureTransport())
    llm = openai_llm(settings, http_client=stack, max_attempts=1, top_logprobs=0)
    plan = Plan(stages={})
    live_only = set(state.get("live_only", []))  # type: ignore[arg-type]
    folder = out_dir / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"round-{round_no}.jsonl"
    partial = target.with_name(f".{target.name}.tmp")
    try:
        with partial.open("w", encoding="utf-8") as f:
            for article in _articles(state, out_dir, settings.max_chars):
                if load_result(result_path(out_dir, article.meta.id)) is not None:
                    plan.already_done += 1
                    continue
                if article.meta.id in live_only:  # its batch item failed: collect asks it live
                    plan.failed += 1
                    continue
                body = await _next_request(llm, article, settings)
                if body is None:
                    plan.ready += 1
                    continue
                if body is False:
                    plan.failed += 1
                    continue
                stage = STAGE_BY_TOOL.get(body["tools"][0]["function"]["name"], "other")  # type: ignore[index]
                plan.stages[stage] = plan.stages.get(stage, 0) + 1  # type: ignore[index]
                plan.requests += 1
                line = {
                    "custom_id": f"{article.meta.id}:{stage}:{round_no}", "method": "POST", "url": ENDPOINT,
                    "body": body,
                }
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
        await llm.close()
        cache.close()
    return target, plan


async def _next_request(llm: LLM, article: Article, settings: Settings) -> dict[str, object] | None | bool:
    """The first request of this article that the cache cannot answer; None when every
    answer is cached; False when the article cannot be planned."""
    sink: list[dict[str, object]] = []
    token = _capture.set(sink)
    try:
        await analyze(llm, article, AnalysisOptions.from_settings(settings, llm.backend))
        return None
    except LLMError:
        return sink[0] if sink else False
    except (ValueError, TypeError):  # invalid output that the live path will redo
        return sink[0] if sink else False
    finally:
        _capture.reset(token)


# -- submitting and collecting ---------------------------------------------------------------


async def submit(
    paths: list[Path], out_dir: Path, settings: Settings, *, lock: OutputLock | None = None
) -> dict[str, object]:
    """``lock``: OUT's lock when the caller holds it; else it is taken here, and a folder another
    factcheck process writes is refused (:class:`~pipeline.run.lock.FolderBusyError`)."""
    if not settings.cache:
        raise BatchError(
            "the Batch API path needs the response cache: unset FACTCHECK_CACHE=0, or remove `cache = false` from "
            "factcheck.toml"
        )
    check_out_dir(out_dir)
    if lock is None:
        with OutputLock(out_dir) as held:
            return await submit(paths, out_dir, settings, lock=held)
    if _state_path(out_dir).exists():
        raise BatchError(f"{out_dir}: a batch was already submitted here; use `factcheck batch status` or `collect`")
    files, _ = discover(paths, exclude=out_dir)
    if not files:
        raise BatchError(f"{', '.join(map(str, paths))}: no article files found")
    state: dict[str, object] = {
        "version": 1,
        "inputs": [str(p.resolve()) for p in paths],
        "created_at": datetime.now(UTC).isoformat(),
        "settings": settings.model_dump(mode="json", include=set(PINNED_SETTINGS)),
        "rounds": [],
        "finished": False,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    await _submit_next(state, out_dir, settings)
    return state


async def _submit_next(state: dict[str, object], out_dir: Path, settings: Settings) -> None:
    rounds: list[dict[str, object]] = state["rounds"]  # type: ignore[assignment]
    round_no = len(rounds) + 1
    path, plan = await plan_round(state, out_dir, settings, round_no)
    if plan.requests == 0:
        state["finished"] = True
        path.unlink(missing_ok=True)
        save_state(out_dir, state)
        return
    client = _client(settings)
    entry: dict[str, object] = {
        "round": round_no, "requests": plan.requests, "stages": plan.stages,
        "request_file": str(path.relative_to(out_dir)),
        "batches": [], "status": "submitted", "ingested": False, "submitted_at": datetime.now(UTC).isoformat(),
        "results": {
            "completed": 0, "failed": 0, "prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0,
            "cost_usd": 0.0,
        },
    }
    try:
        for n, chunk in enumerate(_chunks(path, MAX_REQUESTS_PER_BATCH)):
            with chunk.open("rb") as f:
                uploaded = client.files.create(file=(chunk.name, f), purpose="batch")
            batch = client.batches.create(
                input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h",
                metadata={"factcheck_round": str(round_no), "part": str(n)},
            )
            entry["batches"].append({"id": batch.id, "input_file_id": uploaded.id, "status": batch.status})  # type: ignore[union-attr]
            if chunk != path:
                chunk.unlink()
    except openai.OpenAIError as error:
        raise BatchError(f"{settings.base_url or 'OpenAI'}: cannot submit round {round_no}: {error}") from error
    finally:
        client.close()
        rounds.append(entry)
        save_state(out_dir, state)


def _chunks(path: Path, size: int) -> Iterator[Path]:
    with path.open(encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    if lines <= size:
        yield path
        return
    with path.open(encoding="utf-8") as f:
        part, buffer = 0, []
        for line in f:
            buffer.append(line)
            if len(buffer) == size:
                yield _write_part(path, part, buffer)
                part, buffer = part + 1, []
        if buffer:
            yield _write_part(path, part, buffer)


def _write_part(path: Path, part: int, lines: list[str]) -> Path:
    target = path.with_name(f"{path.stem}.part{part}.jsonl")
    target.write_text("".join(lines), encoding="utf-8")
    return target


async def advance(out_dir: Path, base: Settings, *, lock: OutputLock | None = None) -> dict[str, object]:
    """Poll the current round; when it is over, store its answers and submit the next round.
    ``lock`` as for :func:`submit`."""
    if lock is None:
        load_state(out_dir)  # "no batch here" before a lock file is left in a folder that has none
        with OutputLock(out_dir) as held:
            return await advance(out_dir, base, lock=held)
    state = load_state(out_dir)
    settings = pinned_settings(state, base)
    while not state["finished"]:
        current: dict[str, object] = state["rounds"][-1]  # type: ignore[index]
        client = _client(settings)
        try:
            for batch in current["batches"]:  # type: ignore[union-attr]
                batch["status"] = client.batches.retrieve(batch["id"]).status
            statuses = {b["status"] for b in current["batches"]}  # type: ignore[union-attr]
            if not statuses <= FINAL_STATUSES:
                current["status"] = "in_progress"
                save_state(out_dir, state)
                return state
            _ingest(client, state, current, out_dir, settings)
        except openai.OpenAIError as error:
            where = settings.base_url or "OpenAI"
            raise BatchError(f"{where}: cannot read round {current['round']}: {error}") from error
        finally:
            client.close()
        current["status"] = "completed" if statuses == {"completed"} else "/".join(sorted(statuses))
        save_state(out_dir, state)
        await _submit_next(state, out_dir, settings)
    return state


def _ingest(
    client: openai.OpenAI, state: dict[str, object], current: dict[str, object], out_dir: Path, settings: Settings
) -> None:
    """Store every 200 answer in the response cache under its request's key; an article whose
    item failed leaves the batch path and is asked live at collect."""
    if current["ingested"]:
        return
    bodies: dict[str, bytes] = {}
    with (out_dir / str(current["request_file"])).open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            bodies[row["custom_id"]] = json.dumps(row["body"], ensure_ascii=False).encode()
    price = price_for("openai", settings.model or "gpt-4o-mini", settings.prices)
    results: dict[str, float] = current["results"]  # type: ignore[assignment]
    cache = ResponseCache(settings.cache_dir / "responses")
    identity = _identity(settings)
    live_only: set[str] = set(state.get("live_only", []))  # type: ignore[arg-type]
    try:
        for batch in current["batches"]:  # type: ignore[union-attr]
            found = client.batches.retrieve(batch["id"])
            batch["request_counts"] = found.request_counts.model_dump() if found.request_counts else None
            for file_id in (found.output_file_id, found.error_file_id):
                if not file_id:
                    continue
                for line in client.files.content(file_id).text.splitlines():
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    response = row.get("response") or {}
                    request = bodies.get(row.get("custom_id", ""))
                    if request is None or response.get("status_code") != 200 or not response.get("body"):
                        results["failed"] += 1
                        live_only.add(str(row.get("custom_id", "")).split(":")[0])
                        continue
                    cache.put(cache.key(identity, request), json.dumps(response["body"]).encode())
                    usage = response["body"].get("usage") or {}
                    prompt, output = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
                    cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
                    results["completed"] += 1
                    results["prompt_tokens"] += prompt
                    results["completion_tokens"] += output
                    results["cached_tokens"] += cached
                    results["cost_usd"] += price.cost(prompt, cached, output) * BATCH_DISCOUNT if price else 0.0
    finally:
        cache.close()
    results["cost_usd"] = round(results["cost_usd"], 6)
    state["live_only"] = sorted(live_only)
    current["ingested"] = True


def batch_cost(state: dict[str, object]) -> float:
    return round(sum(r["results"]["cost_usd"] for r in state["rounds"]), 6)  # type: ignore[index,union-attr]
