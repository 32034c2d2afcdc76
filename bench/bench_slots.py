"""The embedded server's parallel slots: a folder of 8 articles at ``--concurrency 1`` and ``2``, with
``--verifier llm`` (the one call ``run`` asks the embedded model: its claims call is not asked,
docs/model-questions.md).

    flock /tmp/factcheck-cpu.lock .venv/bin/python bench/bench_slots.py [--runs 2] [--articles 8]

The articles are the first ``--articles`` of PolNeAR dev (``../shared/data/polnear_dev``, read in
place, never copied). Each run is a fresh ``factcheck run --no-cache`` (server start included) into
a new folder; the two settings alternate, so load on a shared machine falls on both. Printed:
wall seconds, and from the run's usage the verify calls' prompt and answer tokens and their
summed call seconds. On 2 cores the answer phase (one token at a time, memory-bound) can gain from
two slots decoding side by side; the prompt phase (already using both cores) cannot.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLNEAR = ROOT.parent / "shared" / "data" / "polnear_dev"


def one_run(folder: Path, concurrency: int, slots: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix=f"slots-c{concurrency}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["FACTCHECK_EMBEDDED_SLOTS"] = str(slots)
    command = [sys.executable, "-m", "pipeline.cli", "run", str(folder), "--out", str(out / "o"), "--no-cache", "-q",
               "--concurrency", str(concurrency), "--verifier", "llm", "--follow-symlinks"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    wall = time.perf_counter() - started
    manifest = json.loads((out / "o" / "run.json").read_text(encoding="utf-8"))
    verify = manifest["by_stage"].get("verify", {})
    return {
        "wall": wall, "calls": verify.get("calls", 0), "prompt_tokens": verify.get("prompt_tokens", 0),
        "cached_tokens": verify.get("cached_tokens", 0), "completion_tokens": verify.get("completion_tokens", 0),
        "call_seconds": verify.get("seconds", 0.0),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--articles", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="slots-in-"))
    for path in sorted(POLNEAR.glob("*.txt"))[: args.articles]:
        (folder / path.name).symlink_to(path)
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.runs):
        for concurrency in (1, 2):
            result = one_run(folder, concurrency, slots=concurrency)
            results[concurrency].append(result)
            print(f"concurrency {concurrency} ({concurrency} slot(s)): {json.dumps(result)}", flush=True)
    walls = {c: statistics.median(r["wall"] for r in runs) for c, runs in results.items()}
    print(f"median wall: concurrency 1 {walls[1]:.1f} s, 2 {walls[2]:.1f} s; ratio 2/1 = {walls[2] / walls[1]:.2f}")


if __name__ == "__main__":
    main()
