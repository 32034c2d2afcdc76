"""The trained verifier's cost: load, per article, per claim, and ``factcheck check --no-llm`` end to end.

    .venv/bin/python bench/bench_stance.py [--runs 5]
    .venv/bin/python bench/bench_stance.py --pairs 1000 --runs 3   # bulk: FNC-1 train's first 1,000 pairs
    .venv/bin/python bench/bench_stance.py --tiny 200 --runs 3     # the per-article floor: one-sentence articles

``--pairs N``: ``check --no-llm --pairs`` on the first N rows of ``../shared/data/fnc1_train``'s
train_stances.csv as published (1,000 rows: 619 bodies, all four stances), one cold process per
run, model load included; pairs a second = N / wall time. ``--tiny N``: ``run --no-llm`` on N
one-sentence articles, one cold process per run; wall, user and kernel (system) seconds of the
whole process tree.

Load is measured in fresh processes (imports, the sha256 checks, the two ONNX sessions: the
embedder and the classifiers). Per claim: judging one more claim against an article already read
(the marginal cost), and the whole stage divided by its claims on the seed, so both are visible.
Medians over ``--runs``; the machine is shared, so compare ratios and repeat rather than trust one
figure. Everything runs this checkout's code (``python -m pipeline.cli``, not whichever checkout a
venv's ``factcheck`` script was installed from).
"""

import argparse
import csv
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = ROOT / "seeds" / "musk-putin-bremmer.txt"
FNC_TRAIN = ROOT.parent / "shared" / "data" / "fnc1_train"
CLAIMS = (
    "Elon Musk spoke with Vladimir Putin about Ukraine",
    "Putin said Russia was prepared to use nuclear weapons if Ukraine invaded Crimea",
    "Musk proposed that the West recognize Russia's annexation of Ukrainian territory",
    "Starlink outages were reported by Ukrainian forces",
    "Musk donated Starlink terminals to Ukraine",
)
LOAD = """
import time; t = time.perf_counter()
from pipeline.stance.embedder import shared_embedder; from pipeline.stance.model import load
shared_embedder(); load(); print(time.perf_counter() - t)
"""


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=0, help="bulk: check this many FNC-1 train pairs, cold")
    parser.add_argument("--tiny", type=int, default=0, help="run --no-llm on this many one-sentence articles, cold")
    args = parser.parse_args()
    if args.pairs or args.tiny:
        with tempfile.TemporaryDirectory() as folder:
            if args.pairs:
                _bulk(Path(folder), args.pairs, args.runs)
            if args.tiny:
                _tiny(Path(folder), args.tiny, args.runs)
        return

    loads = [
        float(subprocess.check_output([sys.executable, "-c", LOAD], cwd=ROOT, text=True)) for _ in range(args.runs)
    ]

    from pipeline.stages.check import given_claim
    from pipeline.stance.embedder import shared_embedder
    from pipeline.stance.verdicts import judge, read_article, stance_verdicts
    from pipeline.text.document import windows

    text = SEED.read_text(encoding="utf-8")
    window = windows(text)[0]
    claims = [given_claim(window, s).model_copy(update={"id": f"c{i + 1}"}) for i, s in enumerate(CLAIMS)]
    stance_verdicts(text, claims, [])  # warm: the session and the model are loaded once per process
    stage, article, marginal = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        stance_verdicts(text, claims, [])
        stage.append(time.perf_counter() - t)
        t = time.perf_counter()
        view = read_article(text)
        article.append(time.perf_counter() - t)
        t = time.perf_counter()
        vector = shared_embedder().embed([claims[0].statement])[0]
        judge(view, claims[0], [], vector)
        marginal.append(time.perf_counter() - t)

    checks = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "check", "--no-llm", "--claim", CLAIMS[0], str(SEED)],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        checks.append(time.perf_counter() - t)

    print(f"load (fresh process, imports + checks + session + model): median {_median(loads):.2f} s over {args.runs}")
    print(f"read the seed article ({len(view.sentences)} sentences, embedded once): "
          f"median {_median(article) * 1000:.0f} ms")  # fmt: skip
    print(f"one more claim against it: median {_median(marginal) * 1000:.1f} ms")
    print(f"whole stage on the seed, {len(claims)} claims: median {_median(stage) * 1000:.0f} ms "
          f"= {_median(stage) / len(claims) * 1000:.0f} ms per claim")  # fmt: skip
    print(f"factcheck check --no-llm on the seed, whole command: median {_median(checks):.2f} s, "
          f"min {min(checks):.2f} s over {args.runs}")  # fmt: skip


def _timed(command: list[str]) -> tuple[float, float, float]:
    """Wall, user and system seconds of ``command`` and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def _bulk(folder: Path, count: int, runs: int) -> None:
    with (FNC_TRAIN / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    with (FNC_TRAIN / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        rows = [row for _, row in zip(range(count), csv.DictReader(f), strict=False)]
    pairs = folder / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"id": f"fnc1-train-{i}", "claim": r["Headline"],
                                         "text": bodies[r["Body ID"]]}) + "\n"
                             for i, r in enumerate(rows)), encoding="utf-8")  # fmt: skip
    command = [sys.executable, "-m", "pipeline.cli", "check", "--no-llm", "--pairs", str(pairs),
               "--out", str(folder / "out.jsonl")]  # fmt: skip
    walls = []
    for _ in range(runs):
        wall, user, system = _timed(command)
        walls.append(wall)
        print(f"  {len(rows)} pairs over {len({r['Body ID'] for r in rows})} bodies: {wall:.1f} s wall "
              f"({user:.1f} user, {system:.1f} system) = {len(rows) / wall:.1f} pairs/s", flush=True)  # fmt: skip
    print(f"check --no-llm --pairs, {len(rows)} FNC-1 train pairs, cold: median {_median(walls):.1f} s = "
          f"{len(rows) / _median(walls):.1f} pairs/s over {runs} runs")  # fmt: skip


def _tiny(folder: Path, count: int, runs: int) -> None:
    articles = folder / "tiny"
    articles.mkdir()
    for i in range(count):
        (articles / f"{i:04d}.txt").write_text(
            f"The council approved budget number {i} on Monday, the mayor said.\n", encoding="utf-8"
        )
    results = []
    for r in range(runs):
        out = folder / f"tiny-out-{r}"
        results.append(_timed([sys.executable, "-m", "pipeline.cli", "run", "--no-llm", "--quiet", str(articles),
                               "--out", str(out)]))  # fmt: skip
        print(f"  {count} one-sentence articles: {results[-1][0]:.1f} s wall ({results[-1][1]:.1f} user, "
              f"{results[-1][2]:.1f} system)", flush=True)  # fmt: skip
    wall = _median([w for w, _, _ in results])
    print(f"run --no-llm, {count} one-sentence articles, cold: median {wall:.1f} s wall = "
          f"{wall / count:.3f} s an article; user {_median([u for _, u, _ in results]):.1f} s, "
          f"system {_median([s for _, _, s in results]):.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
