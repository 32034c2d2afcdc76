"""``factcheck review`` and ``factcheck export``: the review desk and its exports."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import EXIT_ENVIRONMENT, err, fail

app = typer.Typer()

REPORT_FILES_HINT = "add --force to replace them, or choose another --to"


@app.command("review")
def review_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 0,
    desk: Annotated[str, typer.Option(help="Desk name used as ClaimReview author.")] = "Fact-check desk",
) -> None:
    """Open the review desk for a run's output in a local web app."""
    from pipeline.review.app import PortUnavailable, serve

    if not 0 <= port <= 65535:
        raise fail(f"--port {port}: not a port; give one from 1024 to 65535, or 0 for any free one")
    if not (out_dir / "articles").is_dir():
        raise fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    try:
        serve(out_dir, port=port, desk_name=desk)
    except PortUnavailable as error:
        raise fail(str(error), EXIT_ENVIRONMENT) from None


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
    force: Annotated[bool, typer.Option("--force", help="Replace export files already in --to.")] = False,
) -> None:
    """Export reviewed verdicts in every registered format (docs/review.md lists them): ClaimReview JSON-LD,
    a CSV and a single-file HTML report."""
    # Imported here, not at the top: the registry loads the desk's templates (60 ms at every CLI start).
    from pipeline.review.export import export_paths, write_exports

    if not (out_dir / "articles").is_dir():
        raise fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    if to.exists() and not to.is_dir():
        raise fail(f"{to}: a file, not a folder; give --to a folder (it is created if missing)")
    if to.resolve() == out_dir.resolve():
        raise fail(f"{to}: export into a separate folder, not the run folder")
    if to.resolve().is_relative_to((out_dir / "articles").resolve()):
        raise fail(f"{to}: inside the run's articles/ folder, which holds only results; choose a folder outside it")
    try:
        there = [path for path in export_paths(to, formats) if path.exists()]
    except ValueError as error:
        raise fail(str(error)) from None
    if there and not force:
        names = ", ".join(path.name for path in there)
        raise fail(f"{to}: already holds {names} from an earlier export; {REPORT_FILES_HINT}")
    try:
        written = write_exports(out_dir, to, desk, base_url, formats)
    except ValueError as error:
        raise fail(str(error)) from None
    for path in written:
        err.print(f"wrote {path}", markup=False)
