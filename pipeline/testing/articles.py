"""Synthetic news articles for tests and benchmarks: distinct, deterministic, a few sentences each."""

import random
import re
from pathlib import Path

_SUBJECTS = ["The mayor", "The council", "A spokesperson", "The minister", "The company", "Local police"]
_VERBS = ["said", "announced", "claimed", "reported", "told reporters"]
_OBJECTS = [
    "the bridge will open in {n} weeks",
    "the budget grew by {n} percent",
    "{n} new jobs were created last year",
    "the project cost {n} million dollars",
    "crime fell by {n} percent in the district",
]


MARKER = re.compile(r"Synthetic report number \d+ was filed today")


def marker(index: int) -> str:
    """What article ``index``'s first sentence reports: the fake server counts requests by it. The
    sentence is attributed ("…, officials said"), so it is a candidate claim that every call about
    the article shows, the claims call included (which sees candidates, not the article)."""
    return f"Synthetic report number {index} was filed today"


def article_text(index: int, sentences: int = 6) -> str:
    rng = random.Random(index)
    body = [
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} that {rng.choice(_OBJECTS).format(n=rng.randint(2, 90))}."
        for _ in range(sentences - 1)
    ]
    return " ".join([f"{marker(index)}, officials said.", *body]) + "\n"


def write_articles(folder: Path, count: int, *, start: int = 0, sentences: int = 6) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(start, start + count):
        path = folder / f"article-{index:05d}.txt"
        path.write_text(article_text(index, sentences), encoding="utf-8")
        paths.append(path)
    return paths
