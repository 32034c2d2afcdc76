"""The trained verifier's held-out figures at real class frequencies, and its reliability diagram.

    python -m pipeline.eval.heldout --png docs/img/stance-reliability.png \
        --eval "fnc1_dev=runs/dev-trained:../shared/data/fnc1_dev" \
        --eval "FNC-1 competition test=runs/test-trained:/path/to/labels-folder" \
        --folds pipeline-stance-oof.npz

``--eval NAME=OUT:LABELS``: an eval's folder (``factcheck eval --no-llm --fnc LABELS --out OUT``) and
its labels; every pair's verdict, mapped to an FNC-1 stance as ``factcheck eval`` scores it, with
its confidence. A sample's own class frequencies need not be the world's (``fnc1_dev`` has 10 pairs
of each class), so each figure is also given with the pairs reweighted to the frequencies the model
is calibrated at (the card's ``calibration.stance.class_frequencies``: FNC-1 train's related pairs).
``--folds``: the out-of-fold probabilities ``python -m pipeline.stance.train --oof`` wrote.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pipeline.eval.datasets import STANCE_LABELS
from pipeline.eval.scoring import VERDICT_TO_STANCE
from pipeline.stance import calibration as cal
from pipeline.stance.model import STANCE_CLASSES, card
from schemas import VerdictLabel


def calibration_frequencies() -> np.ndarray:
    frequencies = card()["calibration"]["stance"]["class_frequencies"]  # type: ignore[index]
    return np.array([frequencies[label] for label in STANCE_CLASSES])


def read_eval(out: Path, labels: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold class index, predicted stance (index, or -1 for unrelated / no verdict) and confidence, per pair."""
    gold = {}
    for line in (labels / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            gold[record["id"]] = STANCE_LABELS.index(record["gold_stance"])
    predicted: dict[str, tuple[int, float]] = {}
    for line in (out / "predictions-fnc.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        verdict = row["result"].get("verdict")
        if verdict is None:
            predicted[row["id"]] = (-1, 0.0)
            continue
        stance = VERDICT_TO_STANCE[VerdictLabel(verdict["verdict"])]
        predicted[row["id"]] = (
            STANCE_LABELS.index(stance) if stance in STANCE_LABELS else -1,
            float(verdict["confidence"]),
        )
    ids = [i for i in gold if i in predicted]
    return (np.array([gold[i] for i in ids]), np.array([predicted[i][0] for i in ids]),
            np.array([predicted[i][1] for i in ids]))  # fmt: skip


def figures(
    gold: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, object]:
    weights = np.ones(len(gold)) if weights is None else weights
    out: dict[str, object] = {"pairs": len(gold)}
    f1s = []
    for k, label in enumerate(STANCE_LABELS):
        tp = weights[(predicted == k) & (gold == k)].sum()
        precision = tp / weights[predicted == k].sum() if weights[predicted == k].sum() else 0.0
        recall = tp / weights[gold == k].sum() if weights[gold == k].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        out[f"f1_{label}"] = round(float(f1), 4)
    correct = predicted == gold
    out |= {
        "macro_f1": round(float(np.mean(f1s)), 4),
        "accuracy": round(float(np.average(correct, weights=weights)), 4),
        "ece10": round(cal.ece(confidence, correct, weights), 4),
        "ece10_if_calibrated": ece_floor(confidence, weights),
        "reliability": cal.reliability(confidence, correct, weights),
    }
    return out


def ece_floor(confidence: np.ndarray, weights: np.ndarray, draws: int = 1000) -> dict[str, float]:
    """The ECE10 a perfectly calibrated model would show on these pairs (each right with probability its
    confidence): median and 95th percentile of ``draws`` simulations, fixed seed. On 30 pairs it is
    about 0.2, so a small sample cannot show an ECE of 0.05 whatever the model; on thousands it is
    near 0."""
    rng = np.random.default_rng(31)
    simulated = [cal.ece(confidence, rng.random(len(confidence)) < confidence, weights) for _ in range(draws)]
    return {"median": round(float(np.median(simulated)), 4), "p95": round(float(np.percentile(simulated, 95)), 4)}


def heldout(gold: np.ndarray, predicted: np.ndarray, confidence: np.ndarray) -> dict[str, object]:
    """As sampled, and reweighted to the calibration's class frequencies."""
    return {
        "as_sampled": figures(gold, predicted, confidence),
        "at_calibration_frequencies": figures(
            gold, predicted, confidence, cal.frequency_weights(gold, calibration_frequencies())
        ),
        "class_counts": dict(zip(STANCE_LABELS, np.bincount(gold, minlength=3).tolist(), strict=True)),
    }


def from_folds(path: Path) -> dict[str, dict[str, object]]:
    """The training run's out-of-fold pairs: each domain's related pairs, decided with their fold's threshold."""
    from pipeline.stance.model import decide_stance

    oof = np.load(path)
    out = {}
    for domain, name in (("fnc", "FNC-1 train, story folds"), ("arc", "ARC train, topic folds")):
        inside = oof["related_true"] & (oof["domains"] == domain)
        if inside.any():
            p, y = oof["p_stance"][inside], oof["y"][inside]
            predicted = decide_stance(p, oof["tau"][inside])
            out[name] = heldout(y, predicted, p[np.arange(len(p)), predicted])
    return out


def diagram(results: dict[str, dict[str, object]], path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 5), dpi=100)
    FigureCanvasAgg(figure)
    for position, key, title in ((1, "as_sampled", "as sampled"), (2, "at_calibration_frequencies",
                                 "at FNC-1 train's related frequencies\n"
                                 "(agree 27 %, disagree 6 %, discuss 66 %)")):  # fmt: skip
        ax = figure.add_subplot(1, 2, position)
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
        for name, result in results.items():
            scored = result[key]
            points = [b for b in scored["reliability"] if b["count"] >= 5]  # type: ignore[index]
            ax.plot([b["confidence"] for b in points], [b["accuracy"] for b in points], "o-", markersize=4,
                    label=f"{name} (n={scored['pairs']}, ECE10 {scored['ece10']:.3f})")  # type: ignore[index]  # fmt: skip
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="verdict confidence", ylabel="share right", title=title)
        ax.legend(loc="upper left", fontsize=7)
    figure.suptitle(
        "The trained verifier's confidence, held out (bins of 0.1 with at least 5 pairs' weight)", fontsize=10
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", bbox_inches="tight")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.eval.heldout", description=__doc__.split("\n")[0])
    parser.add_argument("--eval", action="append", default=[], metavar="NAME=OUT:LABELS")
    parser.add_argument("--folds", type=Path, help="out-of-fold probabilities from the training run (.npz)")
    parser.add_argument("--png", type=Path, help="write the reliability diagram here")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, object]] = {}
    try:
        if args.folds:
            results |= from_folds(args.folds)
        for spec in args.eval:
            name, _, paths = spec.partition("=")
            out, _, labels = paths.partition(":")
            results[name] = heldout(*read_eval(Path(out), Path(labels)))
    except (OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, result in results.items():
        for key in ("as_sampled", "at_calibration_frequencies"):
            shown = {k: v for k, v in result[key].items() if k != "reliability"}  # type: ignore[union-attr]
            print(f"{name}, {key.replace('_', ' ')}: {json.dumps(shown)}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.png:
        diagram(results, args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
