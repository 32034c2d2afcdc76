"""``factcheck run``: analyse articles into an output folder."""

import asyncio
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli._common import (
    EXIT_BUSY,
    EXIT_ENVIRONMENT,
    BackendOpt,
    BaseUrlOpt,
    EmbeddedOpt,
    MaxClaimsOpt,
    ModelOpt,
    VerifierOpt,
    err,
    exit_if_failed,
    fail,
    read_settings,
    stories_line,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from pipeline.llm.client import LLM
    from pipeline.llm.prices import ModelPrice
    from pipeline.run.driver import EngineFor
    from pipeline.run.manifest import RunSummary
    from pipeline.run.progress import Reporters
    from pipeline.settings import Settings

app = typer.Typer()

ResumeOpt = Annotated[
    bool, typer.Option("--resume/--no-resume", help="Keep articles already finished in OUT (default) or redo them.")
]
LogJsonOpt = Annotated[
    str | None, typer.Option("--log-json", help="Write JSON-lines events to this file, or '-' for stderr.")
]
StoriesOpt = Annotated[
    bool, typer.Option("--stories/--no-stories", help="Group claims across articles into OUT/stories.jsonl at the end.")
]
NoLlmOpt = Annotated[
    bool, typer.Option("--no-llm", help="No LLM: code's candidate claims, rule denials, the stance model (triage; "
                       "a later run with the LLM on OUT upgrades these results).")
]  # fmt: skip

EngineOpt = Annotated[str, typer.Option(help="local (default): this machine | ray: a Ray cluster (docs/scale-out.md).")]
AddressOpt = Annotated[
    str | None,
    typer.Option(help="--engine ray: the cluster, auto | ray://HOST:10001 "
                 "(default: RAY_ADDRESS, else one on this machine)."),
]  # fmt: skip
ActorsOpt = Annotated[
    int | None, typer.Option(min=1, help="--engine ray: actors per machine (default: one per 2 CPUs).")
]
ShardSizeOpt = Annotated[int | None, typer.Option(min=1, help="--engine ray: input paths per call (default 16).")]
ShareOpt = Annotated[
    str | None,
    typer.Option(help="i/N: only the i-th of N shares of the input (by path hash), for N machines side by side; "
                 "join their OUTs with factcheck merge."),
]  # fmt: skip


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
    max_claims: MaxClaimsOpt = None,
    verifier: VerifierOpt = None,
    max_chars: Annotated[
        int | None, typer.Option(help="Longest article analysed, in characters (default 200,000).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Most LLM calls in flight (default 4); up to 2N-1 articles in progress.")
    ] = None,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse LLM responses from the on-disk cache.")
    ] = True,
    resume: ResumeOpt = True,
    budget: Annotated[
        float | None, typer.Option(help="Stop starting articles before the estimated spend passes USD.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar; print only failures and the summary.")
    ] = False,
    log_json: LogJsonOpt = None,
    stories: StoriesOpt = True,
    no_llm: NoLlmOpt = False,
    engine: EngineOpt = "local",
    address: AddressOpt = None,
    actors_per_node: ActorsOpt = None,
    shard_size: ShardSizeOpt = None,
    shard: ShareOpt = None,
    follow_symlinks: Annotated[
        bool, typer.Option("--follow-symlinks", help="Read symlinked files whose target is outside the input folder.")
    ] = False,
) -> None:
    """Analyse articles and write one JSON result per article into OUT."""
    from pipeline.llm.cache import CacheError, CacheUnwritableError
    from pipeline.llm.embedded import EmbeddedModelError
    from pipeline.llm.errors import LLMError
    from pipeline.run.inputs import NoArticlesError, discover_or_fail
    from pipeline.run.lock import FolderBusyError, OutputLock
    from pipeline.run.output import check_out_dir
    from pipeline.run.driver import run
    from pipeline.stance.embedder import EmbeddingModelError
    from pipeline.stance.model import StanceModelError
    from pipeline.text.ingest import InputError

    if no_llm and verifier == "llm":
        raise fail("--no-llm needs the trained verifier (not --verifier llm)")
    if engine not in ("local", "ray"):
        raise fail(f"--engine {engine}: choose local or ray")
    if engine == "local" and (address or actors_per_node or shard_size):
        raise fail("--address, --actors-per-node and --shard-size are for --engine ray")
    settings = read_settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, max_claims=max_claims,
        verifier="trained" if no_llm else verifier, max_chars=max_chars, concurrency=concurrency, budget_usd=budget,
        cache=None if cache else False,
    )
    reporters = _reporters(log_json, quiet)
    try:
        files, skipped = discover_or_fail(paths, exclude=out, follow_symlinks=follow_symlinks)  # before any model loads
        if shard is not None:
            from pipeline.run.shards import Share, parse_share

            files = Share(files, *parse_share(shard))
        check_out_dir(out)
        with OutputLock(out) as lock:  # a second run on OUT is refused here, at once
            engine_for = None
            if engine == "ray":
                engine_for = _ray_engine(settings, out, no_llm, resume, address, actors_per_node, shard_size)
            elif settings.resolved_verifier() == "trained":
                load_stance_model()  # a missing or altered artifact stops the run before any LLM call
            with nullcontext(None) if no_llm else _open_model(settings, engine) as llm:
                summary = asyncio.run(run(
                    llm, files, skipped, out, settings, resume=resume, stories=stories, reporter=reporters, lock=lock,
                    engine=engine_for,
                ))
    except (KeyboardInterrupt, SystemExit) as stop:  # Ctrl-C, or SIGTERM (_common: it exits as Ctrl-C does)
        _say_interrupted(out, "terminated (SIGTERM)" if isinstance(stop, SystemExit) else "interrupted (Ctrl-C)")
        raise
    except FolderBusyError as error:
        raise fail(str(error), EXIT_BUSY) from None
    except CacheUnwritableError as error:
        raise fail(str(error), EXIT_ENVIRONMENT) from None
    except (
        NoArticlesError, EmbeddedModelError, LLMError, InputError, CacheError, StanceModelError, EmbeddingModelError,
    ) as error:
        raise fail(str(error)) from None
    finally:
        reporters.close()
    _finish(summary, out, printed=log_json != "-")


def _ray_engine(
    settings: "Settings", out: Path, no_llm: bool, resume: bool, address: str | None, actors_per_node: int | None,
    shard_size: int | None,
) -> "EngineFor":
    from pipeline.run.ray_engine import DEFAULT_SHARD_SIZE, RayEngine, import_ray

    import_ray()  # not installed: one line, before anything starts

    def engine_for(price: "ModelPrice | None") -> RayEngine:
        return RayEngine(
            settings, out, price, no_llm=no_llm, resume=resume, address=address, actors_per_node=actors_per_node,
            shard_size=shard_size or DEFAULT_SHARD_SIZE,
        )

    return engine_for


def _open_model(settings: "Settings", engine: str) -> "AbstractContextManager[LLM]":
    """The run's model. Not started when no stage asks it (the embedded model answers no question of
    ``run`` better than code: docs/model-questions.md), only named in the results. With --engine ray
    the actors open it on their machines; the driver only names it."""
    from pipeline.run.model import open_model
    from pipeline.stages.registry import ANALYZE

    if engine == "ray":
        from pipeline.run.ray_engine import model_on_cluster

        if (named := model_on_cluster(settings)) is not None:
            return nullcontext(named)  # type: ignore[return-value]
    return open_model(settings, ANALYZE)


def _say_interrupted(out: Path, how: str) -> None:
    """One line when a run is stopped from outside: what became of the articles in progress."""
    import json

    try:
        manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # stopped before the run began: nothing to say about articles
    if manifest.get("status") != "interrupted":
        return
    unfinished = len(manifest.get("unfinished") or [])
    err.print(
        f"{how}: the run stopped; {unfinished} article{'s' * (unfinished != 1)} in progress left unfinished "
        f"(named in {out / 'run.json'}, \"unfinished\"); finished articles are kept: run the same command again to "
        "resume",
        markup=False, soft_wrap=True,
    )


def _reporters(log_json: str | None, quiet: bool) -> "Reporters":
    from pipeline.run.progress import FailurePrinter, ProgressBar, Reporters, json_log

    reporters = Reporters()
    if log_json:
        reporters.reporters.append(json_log(log_json))
    if log_json != "-":  # JSON on stderr is for machines: no bar drawn through it
        reporters.reporters.append(FailurePrinter(err) if quiet or not err.is_terminal else ProgressBar(err))
    return reporters


def _finish(summary: "RunSummary", out: Path, printed: bool) -> None:
    """The summary on stderr (when ``printed``: not when stderr carries the JSON events), then the
    exit code: 5 when OUT's disk filled (the next run resumes), else as :func:`exit_if_failed` decides."""
    if printed:
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
        for source, current, older in summary.superseded:
            err.print(
                f"{source}: an edited article; result {current} (the text read now) is current, {', '.join(older)} "
                'superseded (results.jsonl: "current": false on their rows)',
                markup=False, soft_wrap=True,
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
    exit_if_failed(summary.failed, summary.done + summary.reused, bool(summary.not_started or summary.skipped_faults))
