"""Grouping claim embeddings into stories: average-linkage agglomerative clustering under a cosine
distance threshold (scikit-learn), exact, in memory that grows with the neighbours, not n².

Why it can be split: two groups merge under average linkage only when their mean distance is at most
the threshold, so at least one pair across them is within it. Every story therefore lies inside one
connected component of the graph of pairs within the threshold. The components come from a sparse
radius-neighbours graph (scikit-learn, computed in chunks) and scipy's connected components; each
component is then clustered on its own, with the same result as clustering everything at once.
"""

from dataclasses import dataclass

import numpy as np

# Tuned on one sample of FNC-1 stories and reported on another (docs/stories.md).
DISTANCE_THRESHOLD = 0.5
LINKAGE = "average"


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # one story number per vector, 0..n_stories-1
    largest_component: int  # the biggest group clustered densely (memory is its square)


def cluster(vectors: np.ndarray, threshold: float = DISTANCE_THRESHOLD, linkage: str = LINKAGE) -> Clustering:
    """Story numbers for L2-normalised ``vectors``: claims whose average cosine distance is at most
    ``threshold`` share a story. Deterministic: numbered by each story's first vector."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.neighbors import radius_neighbors_graph

    n = len(vectors)
    if n == 0:
        return Clustering(np.zeros(0, dtype=np.int64), 0)
    if n == 1:
        return Clustering(np.zeros(1, dtype=np.int64), 1)
    graph = radius_neighbors_graph(vectors, radius=threshold, metric="cosine", mode="connectivity", include_self=False)
    _, component = connected_components(graph, directed=False)
    labels = np.full(n, -1, dtype=np.int64)
    next_label = 0
    largest = 0
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    for members in np.split(order, bounds):
        largest = max(largest, len(members))
        if len(members) == 1:
            labels[members] = next_label
            next_label += 1
            continue
        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=threshold, metric="cosine", linkage=linkage, compute_full_tree=True
        )
        local = model.fit_predict(vectors[members])
        labels[members] = local + next_label
        next_label += int(local.max()) + 1
    return Clustering(_renumbered(labels), largest)


def _renumbered(labels: np.ndarray) -> np.ndarray:
    """Stories numbered in order of their first member: the same input gives the same numbers."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    _, inverse = np.unique(labels, return_inverse=True)
    return rank[inverse]
