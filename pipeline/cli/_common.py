"""What every command shares: the one Typer app, stderr, exit codes, settings and option types.
Imported by every command module, so it imports nothing heavy: no model, no SDK."""

import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from pipeline._io import environment_fault
from pipeline.llm.backends import AUTO, UnknownBackend, backend_names, chosen_backend
from pipeline.llm.redaction import RedactedStderr, register_secret
from pipeline.settings import Settings, describe_error
from pipeline.text.printable import printable

if TYPE_CHECKING:
    from pipeline.stories import StoriesUpdate

# Exit codes: 0 every article done; 1 nothing could run; 3 some articles failed or were left
# out by --budget, or an input entry was skipped (a folder loop, an unreadable entry); 4 the
# output folder is being written by another factcheck run; 5 an environment fault (no
# permission, disk full, file size limit): fix it and run again, finished articles are kept.
EXIT_NOTHING_RAN = 1
EXIT_SOME_FAILED = 3
EXIT_BUSY = 4
EXIT_ENVIRONMENT = 5

app = typer.Typer(
    help="Fact-check news articles: claims, denials and verdicts with evidence spans.", no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold the API key
)
class _OneLineConsole(Console):
    """A console whose printed strings keep to their line: a control character in one (a newline or
    an ESC byte in a file name) is escaped (``printable``), never written raw to the terminal."""

    def print(self, *objects: object, **kwargs: object) -> None:  # type: ignore[override]
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)  # type: ignore[arg-type]


# Every line on stderr is redacted (keys, tokens, URL passwords) and printed as plain text:
# messages quote paths and server replies, which must never be read as Rich markup.
err = _OneLineConsole(file=RedactedStderr(), highlight=False)  # type: ignore[arg-type]


def fail(message: str, code: int = EXIT_NOTHING_RAN) -> typer.Exit:
    err.print(Text.assemble(("error:", "red"), " ", printable(message)), soft_wrap=True)
    return typer.Exit(code)


def read_settings(**overrides: object) -> Settings:
    """The settings, over which every override that is not None wins. A flag that can only turn a
    setting off is passed as False or None (``cache=None if cache else False``): ``--no-cache``
    wins over the config, and without it the config's ``cache = false`` still holds."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise fail(f"configuration: {describe_error(error)}") from None
    except ValueError as error:  # an unreadable config file
        raise fail(f"configuration: {error}") from None
    try:
        chosen_backend(settings)
    except UnknownBackend as error:
        raise fail(f"configuration: backend: {error}") from None
    register_secret(settings.api_key.get_secret_value() if settings.api_key else None)
    return settings


BackendOpt = Annotated[str | None, typer.Option(help=f"{' | '.join([*backend_names(), AUTO])} (default: auto).")]
BaseUrlOpt = Annotated[str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name for the openai backend.")]
EmbeddedOpt = Annotated[str | None, typer.Option(help="Embedded model: qwen2.5-coder-1.5b-instruct-q4_k_m or -0.5b-.")]
MaxClaimsOpt = Annotated[int | None, typer.Option(help="Most claims kept per context window.")]
VerifierOpt = Annotated[
    str | None,
    typer.Option(help="trained (calibrated stance model, no LLM call) | llm (the model's verify call) | auto "
                 "(default: trained on every backend; llm only when asked for)."),
]  # fmt: skip


def exit_if_failed(failed: int, succeeded: int, incomplete: bool = False) -> None:
    """Exit 1 when items failed and none succeeded, 3 when some failed or the work is
    ``incomplete`` (left out by a budget, an input entry skipped); else return (exit 0)."""
    if failed and not succeeded:
        raise typer.Exit(EXIT_NOTHING_RAN)
    if failed or incomplete:
        raise typer.Exit(EXIT_SOME_FAILED)


def stories_line(update: "StoriesUpdate") -> str:
    shared = sum(1 for s in update.stories if len(s.articles) > 1)
    count = len(update.stories)
    return (
        f"{count} {'story' if count == 1 else 'stories'} ({shared} in more than one article) over {update.articles} "
        f"articles, {update.claims} claims; embedded {update.embedded} claims from {update.new_results} new results "
        f"-> {update.path}"
    )


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    # `kill` ends a run as Ctrl-C does: `with` blocks unwind, so the embedded model server is
    # stopped (not left generating for nobody at 100% CPU) and run.json says "interrupted".
    sys.exit(128 + signum)


def main() -> None:
    # instructor logs every failed attempt at ERROR; the CLI reports outcomes itself.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        app()
    except OSError as error:
        if (fault := environment_fault(error)) is None:
            _internal_error(error)
        err.print(Text.assemble(("error:", "red"), " ", printable(fault)), soft_wrap=True)
        sys.exit(EXIT_ENVIRONMENT)
    except Exception as error:
        _internal_error(error)


def _internal_error(error: Exception) -> NoReturn:
    """A bug: one redacted line, not a traceback that may quote secrets."""
    if os.environ.get("FACTCHECK_DEBUG"):
        raise error
    first = str(error).strip().splitlines()
    err.print(
        Text.assemble(
            ("error:", "red"),
            printable(f" internal error, please report: {type(error).__name__}: {first[0][:300] if first else ''}"),
            " (set FACTCHECK_DEBUG=1 for the traceback)",
        ),
        soft_wrap=True,
    )
    sys.exit(EXIT_NOTHING_RAN)
