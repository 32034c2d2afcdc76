"""The ``factcheck`` command line. Each command is a small Typer app in its own module; this
module only adds them to the one ``app`` (as instructor's CLI does), so no command module
imports another, and each loads what it needs (models, the openai SDK) when it runs, not when
the CLI starts. ``pipeline.cli:main`` is the entry point."""

from pipeline.cli import batch, check, doctor, evaluate, merge, review, run, stories
from pipeline.cli._common import EXIT_NOTHING_RAN, EXIT_SOME_FAILED, app, main

app.add_typer(run.app)  # without a name: its commands are factcheck's own
app.add_typer(merge.app)
app.add_typer(stories.app)
app.add_typer(review.app)
app.add_typer(check.app)
app.add_typer(evaluate.app)
app.add_typer(doctor.app)
app.add_typer(batch.app, name="batch")

__all__ = ["EXIT_NOTHING_RAN", "EXIT_SOME_FAILED", "app", "main"]
