"""The one place a stage is declared, and what every stage shares: the analysis it reads from
and writes to, the message layout, its result type, and the one loop that runs an ordered tuple
of stages (in the spirit of spaCy's ``Language.factory``: one declaration binds a stage's name,
callable and contract; the order is data)."""

from __future__ import annotations

import asyncio
import os
import threading
import typing
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pipeline.stages._proposed import Candidate
from pipeline.stages.options import AnalysisOptions
from pipeline.text.document import Window
from schemas import Claim, Denial, Usage, Verdict

if TYPE_CHECKING:  # types only: the openai SDK loads for code that calls a model
    from openai.types.chat import ChatCompletionMessageParam

    from pipeline.llm.client import LLM

T = TypeVar("T")


@dataclass
class StageOutput(Generic[T]):
    value: T
    usage: Usage
    warnings: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """What the stages of one context window read and write. ``window`` and ``options`` are given;
    a stage's ``reads`` and ``writes`` name these fields."""

    window: Window
    options: AnalysisOptions
    candidates: list[Candidate] = field(default_factory=list)  # code's, best first: what a model may be shown
    claims: list[Claim] = field(default_factory=list)
    denials: list[Denial] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)


FIELDS = tuple(f.name for f in fields(Analysis))
Run = Callable[["LLM", Analysis], Awaitable[StageOutput[Any]]]


@dataclass(frozen=True)
class Stage:
    """A stage, declared once next to its function (``STAGE = Stage(...)`` in its module).

    ``name``: in results' usage, run.json's by_stage, errors.jsonl. ``response``: its response
    model, or the factory that builds it per call (``written_claims_for(ids)``); instructor's
    TOOLS mode names the tool after the model, so ``tool`` is derived from it. ``run(llm,
    analysis)``: one window's work, its ``StageOutput.value`` is what it ``writes`` (one field:
    the value; several: a tuple in that order; none: ignored). ``calls_per_window``: LLM calls it
    makes per context window (the budget's estimate); 0 for a stage of code, which has no prompt and
    no response (``response=None``) and runs with ``--no-llm`` too. ``prompt``: ``prompts/<prompt>.j2``."""

    name: str
    response: Any  # type[BaseModel] | Callable[..., type[BaseModel]]
    run: Run
    reads: tuple[str, ...] = ("window",)
    writes: tuple[str, ...] = ()
    calls_per_window: int = 1
    prompt: str = ""  # the name's, when not given
    # Asked of the embedded model too. False for a call the small local model was measured to answer
    # no better than code (docs/model-questions.md): on that backend code's answer stands, unasked.
    embedded: bool = True

    def __post_init__(self) -> None:
        if not self.prompt and self.calls_per_window:
            object.__setattr__(self, "prompt", self.name)
        if (self.response is None) != (self.calls_per_window == 0):
            raise ValueError(f"stage {self.name!r}: a stage of code has no response model, an LLM stage has one")
        unknown = [f for f in (*self.reads, *self.writes) if f not in FIELDS]
        if unknown:
            raise ValueError(f"stage {self.name!r}: {unknown} are not fields of the analysis {FIELDS}")

    @property
    def is_code(self) -> bool:
        return self.calls_per_window == 0

    @property
    def tool(self) -> str:
        """The tool's name: the response model's class name (a factory's, by its return annotation); "" for code."""
        return response_class(self.response).__name__ if self.response is not None else ""


def response_class(response: Any) -> type:
    """The class a response is: itself, or what its factory says it returns (``-> type[X]``)."""
    if isinstance(response, type):
        return response
    returned = typing.get_type_hints(response).get("return")
    built = typing.get_args(returned)
    if typing.get_origin(returned) is not type or not built or not isinstance(built[0], type):
        raise TypeError(f"{response!r}: a response model factory must be annotated '-> type[Model]'")
    return built[0]


def check_order(stages: Sequence[Stage], given: Iterable[str] = ("window", "options")) -> None:
    """Every stage reads only what is given or what a stage before it writes."""
    known = set(given)
    for stage in stages:
        missing = sorted(set(stage.reads) - known)
        if missing:
            raise ValueError(f"stage {stage.name!r} reads {missing}, which nothing before it writes")
        known |= set(stage.writes)


async def run_stages(
    llm: LLM | None, stages: Sequence[Stage], analysis: Analysis, usage: dict[str, Usage], warnings: list[str]
) -> Analysis:
    """The one collector: each stage in order, its usage added under its name (an LLM stage's: the
    usage is what calls used), its warnings kept, what it writes set on the analysis."""
    for stage in stages:
        out = await stage.run(llm, analysis)  # type: ignore[arg-type]  # a stage of code is given None
        if not stage.is_code:
            usage[stage.name] = usage.get(stage.name, Usage()) + out.usage
        warnings.extend(out.warnings)
        values = out.value if len(stage.writes) > 1 else (out.value,) * len(stage.writes)
        for name, value in zip(stage.writes, values, strict=True):
            setattr(analysis, name, value)
    return analysis


def messages(window: Window, task: str) -> list[ChatCompletionMessageParam]:
    # System message first and identical across stages: the shared, cacheable prefix.
    return [{"role": "system", "content": window.system_message}, {"role": "user", "content": task}]


# The text work of articles in flight (candidates, embeddings, the stance model) runs at most one
# a core at once: more threads buy nothing on CPU-bound work, and each holds its article's arrays
# (--no-llm on 40 PolNeAR articles peaked at 1.8 GB with every article's work at once).
_TEXT_WORK = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def bounded(work: Callable[..., T], *args: object) -> T:
    with _TEXT_WORK:
        return work(*args)


async def in_worker(work: Callable[..., T], *args: object) -> T:
    """CPU work in a worker thread, bounded: a pathological article must not hold the event loop
    that serves every other article's calls."""
    return await asyncio.to_thread(bounded, work, *args)
