"""The labeled datasets ``factcheck eval`` reads (formats in ../shared/data/README.md): FNC-1
style claim/article pairs and PolNeAR style attributions, every gold span checked against its text."""

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pipeline.eval import _metrics as m
from pipeline.text.ingest import Article, InputError, make_article, parse_json_object

STANCE_LABELS = ("agree", "disagree", "discuss")  # FNC-1 gold labels besides "unrelated"
F = TypeVar("F")


@dataclass(frozen=True)
class FncPair:
    id: str
    claim: str
    article: Article
    gold: str


@dataclass(frozen=True)
class Attribution:
    source: m.SpanSegments | None
    cue: m.SpanSegments | None
    content: m.SpanSegments | None
    source_text: str | None


@dataclass(frozen=True)
class PolnearDoc:
    id: str
    article: Article
    attributions: list[Attribution]


# ---------------------------------------------------------------- reading the datasets


def load_fnc(folder: Path, limit: int | None = None, *, per_label: int | None = None) -> list[FncPair]:
    """``per_label``: only the first N pairs of each gold label, a stratified sample (FNC-1 dev
    files are often ordered by label, so ``limit`` alone would pick one class)."""
    labels = folder / "labels.jsonl"
    pairs: list[FncPair] = []
    taken: dict[str, int] = {}
    for where, record in _records(labels, None if per_label else limit):
        gold = _field(record, "gold_stance", str, where)
        if gold not in STANCE_LABELS:
            raise InputError(f"{where}: gold_stance {gold!r} is not one of {', '.join(STANCE_LABELS)}")
        if per_label is not None:
            if taken.get(gold, 0) >= per_label or (limit is not None and len(pairs) >= limit):
                continue
            taken[gold] = taken.get(gold, 0) + 1
        pair_id = _field(record, "id", str, where)
        text_file = _field(record, "text_file", str, where)
        article = make_article(_text(folder, text_file, where), text_file, external_id=pair_id)
        pairs.append(FncPair(pair_id, _field(record, "claim", str, where), article, gold))
    return pairs


def load_polnear(folder: Path, limit: int | None = None) -> list[PolnearDoc]:
    docs: list[PolnearDoc] = []
    for where, record in _records(folder / "attributions.jsonl", limit):
        doc_id = _field(record, "doc", str, where)
        text_file = _field(record, "text_file", str, where)
        text = _text(folder, text_file, where)
        title = record.get("title")
        article = make_article(text, text_file, external_id=doc_id, title=title if isinstance(title, str) else None)
        raw = _field(record, "attributions", list, where)
        attributions = [_attribution(a, text, f"{where}: attribution {i + 1}") for i, a in enumerate(raw)]
        docs.append(PolnearDoc(doc_id, article, attributions))
    return docs


def _records(path: Path, limit: int | None) -> list[tuple[str, dict[str, object]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (is the folder a dataset?)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    records: list[tuple[str, dict[str, object]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        records.append((where, parse_json_object(line, where, expected="a JSON object")))
        if limit is not None and len(records) >= limit:
            break
    if not records:
        raise InputError(f"{path}: no items (empty)")
    return records


def _field(record: dict[str, object], name: str, kind: type[F], where: str) -> F:
    value = record.get(name)
    if not isinstance(value, kind):
        raise InputError(f"{where}: field {name!r} missing or not a {kind.__name__}")
    return value


def _text(folder: Path, text_file: str, where: str) -> str:
    """The text exactly as stored: the gold offsets index into it, so no newline translation."""
    # text_file is relative to the dataset's parent ("fnc1_dev/1118.txt"); accept it relative to the folder too.
    for path in (folder.parent / text_file, folder / text_file):
        if not path.resolve().is_relative_to(folder.resolve()):  # "../x", "/etc/passwd": not this dataset's
            continue
        if path.is_file():
            try:
                with path.open(encoding="utf-8", newline="") as f:
                    return f.read()
            except (OSError, UnicodeDecodeError) as error:
                raise InputError(f"{path}: cannot read as UTF-8 ({error})") from None
    raise InputError(f"{where}: text_file {text_file!r} not found inside the dataset folder {folder}")


def _attribution(raw: object, text: str, where: str) -> Attribution:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")
    parts = {name: _gold_span(raw.get(name), text, f"{where} {name}") for name in ("source", "cue", "content")}
    source = raw.get("source")
    source_text = source.get("text") if isinstance(source, dict) else None
    return Attribution(
        source=parts["source"],
        cue=parts["cue"],
        content=parts["content"],
        source_text=source_text if isinstance(source_text, str) else None,
    )


def _gold_span(raw: object, text: str, where: str) -> m.SpanSegments | None:
    if raw is None:
        return None
    segments = raw.get("segments") if isinstance(raw, dict) else None
    if not isinstance(segments, list) or not segments:
        raise InputError(f"{where}: expected null or {{'segments': [[start, end], ...], 'text': ...}}")
    try:
        span = tuple((int(s), int(e)) for s, e in segments)
    except (TypeError, ValueError):
        raise InputError(f"{where}: segments must be [start, end] integer pairs") from None
    if not all(0 <= s <= e <= len(text) for s, e in span):  # slicing past the end would quietly match ""
        raise InputError(f"{where}: segments {list(span)} are outside the text (0 to {len(text)})")
    # The README's invariant; a mismatch means the offsets do not index this text.
    if " ".join(text[s:e] for s, e in span) != raw.get("text"):
        raise InputError(f"{where}: segments {list(span)} do not spell its text {raw.get('text')!r}")
    return span
