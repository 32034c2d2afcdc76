"""Where a run's memory goes (not a test; prints figures).

    .venv/bin/python bench/bench_memory.py                       # 16 synthetic articles
    .venv/bin/python bench/bench_memory.py --inputs ../shared/data/fnc1_dev --articles 16

1. steps: resident memory (VmRSS) and its high-water mark (VmHWM) in a fresh process after
   each thing a run loads: the CLI, the run path (openai SDK, instructor), onnxruntime, the
   stance model, the MiniLM embedder, then the embedder's first article (40 sentences of
   news length) and its worst case (64 sentences of 128 tokens, its cut);
2. runs: peak RSS (ru_maxrss) of `factcheck run` of N articles against the fake OpenAI server
   (its own process), with the trained verifier and with the llm verifier, with and without
   stories, each in a fresh process with a fresh cache.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.testing.articles import write_articles  # noqa: E402

STEPS = r'''
import json, random, sys
def vm():
    d = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            d[k] = round(int(v.split()[0]) / 1024)
    return d
rows = [("interpreter", vm())]
import pipeline.cli, pipeline.cli.run
rows.append(("the CLI (typer, rich, settings)", vm()))
import pipeline.run.driver, pipeline.llm.client, pipeline.stages.analyze, openai, instructor
rows.append(("the run path (openai SDK, instructor, httpx, pydantic models)", vm()))
import numpy, onnxruntime
rows.append(("numpy, onnxruntime", vm()))
from pipeline.stance.model import load
load()
rows.append(("the stance model (trained verifier)", vm()))
from pipeline.stance.embedder import shared_embedder
embedder = shared_embedder()
rows.append(("the MiniLM embedder, loaded", vm()))
rng = random.Random(1)
words = ("the mayor said a bridge will open in weeks after the council statement on budget growth while police "
         "reported crime fell in the district and the minister announced new jobs").split()
embedder.embed([" ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) + "." for _ in range(40)])
rows.append(("its first article (40 sentences of 8-40 words)", vm()))
embedder.embed([" ".join(["word"] * 126)] * 64)
rows.append(("its worst case (64 sentences of 128 tokens)", vm()))
print(json.dumps(rows))
'''

RUN = (
    "import resource, sys\n"
    "from pipeline.cli import main\n"
    "try:\n    main()\n"
    "except SystemExit as e:\n"
    "    print('peak', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, e.code, file=sys.stderr)\n"
)


def steps() -> None:
    done = subprocess.run([sys.executable, "-c", STEPS], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    rows = json.loads(done.stdout)
    print("[1] resident memory after each load, one fresh process (MiB):")
    previous = 0
    for name, vm in rows:
        print(f"    {name:64s} RSS {vm['VmRSS']:4d} (+{vm['VmRSS'] - previous:3d})   peak so far {vm['VmHWM']:4d}")
        previous = vm["VmRSS"]


def runs(work: Path, inputs: Path, count: int, concurrency: int) -> None:
    server = subprocess.Popen([sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", "0.05"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    try:
        (work / "none.toml").touch()
        print(f"[2] peak RSS of `factcheck run` of {count} articles ({inputs}), concurrency {concurrency}, "
              "a fresh process and cache each:")
        for verifier in ("trained", "llm"):
            for stories in ("--stories", "--no-stories"):
                tag = f"{verifier}{stories}"
                env = {**os.environ, "FACTCHECK_CACHE_DIR": str(work / f"cache-{tag}"), "OPENAI_API_KEY": "bench",
                       "FACTCHECK_CONFIG": str(work / "none.toml"), "PYTHONPATH": str(ROOT)}
                done = subprocess.run(
                    [sys.executable, "-c", RUN, "run", str(inputs), "--out", str(work / f"out-{tag}"),
                     "--base-url", base_url, "--model", "gpt-4o-mini", "--verifier", verifier, stories,
                     "--concurrency", str(concurrency), "--quiet", "--follow-symlinks"],  # --inputs are links
                    cwd=ROOT, env=env, capture_output=True, text=True,
                )
                peak = next(line for line in done.stderr.splitlines() if line.startswith("peak")).split()
                print(f"    verifier {verifier:7s} {stories:12s} peak RSS {int(peak[1]) / 1024:.0f} MiB, "
                      f"exit {peak[2]}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=16)
    parser.add_argument("--inputs", type=Path, default=None,
                        help="A folder of articles (the first N are used); default synthetic.")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--parts", default="12")
    args = parser.parse_args()
    if "1" in args.parts:
        steps()
    if "2" in args.parts:
        with tempfile.TemporaryDirectory(prefix="factcheck-mem-") as tmp:
            work = Path(tmp)
            inputs = work / "in"
            if args.inputs is None:
                write_articles(inputs, args.articles)
            else:  # read, never copied into the repository
                inputs.mkdir()
                for path in sorted(p for p in args.inputs.iterdir() if p.suffix == ".txt")[: args.articles]:
                    os.symlink(path.resolve(), inputs / path.name)
            runs(work, inputs, args.articles, args.concurrency)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
