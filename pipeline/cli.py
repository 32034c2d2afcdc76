"""The ``factcheck`` command line."""

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from pipeline.backend import open_llm
from pipeline.cache import CacheError
from pipeline.embedded import EmbeddedModelError
from pipeline.ingest import InputError
from pipeline.llm import EndpointError, LLMError
from pipeline.redaction import RedactedStderr, register_secret
from pipeline.runner import NoArticlesError, discover_or_fail, run
from pipeline.settings import Settings, describe_error
from pipeline.stance.embedder import EmbeddingModelError
from pipeline.stance.model import StanceModelError

if TYPE_CHECKING:
    from pipeline.stories import StoriesUpdate

# Exit codes: 0 every article done; 1 nothing could run; 3 some articles failed or were left
# out by --budget.
EXIT_NOTHING_RAN = 1
EXIT_SOME_FAILED = 3

app = typer.Typer(
    help="Fact-check news articles: claims, denials and verdicts with evidence spans.", no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals hold the API key
)
# Every line on stderr is redacted (keys, tokens, URL passwords) and printed as plain text:
# messages quote paths and server replies, which must never be read as Rich markup.
err = Console(file=RedactedStderr(), highlight=False)  # type: ignore[arg-type]


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)
    return typer.Exit(EXIT_NOTHING_RAN)


def _settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        raise _fail(f"configuration: {describe_error(error)}") from None
    except ValueError as error:  # an unreadable config file
        raise _fail(f"configuration: {error}") from None
    register_secret(settings.api_key.get_secret_value() if settings.api_key else None)
    return settings


def _load_stance_model() -> None:
    from pipeline.stance.embedder import shared_embedder
    from pipeline.stance.model import load

    load()
    shared_embedder()


BackendOpt = Annotated[str | None, typer.Option(help="embedded | openai | auto (default: auto).")]
BaseUrlOpt = Annotated[str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name for the openai backend.")]
EmbeddedOpt = Annotated[str | None, typer.Option(help="Embedded model: qwen2.5-coder-1.5b-instruct-q4_k_m or -0.5b-.")]
VerifierOpt = Annotated[
    str | None,
    typer.Option(help="trained (calibrated stance model, no LLM call) | llm (the model's verify call) | auto "
                 "(default: trained on the embedded backend, llm on a hosted one)."),
]  # fmt: skip


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
) -> None:
    """Analyse articles and write one JSON result per article into OUT."""
    from pipeline.progress import FailurePrinter, ProgressBar, Reporters, json_log
    from pipeline.runner import RunOptions

    settings = _settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, max_claims=max_claims,
        verifier=verifier, max_chars=max_chars, concurrency=concurrency, budget_usd=budget,
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
        if settings.resolved_verifier() == "trained":
            _load_stance_model()  # a missing or altered artifact stops the run before any LLM call
        with open_llm(settings) as llm:
            summary = asyncio.run(run(llm, files, skipped, out, settings, options=options, reporter=reporters))
    except (NoArticlesError, EmbeddedModelError, LLMError, InputError, CacheError, StanceModelError, EmbeddingModelError) as error:
        raise _fail(str(error)) from None
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
            f"{total.prompt_tokens + total.completion_tokens} tokens, ~${total.cost_usd:.4f} -> {out}",
            markup=False, soft_wrap=True,  # one line, however narrow the terminal: scripts read it
        )
        if summary.stories is not None:
            err.print(_stories_line(summary.stories), markup=False, soft_wrap=True)
        if summary.stories_error:
            err.print(summary.stories_error, markup=False, soft_wrap=True)
    if summary.failed and not (summary.done or summary.reused):
        raise typer.Exit(EXIT_NOTHING_RAN)
    if summary.failed or summary.not_started:
        raise typer.Exit(EXIT_SOME_FAILED)


def _stories_line(update: "StoriesUpdate") -> str:
    shared = sum(1 for s in update.stories if len(s.articles) > 1)
    count = len(update.stories)
    return (
        f"{count} {'story' if count == 1 else 'stories'} ({shared} in more than one article) over {update.articles} "
        f"articles, {update.claims} claims; embedded {update.embedded} claims from {update.new_results} new results "
        f"-> {update.path}"
    )


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
    from pipeline.stories import StoriesError, update_stories, with_reviews

    if not out_dir.is_dir():
        raise _fail(f"{out_dir}: {'not a folder' if out_dir.exists() else 'no such folder'}")
    try:
        update = update_stories(out_dir)
    except (StoriesError, EmbeddingModelError, OSError) as error:
        raise _fail(str(error)) from None
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
    err.print(_stories_line(update), markup=False, soft_wrap=True)


@app.command("review")
def review_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 0,
    desk: Annotated[str, typer.Option(help="Desk name used as ClaimReview author.")] = "Fact-check desk",
) -> None:
    """Open the review desk for a run's output in a local web app."""
    from pipeline.review.app import serve

    if not (out_dir / "articles").is_dir():
        raise _fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    serve(out_dir, port=port, desk_name=desk)


@app.command("export")
def export_command(
    out_dir: Annotated[Path, typer.Argument(help="A run's output folder (with its reviews).")],
    to: Annotated[Path, typer.Option("--to", help="Folder for claimreview.jsonld, verdicts.csv, report.html.")],
    desk: Annotated[str, typer.Option(help="Desk name used as ClaimReview author.")] = "Fact-check desk",
    base_url: Annotated[str, typer.Option(help="Public URL prefix of the desk's published reviews.")] = "",
) -> None:
    """Export reviewed verdicts: ClaimReview JSON-LD, a CSV and a single-file HTML report."""
    from pipeline.review.export import write_exports

    if not (out_dir / "articles").is_dir():
        raise _fail(f"{out_dir}: not a run output folder (no articles/ inside)")
    if to.resolve() == out_dir.resolve():
        raise _fail(f"{to}: export into a separate folder, not the run folder")
    for path in write_exports(out_dir, to, desk, base_url):
        err.print(f"wrote {path}", markup=False)


@app.command("check")
def check_command(
    article: Annotated[Path | None, typer.Argument(help="The article file (.txt .md .html .json).")] = None,
    claim: Annotated[str | None, typer.Option("--claim", help="The claim to check against ARTICLE.")] = None,
    pairs: Annotated[Path | None, typer.Option(help="JSONL, one pair a line: claim + text_file or text, optional id.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here (JSON; JSONL for --pairs), not stdout.")] = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    embedded_model: EmbeddedOpt = None,
    verifier: VerifierOpt = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="No LLM at all: the stance model and rule-based attributions only (seconds).")
    ] = False,
) -> None:
    """Verify a given claim against an article: verdict, confidence and evidence spans.

    No claims call is made: one LLM call looks for denials of the claim, then the trained stance
    model judges it (`not_addressed` when the article does not address it)."""
    from contextlib import nullcontext

    from pipeline._io import write_text_atomic
    from pipeline.check import Pair, check_claim, read_article, read_pairs
    from pipeline.llm import LLM
    from pipeline.options import AnalysisOptions
    from schemas.check import CheckResult

    settings = _settings(backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, verifier=verifier)
    if no_llm and settings.resolved_verifier() == "llm":
        raise _fail("--no-llm needs the trained verifier (not --verifier llm)")
    options = AnalysisOptions.from_settings(settings)
    try:  # every input is read before a model starts
        if pairs is not None and claim is None and article is None:
            todo = read_pairs(pairs)
        elif claim is not None and article is not None and pairs is None:
            if not claim.strip():
                raise _fail("--claim is empty")
            todo = [Pair(claim=claim, article=read_article(article))]
        else:
            raise _fail("give either --claim TEXT ARTICLE or --pairs PAIRS.jsonl")
    except InputError as error:
        raise _fail(str(error)) from None

    async def check_all(llm: LLM | None) -> tuple[list[CheckResult], int]:
        done: list[CheckResult] = []
        failed = 0
        for pair in todo:
            try:
                done.append(await check_claim(llm, pair.article, pair.claim, options, pair_id=pair.id))
            except LLMError as error:
                if len(todo) == 1 or isinstance(error, EndpointError):  # EndpointError: no pair can succeed
                    raise
                failed += 1
                err.print(f"{pair.article.meta.source}: failed: {error}", markup=False, soft_wrap=True)
        return done, failed

    try:
        with nullcontext(None) if no_llm else open_llm(settings) as llm:
            results, failed = asyncio.run(check_all(llm))
    except (EmbeddedModelError, LLMError, StanceModelError, EmbeddingModelError) as error:
        raise _fail(str(error)) from None
    if pairs:
        text = "".join(r.model_dump_json() + "\n" for r in results)
    else:
        text = results[0].model_dump_json(indent=2) + "\n"
    if out is not None:
        write_text_atomic(out, text)
    else:
        typer.echo(text, nl=False)
    if failed and not results:
        raise typer.Exit(EXIT_NOTHING_RAN)
    if failed:
        raise typer.Exit(EXIT_SOME_FAILED)


@app.command("eval")
def eval_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for metrics.json, plots and the prediction cache.")],
    fnc: Annotated[Path | None, typer.Option(help="FNC-1 style folder with labels.jsonl (stance).")] = None,
    polnear: Annotated[Path | None, typer.Option(help="PolNeAR style folder with attributions.jsonl.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N items of each dataset.")] = None,
    per_label: Annotated[
        int | None, typer.Option(min=1, help="Only the first N FNC pairs of each gold label (stratified).")
    ] = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    embedded_model: EmbeddedOpt = None,
    max_claims: Annotated[int | None, typer.Option(help="Most claims kept per context window.")] = None,
    verifier: VerifierOpt = None,
    no_llm: Annotated[
        bool, typer.Option("--no-llm", help="FNC pairs with no LLM at all: the stance model and rule-based attributions.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the tables and errors.")] = False,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse LLM responses from the on-disk cache (as `run` does).")
    ] = True,
) -> None:
    """Run the pipeline over labeled data; print and write attribution, stance, calibration and cost metrics."""
    from contextlib import nullcontext

    from pipeline.cache import ResponseCache
    from pipeline.evaluate import evaluate, load_fnc, load_polnear, tables
    from pipeline.http_stack import backend_identity, http_client
    from pipeline.limiter import AdaptiveLimiter

    if fnc is None and polnear is None:
        raise _fail("give --fnc DIR and/or --polnear DIR")
    settings = _settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, max_claims=max_claims, verifier=verifier
    )
    if no_llm and (polnear is not None or settings.resolved_verifier() == "llm"):
        raise _fail("--no-llm scores FNC pairs with the trained verifier only (no --polnear, no --verifier llm)")
    try:  # a bad dataset fails before a model starts
        fnc_pairs = load_fnc(fnc, limit, per_label=per_label) if fnc else []
        polnear_docs = load_polnear(polnear, limit) if polnear else []
    except InputError as error:
        raise _fail(str(error)) from None
    datasets = {name: str(path) for name, path in (("fnc", fnc), ("polnear", polnear)) if path is not None}

    def report(item: str, status: str) -> None:
        if not quiet or status.startswith("failed"):
            err.print(f"{item}: {status}", markup=False, soft_wrap=True)

    try:
        with nullcontext(None) if no_llm else open_llm(settings) as llm:
            if llm is not None and cache and settings.cache:
                # Changing one stage's prompt then re-asks only that stage: the others' identical
                # requests are answered from the cache that `factcheck run` shares.
                llm.use_http_client(
                    http_client(
                        limiter=AdaptiveLimiter(1), price=None, cache=ResponseCache(settings.cache_dir / "responses"),
                        identity=backend_identity(llm.backend, llm.endpoint),
                    )
                )
            result = asyncio.run(
                evaluate(
                    llm, settings, out, fnc=fnc_pairs, polnear=polnear_docs,
                    datasets=datasets, limit=limit, per_label=per_label, on_item=report,
                )
            )
    except (EmbeddedModelError, LLMError, CacheError, StanceModelError, EmbeddingModelError) as error:
        raise _fail(str(error)) from None
    console = Console()
    for table in tables(result):
        console.print(table)
    err.print(f"{len(result.failures)} failed, {result.reused} reused from cache -> {out / 'metrics.json'}", markup=False)
    attempted = len(fnc_pairs) + len(polnear_docs)
    if result.failures and len(result.failures) == attempted:
        raise typer.Exit(EXIT_NOTHING_RAN)
    if result.failures:
        raise typer.Exit(EXIT_SOME_FAILED)


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
    except Exception as error:  # a bug: one redacted line, not a traceback that may quote secrets
        if os.environ.get("FACTCHECK_DEBUG"):
            raise
        first = str(error).strip().splitlines()
        err.print(
            Text.assemble(
                ("error:", "red"), f" internal error, please report: {type(error).__name__}: {first[0][:300] if first else ''}"
                " (set FACTCHECK_DEBUG=1 for the traceback)"
            ),
            soft_wrap=True,
        )
        sys.exit(EXIT_NOTHING_RAN)


# Last: the batch commands reuse this module's helpers and exit codes.
from pipeline.batch_cli import batch_app  # noqa: E402

app.add_typer(batch_app, name="batch")
