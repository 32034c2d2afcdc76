"""Room held on OUT's disk, so that a run the disk stops still keeps what it paid for.

When the disk fills, the answers to the calls already at the server must still reach the
response cache, or the next run pays for them again (by default the cache is on the same disk:
`~/.cache/factcheck` and an OUT in one's home), and run.json must still say the run stopped, not
"running" as after a kill. On a full disk neither can be written. So a run allocates
RESERVE_BYTES in OUT/.factcheck.reserve when it starts and gives them back to the disk the moment
the disk fills; the run then starts nothing more and only finishes what it had paid for.
"""

import os
import threading
from pathlib import Path

from pipeline._io import named

RESERVE_FILE = ".factcheck.reserve"
# What a stop writes: at most 2N-1 answers and results (a few KB each), SQLite's log pages for
# them, run.json. 4 MiB is many times that at any concurrency a run uses.
RESERVE_BYTES = 4 * 2**20


class DiskReserve:
    def __init__(self, out_dir: Path):
        self.path = out_dir / RESERVE_FILE
        self.released = False
        self._lock = threading.Lock()  # released from the cache's writer thread or the event loop

    def hold(self) -> None:
        """Allocate the room (real blocks, not a sparse file). A disk without 4 MiB free stops
        the run here, before any call, with an OSError naming the file."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except OSError as error:
            self.path.unlink(missing_ok=True)
            raise named(error, self.path) from None
        finally:
            os.close(fd)

    def release(self) -> bool:
        """Give the room back to the disk; True the first time (room was made), else False."""
        with self._lock:
            if self.released:
                return False
            self.released = True
        self.path.unlink(missing_ok=True)
        return True
