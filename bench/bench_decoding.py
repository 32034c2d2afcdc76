"""How the embedded model decodes the seed's claims request: under the tool-schema grammar, under
llama.cpp's generic JSON grammar, or free (the schema only in the prompt). Not a test; prints figures.

    .venv/bin/python bench/bench_decoding.py [--model qwen2.5-coder-1.5b-instruct-q4_k_m] [--runs 2]

Captures the pipeline's own claims request on the seed (one run of the claims stage), then
replays it in each form, cold (the slot's cached prefix evicted first), ``--runs`` times, and
prints wall seconds, completion tokens, prompt-only seconds (``max_tokens=1``) and generation
tokens/s. The answer of each form is printed once, so its quality can be read beside its speed.
"""

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

import httpx
import httpx2  # noqa: F401 (the openai client's HTTP library; named in a type hint)
import openai

from pipeline.llm.backends.embedded import embedded_llm
from pipeline.llm.embedded import WEIGHTS, EmbeddedServer, ensure_weights
from pipeline.settings import Settings
from pipeline.stages.claims import extract_claims
from pipeline.text.document import windows
from pipeline.text.ingest import make_article

SEED = Path(__file__).resolve().parent.parent / "seeds" / "musk-putin-bremmer.txt"


def forms(body: dict[str, object]) -> dict[str, dict[str, object]]:
    """The captured tool-call request, and the same messages asking for JSON in two other ways."""
    tool = body["tools"][0]["function"]  # type: ignore[index]
    schema = json.dumps(tool["parameters"], ensure_ascii=False)
    ask_json = (
        f"\nAnswer with one JSON object only, no prose, matching this JSON Schema:\n{schema}"
    )
    as_text = {k: v for k, v in body.items() if k not in ("tools", "tool_choice")}
    as_text["messages"] = [*body["messages"][:-1], {**body["messages"][-1], "content": body["messages"][-1]["content"] + ask_json}]  # type: ignore[index]
    return {
        "tool grammar": body,
        "json_object grammar": {**as_text, "response_format": {"type": "json_object"}},
        "free": as_text,
    }


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", choices=sorted(WEIGHTS))
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    settings = Settings(embedded_model=args.model)
    path = ensure_weights(WEIGHTS[args.model], settings.cache_dir / "models")
    article = make_article(SEED.read_text(encoding="utf-8"), str(SEED))
    captured: list[dict[str, object]] = []

    async def capture(request: "httpx2.Request") -> None:
        captured.append(json.loads(request.content))

    started = time.perf_counter()
    with EmbeddedServer(path, n_ctx=settings.context_tokens) as server:
        print(f"server start: {time.perf_counter() - started:.1f} s")
        llm = embedded_llm(settings, server.base_url, WEIGHTS[args.model].name)
        llm.use_http_client(openai.DefaultAsyncHttpxClient(event_hooks={"request": [capture]}))
        window = windows(article.text, title=article.meta.title, max_chars=settings.window_chars)[0]
        asyncio.run(extract_claims(llm, window))
        body = captured[0]
        for name, form in forms(body).items():
            evict(server.base_url)
            prompt_only, _ = post(server.base_url, {**form, "max_tokens": 1})
            walls, tokens, text = [], [], ""
            for _ in range(args.runs):
                evict(server.base_url)
                wall, reply = post(server.base_url, form)
                walls.append(wall)
                tokens.append(reply["usage"]["completion_tokens"])  # type: ignore[index]
                text = answer_text(reply)
            wall = statistics.median(walls)
            generated = statistics.median(tokens)
            rate = generated / max(wall - prompt_only, 1e-6)
            print(f"{name:20} wall {wall:6.1f} s  prompt-only {prompt_only:5.1f} s  completion {generated:5.0f} tokens"
                  f"  {rate:5.1f} tokens/s  (runs: {', '.join(f'{w:.1f}' for w in walls)})")  # fmt: skip
            print(f"  answer: {text[:600]}")


if __name__ == "__main__":
    main()
