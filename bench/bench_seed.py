"""Seed article on the embedded model: wall time and tokens per stage, and what the
byte-identical system prefix saves (not a test; prints figures).

    .venv/bin/python bench/bench_seed.py [--model qwen2.5-coder-1.5b-instruct-q4_k_m] [--runs 2]
        [--verifier trained|llm] [--decoding free|grammar]

1. Runs the whole pipeline ``--runs`` times on a fresh embedded server and prints wall time,
   prompt/completion tokens and seconds per stage.
2. Replays the run's requests with ``max_tokens=1`` (prompt processing only), once in
   pipeline order and once with the first message made unique per request (no reusable
   prefix), and prints the prompt-processing time a shared prefix saves. Since issue 22 the run
   makes one claims call (plus verify with ``--verifier llm``): with the trained verifier there
   is nothing to share, and part 2 shows it.
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
from pipeline.stages.analyze import analyze
from pipeline.stages.options import AnalysisOptions
from pipeline.text.ingest import make_article

SEED = Path(__file__).resolve().parent.parent / "seeds" / "musk-putin-bremmer.txt"


def prompt_seconds(base_url: str, bodies: list[dict[str, object]], *, unique_prefix: bool) -> list[float]:
    # Start cold, as a new article does: evict the slot's cached prefix with an unrelated prompt.
    reset = {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1, "model": "x"}
    httpx.post(f"{base_url}/chat/completions", json=reset, timeout=900).raise_for_status()
    times = []
    for i, body in enumerate(bodies):
        body = json.loads(json.dumps(body))
        body["max_tokens"] = 1
        if unique_prefix:
            body["messages"][0]["content"] = (
                f"Request {i} of a cold-prefix benchmark.\n" + body["messages"][0]["content"]
            )
        started = time.perf_counter()
        httpx.post(f"{base_url}/chat/completions", json=body, timeout=900).raise_for_status()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", choices=sorted(WEIGHTS))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--verifier", default="trained", choices=("trained", "llm"),
                        help="llm: the verify call, as before")
    parser.add_argument("--decoding", default="free", choices=("free", "grammar"),
                        help="grammar: JSON under the tool-schema grammar, as before")
    args = parser.parse_args()
    settings = Settings(embedded_model=args.model, embedded_decoding=args.decoding)
    path = ensure_weights(WEIGHTS[args.model], settings.cache_dir / "models")
    text = SEED.read_text(encoding="utf-8")
    bodies: list[dict[str, object]] = []

    async def capture(request: "httpx2.Request") -> None:
        bodies.append(json.loads(request.content))

    with EmbeddedServer(path, n_ctx=settings.context_tokens) as server:
        walls = []
        for run in range(args.runs):
            bodies.clear()
            llm = embedded_llm(settings, server.base_url, WEIGHTS[args.model].name)
            llm.use_http_client(openai.DefaultAsyncHttpxClient(event_hooks={"request": [capture]}))
            started = time.perf_counter()
            result = asyncio.run(analyze(llm, make_article(text, str(SEED)), AnalysisOptions(verifier=args.verifier)))
            walls.append(time.perf_counter() - started)
            print(f"run {run + 1}: {walls[-1]:.1f} s, {len(result.claims)} claims, {len(result.denials)} denials, "
                  f"{len(bodies)} requests (re-asks included)")  # fmt: skip
            for stage, u in result.run.usage.items():
                print(f"  {stage:8} {u.seconds:6.1f} s  prompt {u.prompt_tokens:5}  "
                      f"completion {u.completion_tokens:4}  "
                      f"cached {u.cached_tokens}")  # fmt: skip
            verdicts = {v.claim_id: v for v in result.verdicts}
            for c in result.claims:
                v = verdicts.get(c.id)
                print(f"  {c.id} [{' -> '.join(c.attribution)}] {c.statement}  => {v.verdict.value if v else '-'}"
                      f" {v.confidence if v else ''}")  # fmt: skip
            for d in result.denials:
                print(f"  {d.id} {d.speaker} ({d.kind.value}) -> {d.claim_ids}: {d.spans[0].text[:90]}")
            for w in result.warnings:
                print(f"  warning: {w}")
        print(f"wall ({args.verifier} verifier): median {statistics.median(walls):.1f} s over {len(walls)} runs")
        shared = prompt_seconds(server.base_url, bodies, unique_prefix=False)
        cold = prompt_seconds(server.base_url, bodies, unique_prefix=True)
        print("prompt processing per request, shared prefix vs unique prefix (s):")
        for body, s, c in zip(bodies, shared, cold):
            name = body["tools"][0]["function"]["name"] if body.get("tools") else body["messages"][-1]["content"][:18]
            print(f"  {name:18} {s:6.1f}  {c:6.1f}")
        print(f"total: {sum(shared):.1f} s shared vs {sum(cold):.1f} s cold: "
              f"prefix sharing saves {sum(cold) - sum(shared):.1f} s")


if __name__ == "__main__":
    main()
