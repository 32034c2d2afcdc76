"""Claim embeddings kept in the output folder, keyed by the content hash of each result file.

A later update hashes the result files (cheap) and reads, validates and embeds only the ones whose
content it has not seen: finished articles are never parsed or embedded twice, and a result file
rewritten by ``--no-resume`` is embedded again because its hash changed. The file's name carries
the embedding model's and tokenizer's sha256 and the embedding recipe, so other weights or another
choice of text never meet these vectors.
"""

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline._io import write_bytes_atomic
from pipeline.stories._digest import DIGESTS, ArticleDigest

log = logging.getLogger(__name__)

CACHE_DIR = "stories-cache"
RECIPE = "statement-v1"  # change when claim_text() changes: old vectors are then not reused
DIMENSIONS = 384


@dataclass
class Entry:
    digest: ArticleDigest
    vectors: np.ndarray  # one row per claim, L2-normalised float32


def cache_path(out_dir: Path) -> Path:
    from pipeline.stance.embedder import MODEL_SHA256, TOKENIZER_SHA256

    key = hashlib.sha256(f"{MODEL_SHA256}:{TOKENIZER_SHA256}:{RECIPE}".encode()).hexdigest()[:16]
    return out_dir / CACHE_DIR / f"claims-{key}.npz"


def load(path: Path) -> dict[str, Entry]:
    """Content hash -> entry; an unreadable cache is only a slower update, never an error."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as stored:
            hashes = stored["hashes"].tolist()
            counts = stored["counts"]
            vectors = stored["vectors"]
            digests = DIGESTS.validate_json(str(stored["digests"]))
        if len(hashes) != len(digests) or len(counts) != len(hashes) or int(counts.sum()) != len(vectors):
            raise ValueError("arrays of different lengths")
    except (OSError, ValueError, KeyError) as error:
        log.warning("ignoring the claim vector cache %s: %s", path, error)
        return {}
    entries: dict[str, Entry] = {}
    start = 0
    for key, count, digest in zip(hashes, counts.tolist(), digests, strict=True):
        entries[key] = Entry(digest, vectors[start : start + count])
        start += count
    return entries


def save(path: Path, entries: dict[str, Entry]) -> None:
    """One ``.npz`` (atomic): the hashes, claims per file, all vectors, and the digests as JSON."""
    keys = list(entries)
    vectors = [entries[k].vectors for k in keys]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        hashes=np.array(keys, dtype=str),
        counts=np.array([len(v) for v in vectors], dtype=np.int64),
        vectors=np.concatenate(vectors) if vectors else np.zeros((0, DIMENSIONS), dtype=np.float32),
        digests=np.array(DIGESTS.dump_json([entries[k].digest for k in keys]).decode("utf-8")),
    )
    write_bytes_atomic(path, buffer.getvalue())
