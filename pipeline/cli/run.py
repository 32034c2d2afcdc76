"""``factcheck run``: analyse articles into an output folder."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import (
    EXIT_BUSY,
    EXIT_ENVIRONMENT,
    EXIT_NOTHING_RAN,
    EXIT_SOME_FAILED,
    BackendOpt,
    BaseUrlOpt,
    EmbeddedOpt,
    ModelOpt,
    VerifierOpt,
    err,
    fail,
    read_settings,
    stories_line,
)

app = typer.Typer()


def load_stance_model() -> None:
    from pipeline.stance.embedder import shared_embedder
    from pipeline.stance.model import load

    load()
    shared_embedder()


@app.command("run")
def run_command(
    paths: Annotated[list[Path], typer.Argument(help="Article files or folders (.txt .md .html .json .jsonl).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    embedded_model: EmbeddedOpt = None,
    max_claims: Annotated[int | None, typer.Option(help="Most claims kept per context window.")] = None,
    verifier: VerifierOpt = None,
    max_chars: Annotated[int | None, typer.Option(help="Longest article analysed, in characters (default 200,000).")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Most LLM calls in flight (default 4); up to 2N-1 articles in progress.")] = None,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse LLM responses from the on-disk cache.")] = True,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Keep articles already finished in OUT (default) or redo them.")
    ] = True,
    budget: Annotated[float | None, typer.Option(help="Stop starting articles before the estimated spend passes USD.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar; print only failures and the summary.")] = False,
    log_json: Annotated[
        str | None, typer.Option("--log-json", help="Write JSON-lines events to this file, or '-' for stderr.")
    ] = None,
    stories: Annotated[
        bool, typer.Option("--stories/--no-stories", help="Group claims across articles into OUT/stories.jsonl at the end.")
    ] = True,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="No LLM: code's candidate claims, rule denials, the stance model (triage; "
                           "a later run with the LLM on OUT upgrades these results).")
    ] = False,
) -> None:
    """Analyse articles and write one JSON result per article into OUT."""
    from pipeline.llm.cache import CacheError, CacheUnwritableError
    from pipeline.llm.embedded import EmbeddedModelError
    from pipeline.llm.errors import LLMError
    from pipeline.llm.factory import open_llm
    from pipeline.run.inputs import NoArticlesError, discover_or_fail
    from pipeline.run.lock import FolderBusyError, OutputLock
    from pipeline.run.manifest import RunOptions
    from pipeline.run.output import check_out_dir
    from pipeline.run.progress import FailurePrinter, ProgressBar, Reporters, json_log
    from pipeline.run.scheduler import run
    from pipeline.stance.embedder import EmbeddingModelError
    from pipeline.stance.model import StanceModelError
    from pipeline.text.ingest import InputError

    if no_llm and verifier == "llm":
        raise fail("--no-llm needs the trained verifier (not --verifier llm)")
    settings = read_settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, max_claims=max_claims,
        verifier="trained" if no_llm else verifier, max_chars=max_chars, concurrency=concurrency, budget_usd=budget,
    )
    options = RunOptions(
        concurrency=settings.concurrency, budget_usd=settings.budget_usd, cache=cache and settings.cache, resume=resume,
        stories=stories,
    )
    reporters = Reporters()
    if log_json:
        reporters.reporters.append(json_log(log_json))
    if log_json != "-":  # JSON on stderr is for machines: no bar drawn through it
        reporters.reporters.append(FailurePrinter(err) if quiet or not err.is_terminal else ProgressBar(err))
    try:
        files, skipped = discover_or_fail(paths, exclude=out)  # before starting a model for nothing
        check_out_dir(out)
        with OutputLock(out) as lock:  # a second run on OUT is refused here, at once
            if settings.resolved_verifier() == "trained":
                load_stance_model()  # a missing or altered artifact stops the run before any LLM call
            if no_llm:
                summary = asyncio.run(run(None, files, skipped, out, settings, options=options, reporter=reporters, lock=lock))
            else:
                with open_llm(settings) as llm:
                    summary = asyncio.run(run(llm, files, skipped, out, settings, options=options, reporter=reporters, lock=lock))
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except CacheUnwritableError as error:
        raise fail(str(error), EXIT_ENVIRONMENT) from None
    except (NoArticlesError, EmbeddedModelError, LLMError, InputError, CacheError, StanceModelError, EmbeddingModelError) as error:
        raise fail(str(error)) from None
    finally:
        reporters.close()
    if log_json != "-":
        for line in summary.skipped_files:
            err.print(line, markup=False, soft_wrap=True)
        total = summary.total
        err.print(
            f"{summary.done} analysed, {summary.reused} already done, {summary.failed} failed"
            + (f", {summary.not_started} not started (budget)" if summary.not_started else "")
            + f"; {total.calls} LLM calls, {total.cache_hits} from cache, "
            f"{total.tokens} tokens, ~${total.cost_usd:.4f} -> {out}",
            markup=False, soft_wrap=True,  # one line, however narrow the terminal: scripts read it
        )
        if summary.stories is not None:
            err.print(stories_line(summary.stories), markup=False, soft_wrap=True)
        if summary.cache_error:
            err.print(summary.cache_error, markup=False, soft_wrap=True)
        if summary.stories_error:
            err.print(summary.stories_error, markup=False, soft_wrap=True)
    if summary.status == "stopped":  # OUT's disk is full: one line with the fix; the next run resumes
        for source in summary.unfinished:
            err.print(f"{source}: unfinished (the disk is full); the next run resumes it", markup=False, soft_wrap=True)
        raise fail(f"{summary.fatal_error}; the run stopped starting articles", EXIT_ENVIRONMENT)
    if summary.failed and not (summary.done or summary.reused):
        raise typer.Exit(EXIT_NOTHING_RAN)
    if summary.failed or summary.not_started or summary.skipped_faults:
        raise typer.Exit(EXIT_SOME_FAILED)
