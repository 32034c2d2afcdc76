"""``factcheck batch submit | status | collect``: the Batch API path on the command line."""

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli._common import EXIT_BUSY, BaseUrlOpt, MaxClaimsOpt, ModelOpt, err, exit_if_failed, fail, read_settings

if TYPE_CHECKING:  # the batch path loads the openai SDK: only when a command runs
    from pipeline.run.lock import OutputLock
    from pipeline.run.manifest import RunSummary
    from pipeline.settings import Settings

app = typer.Typer(
    help="Scale-out through the OpenAI Batch API: one batch per stage, at half price.", no_args_is_help=True
)

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (holds batch.json).")]


def _print_state(state: dict[str, object], out: Path) -> None:
    for entry in state["rounds"]:  # type: ignore[union-attr]
        stages = ", ".join(f"{k} {v}" for k, v in entry["stages"].items())
        results = entry["results"]
        err.print(
            f"round {entry['round']} ({stages}): {entry['status']}; "
            f"{results['completed']} answered, {results['failed']} failed, ${results['cost_usd']:.4f}",
            markup=False,
        )
    if state["finished"]:
        err.print(f"all rounds done: run `factcheck batch collect --out {out}`", markup=False)
    else:
        err.print("in progress: check again later with `factcheck batch status`", markup=False)


@app.command("submit")
def submit_command(
    paths: Annotated[list[Path], typer.Argument(help="Article files or folders.")],
    out: OutOpt,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    max_claims: MaxClaimsOpt = None,
) -> None:
    """Upload the first stage (claims) of every article as a batch; later stages follow in `status`."""
    from pipeline.run.batch import BatchError, submit
    from pipeline.run.lock import FolderBusyError
    from pipeline.text.ingest import InputError

    settings = read_settings(backend="openai", base_url=base_url, model=model, max_claims=max_claims)
    try:
        state = asyncio.run(submit(paths, out, settings))  # holds OUT's lock, as a run does
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except (BatchError, InputError) as error:
        raise fail(str(error)) from None
    _print_state(state, out)


@app.command("status")
def status_command(out: OutOpt) -> None:
    """Poll the current batch; when it is done, store its answers and submit the next stage."""
    from pipeline.run.batch import BatchError, advance
    from pipeline.run.lock import FolderBusyError

    try:
        state = asyncio.run(advance(out, read_settings(backend="openai")))  # holds OUT's lock, as a run does
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except BatchError as error:
        raise fail(str(error)) from None
    _print_state(state, out)


@app.command("collect")
def collect_command(
    out: OutOpt,
    now: Annotated[
        bool, typer.Option("--now", help="Do not wait for a batch in flight: run what is missing live.")
    ] = False,
    concurrency: Annotated[int | None, typer.Option(help="Articles at once for the live part.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Write every article's result from the batch answers (validated and aligned like a live run);
    whatever is missing or invalid is asked live."""
    from pipeline.llm.embedded import EmbeddedModelError
    from pipeline.llm.errors import LLMError
    from pipeline.run.batch import BatchError, batch_cost, load_state
    from pipeline.run.lock import FolderBusyError, OutputLock
    from pipeline.text.ingest import InputError

    base = read_settings(backend="openai", concurrency=concurrency)
    try:
        load_state(out)  # "no batch here" before a lock file is left in a folder that has none
        # One lock from the last round's answers to run.json's batch figures: a run or another
        # batch command on OUT in between would write the same files.
        with OutputLock(out) as lock:
            summary, state = _collect(out, base, now, quiet, lock)
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except BatchError as error:
        raise fail(str(error)) from None
    except (EmbeddedModelError, LLMError, InputError) as error:
        raise fail(str(error)) from None
    spent = batch_cost(state)
    total = summary.total
    err.print(
        f"{summary.done} collected, {summary.reused} already done, {summary.failed} failed; "
        f"{total.cache_hits} answers from the batch, {total.calls} asked live; "
        f"~${spent:.4f} batch + ${total.cost_usd:.4f} live -> {out}",
        markup=False,
    )
    exit_if_failed(summary.failed, summary.done + summary.reused)


def _collect(
    out: Path, base: "Settings", now: bool, quiet: bool, lock: "OutputLock"
) -> tuple["RunSummary", dict[str, object]]:
    """The batch's last round, the live run of what is missing, and run.json's batch figures,
    under ``lock`` (OUT's, held by the caller)."""
    from pipeline._io import write_json_atomic
    from pipeline.llm.factory import open_llm
    from pipeline.run.batch import advance, batch_cost, load_state, pinned_settings
    from pipeline.run.inputs import discover_or_fail
    from pipeline.run.progress import FailurePrinter, ProgressBar
    from pipeline.run.driver import run

    state = asyncio.run(advance(out, base, lock=lock))
    if not state["finished"] and not now:
        _print_state(state, out)
        raise fail("a batch is still in progress; wait, or pass --now to run the rest live")
    # The answers are in the response cache, and the batch is paid for: no budget stops the live part.
    settings = pinned_settings(state, base).model_copy(update={"cache": True, "budget_usd": None})
    reporter = FailurePrinter(err) if quiet or not err.is_terminal else ProgressBar(err)
    try:
        files, skipped = discover_or_fail([Path(p) for p in state["inputs"]], exclude=out)  # type: ignore[union-attr]
        with open_llm(settings) as llm:
            summary = asyncio.run(run(llm, files, skipped, out, settings, reporter=reporter, lock=lock))
    finally:
        reporter.close()
    state = load_state(out)
    spent = batch_cost(state)
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    manifest["batch"] = {"rounds": len(state["rounds"]), "cost_usd": spent, "state": "batch.json"}  # type: ignore[arg-type]
    manifest["cost"]["batch_usd"] = spent
    manifest["cost"]["total_usd"] = round(spent + summary.total.cost_usd, 6)
    write_json_atomic(out / "run.json", manifest)
    return summary, state
