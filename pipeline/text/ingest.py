"""Reading articles from files: plain text, Markdown, HTML, JSON and JSONL."""

import codecs
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from schemas import ArticleMeta

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl"}
ARTICLE_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
_META_FIELDS = ("title", "url", "outlet", "published", "external_id")
SNIFF_BYTES = 8192  # read first: a NUL among them is a binary file, refused before the rest is read
# The most bytes read for one article of ``max_chars`` characters: UTF-8 text takes at most 4 bytes a
# character, so a bigger text file is over max_chars unread; HTML and JSON carry markup around the text.
TEXT_BYTES_PER_CHAR = 4
MARKUP_BYTES_PER_CHAR = 32
MARKUP_MIN_BYTES = 16 * 1024 * 1024  # a long HTML page: news pages run to a few MB


class InputError(ValueError):
    """An input that cannot be read as an article; the message names the file."""


@dataclass(frozen=True)
class Article:
    meta: ArticleMeta
    text: str


def article_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_article(text: str, source: str, **meta: str | None) -> Article:
    if not text.strip():
        raise InputError(f"{source}: no article text (empty)")
    known = {k: (str(v) if v is not None else None) for k, v in meta.items() if k in _META_FIELDS}
    return Article(ArticleMeta(id=article_id(text), source=source, **known), text)


def read_articles(
    path: Path, on_bad_line: Callable[[str, str], None] | None = None, max_chars: int | None = None,
) -> Iterator[Article]:
    """Every article in one file (JSONL holds many, read line by line). Raises InputError naming the file.
    ``on_bad_line`` (``path:N``, reason) hears of each JSONL line that is no article, and the lines after
    it are still read; without it the first bad line raises. ``max_chars``: a file (or JSONL line) too big
    to hold an article of at most that many characters is refused before it is read."""
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise InputError(f"{path}: not an article file (expected {', '.join(sorted(ARTICLE_SUFFIXES))})")
    if suffix == ".jsonl":
        yield from _jsonl_articles(path, on_bad_line, _max_bytes(suffix, max_chars), max_chars)
        return
    raw = _read_text(path, _max_bytes(suffix, max_chars), max_chars)
    if suffix in TEXT_SUFFIXES:
        yield make_article(raw, str(path), title=headline(raw))
    elif suffix in HTML_SUFFIXES:
        yield _from_html(raw, path)
    else:
        yield _from_record(parse_json_object(raw, str(path)), str(path))


HEADLINE_MAX_CHARS = 150
HEADLINE_MAX_WORDS = 25


def headline(text: str) -> str | None:
    """A plain-text file's first line, when it reads as a headline: short, not ending as a
    sentence does, and followed by body text. The text itself is unchanged (offsets stay exact)."""
    first, _, body = text.strip().partition("\n")
    title = first.strip().lstrip("#").strip()  # a Markdown heading's marks
    if not title or not body.strip():
        return None
    if len(title) > HEADLINE_MAX_CHARS or len(title.split()) > HEADLINE_MAX_WORDS:
        return None
    if title[-1] in ".,;:!" or title[-1] in "\"'”’" and len(title) > 1 and title[-2] in ".,;:!?":
        return None  # a sentence of the body (a headline may end in "?")
    if len(max(body.strip().splitlines(), key=len)) <= len(title):
        return None  # no line of body text longer than it: a list, not a headline over an article
    return title


def _max_bytes(suffix: str, max_chars: int | None) -> int | None:
    if max_chars is None:
        return None
    if suffix in TEXT_SUFFIXES:
        return TEXT_BYTES_PER_CHAR * max_chars
    return max(MARKUP_BYTES_PER_CHAR * max_chars, MARKUP_MIN_BYTES)


def _too_big(source: object, size: int, max_chars: int | None) -> InputError:
    return InputError(
        f"{source}: {size:,} bytes, too big for an article of max_chars ({max_chars:,} characters); not read. "
        "Raise max_chars (--max-chars, FACTCHECK_MAX_CHARS) to analyse it"
    )


def _jsonl_articles(
    path: Path, on_bad_line: Callable[[str, str], None] | None, max_bytes: int | None, max_chars: int | None,
) -> Iterator[Article]:
    """One article per non-blank line, streamed: a JSONL file of any size costs one line of memory (a
    line over ``max_bytes`` is skipped unread). A bad line (broken JSON, bytes that are not UTF-8, a lone
    surrogate escape, too long) is that line's error."""
    found = False
    try:
        with path.open("rb") as f:
            if b"\x00" in f.read(SNIFF_BYTES):
                raise InputError(f"{path}: binary file, not text")
            f.seek(0)
            offset = 0
            for n, (data, size) in enumerate(_lines(f, max_bytes), 1):
                source = f"{path}:{n}"
                start, offset = offset, offset + size
                if size == len(data) and not data.strip():
                    continue
                found = True
                try:
                    if size != len(data):
                        raise _too_big(source, size, max_chars)
                    line = _decode(data[3:] if n == 1 and data.startswith(codecs.BOM_UTF8) else data, source, start)
                    article = _from_record(parse_json_object(line, source), source)
                except InputError as error:
                    if on_bad_line is None:
                        raise
                    on_bad_line(source, str(error))
                    continue
                yield article
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    if not found:
        raise InputError(f"{path}: no article text (empty file)")


def _lines(f: io.BufferedReader, max_bytes: int | None) -> Iterator[tuple[bytes, int]]:
    """(line, its size in bytes) for each line; a line over ``max_bytes`` comes as (b"", its size),
    read past in bounded chunks, never held."""
    while data := f.readline(-1 if max_bytes is None else max_bytes + 1):
        if max_bytes is None or len(data) <= max_bytes or data.endswith(b"\n"):
            yield data, len(data)
            continue
        size = len(data)
        while more := f.readline(1 << 20):
            size += len(more)
            if more.endswith(b"\n"):
                break
        yield b"", size


def _decode(data: bytes, source: str, offset: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{source}: not UTF-8 text (invalid byte at offset {offset + error.start})") from None


def _read_text(path: Path, max_bytes: int | None = None, max_chars: int | None = None) -> str:
    """The file's text; its first bytes are sniffed and its size checked before the rest is read, so a
    huge or binary file costs no memory (a 2 GB file was read whole, then refused as binary)."""
    try:
        with path.open("rb") as f:
            data = f.read(SNIFF_BYTES)
            if b"\x00" in data:
                raise InputError(f"{path}: binary file, not text")
            size = os.fstat(f.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise _too_big(path, size, max_chars)
            data += f.read(-1 if max_bytes is None else max_bytes + 1 - len(data))  # bounded: it may grow meanwhile
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_big(path, len(data), max_chars)
    if not data.strip():
        raise InputError(f"{path}: no article text (empty file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (invalid byte at offset {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _from_html(raw: str, path: Path) -> Article:
    try:
        import trafilatura  # slow to import; only HTML needs it
    except ImportError as error:
        raise InputError(f"{path}: cannot read HTML: the HTML reader is not installed ({error})") from None

    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_precision=True)
    meta = trafilatura.extract_metadata(raw)
    if not text or not text.strip():
        raise InputError(f"{path}: no article text found in the HTML")
    return make_article(
        text,
        str(path),
        title=getattr(meta, "title", None),
        url=getattr(meta, "url", None),
        outlet=getattr(meta, "sitename", None),
        published=getattr(meta, "date", None),
    )


def parse_json_object(
    raw: str, source: str, *, expected: str = "a JSON object with a 'text' field",
) -> dict[str, object]:
    """One JSON object (a file, or a JSONL line); InputError naming ``source`` for anything else."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: invalid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:  # the decoder recurses per level: a hostile file nests past the limit
        raise InputError(f"{source}: invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise InputError(f"{source}: expected {expected}")
    return record


def _from_record(record: dict[str, object], source: str) -> Article:
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"{source}: JSON record has no string 'text' field")
    meta = {k: record.get(k) for k in (*_META_FIELDS, "external_id")}
    meta["external_id"] = record.get("id")
    kept = {k: v for k, v in meta.items() if isinstance(v, (str, int, float))}
    for name, value in (("text", text), *kept.items()):
        if isinstance(value, str) and not _is_unicode(value):
            raise InputError(f"{source}: '{name}' holds a lone surrogate escape (such as \\ud800), not Unicode text")
    return make_article(text, source, **kept)


def _is_unicode(text: str) -> bool:
    """False for a string with a lone surrogate (JSON's "\\ud800"): it cannot be written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
