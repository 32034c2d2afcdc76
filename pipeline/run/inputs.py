"""The inputs of a run: article files under paths, found lazily, read one at a time, each text
analysed once."""

import errno
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from pipeline.text.ingest import ARTICLE_SUFFIXES, JSON_SUFFIXES, Article, InputError, read_articles


class NoArticlesError(InputError):
    """Nothing to run on: every path is missing, empty or holds no article files."""


class Inputs:
    """The article files under some paths, found lazily: each iteration walks the folders again
    with ``os.scandir`` (in directory order), so no list of files is ever held. Files under
    ``exclude`` (the output folder) are never inputs; hidden files and folders are ignored. A
    symlinked file whose target is outside the folder given (``notes.txt -> /etc/passwd``) is
    named and left out unless ``follow_symlinks``; symlinked folders are followed."""

    def __init__(self, paths: list[Path], exclude: Path | None = None, follow_symlinks: bool = False):
        self.paths = paths
        self.excluded = exclude.resolve() if exclude is not None else None
        self.follow_symlinks = follow_symlinks

    def __iter__(self) -> Iterator[Path]:
        return self.walk()

    def __bool__(self) -> bool:
        return next(self.walk(), None) is not None

    def walk(
        self, on_skipped: Callable[[str], None] | None = None, on_unreadable: Callable[[str, str], None] | None = None,
        on_fault: Callable[[str], None] | None = None,
    ) -> Iterator[Path]:
        """Article files one at a time; ``on_skipped`` hears of every other file, ``on_unreadable``
        (path, reason) of every article file or folder that cannot be read, ``on_fault`` of every
        other entry left out that may hide articles (a folder loop, an unreadable entry); the walk
        goes on past all three. Symlinked folders are followed, each real folder read once."""
        seen: set[tuple[int, int]] = set()  # (device, inode) of every folder read in this walk
        for path in self.paths:
            if path.is_dir():
                yield from self._walk_folder(path, seen, on_skipped, on_unreadable, on_fault or on_skipped)
            elif path.is_file():
                yield path

    def census(self) -> tuple[int, bool]:
        """How many article files, and whether any may hold several articles (JSON): one walk."""
        files = 0
        several = False
        for path in self.walk():
            files += 1
            several = several or path.suffix.lower() in JSON_SUFFIXES
        return files, several

    def _walk_folder(
        self, root: Path, seen: set[tuple[int, int]], on_skipped: Callable[[str], None] | None,
        on_unreadable: Callable[[str, str], None] | None, on_fault: Callable[[str], None] | None,
    ) -> Iterator[Path]:
        real_root = root.resolve()
        pending = [root]  # folders still to read: grows with the depth and breadth of folders, not files
        while pending:
            folder = pending.pop()
            if not self._first_visit(folder, seen, on_fault):
                continue
            try:
                scanner = os.scandir(folder)
            except OSError as error:  # an unreadable folder is reported, the rest goes on
                if on_unreadable is not None:
                    on_unreadable(str(folder), f"{folder}: cannot read folder ({error.strerror or error})")
                continue
            with scanner:
                while True:
                    try:
                        entry = next(scanner, None)
                    except OSError as error:
                        if on_unreadable is not None:
                            on_unreadable(str(folder), f"{folder}: cannot read folder ({error.strerror or error})")
                        break
                    if entry is None:
                        break
                    yield from self._visit(entry, pending, on_skipped, on_unreadable, on_fault, (real_root, folder))

    @staticmethod
    def _first_visit(folder: Path, seen: set[tuple[int, int]], on_fault: Callable[[str], None] | None) -> bool:
        """Whether ``folder`` is a real folder not read yet in this walk; a link back to one is named."""
        try:
            info = folder.stat()
        except OSError:
            return True  # reading it fails next, and is reported there
        key = (info.st_dev, info.st_ino)
        if key not in seen:
            seen.add(key)
            return True
        if on_fault is not None:
            real = folder.resolve()
            kind = "a folder loop" if folder.parent.resolve().is_relative_to(real) else "a second path to it"
            on_fault(f"{folder}: skipped (a link to {real}, a folder already read: {kind})")
        return False

    def _visit(
        self, entry: os.DirEntry[str], pending: list[Path],
        on_skipped: Callable[[str], None] | None, on_unreadable: Callable[[str, str], None] | None,
        on_fault: Callable[[str], None] | None, where: tuple[Path, Path],
    ) -> Iterator[Path]:
        """One folder entry: a subfolder to walk, an article file, or a line about it. One bad
        entry (a symlink loop, a dangling link, a file gone mid-walk) never ends the walk.
        ``where``: the real input folder and the folder holding the entry."""
        is_article = os.path.splitext(entry.name)[1].lower() in ARTICLE_SUFFIXES
        if entry.name.startswith("."):  # hidden files and folders (.git, .cache, editors' drafts)
            return
        try:
            if entry.is_dir():  # a folder, or a symlink to one: followed (each real folder once)
                if not self._excluded(entry):
                    pending.append(Path(entry.path))
                return
            if self._excluded(entry):
                return
            if not entry.is_file():  # raises on a symlink loop; False for a dangling link
                if entry.is_symlink():  # a dangling link may be a folder of articles not mounted
                    raise FileNotFoundError(errno.ENOENT, "dangling symbolic link")
                if (is_article or entry.is_symlink()) and on_fault is not None:  # a FIFO would block the read
                    on_fault(f"{entry.path}: skipped (not a regular file: {special_kind(entry.path)})")
                return
            if is_article and entry.is_symlink() and not self.follow_symlinks:
                outside = _outside(Path(entry.path), *where)
                if outside is not None:
                    if on_fault is not None:
                        on_fault(
                            f"{entry.path}: skipped (a link to {outside}, outside {where[0]}; "
                            "--follow-symlinks reads it)"
                        )
                    return
        except OSError as error:
            if is_article and on_unreadable is not None:
                on_unreadable(entry.path, f"{entry.path}: cannot read ({error.strerror or error})")
            elif not is_article and on_fault is not None:  # it may be a folder of articles: not silent
                on_fault(f"{entry.path}: skipped (cannot read: {error.strerror or error})")
            return
        if is_article:
            yield Path(entry.path)
        elif on_skipped is not None:
            on_skipped(f"{entry.path}: skipped (not an article file type)")

    def _excluded(self, entry: os.DirEntry[str]) -> bool:
        if self.excluded is None:
            return False
        if entry.is_symlink() or entry.is_dir(follow_symlinks=False):  # resolve only what can lead elsewhere
            try:
                return Path(entry.path).resolve().is_relative_to(self.excluded)
            except RuntimeError:  # a symlink loop (Python 3.11); reading it fails and is reported
                return False
        return False


def _outside(link: Path, real_root: Path, folder: Path) -> Path | None:
    """The target of ``link`` when it is outside the input folder and the folder holding the link, else None."""
    target = link.resolve()
    inside = target.is_relative_to(real_root) or target.is_relative_to(folder.resolve())
    return None if inside else target


def special_kind(path: Path | str) -> str:
    """What a path that is neither a regular file nor a folder is: a FIFO, a socket, a device."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "unreadable"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def discover(paths: list[Path], exclude: Path | None = None, follow_symlinks: bool = False) -> tuple[Inputs, list[str]]:
    """The article files under ``paths`` (a lazy :class:`Inputs`) and one line per path that
    does not exist or is no file nor folder (a FIFO: reading it would wait for a writer).
    Files of other types are reported while the run walks the folders."""
    missing = [f"{path}: no such file or folder" for path in paths if not path.exists()]
    missing += [
        f"{path}: not a regular file ({special_kind(path)}); give files or folders"
        for path in paths if path.exists() and not path.is_file() and not path.is_dir()
    ]
    return Inputs(paths, exclude, follow_symlinks), missing


def discover_or_fail(
    paths: list[Path], exclude: Path | None = None, follow_symlinks: bool = False,
) -> tuple[Inputs, list[str]]:
    files, skipped = discover(paths, exclude, follow_symlinks)
    if not files:  # stops at the first article file found
        if skipped:
            raise NoArticlesError("; ".join(skipped[:3]))
        # Say why: what the walk left out (a link outside the folder, a file of another type).
        passed: list[str] = []
        for _ in files.walk(passed.append, lambda _source, reason: passed.append(reason)):
            pass
        why = f" ({'; '.join(passed[:3])}{'; …' if len(passed) > 3 else ''})" if passed else ""
        raise NoArticlesError(f"{', '.join(map(str, paths))}: no article files found{why}")
    return files, skipped


def iter_articles(
    files: Iterable[Path], on_error: Callable[[str, str], None], on_bad_line: Callable[[str, str], None] | None = None,
    max_chars: int | None = None,
) -> Iterator[Article]:
    """Articles one at a time, file by file: memory does not grow with the folder. Whatever goes
    wrong reading one file (a bad file, JSON nested past the recursion limit, an HTML reader
    missing from the install) is that file's error, reported in one line; the next file is read.
    A bad line of a JSONL file goes to ``on_bad_line`` (default ``on_error``) and the next line is read.
    ``max_chars``: a file too big to hold an article that long is refused unread (``read_articles``)."""
    for path in files:
        try:
            yield from read_articles(path, on_bad_line or on_error, max_chars)
        except InputError as error:
            on_error(str(path), str(error))
        except Exception as error:  # noqa: BLE001 - one file's failure, whatever it is (RecursionError, ImportError)
            on_error(str(path), f"{path}: cannot read as an article ({one_line(error)})")


class SeenTexts:
    """Article ids seen in this run and the first source of each, in a private temporary SQLite
    database (deleted on close) with a small page cache: memory stays flat however many
    articles a run reads; the same text twice is analysed once."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private temporary on-disk database
        self._db.execute("PRAGMA cache_size = -1024")  # KiB
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, source TEXT NOT NULL) WITHOUT ROWID")
        self._db.execute("CREATE INDEX seen_source ON seen (source)")

    def first_source(self, article_id: str, source: str) -> str | None:
        """None the first time ``article_id`` is seen (it is remembered); else its first source."""
        if self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (article_id, source)).rowcount:
            return None
        row = self._db.execute("SELECT source FROM seen WHERE id = ?", (article_id,)).fetchone()
        return str(row[0])

    def id_of(self, source: str) -> str | None:
        """The id of the text read from ``source`` in this run (None if none was, or only a duplicate)."""
        row = self._db.execute("SELECT id FROM seen WHERE source = ?", (source,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        self._db.close()


def one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300] if lines else ''}"
