"""FNC-1 as training rows: (headline, body) pairs read from the published CSVs, turned into features.

Reading follows ``../shared/data/README.md``: Python's ``csv`` with ``encoding="utf-8", newline=""``.
"""

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline._io import write_bytes_atomic
from pipeline.stance.features import ArticleView, VectorsOf, article_view, pair_features
from pipeline.text.attributions import find_attributions

STANCES = ("agree", "disagree", "discuss", "unrelated")


@dataclass(frozen=True)
class Pair:
    headline: str
    body_id: str
    stance: str


@dataclass(frozen=True)
class Corpus:
    bodies: dict[str, str]
    pairs: list[Pair]
    domain: str = "fnc"  # "fnc": FNC-1's news articles; "arc": ARC's readers' opinion posts


class DataError(ValueError):
    """The training folder is not FNC-1's two CSVs."""


def read_fnc(folder: Path) -> Corpus:
    """FNC-1's two CSVs (``train_bodies.csv``, ``train_stances.csv``), or ARC's in the same format
    (``arc_bodies.csv``, ``arc_stances.csv``)."""
    bodies_file, stances_file = _csv_pair(folder)
    domain = "arc" if bodies_file.name.startswith("arc_") else "fnc"
    with bodies_file.open(encoding="utf-8", newline="") as f:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    with stances_file.open(encoding="utf-8", newline="") as f:
        pairs = [Pair(row["Headline"], row["Body ID"], row["Stance"]) for row in csv.DictReader(f)]
    unknown = {p.stance for p in pairs} - set(STANCES)
    if unknown:
        raise DataError(f"{stances_file}: unknown stances {sorted(unknown)}")
    missing = {p.body_id for p in pairs} - bodies.keys()
    if missing:
        raise DataError(f"{stances_file}: {len(missing)} pairs name a body not in {bodies_file.name}")
    return Corpus(bodies, pairs, domain)


def _csv_pair(folder: Path) -> tuple[Path, Path]:
    for prefix in ("train", "arc"):
        bodies_file, stances_file = folder / f"{prefix}_bodies.csv", folder / f"{prefix}_stances.csv"
        if bodies_file.is_file() and stances_file.is_file():
            return bodies_file, stances_file
    raise DataError(
        f"{folder}: no FNC-1 CSVs (train_bodies.csv and train_stances.csv, or arc_bodies.csv and arc_stances.csv)"
    )


def sample_bodies(corpus: Corpus, count: int, seed: int, *, per_stance: int = 6) -> Corpus:
    """Every pair of at least ``count`` bodies drawn at random, and more until each stance has
    ``per_stance`` pairs: a small corpus of whole bodies that every classifier can still be fitted on."""
    rng = np.random.default_rng(seed)
    by_body: dict[str, list[Pair]] = {}
    for pair in corpus.pairs:
        by_body.setdefault(pair.body_id, []).append(pair)
    chosen: list[str] = []
    seen = dict.fromkeys(STANCES, 0)
    for body_id in rng.permutation(sorted(by_body)).tolist():
        needed = [s for s in STANCES if seen[s] < per_stance]
        if len(chosen) >= count and not needed:
            break
        if len(chosen) >= count and not any(p.stance in needed for p in by_body[body_id]):
            continue
        chosen.append(body_id)
        for pair in by_body[body_id]:
            seen[pair.stance] += 1
    keep = set(chosen)
    bodies = {i: t for i, t in corpus.bodies.items() if i in keep}
    return Corpus(bodies, [p for p in corpus.pairs if p.body_id in keep], corpus.domain)


def stories(corpus: Corpus) -> dict[str, int]:
    """Body id -> story: a connected component of the headline-body graph of related pairs, as
    ``../shared/data/README.md`` defines story clusters. Bodies about one story share names and
    words, so validation that holds out whole stories (not just bodies) measures what a new story
    would get; holding out bodies alone overstated macro-F1 by 0.15 here."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    heads = {h: i for i, h in enumerate(sorted({p.headline for p in corpus.pairs}))}
    bodies = {b: len(heads) + i for i, b in enumerate(sorted(corpus.bodies))}
    edges = [(heads[p.headline], bodies[p.body_id]) for p in corpus.pairs if p.stance != "unrelated"]
    size = len(heads) + len(bodies)
    rows, cols = (list(side) for side in zip(*edges, strict=True)) if edges else ([], [])
    _, component = connected_components(
        coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size)), directed=False
    )
    return {body_id: int(component[node]) for body_id, node in bodies.items()}


def feature_rows(corpus: Corpus, vectors_of: VectorsOf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, stance labels and stories (the groups for grouped splits, named ``<domain>-<story>``),
    one row per pair. ARC's stories are its topics (a topic is the headline its posts answer)."""
    views: dict[str, ArticleView] = {
        body_id: article_view(text, vectors_of, find_attributions(text)) for body_id, text in corpus.bodies.items()
    }
    headlines = sorted({p.headline for p in corpus.pairs})
    headline_vectors = dict(zip(headlines, _rows(vectors_of(headlines)), strict=True))
    features = np.stack(
        [pair_features(p.headline, headline_vectors[p.headline], views[p.body_id]) for p in corpus.pairs]
    )
    labels = np.array([p.stance for p in corpus.pairs])
    story = stories(corpus)
    groups = np.array([f"{corpus.domain}-{story[p.body_id]}" for p in corpus.pairs])
    return features, labels, groups


def _rows(matrix: np.ndarray) -> Sequence[np.ndarray]:
    return list(matrix)


class EmbeddingCache:
    """Sentence vectors by the sha1 of their text, kept in one ``.npz`` between training runs: a
    change of features or classifiers then re-fits in minutes instead of re-embedding 31,700
    sentences. The file is named by the embedding model's and tokenizer's sha256, so other weights
    never meet these vectors."""

    def __init__(self, folder: Path, vectors_of: VectorsOf, key: str) -> None:
        self.path = folder / f"minilm-{key[:16]}.npz"
        self._vectors_of = vectors_of
        self._known: dict[str, np.ndarray] = {}
        if self.path.is_file():
            stored = np.load(self.path)
            self._known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._known]
        if missing:
            for i, vector in zip(missing, self._vectors_of([texts[i] for i in missing]), strict=True):
                self._known[keys[i]] = vector
        return np.stack([self._known[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)

    def save(self) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(list(self._known)), vectors=np.stack(list(self._known.values())))
        write_bytes_atomic(self.path, buffer.getvalue())
