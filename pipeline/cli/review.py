"""``factcheck review`` and ``factcheck export``: the review desk and its exports."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import err, fail

app = typer.Typer()


@app.command("review")
def review_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 0,
    desk: Annotated[str, typer.Option(help="Desk name used as ClaimReview author.")] = "Fact-check desk",
) -> None:
    """Open the review desk for a run's output in a local web app."""
    from pipeline.review.app import serve

    if not (out_dir / "articles").is_dir():
        raise fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    serve(out_dir, port=port, desk_name=desk)


@app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder (with its reviews).")],
    to: Annotated[Path, typer.Option("--to", help="Folder for the files, one per export format.")],
    desk: Annotated[str, typer.Option(help="Desk name used as ClaimReview author.")] = "Fact-check desk",
    base_url: Annotated[str, typer.Option(help="Public URL prefix of the desk's published reviews.")] = "",
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="Write only this export format (repeatable); default: every registered format."),
    ] = None,
) -> None:
    """Export reviewed verdicts in every registered format (docs/review.md lists them): ClaimReview JSON-LD,
    a CSV and a single-file HTML report."""
    # Imported here, not at the top: the registry loads the desk's templates (60 ms at every CLI start).
    from pipeline.review.export import write_exports

    if not (out_dir / "articles").is_dir():
        raise fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    if to.resolve() == out_dir.resolve():
        raise fail(f"{to}: export into a separate folder, not the run folder")
    try:
        written = write_exports(out_dir, to, desk, base_url, formats)
    except ValueError as error:
        raise fail(str(error)) from None
    for path in written:
        err.print(f"wrote {path}", markup=False)
