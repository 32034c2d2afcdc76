"""Publishing the desk's work: the registry of export formats.

An export format is one :class:`ExportFormat`; ``register_export(fmt)`` makes it what
``factcheck export`` writes, what the desk serves at ``fmt.url`` and links in every page's
header, and an entry of docs/review.md's list (``python -m pipeline.review.export``). The
built-ins (report, verdicts, claimreview: the header's order) register through the same call.
"""

from pathlib import Path

from pipeline._io import write_text_atomic
from pipeline.review.export import claimreview, report, verdicts_csv
from pipeline.review.export.format import ExportFormat, ExportSource
from pipeline.review.export.verdicts_csv import CSV_FIELDS
from pipeline.llm.redaction import redact
from pipeline.review.links import publishable_base_url

__all__ = [
    "CSV_FIELDS", "ExportFormat", "ExportSource", "export_formats", "export_paths", "register_export",
    "unregister_export", "write_exports",
]

_FORMATS: dict[str, ExportFormat] = {}


def register_export(fmt: ExportFormat) -> ExportFormat:
    """Add ``fmt`` to every place exports are listed; a name or file already taken is refused."""
    for other in _FORMATS.values():
        if fmt.name == other.name or fmt.filename == other.filename or fmt.url == other.url:
            raise ValueError(f"export format {fmt.name!r} ({fmt.filename}, {fmt.url}) clashes with {other.name!r}")
    _FORMATS[fmt.name] = fmt
    return fmt


def unregister_export(name: str) -> None:
    _FORMATS.pop(name, None)


def export_formats() -> list[ExportFormat]:
    """The registered formats, in the order they were registered."""
    return list(_FORMATS.values())


def _chosen(names: list[str] | None) -> list[ExportFormat]:
    unknown = sorted(set(names or ()) - set(_FORMATS))
    if unknown:
        raise ValueError(f"unknown export format {unknown[0]!r}; choose from {', '.join(_FORMATS)}")
    return [f for f in _FORMATS.values() if names is None or f.name in names]


def export_paths(dest: Path, names: list[str] | None = None) -> list[Path]:
    """The files :func:`write_exports` would write into ``dest``."""
    return [dest / f.filename for f in _chosen(names)]


def write_exports(
    out_dir: Path, dest: Path, desk_name: str, base_url: str, names: list[str] | None = None,
) -> list[Path]:
    """Write each format's file into ``dest`` (all of them, or those ``names``), each atomically.
    ``base_url``: empty (relative review URLs) or an absolute http(s) URL, never ``javascript:``."""
    if base_url and (why := publishable_base_url(base_url)) is not None:
        raise ValueError(f"--base-url {redact(base_url)!r}: {why}")
    chosen = _chosen(names)
    source = ExportSource(out_dir, desk_name, base_url)
    files = {dest / f.filename: f.render(source) for f in chosen}  # every render before the first write
    for path, content in files.items():
        write_text_atomic(path, content)
    return list(files)


for _builtin in (report.FORMAT, verdicts_csv.FORMAT, claimreview.FORMAT):
    register_export(_builtin)
