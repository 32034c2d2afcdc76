"""``factcheck check``: verify a given claim against an article.

Nothing here loads the openai SDK unless a model is asked: ``check --no-llm`` stays fast."""

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli._common import (
    BackendOpt,
    BaseUrlOpt,
    EmbeddedOpt,
    ModelOpt,
    VerifierOpt,
    err,
    exit_if_failed,
    fail,
    read_settings,
)

if TYPE_CHECKING:
    from pipeline.llm.client import LLM
    from pipeline.stages.check import Pair
    from pipeline.stages.options import AnalysisOptions
    from schemas.check import CheckResult

app = typer.Typer()


@app.command("check")
def check_command(
    article: Annotated[Path | None, typer.Argument(help="The article file (.txt .md .html .json).")] = None,
    claim: Annotated[str | None, typer.Option("--claim", help="The claim to check against ARTICLE.")] = None,
    pairs: Annotated[
        Path | None, typer.Option(help="JSONL, one pair a line: claim + text_file or text, optional id.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (JSON; JSONL for --pairs), not stdout.")
    ] = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    embedded_model: EmbeddedOpt = None,
    verifier: VerifierOpt = None,
    no_llm: Annotated[
        bool,
        typer.Option("--no-llm", help="No LLM at all: the stance model and rule-based attributions only (seconds)."),
    ] = False,
) -> None:
    """Verify a given claim against an article: verdict, confidence and evidence spans.

    No claims call is made: one LLM call looks for denials of the claim, then the trained stance
    model judges it (`not_addressed` when the article does not address it)."""
    from contextlib import nullcontext

    from pipeline._io import write_text_atomic
    from pipeline.llm.errors import LLMError
    from pipeline.stages.options import AnalysisOptions
    from pipeline.stance.embedder import EmbeddingModelError
    from pipeline.stance.model import StanceModelError

    # --no-llm means the trained verifier whatever the backend would choose; only an explicit
    # --verifier llm contradicts it (a key in the environment must not turn it into an error).
    verifier = verifier or ("trained" if no_llm else None)
    settings = read_settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, verifier=verifier
    )
    if no_llm and settings.resolved_verifier() == "llm":
        raise fail("--no-llm needs the trained verifier (not --verifier llm)")
    options = AnalysisOptions.from_settings(settings)
    todo = _read_pairs(article, claim, pairs)  # every input is read before a model starts
    failures: tuple[type[Exception], ...] = (LLMError, StanceModelError, EmbeddingModelError)
    try:
        if no_llm:
            llm_context = nullcontext(None)
        else:  # the openai SDK, instructor and the embedded server's code: only when a model is asked
            from pipeline.llm.embedded import EmbeddedModelError
            from pipeline.run.model import open_model
            from pipeline.stages.registry import CHECK

            failures += (EmbeddedModelError,)
            llm_context = open_model(settings, CHECK)
            if options.verifier == "trained":  # while the server starts, on the other core
                threading.Thread(target=_prepare_verifier, args=(todo[0].article.text,), daemon=True).start()
        with llm_context as llm:
            results, failed = asyncio.run(_check_all(llm, todo, options))
    except failures as error:
        raise fail(str(error)) from None
    if pairs:
        text = "".join(r.model_dump_json() + "\n" for r in results)
    else:
        text = results[0].model_dump_json(indent=2) + "\n"
    if out is not None:
        write_text_atomic(out, text)
    else:
        typer.echo(text, nl=False)
    exit_if_failed(failed, len(results))


def _read_pairs(article: Path | None, claim: str | None, pairs: Path | None) -> list["Pair"]:
    """The pairs to check: from --pairs, or the one of --claim and ARTICLE."""
    from pipeline.stages.check import Pair, read_article, read_pairs
    from pipeline.text.ingest import InputError

    try:
        if pairs is not None and claim is None and article is None:
            return read_pairs(pairs)
        if claim is not None and article is not None and pairs is None:
            if not claim.strip():
                raise fail("--claim is empty")
            return [Pair(claim=claim, article=read_article(article))]
        raise fail("give either --claim TEXT ARTICLE or --pairs PAIRS.jsonl")
    except InputError as error:
        raise fail(str(error)) from None


async def _check_all(
    llm: "LLM | None", todo: list["Pair"], options: "AnalysisOptions"
) -> tuple[list["CheckResult"], int]:
    """Every pair's result, and how many failed. One pair's failure is reported and the others go
    on, unless it is the only pair or the endpoint can serve no call (then it is raised)."""
    from pipeline.llm.errors import EndpointError, LLMError
    from pipeline.stages.check import check_claim
    from pipeline.stance.verdicts import read_ahead

    done: dict[int, "CheckResult"] = {}
    failed = 0
    for chunk in _by_article(todo):
        if options.verifier == "trained":
            read_ahead([todo[i].article.text for i in chunk], [todo[i].claim for i in chunk])
        for i in chunk:
            pair = todo[i]
            try:
                done[i] = await check_claim(llm, pair.article, pair.claim, options, pair_id=pair.id)
            except LLMError as error:
                if len(todo) == 1 or isinstance(error, EndpointError):  # EndpointError: no pair can succeed
                    raise
                failed += 1
                err.print(f"{pair.article.meta.source}: failed: {error}", markup=False, soft_wrap=True)
    return [done[i] for i in sorted(done)], failed


def _by_article(todo: list["Pair"]) -> list[list[int]]:
    """The pairs' indices, each article's pairs together (an article is read and embedded once, however
    far apart its claims are in the file), cut into chunks that ``read_ahead`` embeds in one call."""
    from pipeline.stance.verdicts import read_ahead_limit

    groups: dict[str, list[int]] = {}
    for i, pair in enumerate(todo):
        groups.setdefault(pair.article.text, []).append(i)
    chunks: list[list[int]] = [[]]
    texts = 0
    for text, indices in groups.items():
        size = text.count(".") + 1 + len(indices)  # about its sentences and claims
        if chunks[-1] and texts + size > read_ahead_limit():
            chunks.append([])
            texts = 0
        chunks[-1].extend(indices)
        texts += size
    return chunks


def _prepare_verifier(text: str) -> None:
    """Load the stance model and embed the first article ahead of its verdict. A failure here is
    met again, and reported, when the verdict is asked for."""
    from pipeline.stance.verdicts import prepare

    try:
        prepare(text)
    except Exception:  # noqa: BLE001 - reported by the real call
        pass
