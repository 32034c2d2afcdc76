"""``factcheck stories``: group a run's claims into stories and print them."""

from pathlib import Path
from typing import Annotated

import typer

from pipeline._io import environment_fault
from pipeline.cli._common import EXIT_ENVIRONMENT, err, fail, stories_line

app = typer.Typer()


@app.command("stories")
def stories_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder.")],
    min_articles: Annotated[int, typer.Option(min=1, help="Show only stories carried by at least N articles.")] = 1,
    top: Annotated[int | None, typer.Option(min=1, help="Show only the N largest stories.")] = None,
) -> None:
    """Group the run's claims into stories (OUT/stories.jsonl) and print them, largest first.

    Built from the result files: no LLM call, and only results not seen before are embedded.
    Verdicts a reviewer accepted or overrode in the desk replace the machine's."""
    from pipeline.review.store import ReviewLog, reviewed_verdicts
    from pipeline.stance.embedder import EmbeddingModelError
    from pipeline.stories import StoriesError, update_stories, with_reviews

    if not out_dir.is_dir():
        raise fail(f"{out_dir}: {'not a folder' if out_dir.exists() else 'no such folder'}")
    try:
        update = update_stories(out_dir)
    except OSError as error:  # a read-only or full OUT: the machine's fault, with its fix
        raise fail(environment_fault(error) or f"{out_dir}: {error.strerror or error}", EXIT_ENVIRONMENT) from None
    except (StoriesError, EmbeddingModelError) as error:
        raise fail(str(error)) from None
    for line in update.unreadable:
        err.print(f"{line}: skipped", markup=False, soft_wrap=True)
    reviewed = reviewed_verdicts(ReviewLog(out_dir).events())
    shown = [with_reviews(s, reviewed) for s in update.stories if len(s.articles) >= min_articles][:top]
    for story in shown:
        counts = " ".join(f"{stance.value} {n}" for stance, n in story.stance_counts.items() if n)
        articles, claims = len(story.articles), len(story.claims)
        typer.echo(
            f"{story.id}  {articles} article{'s' * (articles != 1)}, {claims} claim{'s' * (claims != 1)}  [{counts}]  "
            f"{story.statement}"
        )
        if story.outlets:
            typer.echo(f"    outlets: {', '.join(story.outlets)}")
    err.print(stories_line(update), markup=False, soft_wrap=True)
