"""The response cache and the adaptive limiter, each as a transport layer in front of the fake server."""

import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path

import diskcache
import httpx2

from pipeline.llm.cache import CACHE_HEADER, CachingTransport, ResponseCache, canonical, is_chat_completion
from pipeline.llm.limiter import AdaptiveLimiter
from pipeline.testing.fake_openai import FakeOpenAI, Faults


def chat_body(text: str, **extra: object) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": f"THE ARTICLE TO ANALYSE:\n[1] {text}"}, {"role": "user", "content": "go"}
        ],
        "tools": [{"type": "function", "function": {"name": "DenialsResponse", "parameters": {
            "type": "object", "properties": {"denials": {"type": "array", "items": {}}}}}}],
        **extra,
    }


async def post_all(cache: ResponseCache, base_url: str, bodies: list[bytes]) -> list[httpx2.Response]:
    transport = CachingTransport(httpx2.AsyncHTTPTransport(), cache, "openai:test")
    async with httpx2.AsyncClient(transport=transport) as client:
        return [await client.post(f"{base_url}/chat/completions", content=b) for b in bodies]


def test_same_request_is_answered_from_disk_whatever_its_key_order(tmp_path: Path) -> None:
    body = chat_body("One.", temperature=0)
    reordered = dict(reversed(list(body.items())))
    with FakeOpenAI() as fake:
        cache = ResponseCache(tmp_path / "responses")
        first, second = asyncio.run(
            post_all(cache, fake.base_url, [json.dumps(body).encode(), json.dumps(reordered).encode()])
        )
        cache.close()
        assert fake.stats.requests == 1
        assert CACHE_HEADER not in first.headers and second.headers[CACHE_HEADER] == "hit"
        assert first.status_code == second.status_code == 200
        assert first.json()["choices"] == second.json()["choices"]
        # Another process (a new cache object on the same folder) sees the stored answer.
        again = ResponseCache(tmp_path / "responses")
        (third,) = asyncio.run(post_all(again, fake.base_url, [json.dumps(body).encode()]))
        assert fake.stats.requests == 1 and third.headers[CACHE_HEADER] == "hit"


def test_errors_and_broken_bodies_are_never_cached(tmp_path: Path) -> None:
    body = json.dumps(chat_body("Two.")).encode()
    with FakeOpenAI(faults=Faults(rate_limit=1.0, max_faults_per_request=1)) as fake:
        cache = ResponseCache(tmp_path / "responses")
        limited, ok, hit = asyncio.run(post_all(cache, fake.base_url, [body, body, body]))
        assert (limited.status_code, ok.status_code, hit.headers.get(CACHE_HEADER)) == (429, 200, "hit")
    other = json.dumps(chat_body("Three.")).encode()
    with FakeOpenAI(faults=Faults(invalid_json=1.0, max_faults_per_request=1)) as fake:
        broken, fixed = asyncio.run(post_all(cache, fake.base_url, [other, other]))
        assert broken.status_code == 200 and fixed.status_code == 200
        assert CACHE_HEADER not in fixed.headers and fake.stats.requests == 2


def test_limiter_halves_on_429_without_pausing_the_others_and_recovers() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(8)
        tickets = [await limiter.acquire() for _ in range(8)]
        assert limiter.in_flight == 8
        await limiter.release(tickets[0], 429)
        await limiter.release(tickets[1], 429)  # same burst: halves once
        assert limiter.limit == 4 and limiter.decreases == 1
        for ticket in tickets[2:]:
            await limiter.release(ticket, 200)
        # Retry-After delays only the request that got it (in the client), never the others.
        ticket = await asyncio.wait_for(limiter.acquire(), 0.05)
        await limiter.release(ticket, 200)
        for _ in range(40):  # successes add slots back, one per `limit` in a row
            await limiter.release(await limiter.acquire(), 200)
        assert limiter.limit == 8

    asyncio.run(scenario())


def test_a_corrupt_cache_is_one_line_that_says_how_to_move_it_aside(tmp_path: Path) -> None:
    import shlex
    import subprocess

    from cli_process import env_for, factcheck, run_args

    from pipeline.testing.articles import write_articles

    env = env_for(tmp_path)
    responses = Path(env["FACTCHECK_CACHE_DIR"]) / "responses"
    responses.mkdir(parents=True)
    (responses / "cache.db").write_bytes(b"this is not an SQLite database" * 100)
    write_articles(tmp_path / "in", 1)
    with FakeOpenAI() as fake:
        done = factcheck(run_args(tmp_path / "in", tmp_path / "out", fake.base_url), env)
        assert done.returncode == 1
        [line] = done.stderr.splitlines()
        assert line.startswith(f"error: {responses}: response cache is corrupt (file is not a database)")
        move = line.split("`")[1]
        subprocess.run(shlex.split(move), check=True)  # the command the message gives
        again = factcheck(run_args(tmp_path / "in", tmp_path / "out", fake.base_url), env)
    assert again.returncode == 0, again.stderr
    assert (responses.parent / "responses.broken" / "cache.db").exists()


def test_a_cache_that_stored_nothing_closes_cleanly_and_one_that_did_keeps_it(tmp_path: Path) -> None:
    ResponseCache(tmp_path / "idle").close()  # a warm run stores nothing: closing must not fail
    cache = ResponseCache(tmp_path / "busy")
    asyncio.run(cache.store("k", b'{"choices": [1]}'))
    cache.close()
    reopened = ResponseCache(tmp_path / "busy")
    assert reopened.get("k") == b'{"choices": [1]}'
    reopened.close()


def test_a_cache_created_with_diskcache_defaults_is_reopened_capped_and_without_memory_mapping(tmp_path: Path) -> None:
    # A cache folder made with diskcache's defaults (1 GiB, 64 MiB mapped, 32 MiB of pages): opening it
    # as the response cache stores the run's limits, so resident memory stays flat however big the
    # cache grows (docs/batch.md), and the cap on disk is 16 GiB, not 1.
    diskcache.Cache(str(tmp_path / "responses")).close()
    ResponseCache(tmp_path / "responses").close()
    stored = diskcache.Cache(str(tmp_path / "responses"))  # reads the settings persisted in the database
    try:
        assert stored.size_limit == 16 * 2**30
        assert stored.sqlite_mmap_size == 0
        assert stored.sqlite_cache_size == 512  # pages: 2 MiB at 4 KiB
    finally:
        stored.close()


def test_only_posts_to_chat_completions_are_cached() -> None:
    url = "http://127.0.0.1:1/v1"
    assert is_chat_completion(httpx2.Request("POST", f"{url}/chat/completions"))
    for method, path in [("GET", "/chat/completions"), ("PUT", "/chat/completions"), ("DELETE", "/chat/completions"),
                         ("POST", "/embeddings"), ("GET", "/models")]:
        assert not is_chat_completion(httpx2.Request(method, f"{url}{path}")), (method, path)


def test_the_key_keeps_non_ascii_text_as_it_is_so_earlier_keys_stay_valid() -> None:
    # Keys written by earlier runs must stay the keys of the same requests: the canonical form is fixed.
    assert canonical('{"b": "Über", "a": 1}'.encode()) == '{"a":1,"b":"Über"}'


def test_every_store_is_written_by_the_caches_one_writer_thread(tmp_path: Path) -> None:
    # One thread of its own: stores are committed in order and never contend for SQLite's write lock.
    cache = ResponseCache(tmp_path / "responses")
    writers: list[str] = []
    put = cache.put

    def recording_put(key: str, body: bytes) -> None:
        writers.append(threading.current_thread().name)
        time.sleep(0.002)  # a commit that takes a moment: concurrent stores queue behind it
        put(key, body)

    cache.put = recording_put  # type: ignore[method-assign]

    async def store_many() -> None:
        await asyncio.gather(*(cache.store(f"k{i}", b'{"choices": [1]}') for i in range(20)))

    asyncio.run(store_many())
    cache.close()
    assert len(writers) == 20 and len(set(writers)) == 1 and writers[0].startswith("response-cache")


def test_an_answer_whose_caller_is_cancelled_while_its_store_waits_is_still_stored(tmp_path: Path) -> None:
    """An answer received is paid for: an article cancelled while its store waits behind another
    (the run stopping, Ctrl-C) still leaves it in the cache, or the next run pays for it again."""
    cache = ResponseCache(tmp_path / "responses")
    blocker = sqlite3.connect(tmp_path / "responses" / "cache.db")
    blocker.execute("BEGIN IMMEDIATE")  # another process mid-commit: the writer thread waits on the first store

    async def scenario() -> None:
        first = asyncio.create_task(cache.store("k1", b'{"choices": [1]}'))
        second = asyncio.create_task(cache.store("k2", b'{"choices": [2]}'))
        await asyncio.sleep(0.1)  # both queued in the one writer thread
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        blocker.rollback()
        await first

    asyncio.run(scenario())
    blocker.close()
    cache.close()
    reopened = ResponseCache(tmp_path / "responses")
    assert reopened.get("k1") == b'{"choices": [1]}'
    assert reopened.get("k2") == b'{"choices": [2]}'
    reopened.close()


def test_a_closed_limiter_lets_the_calls_holding_a_slot_finish_and_cancels_the_others() -> None:
    """How a run stops on a full disk: no new call reaches the server, the ones there finish."""
    async def scenario() -> None:
        limiter = AdaptiveLimiter(2)
        held = [await limiter.acquire(), await limiter.acquire()]
        waiting = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        limiter.close()
        assert (await asyncio.gather(waiting, return_exceptions=True))[0].__class__ is asyncio.CancelledError
        later = asyncio.create_task(limiter.acquire())
        assert (await asyncio.gather(later, return_exceptions=True))[0].__class__ is asyncio.CancelledError
        for ticket in held:  # the two in flight end normally
            await limiter.release(ticket, 200)
        assert limiter.in_flight == 0 and limiter.waiting == 0

    asyncio.run(scenario())
