"""The seed's claims call on the embedded model, with and without llama.cpp's prompt-lookup
decoding (``draft_model="prompt-lookup-decoding"``: draft tokens copied from the prompt, checked in
one batch; the statements copy the candidates' words). Not a test; prints figures.

    .venv/bin/python bench/bench_decoding.py [--model qwen2.5-coder-1.5b-instruct-q4_k_m] [--runs 3] [--draft-tokens 10 2]

Captures the pipeline's own claims request on the seed (one run of the claims stage), then for
each server setting (plain, then prompt lookup with each ``--draft-tokens``) starts a fresh server
and replays that request cold (the slot's cached prefix evicted first) ``--runs`` times. Prints
wall seconds (median and each run), prompt-only seconds (``max_tokens=1``), completion tokens and
generation tokens/s, and whether the answer is the same as the plain server's (greedy decoding:
prompt lookup must not change it).
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import openai

from pipeline.llm.backends.embedded import embedded_llm
from pipeline.llm.embedded import WEIGHTS, EmbeddedServer, ensure_weights
from pipeline.settings import Settings
from pipeline.stages.claims import write_claims
from pipeline.text.document import windows
from pipeline.text.ingest import make_article

SEED = Path(__file__).resolve().parent.parent / "seeds" / "musk-putin-bremmer.txt"


def post(base_url: str, body: dict[str, object]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = httpx.post(f"{base_url}/chat/completions", json=body, timeout=1800)
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def evict(base_url: str) -> None:
    post(base_url, {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1, "model": "x"})


def answer_text(reply: dict[str, object]) -> str:
    message = reply["choices"][0]["message"]  # type: ignore[index]
    calls = message.get("tool_calls")
    return calls[0]["function"]["arguments"] if calls else message.get("content") or ""


def server_argv(path: Path, n_ctx: int, draft_tokens: int | None) -> list[str]:
    argv = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1", "--port", "{port}",
        "--n_ctx", str(n_ctx), "--verbose", "False",
    ]  # fmt: skip
    if draft_tokens:
        argv += ["--draft_model", "prompt-lookup-decoding", "--draft_model_num_pred_tokens", str(draft_tokens)]
    return argv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", choices=sorted(WEIGHTS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--draft-tokens", type=int, nargs="*", default=[10, 2])
    args = parser.parse_args()
    settings = Settings(embedded_model=args.model)
    path = ensure_weights(WEIGHTS[args.model], settings.cache_dir / "models")
    article = make_article(SEED.read_text(encoding="utf-8"), str(SEED))
    captured: list[dict[str, object]] = []

    async def capture(request: "httpx.Request") -> None:
        captured.append(json.loads(request.content))

    plain_answer = None
    for draft_tokens in [None, *args.draft_tokens]:
        with EmbeddedServer(path, n_ctx=settings.context_tokens, command=server_argv(path, settings.context_tokens, draft_tokens)) as server:
            if not captured:
                llm = embedded_llm(settings, server.base_url, WEIGHTS[args.model].name)
                llm.use_http_client(openai.DefaultAsyncHttpxClient(event_hooks={"request": [capture]}))
                window = windows(article.text, title=article.meta.title, max_chars=settings.window_chars)[0]
                asyncio.run(write_claims(llm, window, max_claims=settings.max_claims))
            body = captured[0]
            evict(server.base_url)
            prompt_only, _ = post(server.base_url, {**body, "max_tokens": 1})
            walls, tokens, text = [], [], ""
            for _ in range(args.runs):
                evict(server.base_url)
                wall, reply = post(server.base_url, body)
                walls.append(wall)
                tokens.append(reply["usage"]["completion_tokens"])  # type: ignore[index]
                text = answer_text(reply)
            plain_answer = plain_answer if plain_answer is not None else text
            wall, generated = statistics.median(walls), statistics.median(tokens)
            rate = generated / max(wall - prompt_only, 1e-6)
            name = f"prompt lookup, {draft_tokens} draft tokens" if draft_tokens else "plain"
            print(f"{name:32} wall {wall:6.1f} s  prompt-only {prompt_only:5.1f} s  prompt {reply['usage']['prompt_tokens']} tokens"  # type: ignore[index]
                  f"  completion {generated:4.0f} tokens  {rate:5.1f} tokens/s  (runs: {', '.join(f'{w:.1f}' for w in walls)})"
                  f"  same answer as plain: {text == plain_answer}")  # fmt: skip
            if draft_tokens is None:
                print(f"  answer: {text}")


if __name__ == "__main__":
    main()
