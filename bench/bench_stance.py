"""The trained verifier's cost: load, per article, per claim, and ``factcheck check --no-llm`` end to end.

    .venv/bin/python bench/bench_stance.py [--runs 5]

Load is measured in fresh processes (imports, the sha256 checks, the two ONNX sessions: the
embedder and the classifiers). Per claim: judging one more claim against an article already read
(the marginal cost), and the whole stage divided by its claims on the seed, so both are visible.
Medians over ``--runs``; the machine is shared, so compare ratios and repeat rather than trust one
figure. Everything runs this checkout's code (``python -m pipeline.cli``, not whichever checkout a
venv's ``factcheck`` script was installed from).
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = ROOT / "seeds" / "musk-putin-bremmer.txt"
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
    args = parser.parse_args()

    loads = [float(subprocess.check_output([sys.executable, "-c", LOAD], cwd=ROOT, text=True)) for _ in range(args.runs)]

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
    print(f"read the seed article ({len(view.sentences)} sentences, embedded once): median {_median(article) * 1000:.0f} ms")
    print(f"one more claim against it: median {_median(marginal) * 1000:.1f} ms")
    print(f"whole stage on the seed, {len(claims)} claims: median {_median(stage) * 1000:.0f} ms "
          f"= {_median(stage) / len(claims) * 1000:.0f} ms per claim")  # fmt: skip
    print(f"factcheck check --no-llm on the seed, whole command: median {_median(checks):.2f} s, "
          f"min {min(checks):.2f} s over {args.runs}")  # fmt: skip


if __name__ == "__main__":
    main()
