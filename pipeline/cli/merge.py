"""``factcheck merge``: the output folders of ``run --shard i/N`` joined into one."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import EXIT_BUSY, err, fail

app = typer.Typer()


@app.command("merge")
def merge_command(
    folders: Annotated[list[Path], typer.Argument(help="Output folders of run --shard i/N (or of any runs).")],
    to: Annotated[Path, typer.Option("--to", help="The folder they are merged into (new, or one to add to).")],
) -> None:
    """Merge output folders into one: every result, usage and error row, a rebuilt results table."""
    from pipeline.run.lock import FolderBusyError
    from pipeline.run.merge import merge
    from pipeline.text.ingest import InputError

    try:
        merged = merge(folders, to)
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except InputError as error:
        raise fail(str(error)) from None
    err.print(
        f"{merged.results} results merged from {len(folders)} folders, {merged.kept} already there -> {to} "
        f"(stories: factcheck stories {to})",
        markup=False, soft_wrap=True,
    )
