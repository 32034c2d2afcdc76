"""What a quote bomb costs (issue 24, finding 2): not a test; prints figures.

    .venv/bin/python bench/bench_quote_bomb.py                 # both parts
    .venv/bin/python bench/bench_quote_bomb.py --runs 5 --parts 2

1. the attribution stage alone on each 50,000-character shape of tests/text/test_attributions_bounds.py
   (process time past the cache, best and median of 3);
2. the wall time of `factcheck run` on a folder of 16 ordinary (synthetic) articles, with and
   without a 17th file that is a 50,000-character quote bomb, against the fake server (its own
   process, 200 ms a request), concurrency 4: runs alternate, a fresh OUT and cache each.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_attribution_bounds import SHAPES, SIZE, _fill  # noqa: E402  (the shapes the test bounds)

from pipeline.testing.articles import write_articles  # noqa: E402
from pipeline.text.attributions import find_attributions  # noqa: E402

BOMB = '“"'  # the shape that took 19 s before the fix


def stage_alone() -> None:
    print(f"[1] the attribution stage on {SIZE:,} characters, process time (best / median of 3):")
    for name, unit in SHAPES.items():
        text = _fill(unit)
        times = []
        for _ in range(3):
            clock = time.process_time()
            find_attributions(text)
            times.append(time.process_time() - clock)
        print(f"    {name:34s} {min(times) * 1000:7.1f} ms / {statistics.median(times) * 1000:7.1f} ms")


def folder_runs(runs: int, latency: float) -> None:
    server = subprocess.Popen([sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", str(latency)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    try:
        with tempfile.TemporaryDirectory(prefix="factcheck-bomb-") as tmp:
            work = Path(tmp)
            plain, bombed = work / "plain", work / "bombed"
            write_articles(plain, 16)
            write_articles(bombed, 16)
            (bombed / "zz-quote-bomb.txt").write_text(_fill(BOMB), encoding="utf-8")
            (work / "none.toml").touch()
            seconds: dict[str, list[float]] = {"plain": [], "bombed": []}
            for n in range(runs):
                for name, folder in (("plain", plain), ("bombed", bombed)):
                    env = {**os.environ, "FACTCHECK_CACHE_DIR": str(work / f"cache-{name}-{n}"),
                           "OPENAI_API_KEY": "bench",
                           "FACTCHECK_CONFIG": str(work / "none.toml"), "PYTHONPATH": str(ROOT)}
                    started = time.perf_counter()
                    done = subprocess.run(
                        [sys.executable, "-c", "from pipeline.cli import main; main()", "run", str(folder), "--out",
                         str(work / f"out-{name}-{n}"), "--base-url", base_url, "--model", "gpt-4o-mini",
                         "--concurrency", "4",
                         "--no-stories", "--quiet"],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                    )
                    seconds[name].append(time.perf_counter() - started)
                    if done.returncode != 0:
                        print(f"    {name} run {n}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
            plain_median, bombed_median = statistics.median(seconds["plain"]), statistics.median(seconds["bombed"])
            print(f"[2] `factcheck run` of 16 articles, {latency * 1000:.0f} ms a request, concurrency 4, "
                  f"{runs} runs each (s): "
                  f"without the bomb {', '.join(f'{s:.2f}' for s in seconds['plain'])} (median {plain_median:.2f}); "
                  f"with a {SIZE:,}-character bomb {', '.join(f'{s:.2f}' for s in seconds['bombed'])} (median "
                  f"{bombed_median:.2f}): {bombed_median / plain_median:.2f}x")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--parts", default="12")
    args = parser.parse_args()
    if "1" in args.parts:
        stage_alone()
    if "2" in args.parts:
        folder_runs(args.runs, args.latency)


if __name__ == "__main__":
    main()
