"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel


def _umask() -> int:
    """The process's umask (read once: setting it back and forth is not thread-safe later)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates 0600; a file written atomically gets the mode a plain open() would give it.
_FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_writer(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file (text, or bytes with ``binary``) that replaces ``path`` only when the block ends without an error.
    Its mode is what ``open()`` would create (0644 under the usual umask), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:  # name the file being written, not a temporary name nobody knows
        error.filename = str(path)
        raise
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        raise named(error, path)


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_writer(path) as f:
        f.write(text)


def write_json_atomic(path: Path, data: BaseModel | dict[str, object] | list[object]) -> None:
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    write_text_atomic(path, text + "\n")


def append_jsonl(path: Path, *rows: dict[str, object]) -> None:
    """Whole lines in one write per call (O_APPEND), flushed to disk, so a crash never leaves half a row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
    except OSError as error:
        raise named(error, path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``write_text_atomic`` for bytes (a fitted model, a vector cache): the same temp-file-and-rename."""
    with atomic_writer(path, binary=True) as f:
        f.write(data)


# -- faults of the machine, not of the code ---------------------------------------------------

# errno values that mean "the disk cannot take this write": a run stops starting articles on them.
DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
NO_PERMISSION = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_NO_SUCH_PATH = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR})


def named(error: BaseException, path: Path | str) -> BaseException:
    """``error`` naming ``path`` when it names no file: write() on a full disk does not."""
    if isinstance(error, OSError) and error.filename is None:
        error.filename = str(path)
    return error


def environment_fault(error: BaseException) -> str | None:
    """One line naming the path and the fix when ``error`` is the machine's (no permission, a
    read-only or full disk, the file size limit), else None: those are not bugs to report."""
    if not isinstance(error, OSError) or error.errno not in DISK_FULL | NO_PERMISSION | _NO_SUCH_PATH:
        return None
    path = error.filename if error.filename is not None else "(a file)"
    if error.errno in _NO_SUCH_PATH:
        return f"{path}: {error.strerror}; create its folder or choose another path"
    if error.errno == errno.EFBIG:
        return (
            f"{path}: file size limit reached ({error.strerror}); raise the limit (`ulimit -f unlimited`) or free "
            "space, "
            "then run the same command again: finished articles are kept"
        )
    if error.errno in DISK_FULL:
        return (
            f"{path}: no space left on the disk ({error.strerror}); free space or choose another folder, then run the "
            "same command again: finished articles are kept"
        )
    kind = "read-only file system" if error.errno == errno.EROFS else "permission denied"
    return f"{path}: {kind}; fix its permissions (see `ls -ld` of it and its folder) or choose another path"
