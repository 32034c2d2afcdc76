"""Which result of an edited article is current. An article's id is its text's hash, so an edited
file gets a second result in OUT/articles beside the first; both stay (the reviews of each are kept),
and the one whose text the latest run read from that source is current (for a source the run did not
read, the latest analysed). Held in a private temporary SQLite table: memory stays flat however many
results OUT holds."""

import sqlite3
from collections.abc import Callable


class Versions:
    def __init__(self) -> None:
        self._db = sqlite3.connect("")  # "": a private temporary on-disk database
        self._db.execute("PRAGMA cache_size = -1024")  # KiB
        self._db.execute("CREATE TABLE result (source TEXT NOT NULL, id TEXT NOT NULL, started TEXT NOT NULL)")

    def add(self, source: str, article_id: str, started_at: str) -> None:
        self._db.execute("INSERT INTO result VALUES (?, ?, ?)", (source, article_id, started_at))

    def settle(self, read_now: Callable[[str], str | None]) -> None:
        """Decide the current result of each source with more than one: ``read_now(source)`` is the id
        this run read from it, if it read it."""
        self._db.execute("CREATE INDEX result_source ON result (source)")
        self._db.execute("CREATE TABLE current (source TEXT PRIMARY KEY, id TEXT NOT NULL, read_now INTEGER)")
        several = self._db.execute("SELECT source FROM result GROUP BY source HAVING COUNT(DISTINCT id) > 1").fetchall()
        for (source,) in several:
            ids = {row[0] for row in self._db.execute("SELECT id FROM result WHERE source = ?", (source,))}
            now = read_now(source)
            if now in ids:
                current, fresh = now, 1
            else:
                current = self._db.execute(
                    "SELECT id FROM result WHERE source = ? ORDER BY started DESC LIMIT 1", (source,)
                ).fetchone()[0]
                fresh = 0
            self._db.execute("INSERT INTO current VALUES (?, ?, ?)", (source, current, fresh))

    def current(self, source: str) -> str | None:
        """The current result's id for a source with several results, else None (its only result is current)."""
        row = self._db.execute("SELECT id FROM current WHERE source = ?", (source,)).fetchone()
        return None if row is None else str(row[0])

    def superseded_now(self, most: int) -> list[tuple[str, str, list[str]]]:
        """(source, current id, superseded ids) for the first ``most`` sources this run read with other
        results beside them."""
        read = self._db.execute("SELECT source, id FROM current WHERE read_now = 1 ORDER BY source LIMIT ?", (most,))
        return [
            (source, current, [row[0] for row in self._db.execute(
                "SELECT DISTINCT id FROM result WHERE source = ? AND id != ?", (source, current)
            )])
            for source, current in read.fetchall()
        ]

    def close(self) -> None:
        self._db.close()
