"""What building stories costs over 1,000 and 10,000 articles: time and peak memory.

    .venv/bin/python bench/bench_stories.py --sizes 1000 10000

Synthetic result files built through the real schemas (``ArticleResult``), 3 claims each, whose
statements restate ~one event in five ways (paraphrased word orders and verbs) among many events, so
stories of several claims form as they would in a news folder. Each step runs in a fresh process
(so its peak RSS is its own) under the same folder:

1. cold: no cache, every claim embedded, clustered, written;
2. warm: the same folder again (nothing new: 0 claims embedded);
3. +1%: 1% more articles added (only theirs embedded), as an incremental batch would.

The embedding (MiniLM on 2 cores) is linear in new claims and dominates the cold build; the update
that follows a batch re-clusters every claim from the cache, so its cost is what grows with the folder.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLAIMS_PER_ARTICLE = 3
FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jon", "Kemi", "Luis", "Mira",
         "Nour", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vera", "Wen", "Yusuf", "Zoe"]  # fmt: skip
LAST = ["Ortiz", "Bremmer", "Novak", "Haddad", "Kim", "Mensah", "Rossi", "Silva", "Tanaka", "Weber", "Yilmaz",
        "Dubois", "Kowalski", "Nakamura", "Okafor", "Petrov", "Quist", "Reyes", "Schmidt", "Varga"]  # fmt: skip
ROLES = ["the mayor of", "the governor of", "the police chief of", "the health minister of", "a senator from"]
PLACES = ["Riverton", "Lakeside", "Port Ellis", "Northgate", "Marlow", "Kestrel Bay", "Dunmore", "Ashford", "Calder",
          "Brightwater", "Fenwick", "Glenrock", "Harlow", "Irvine Falls", "Juniper", "Kingsbridge"]  # fmt: skip
ACTS = [
    ("met {other} to discuss {topic}", "held talks with {other} about {topic}", "discussed {topic} with {other}"),
    ("approved a budget cut for {topic}", "signed off on cutting spending on {topic}",
     "backed reductions to the {topic} budget"),
    ("resigned over a scandal about {topic}", "quit after a row over {topic}", "stepped down amid a {topic} scandal"),
    ("announced a new plan for {topic}", "unveiled a plan on {topic}", "presented new proposals for {topic}"),
    ("was arrested in a probe into {topic}", "was detained by investigators looking into {topic}",
     "faced arrest in an inquiry about {topic}"),
]  # fmt: skip
TOPICS = ["water rates", "the new stadium", "school funding", "bridge repairs", "housing permits", "hospital beds",
          "bus fares", "flood defences", "police pay", "the airport expansion", "recycling contracts",
          "park closures"]  # fmt: skip


def event(rng: random.Random) -> tuple[str, ...]:
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    other = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    role = f"{rng.choice(ROLES)} {rng.choice(PLACES)}"
    act = rng.choice(ACTS)
    topic = rng.choice(TOPICS)
    return tuple(
        template.format(person=person, role=role, act=a.format(other=other, topic=topic))
        for template in ("{person}, {role}, {act}", "{person} {act}", "{role}, {person}, {act}")
        for a in act
    )


def write_folder(out: Path, start: int, count: int, seed: int = 7) -> None:
    """Articles ``start``..``start+count``: each has 3 claims, each a wording of one of
    ``events`` events (about 1 event per 2 articles, so stories repeat across articles)."""
    from pipeline.text.ingest import article_id
    from pipeline.text.spans import align_quote
    from schemas import ArticleMeta, ArticleResult, Claim, ClaimKind, RunInfo, Verdict, VerdictLabel

    rng = random.Random(seed)
    total = start + count
    events = [event(rng) for _ in range(max(1, total // 2))]
    labels = list(VerdictLabel)[:4]
    folder = out / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    run = RunInfo(backend="bench", model="bench", prompt_versions={},
                  started_at=datetime(2024, 1, 1, tzinfo=UTC), seconds=0)
    for index in range(start, total):
        pick = random.Random(index)
        statements = [pick.choice(pick.choice(events)) for _ in range(CLAIMS_PER_ARTICLE)]
        text = f"Synthetic report {index}. " + " ".join(f"Officials said {s}." for s in statements) + "\n"
        claims = []
        for number, statement in enumerate(statements, start=1):
            span = align_quote(text, f"Officials said {statement}.")
            assert span is not None
            claims.append(Claim(id=f"c{number}", statement=statement, claimant="Officials", cue="said",
                                kind=ClaimKind.fact, checkworthiness=0.7, spans=[span]))  # fmt: skip
        verdicts = [Verdict(claim_id=c.id, verdict=pick.choice(labels), confidence=0.5, rationale="bench")
                    for c in claims]
        result = ArticleResult(
            article=ArticleMeta(id=article_id(text), source=f"article-{index:05d}.txt",
                                url=f"https://outlet{index % 40}.example/{index}",
                                published=f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}"),
            text=text, claims=claims, verdicts=verdicts, run=run,
        )  # fmt: skip
        (folder / f"{result.article.id}.json").write_text(result.model_dump_json(), encoding="utf-8")


STEP = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
t = time.perf_counter()
from pipeline.stories import update_stories
from pipeline.stories import build
seconds = {{"embed": 0.0}}
def embed(texts):
    from pipeline.stance.embedder import shared_embedder
    e = time.perf_counter(); vectors = shared_embedder().embed(texts); seconds["embed"] += time.perf_counter() - e
    return vectors
update = update_stories(Path({out!r}), embed=embed)
print(json.dumps({{
    "seconds": round(time.perf_counter() - t, 2), "embed_seconds": round(seconds["embed"], 2),
    "embedded": update.embedded, "articles": update.articles, "claims": update.claims, "stories": len(update.stories),
    "shared_stories": sum(1 for s in update.stories if len(s.articles) > 1),
    "largest_component": update.largest_component,
    "largest_story": max((len(s.claims) for s in update.stories), default=0),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}}))
"""


def step(out: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", STEP.format(root=str(ROOT), out=str(out))],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-stories"))
    parser.add_argument("--keep", action="store_true",
                        help="Reuse a folder (and cache) left by an earlier run: no cold step.")
    args = parser.parse_args()
    for size in args.sizes:
        out = args.work / f"n{size}"
        if not (args.keep and out.exists()):
            if out.exists():
                import shutil

                shutil.rmtree(out)
            started = time.perf_counter()
            write_folder(out, 0, size)
            print(f"{size} articles written in {time.perf_counter() - started:.1f} s", flush=True)
            cold = step(out)
            print(f"  cold   {json.dumps(cold)}", flush=True)
        size = sum(1 for _ in (out / "articles").glob("*.json"))
        warm = step(out)
        print(f"  warm   {json.dumps(warm)}", flush=True)
        write_folder(out, size, max(1, size // 100))
        grown = step(out)
        print(f"  +1%    {json.dumps(grown)}", flush=True)


if __name__ == "__main__":
    main()
