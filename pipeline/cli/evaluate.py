"""``factcheck eval``: the pipeline over labeled data, scored."""

import asyncio
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli._common import (
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
)

if TYPE_CHECKING:
    from pipeline.eval.datasets import FncPair, PolnearDoc
    from pipeline.llm.client import LLM
    from pipeline.settings import Settings

app = typer.Typer()

PerLabelOpt = Annotated[
    int | None, typer.Option(min=1, help="Only the first N FNC pairs of each gold label (stratified).")
]
NoLlmOpt = Annotated[
    bool,
    typer.Option(
        "--no-llm",
        help="No LLM at all: FNC pairs by the stance model, PolNeAR documents as run --no-llm analyses them.",
    ),
]
CacheOpt = Annotated[
    bool, typer.Option("--cache/--no-cache", help="Reuse LLM responses from the on-disk cache (as `run` does).")
]


@app.command("eval")
def eval_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for metrics.json, plots and the prediction cache.")],
    fnc: Annotated[Path | None, typer.Option(help="FNC-1 style folder with labels.jsonl (stance).")] = None,
    polnear: Annotated[Path | None, typer.Option(help="PolNeAR style folder with attributions.jsonl.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N items of each dataset.")] = None,
    per_label: PerLabelOpt = None,
    backend: BackendOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    embedded_model: EmbeddedOpt = None,
    max_claims: MaxClaimsOpt = None,
    verifier: VerifierOpt = None,
    no_llm: NoLlmOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the tables and errors.")] = False,
    cache: CacheOpt = True,
) -> None:
    """Run the pipeline over labeled data; print and write attribution, stance, calibration and cost metrics."""
    from contextlib import nullcontext

    from rich.console import Console

    from pipeline.eval.evaluate import evaluate
    from pipeline.eval.report import tables
    from pipeline.llm.cache import CacheError
    from pipeline.llm.embedded import EmbeddedModelError
    from pipeline.llm.errors import LLMError
    from pipeline.run.model import open_model
    from pipeline.stages.registry import ANALYZE, CHECK
    from pipeline.stance.embedder import EmbeddingModelError
    from pipeline.stance.model import StanceModelError

    if fnc is None and polnear is None:
        raise fail("give --fnc DIR and/or --polnear DIR")
    settings = read_settings(
        backend=backend, base_url=base_url, model=model, embedded_model=embedded_model, max_claims=max_claims,
        verifier=verifier,
        cache=None if cache else False,
    )
    if no_llm and verifier == "llm":
        raise fail("--no-llm scores with the trained verifier (not --verifier llm)")
    if no_llm:
        settings = settings.model_copy(update={"verifier": "trained"})
    # a bad dataset fails before a model starts
    fnc_pairs, polnear_docs = _load_datasets(fnc, polnear, limit, per_label)
    datasets = {name: str(path) for name, path in (("fnc", fnc), ("polnear", polnear)) if path is not None}
    try:
        with nullcontext(None) if no_llm else open_model(settings, (*ANALYZE, *CHECK)) as llm:
            _use_response_cache(llm, settings)
            result = asyncio.run(
                evaluate(
                    llm, settings, out, fnc=fnc_pairs, polnear=polnear_docs,
                    datasets=datasets, limit=limit, per_label=per_label, on_item=partial(_report, quiet),
                )
            )
    except (EmbeddedModelError, LLMError, CacheError, StanceModelError, EmbeddingModelError) as error:
        raise fail(str(error)) from None
    console = Console()
    for table in tables(result):
        console.print(table)
    err.print(
        f"{len(result.failures)} failed, {result.reused} reused from cache -> {out / 'metrics.json'}", markup=False
    )
    exit_if_failed(len(result.failures), len(fnc_pairs) + len(polnear_docs) - len(result.failures))


def _load_datasets(
    fnc: Path | None, polnear: Path | None, limit: int | None, per_label: int | None
) -> tuple[list["FncPair"], list["PolnearDoc"]]:
    """The FNC pairs and PolNeAR documents asked for; a bad dataset is one error line."""
    from pipeline.eval.datasets import load_fnc, load_polnear
    from pipeline.text.ingest import InputError

    try:
        fnc_pairs = load_fnc(fnc, limit, per_label=per_label) if fnc else []
        polnear_docs = load_polnear(polnear, limit) if polnear else []
    except InputError as error:
        raise fail(str(error)) from None
    return fnc_pairs, polnear_docs


def _report(quiet: bool, item: str, status: str) -> None:
    """One item's progress line; with --quiet, only failures."""
    if not quiet or status.startswith("failed"):
        err.print(f"{item}: {status}", markup=False, soft_wrap=True)


def _use_response_cache(llm: "LLM | None", settings: "Settings") -> None:
    """Changing one stage's prompt then re-asks only that stage: the others' identical requests
    are answered from the cache that `factcheck run` shares."""
    from pipeline.llm.cache import ResponseCache
    from pipeline.llm.factory import use_transport_stack
    from pipeline.llm.limiter import AdaptiveLimiter
    from pipeline.stages.registry import STAGE_BY_TOOL

    if llm is not None and settings.cache:
        use_transport_stack(
            llm, limiter=AdaptiveLimiter(1), price=None, cache=ResponseCache(settings.cache_dir / "responses"),
            stage_by_tool=STAGE_BY_TOOL,
        )
