"""One run per output folder at a time: an exclusive ``flock`` on OUT/.factcheck.lock.

The operating system releases a flock when its process ends, however it ends (SIGKILL, a
crash, a power cut's reboot), so a lock file left by a killed run is simply taken over: there
is no pid to probe and no stale-lock guesswork. The file holds the holder's pid and start time,
only to name them to a second run, which is refused at once (before any model is loaded or any
call is made), so nothing is paid twice and no file is written by two runs.
"""

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pipeline.text.ingest import InputError

LOCK_FILE = ".factcheck.lock"


class FolderBusyError(InputError):
    """Another factcheck process holds the output folder."""


class OutputLock:
    """Held from :meth:`acquire` until :meth:`release` or the end of the process."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.path = out_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> "OutputLock":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusyError(f"{self.out_dir} is being written by another factcheck run ({holder})") from None
        except BaseException:
            os.close(fd)
            raise
        # Ours now (a killed holder's lock went with its process): say who holds it.
        stamp = json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, stamp + b"\n", 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (removing it would race a waiting run)
            self._fd = None

    def __enter__(self) -> "OutputLock":
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(data['pid'])}, started {data['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown: it is starting"
