"""Prompt and generation speed of a llama.cpp build: the portable one the lock installs against any
other (e.g. a `-march=native` build in another venv). Not a test; prints figures.

    .venv/bin/python bench/bench_build.py [--python OTHER_VENV/bin/python] [--runs 3]

Each run starts the server with ``--python`` (default: this venv) serving the 1.5B, sends the
seed article as the pipeline shows it (numbered sentences, ~1,200 tokens) with ``max_tokens=1``
(prompt processing, cold: a fresh server each run), then asks for 128 tokens with the prompt
cached (generation). Medians over runs.
Run under the CPU lock, one build at a time.
"""

import argparse
import statistics
import time
from pathlib import Path

import httpx

from pipeline.llm.embedded import WEIGHTS, EmbeddedServer, ensure_weights
from pipeline.settings import Settings
from pipeline.text.document import windows

SEED = Path(__file__).resolve().parent.parent / "seeds" / "musk-putin-bremmer.txt"


def post(url: str, body: dict[str, object]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = httpx.post(url, json={"model": "x", "temperature": 0, **body}, timeout=600)
    response.raise_for_status()
    return time.perf_counter() - started, response.json()


def one_run(python: str, model_path: Path) -> tuple[float, float]:
    command = [python, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1", "--port", "{port}",
               "--n_ctx", "4096", "--n_threads", "2", "--n_threads_batch", "2", "--verbose", "False"]  # fmt: skip
    [window] = windows(SEED.read_text(encoding="utf-8"))
    system = window.system_message
    with EmbeddedServer(model_path, command=command, restarts=0) as server:
        url = f"{server.base_url}/chat/completions"
        post(url, {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1})  # warm-up
        messages = [{"role": "system", "content": system}, {"role": "user", "content": "Summarise the article."}]
        seconds, reply = post(url, {"messages": messages, "max_tokens": 1})
        prompt_rate = reply["usage"]["prompt_tokens"] / seconds  # type: ignore[index]
        seconds, reply = post(url, {"messages": messages, "max_tokens": 128})
        generated = reply["usage"]["completion_tokens"]  # type: ignore[index]
        return prompt_rate, generated / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=None, help="the Python whose llama_cpp to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import sys

    python = args.python or sys.executable
    path = ensure_weights(WEIGHTS["qwen2.5-coder-1.5b-instruct-q4_k_m"], Settings().cache_dir / "models")
    rates = [one_run(python, path) for _ in range(args.runs)]
    prompt = [p for p, _ in rates]
    generation = [g for _, g in rates]
    print(f"{python}: prompt {statistics.median(prompt):.1f} tokens/s {[round(p, 1) for p in prompt]}, "
          f"generation {statistics.median(generation):.1f} tokens/s {[round(g, 1) for g in generation]}")  # fmt: skip


if __name__ == "__main__":
    main()
