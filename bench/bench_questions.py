"""Does the embedded model answer a kind of question better than code? Labelled lettered questions per kind.

    flock /tmp/factcheck-cpu.lock python bench/bench_questions.py --kind referent
    flock /tmp/factcheck-cpu.lock python bench/bench_questions.py --kind checkworthy
    flock /tmp/factcheck-cpu.lock python bench/bench_questions.py --kind denial
    python bench/bench_questions.py --report /tmp/q-report.json --plots docs/img   # from the cache

Each question is asked with ``pipeline.llm.choice`` (one token, two orders of the options) of the
embedded Qwen2.5-Coder 1.5B on llama.cpp's server with one thread; every answer is cached in
``--cache`` (JSONL, keyed by the prompt), so a rerun asks only what is new. Per kind it prints code's
accuracy, the model's (both orders averaged, and the first order alone), the model's ECE (10 bins),
the threshold fitted on the fitting questions (the lowest probability above which taking the model's
answer beats code's there; none if it never does), and model-above-threshold-else-code on the
held-out questions and crossfit (each half's threshold applied to the other). A kind is asked on the
embedded backend only if, crossfit, that combined answer beats code's by an exact one-sided sign test
(McNemar) with p < 0.05 and an extra right answer costs at most a minute of the model. Data is read in
place from ../shared/data.
"""

import argparse
import asyncio
import csv
import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _referents import DATA, ROOT, referent_items

from pipeline.llm.choice import Choice, Question, combine, letter_shares, messages, orders

MODEL = Path.home() / ".cache" / "factcheck" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
CACHE = Path("/tmp/factcheck-questions-cache.jsonl")
KINDS = ("referent", "checkworthy", "denial")
NONE_OF_THESE = "None of these: it disputes none of them"


@dataclass(frozen=True)
class Item:
    key: str
    question: Question
    gold: int
    code: int
    fit: bool  # a fitting question (threshold); else held out (reported)
    also: frozenset[int] = frozenset()  # other options that are right too (a denial can dispute two headlines)

    def right(self, option: int | None) -> bool:
        return option == self.gold or option in self.also


# --- which referent -------------------------------------------------------------------------------


def referent() -> list[Item]:
    """Fit on about half the PolNeAR questions, whole documents (in name order, each to the smaller side);
    hold out the others and the seed."""
    items = referent_items()
    fitting: set[str] = set()
    sizes = {"fit": 0, "held": 0}
    for doc in sorted({i.doc for i in items if not i.doc.startswith("seed:")}):
        side = "fit" if sizes["fit"] <= sizes["held"] else "held"
        sizes[side] += sum(i.doc == doc for i in items)
        if side == "fit":
            fitting.add(doc)
    return [Item(i.key, i.question, i.gold, i.code, i.doc in fitting) for i in items]


# --- check-worthy or not --------------------------------------------------------------------------

CHECKWORTHY_OPTIONS = (
    (
        "Yes: it states a fact (a number, an event, a record, a cause) that a fact-checker could check"
        " and the public would care about"
    ),
    "No: it is an opinion, a question, a promise, small talk, or too trivial to check",
)
OOF = Path("/tmp/factcheck-questions-checkworthy-oof.json")
VECTORS = Path("/tmp/factcheck-questions-claimbuster-vectors")


def checkworthy(per_class: int = 30) -> list[Item]:
    """ClaimBuster sentences of one validation fold of the shipped model's own cross-validation
    (same folds, same seed), with code's answer from a model fitted on the other four folds: the
    shipped model saw every ClaimBuster sentence, so only out-of-fold predictions are a fair code
    baseline. ``per_class`` of each class, drawn with a fixed seed."""
    if not OOF.exists():
        _write_out_of_fold(per_class)
    rows = json.loads(OOF.read_text(encoding="utf-8"))
    items = []
    for row in rows:
        question = Question(row["text"], "Is this sentence a check-worthy factual claim?", CHECKWORTHY_OPTIONS)
        gold = 0 if row["checkworthy"] else 1
        code = 0 if row["probability"] >= row["threshold"] else 1
        fit = int(hashlib.sha256(row["id"].encode()).hexdigest(), 16) % 2 == 0
        items.append(Item(row["id"], question, gold, code, fit))
    return items


def _write_out_of_fold(per_class: int) -> None:
    from sklearn.model_selection import StratifiedGroupKFold

    from pipeline.stance import train_checkworthy as train
    from pipeline.stance._worthiness_features import worthiness_rows
    from pipeline.stance.checkworthy import threshold
    from pipeline.stance.data import EmbeddingCache
    from pipeline.stance.embedder import MODEL_SHA256, TOKENIZER_SHA256, shared_embedder

    data = train.read_claimbuster(DATA / "claimbuster_train")
    vectors = EmbeddingCache(VECTORS, shared_embedder().embed, MODEL_SHA256 + TOKENIZER_SHA256)
    features = worthiness_rows(data.texts, vectors)
    vectors.save()
    folds = StratifiedGroupKFold(n_splits=train.FOLDS, shuffle=True, random_state=train.SEED)
    fitted, held = next(iter(folds.split(features, data.labels, data.groups)))
    probability = train.classifier().fit(features[fitted], data.labels[fitted]).predict_proba(features[held])[:, 1]
    rng = random.Random(train.SEED)
    chosen = []
    for label in (1, 0):
        pool = [k for k, i in enumerate(held) if data.labels[i] == label]
        chosen += rng.sample(pool, per_class)
    rows = [
        {"id": data.ids[held[k]], "text": data.texts[held[k]], "checkworthy": bool(data.labels[held[k]]),
         "probability": float(probability[k]), "threshold": threshold()}
        for k in sorted(chosen)
    ]  # fmt: skip
    OOF.write_text(json.dumps(rows), encoding="utf-8")


# --- which claims a denial disputes ---------------------------------------------------------------

_DENIAL = re.compile(r"\b(deny|denies|denied|denial|false|not true|untrue|refute[sd]?|debunk\w*|hoax)\b", re.IGNORECASE)
LINK_COSINE = 0.35  # pipeline.stages.candidates.LINK_COSINE: code's rule links a denial to a claim this close


def denial(train_questions: int = 45) -> list[Item]:
    """FNC-1 train bodies with a denying sentence: the options are headlines paired with the body
    (one "disagree" headline, or none when the body only agrees with or discusses them), plus
    "none of these". Fit on two thirds of the bodies, hold out the rest, fnc1_dev and the seed."""
    from pipeline.text.sentences import split_sentences

    bodies = {}
    with (DATA / "fnc1_train" / "train_bodies.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            bodies[row["Body ID"]] = row["articleBody"]
    stances: dict[str, list[tuple[str, str]]] = {}
    with (DATA / "fnc1_train" / "train_stances.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            stances.setdefault(row["Body ID"], []).append((row["Headline"], row["Stance"]))
    rng = random.Random(20261207)
    raw: list[tuple[str, str, list[str], int, bool]] = []  # key, context, options, gold, fit
    disputing, none = [], []
    for body_id in sorted(stances, key=int):
        denying = _denying(split_sentences(bodies[body_id]), bodies[body_id])
        if denying is None:
            continue
        pairs = list(dict.fromkeys(stances[body_id]))
        disagree = [h for h, s in pairs if s == "disagree"]
        others = [h for h, s in pairs if s in ("agree", "discuss")]
        (disputing if disagree else none).append((body_id, denying, disagree, others))
    rng.shuffle(disputing)
    rng.shuffle(none)
    for body_id, context, disagree, others in disputing[: train_questions * 2 // 3] + none[: train_questions // 3]:
        options = ([disagree[0]] if disagree else []) + rng.sample(others, min(2, len(others)))
        if len(options) < 2:
            continue
        rng.shuffle(options)
        gold = options.index(disagree[0]) if disagree else len(options)
        fit = int(body_id) % 3 != 0
        raw.append((f"fnc1-train:{body_id}", context, options, gold, fit))
    raw += _dev_denials(rng)
    raw += _seed_denials()
    embed = _embedder()
    items = []
    for key, context, options, gold, fit in raw:
        ask = "Which of these claims does the denial in the last sentence dispute?"
        question = Question(context, ask, [*options, NONE_OF_THESE])
        gold, also = _corrected(key, options, gold)
        items.append(Item(key, question, gold, _code_denial(embed, context, options), fit, also))
    named = {(i.key.removeprefix("fnc1-train:"), i.question.options[k]) for i in items for k in {i.gold, *i.also}}
    missing = [c for c in DENIAL_CORRECTIONS if not any(b == c[0] and o.startswith(c[1]) for b, o in named)]
    assert not missing, f"the questions changed: update DENIAL_CORRECTIONS {missing}"
    return items


# FNC-1's stance says whether a body agrees with, disagrees with or discusses a headline, which is not
# quite which claim its denying sentence disputes. Read by hand over every question whose gold is "none"
# or whose options repeat the disputed report: (body, the option's opening) -> why. An option named here
# is right too; when the gold was "none", it becomes the gold.
DENIAL_CORRECTIONS = {
    ("1398", "US Lawmaker: Ten ISIS"): "'discuss', but it is the lawmaker's claim DHS calls 'categorically false'",
    ("2175", "PGA Tour Pro Claims"): "'discuss', but it is the claim Woods' agent calls 'completely false'",
    ("1106", "Ottawa investigates reports"): "'discuss', but the capture it reports is the rumour called 'not true'",
    ("1175", "Iraqi media: ISIS"): "the very report in a local newspaper that the ministry denied",
    ("239", "UPDATE: BATMAN v SUPERMAN"): "reports the same theft the body calls a false alarm",
    ("672", "Batmobile Stolen From 'Batman"): "reports the same theft the body calls debunked",
    ("672", "UPDATE: BATMAN v SUPERMAN"): "reports the same theft the body calls debunked",
    ("1468", "Lebanon 'holding IS leader"): "the denial says the detained woman is no wife of al-Baghdadi",
}


def _corrected(key: str, options: list[str], gold: int) -> tuple[int, frozenset[int]]:
    body = key.removeprefix("fnc1-train:")
    named = [k for k, o in enumerate(options) if any(b == body and o.startswith(s) for b, s in DENIAL_CORRECTIONS)]
    if named and gold == len(options):
        return named[0], frozenset(named[1:])
    return gold, frozenset(named)


def _denying(sentences, text: str) -> str | None:
    """The first sentence with a denial word, with the sentence before it."""
    for k, sentence in enumerate(sentences):
        if _DENIAL.search(text[sentence.start : sentence.end]):
            return text[sentences[max(0, k - 1)].start : sentence.end].strip()[-700:]
    return None


def _dev_denials(rng: random.Random) -> list[tuple[str, str, list[str], int, bool]]:
    from pipeline.text.sentences import split_sentences

    rows = [json.loads(line) for line in (DATA / "fnc1_dev" / "labels.jsonl").open(encoding="utf-8")]
    found = []
    for row in rows:
        if row["gold_stance"] not in ("disagree", "agree"):
            continue
        text = (DATA / row["text_file"]).read_text(encoding="utf-8")
        context = _denying(split_sentences(text), text)
        if context is None:
            continue
        others = rng.sample([r["claim"] for r in rows if r["story_cluster"] != row["story_cluster"]], 2)
        options = [row["claim"], *others]
        rng.shuffle(options)
        gold = options.index(row["claim"]) if row["gold_stance"] == "disagree" else len(options)
        found.append((f"fnc1-dev:{row['id']}", context, options, gold, False))
    return found


SEED_CLAIMS = [
    "Elon Musk spoke with Vladimir Putin about Ukraine about two weeks before his proposal",
    "Musk was concerned about threats from Putin to his satellites",
    "Putin outlined the minimum Russia would require to end the war",
]


def _seed_denials() -> list[tuple[str, str, list[str], int, bool]]:
    text = (ROOT / "seeds" / "musk-putin-bremmer.txt").read_text(encoding="utf-8")
    musk = re.search(r"“Musk also appeared concerned.*?actual events\.", text, re.DOTALL)
    nobody = re.search(r"Musk has described himself.*?request for comment\.", text, re.DOTALL)
    assert musk and nobody, "the seed changed: update the seed's denial questions"
    return [
        ("seed:musk-denial", musk.group(0), SEED_CLAIMS, 0, False),
        ("seed:no-comment", nobody.group(0), SEED_CLAIMS, len(SEED_CLAIMS), False),
    ]


def _embedder():
    from pipeline.stance.embedder import shared_embedder

    return shared_embedder().embed


def _code_denial(embed, context: str, options: list[str]) -> int:
    """Code's rule (candidates.denials_from without the name filter, which needs a claimant): none
    when the last sentence is a non-response; else the option most like the denying words, if at least
    LINK_COSINE, among the options code would hold as claims (a headline that itself denies or calls
    something a hoax is a denial to code, never a claim a denial disputes); else none of them."""
    from pipeline.stages.candidates import _CONTRADICTING, _DENYING_CUE
    from pipeline.stages.denials import is_non_response
    from pipeline.stages.propositions import reports_a_denial

    if is_non_response(context.rsplit(". ", 1)[-1]):
        return len(options)
    claims = [k for k, o in enumerate(options)
              if not (_CONTRADICTING.search(o) or _DENYING_CUE.search(o) or reports_a_denial(o))]  # fmt: skip
    if not claims:
        return len(options)
    vectors = embed([context, *(options[k] for k in claims)])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    return claims[best] if similarity[best] >= LINK_COSINE else len(options)


# --- asking and scoring ---------------------------------------------------------------------------


def _key(prompt: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(prompt, sort_keys=True).encode()).hexdigest()


def _load_cache() -> dict[str, dict]:
    if not CACHE.exists():
        return {}
    return {row["key"]: row for row in map(json.loads, CACHE.read_text(encoding="utf-8").splitlines()) if row}


def _prompts(item: Item) -> list[tuple[list[int], list[dict[str, str]]]]:
    return [(order, messages(item.question, order)) for order in orders(item.question, item.key)]


async def _ask_missing(items: list[Item], cache: dict[str, dict]) -> None:
    import openai

    from pipeline.llm.choice import CHOICE_LOGPROBS, first_token_alternatives
    from pipeline.llm.embedded import EmbeddedServer

    missing = [(o, p) for item in items for o, p in _prompts(item) if _key(p) not in cache]
    if not missing:
        return
    print(f"asking {len(missing)} prompts…", file=sys.stderr)
    with EmbeddedServer(MODEL, n_ctx=2048, threads=1, alias="questions") as server:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=120)
        with CACHE.open("a", encoding="utf-8") as out:
            for order, prompt in missing:
                started = time.perf_counter()
                completion = await client.chat.completions.create(
                    model="questions", messages=prompt, max_tokens=1, temperature=0.0,  # type: ignore[arg-type]
                    logprobs=True, top_logprobs=CHOICE_LOGPROBS,
                )  # fmt: skip
                row = {
                    "key": _key(prompt), "alternatives": first_token_alternatives(completion),
                    "seconds": time.perf_counter() - started,
                    "prompt_tokens": completion.usage.prompt_tokens if completion.usage else None,
                }  # fmt: skip
                cache[row["key"]] = row
                out.write(json.dumps(row) + "\n")
                out.flush()
        await client.close()


def _choices(item: Item, cache: dict[str, dict]) -> tuple[Choice | None, Choice | None, float]:
    """Both orders combined, the first order alone, and the seconds the two calls took."""
    answered = [(order, letter_shares(cache[_key(p)]["alternatives"], len(order))) for order, p in _prompts(item)]
    seconds = sum(cache[_key(p)]["seconds"] for _, p in _prompts(item))
    return combine(answered, len(item.question.options)), combine(answered[:1], len(item.question.options)), seconds


def ece(probabilities: list[float], correct: list[bool], bins: int = 10) -> float:
    p, c = np.array(probabilities), np.array(correct, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    gaps = [
        abs(c[which == b].mean() - p[which == b].mean()) * (which == b).sum() for b in range(bins) if any(which == b)
    ]
    return float(sum(gaps) / len(p))


def fit_threshold(rows: list[tuple[Choice | None, Item]]) -> float | None:
    """The threshold at which model-at-or-above-it-else-code is most accurate on ``rows``, if that
    beats code alone; the highest such threshold among ties (ask the model as rarely as possible)."""
    def accuracy(t: float) -> int:
        return sum(i.right(c.index if c is not None and c.probability >= t else i.code) for c, i in rows)

    never = accuracy(2.0)
    candidates = sorted({c.probability for c, _ in rows if c is not None}, reverse=True)
    best, best_t = never, None
    for t in candidates:
        if accuracy(t) > best:
            best, best_t = accuracy(t), t
    return best_t


ALPHA = 0.05
# The model's seconds are worth it when an extra right answer costs at most this: a minute of the
# embedded model for one more right answer per question asked is already more than a desk waits.
MAX_SECONDS_PER_EXTRA_RIGHT = 60.0


def sign_test(combined_only: int, code_only: int) -> float:
    """Exact one-sided McNemar (sign) test: the chance of at least ``combined_only`` wins among the
    questions where exactly one of code and the combined answer is right, if either were as likely."""
    from scipy.stats import binomtest

    n = combined_only + code_only
    return float(binomtest(combined_only, n, 0.5, alternative="greater").pvalue) if n else 1.0


def _asked(choice: Choice | None, threshold: float | None) -> bool:
    return threshold is not None and choice is not None and choice.probability >= threshold


def _ece_of(pairs: list[tuple[Choice, Item]]) -> float:
    return ece([c.probability for c, _ in pairs], [i.right(c.index) for c, i in pairs]) if pairs else float("nan")


def score(kind: str, items: list[Item], cache: dict[str, dict]) -> dict[str, object]:
    rows = [(item, *_choices(item, cache)) for item in items]
    both = [(c, i) for i, c, _, _ in rows]
    answered = [(c, i) for c, i in both if c is not None]
    first = [(c, i) for i, _, c, _ in rows if c is not None]
    fit = [(c, i) for c, i in both if i.fit]
    held = [(c, i) for c, i in both if not i.fit]
    threshold = fit_threshold(fit)

    def combined(pairs, t):
        return np.mean([i.right(c.index if _asked(c, t) else i.code) for c, i in pairs])

    # Crossfit: each question answered with the threshold fitted on the other half (code's if none).
    held_threshold = fit_threshold(held)
    crossfit = [
        (i.right(i.code), i.right(c.index if _asked(c, held_threshold if i.fit else threshold) else i.code))
        for c, i in both
    ]
    discordant = {True: sum(g and not k for k, g in crossfit), False: sum(k and not g for k, g in crossfit)}
    p_value = sign_test(discordant[True], discordant[False])
    seconds = float(np.mean([s for *_, s in rows]))
    gain = float(np.mean([g for _, g in crossfit]) - np.mean([k for k, _ in crossfit]))
    asked = p_value < ALPHA and gain > 0 and seconds / gain <= MAX_SECONDS_PER_EXTRA_RIGHT
    first_letters = [max(range(len(c.probabilities)), key=lambda k: c.probabilities[k]) for c, _ in first]
    letter_a = np.mean([orders(i.question, i.key)[0][0] == c.index for c, i in first]) if first else float("nan")
    return {
        "kind": kind, "n": len(items), "n_fit": len(fit), "n_held": len(held), "unanswered": len(items) - len(answered),
        "code_accuracy": float(np.mean([i.right(i.code) for i in items])),
        "model_accuracy": float(np.mean([c is not None and i.right(c.index) for c, i in both])),
        "model_accuracy_one_order": float(np.mean([i.right(c.index) for c, i in first])) if first else float("nan"),
        "one_order_chose_letter_A": float(letter_a),
        "ece": _ece_of(answered),
        "ece_one_order": _ece_of(first),
        "threshold": threshold,
        "held_code_accuracy": float(np.mean([i.right(i.code) for _, i in held])),
        "held_model_accuracy": float(np.mean([c is not None and i.right(c.index) for c, i in held])),
        "held_combined_accuracy": float(combined(held, threshold)),
        "held_asked": int(sum(1 for c, _ in held if _asked(c, threshold))),
        # both halves: the threshold fitted on each applied to the other, over every question
        "crossfit_combined_accuracy": float(np.mean([gained for _, gained in crossfit])),
        "threshold_fitted_on_held": fit_threshold(held),
        "crossfit_asked": int(sum(1 for c, i in both if _asked(c, threshold if not i.fit else fit_threshold(held)))),
        "crossfit_code_only_right": discordant[False],
        "crossfit_combined_only_right": discordant[True],
        "p_value": p_value,
        "seconds_per_question": seconds,
        "seconds_per_extra_right_answer": seconds / gain if gain > 0 else None,
        "asked_on_embedded": asked,
        "distinct_first_letters": len(set(first_letters)),
        "_points": [(c.probability, i.right(c.index)) for c, i in answered],
    }


BUILDERS = {"referent": referent, "checkworthy": checkworthy, "denial": denial}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=KINDS, action="append", help="ask and score this kind (default: all)")
    parser.add_argument("--report", type=Path, help="score from the cache only; write the figures as JSON here")
    parser.add_argument("--plots", type=Path, help="folder for a reliability plot per kind")
    args = parser.parse_args(argv)
    cache = _load_cache()
    results = []
    for kind in args.kind or KINDS:
        items = BUILDERS[kind]()
        if not args.report:
            asyncio.run(_ask_missing(items, cache))
        if any(_key(p) not in cache for item in items for _, p in _prompts(item)):
            print(f"{kind}: not every question is answered in {CACHE}; run with --kind {kind} first", file=sys.stderr)
            continue
        result = score(kind, items, cache)
        results.append(result)
        print(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}))
        if args.plots:
            _plot(result, args.plots / f"reliability-{kind}.png")
    if args.report:
        figures = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
        args.report.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = result["_points"]
    p = np.array([x for x, _ in points])
    c = np.array([y for _, y in points], dtype=float)
    which = np.minimum((p * 10).astype(int), 9)
    centers = [  # one point per bin: mean probability, fraction right, size
        (p[which == b].mean(), c[which == b].mean(), (which == b).sum())
        for b in range(10) if (which == b).any()]
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.scatter([x for x, _, _ in centers], [y for _, y, _ in centers], s=[20 + 8 * n for *_, n in centers])
    if result["threshold"] is not None:
        ax.axvline(result["threshold"], color="red", lw=1)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="model's choice probability", ylabel="fraction right",
           title=f"{result['kind']}: n={result['n']}, ECE {result['ece']:.2f}")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
