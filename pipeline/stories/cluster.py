"""Grouping claim embeddings into stories: average-linkage agglomerative clustering under a cosine
distance threshold (scikit-learn), in memory that grows with the claims, not with their square.

First a sparse graph: each claim's nearest neighbours (scikit-learn, computed in chunks), keeping
those within the threshold, and its connected components (scipy). Two groups merge under average
linkage only when their mean distance is within the threshold, so some pair across them is within
it: a story lies inside one component (exactly so with a radius graph; with the neighbour cap it
holds unless a claim has more than ``NEIGHBOURS`` claims within the threshold and reaches a story
only through the ones past the cap). Each component is then clustered on its own, exactly (all its
pairwise distances) up to ``DENSE_LIMIT`` claims; a bigger one in two stages (``_two_stage``).
``docs/stories.md`` measures both against scikit-learn clustering everything at once.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

# Tuned on one sample of FNC-1 stories and reported on another (docs/stories.md).
DISTANCE_THRESHOLD = 0.5
LINKAGE = "average"
NEIGHBOURS = 30  # graph edges kept per claim: memory is claims x NEIGHBOURS
DENSE_LIMIT = 4000  # the largest component clustered exactly: ~n²/2 float64 distances (64 MB at 4,000)
WORKING_MEMORY_MB = 64  # scikit-learn's chunk size for the neighbour search (its default is 1 GB)
EPSILON = 1e-6  # added to stored edge distances, so that a distance of 0 is still an edge


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # one story number per vector, 0..n_stories-1
    largest_component: int  # the biggest connected group of the neighbour graph
    split: int  # claims in components too big to cluster at once (two-stage)


def neighbour_graph(vectors: np.ndarray, threshold: float, neighbours: int = NEIGHBOURS) -> "csr_matrix":
    """Sparse and symmetric, holding cosine distance + EPSILON (so a distance of 0 stays an
    edge): an edge when one claim is among the other's ``neighbours`` nearest and within ``threshold``."""
    import sklearn
    from sklearn.neighbors import kneighbors_graph

    # Euclidean on unit vectors ranks neighbours as cosine does (|a-b|² = 2 - 2a.b) and takes
    # scikit-learn's chunked float32 search: ~3x faster than metric="cosine" and bounded memory.
    with sklearn.config_context(working_memory=WORKING_MEMORY_MB):
        graph = kneighbors_graph(
            vectors, n_neighbors=min(neighbours, len(vectors) - 1), metric="euclidean", mode="distance"
        )
    graph.data = graph.data.astype(np.float64) ** 2 / 2  # cosine distance
    graph.data = np.where(graph.data <= threshold + 1e-9, graph.data + EPSILON, 0.0)
    graph.eliminate_zeros()
    return graph.maximum(graph.T).tocsr()


def cluster(
    vectors: np.ndarray,
    threshold: float = DISTANCE_THRESHOLD,
    linkage: str = LINKAGE,
    *,
    dense_limit: int = DENSE_LIMIT,
) -> Clustering:
    """Story numbers for L2-normalised ``vectors``: claims whose average cosine distance is at most
    ``threshold`` share a story. Deterministic: numbered by each story's first vector."""
    n = len(vectors)
    if n <= 1:
        return Clustering(np.zeros(n, dtype=np.int64), n, 0)
    graph = neighbour_graph(vectors, threshold)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = largest = split = 0
    for members in _components(graph, np.arange(n), threshold):
        largest = max(largest, len(members))
        if len(members) <= dense_limit:
            local = _exact(vectors[members], threshold, linkage)
        else:
            local = _two_stage(vectors[members], graph[members][:, members], threshold, linkage, dense_limit)
            split += len(members)
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    return Clustering(_renumbered(labels), largest, split)


def _components(graph: "csr_matrix", members: np.ndarray, within: float) -> list[np.ndarray]:
    """Connected components of ``graph`` over ``members`` using edges of distance <= ``within``."""
    from scipy.sparse.csgraph import connected_components

    sub = graph[members][:, members].tocsr()
    sub.data = np.where(sub.data <= within + EPSILON, sub.data, 0.0)  # stored as distance + EPSILON
    sub.eliminate_zeros()
    _, component = connected_components(sub, directed=False)
    order = np.argsort(component, kind="stable")
    return [members[part] for part in np.split(order, np.flatnonzero(np.diff(component[order])) + 1)]


def _exact(vectors: np.ndarray, threshold: float, linkage: str) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int64)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine", linkage=linkage)
    return model.fit_predict(vectors)


def _two_stage(
    vectors: np.ndarray, graph: "csr_matrix", threshold: float, linkage: str, dense_limit: int
) -> np.ndarray:
    """A component too big for its pairwise distances: cut it into pieces of at most ``dense_limit``
    by tightening the edge distance, cluster each piece exactly, then cluster the pieces' clusters
    by their average-linkage distances (for unit vectors the mean cosine distance of two groups is
    1 - sum_a . sum_b / (n_a n_b), exact). Only merges of merged clusters are then approximate.
    Written for average linkage (the one factcheck uses)."""
    from sklearn.cluster import AgglomerativeClustering

    pieces = [np.arange(len(vectors))]
    within = threshold
    while any(len(p) > dense_limit for p in pieces) and within > 0:
        within = max(0.0, within - 0.05)
        pieces = [q for p in pieces for q in (_components(graph, p, within) if len(p) > dense_limit else [p])]
    first = np.empty(len(vectors), dtype=np.int64)
    count = 0
    for piece in pieces:
        for chunk in np.array_split(piece, -(-len(piece) // dense_limit)):  # identical claims past the limit
            local = _exact(vectors[chunk], threshold, linkage)
            first[chunk] = local + count
            count += int(local.max()) + 1
    if count == 1:
        return first
    sums = np.zeros((count, vectors.shape[1]))
    np.add.at(sums, first, vectors)
    sizes = np.bincount(first, minlength=count).astype(np.float64)
    distances = np.clip(1.0 - (sums @ sums.T) / np.outer(sizes, sizes), 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=threshold, metric="precomputed", linkage=linkage
    )
    return model.fit_predict(distances)[first]


def _renumbered(labels: np.ndarray) -> np.ndarray:
    """Stories numbered in order of their first member: the same input gives the same numbers."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    _, inverse = np.unique(labels, return_inverse=True)
    return rank[inverse]
