"""``python -m pipeline.review.export`` prints docs/review.md's list of export formats, from the registry
(tests/review/test_export_plugin.py checks that the docs hold it)."""

import textwrap

from pipeline.review.export import ExportFormat, export_formats


def entry(fmt: ExportFormat) -> str:
    head = f"- **`{fmt.url}`** (`--format {fmt.name}` writes `{fmt.filename}`): "
    return textwrap.fill(head + fmt.description, width=100, subsequent_indent="  ", break_on_hyphens=False)


def markdown() -> str:
    return "".join(entry(fmt) + "\n" for fmt in export_formats())


if __name__ == "__main__":
    print(markdown(), end="")
