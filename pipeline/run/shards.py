"""``run --shard i/N``: a static split of the input by path hash, no cluster needed. N machines
that see FOLDER at the same path each run one share into an OUT of their own, side by side with
the local engine; ``factcheck merge`` (run/merge.py) joins the N folders into one."""

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.run.inputs import Inputs
from pipeline.text.ingest import InputError


def parse_share(text: str) -> tuple[int, int]:
    """``"2/4"`` -> (2, 4): the second of four shares (1-based, as people count)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise InputError(f"--shard {text}: give i/N, e.g. 1/4 (the first of four shares)") from None
    if not 1 <= index <= count:
        raise InputError(f"--shard {text}: i must be between 1 and N")
    return index, count


def share_of(path: Path | str, count: int) -> int:
    """Which of ``count`` shares a path falls in (1-based): the same on every machine and every run."""
    digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


class Share(Inputs):
    """The article files of one share of some paths: the walk of :class:`Inputs`, filtered. Other
    files and faults are reported by share 1 only, so that merged folders name each once."""

    def __init__(self, inputs: Inputs, index: int, count: int):
        super().__init__(inputs.paths)
        self.excluded = inputs.excluded
        self.index = index
        self.count = count

    def walk(
        self, on_skipped: Callable[[str], None] | None = None, on_unreadable: Callable[[str, str], None] | None = None,
        on_fault: Callable[[str], None] | None = None,
    ) -> Iterator[Path]:
        mine = self.index == 1
        walk = super().walk(on_skipped if mine else None, self._unreadable(on_unreadable), on_fault if mine else None)
        for path in walk:
            if share_of(path, self.count) == self.index:
                yield path

    def _unreadable(self, report: Callable[[str, str], None] | None) -> Callable[[str, str], None] | None:
        if report is None:
            return None
        return lambda source, reason: report(source, reason) if share_of(source, self.count) == self.index else None
