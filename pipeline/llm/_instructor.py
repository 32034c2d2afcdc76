"""How the client drives instructor, and three CPU savings on instructor's path (each measured
in docs/batch.md): response models wrapped once, validator checks remembered, message templates
compiled once. The request bodies are the same as without them."""

import functools
import importlib
import sys
import textwrap
import typing
from collections import OrderedDict
from contextvars import ContextVar
from typing import TypeVar

import instructor
import openai
from pydantic import BaseModel

from pipeline.llm._json_shape import json_shape

T = TypeVar("T", bound=BaseModel)


class _ToolModels:
    """instructor wraps a plain response model in a new ResponseSchema class on every call, and
    its tool-schema cache is keyed by class, so every call regenerated the JSON schema (~5 ms of
    CPU per call). A model that is already a ResponseSchema passes through unwrapped: wrap each
    response model once and reuse it. The schema, and so the request body, is the same."""

    def __init__(self, size: int = 256):
        self.size = size  # bounded: a stage that builds a new model class per call must not leak
        self._wrapped: OrderedDict[type[BaseModel], type[BaseModel]] = OrderedDict()

    def __call__(self, response_model: type[T]) -> type[T]:
        wrapped = self._wrapped.get(response_model)
        if wrapped is None:
            wrapped = instructor.response_schema(response_model)
            self._wrapped[response_model] = wrapped
            if len(self._wrapped) > self.size:
                self._wrapped.popitem(last=False)
        else:
            self._wrapped.move_to_end(response_model)
        return typing.cast(type[T], wrapped)


tool_model = _ToolModels()


def _remember_passed_checks(module_name: str, function: str, *users: str) -> None:
    """instructor walks the response model's whole class tree for async validators seven times
    per call (~2 ms of CPU); a class that passed the check passes it again. Checks that raise
    are not remembered. Left alone if this instructor version has no such function."""
    try:
        module = importlib.import_module(module_name)
        check = getattr(module, function)
    except (ImportError, AttributeError):
        return
    passed: OrderedDict[object, None] = OrderedDict()

    def remembered(response_model: object) -> None:
        try:
            if response_model in passed:
                passed.move_to_end(response_model)
                return
        except TypeError:  # unhashable: check every time
            check(response_model)
            return
        check(response_model)
        passed[response_model] = None
        if len(passed) > 1024:
            passed.popitem(last=False)

    remembered.__wrapped__ = check  # type: ignore[attr-defined]
    for name in (module_name, *users):  # modules that imported the function by name
        user = sys.modules.get(name) or importlib.import_module(name)
        if getattr(user, function, None) is check:
            setattr(user, function, remembered)


_remember_passed_checks(
    "instructor.v2.validation.async_validators", "reject_async_validators", "instructor.v2.core.patch"
)


def _compile_message_templates_once(module_name: str, size: int = 256) -> None:
    """instructor renders every message as a Jinja template in a new sandboxed environment,
    compiling it anew each time (~0.4 ms per message). The messages it gets are the short
    ``{{ _message_N }}`` of :func:`_verbatim`: compile each such text once, in one sandboxed
    environment, and render and dedent as instructor does (the same text out). Longer texts go
    to instructor's own function. Left alone if this instructor version has no such function."""
    try:
        from jinja2.sandbox import SandboxedEnvironment

        module = importlib.import_module(module_name)
        apply_template = module.apply_template
    except (ImportError, AttributeError):
        return
    environment = SandboxedEnvironment()
    compiled = functools.lru_cache(maxsize=size)(environment.from_string)

    def compiled_once(text: str, context: dict[str, typing.Any]) -> str:
        if len(text) > 64:
            return str(apply_template(text, context))
        return textwrap.dedent(compiled(text).render(**context))

    compiled_once.__wrapped__ = apply_template  # type: ignore[attr-defined]
    module.apply_template = compiled_once


_compile_message_templates_once("instructor.v2.core.templating")


# Model answers received during the current ask(), re-asks included: instructor's hook runs
# in the asking task, so a context variable keeps concurrent asks apart.
answer_count: ContextVar[list[int] | None] = ContextVar("answers", default=None)


def _count_answer(*_: object, **__: object) -> None:
    if (counter := answer_count.get()) is not None:
        counter[0] += 1


def instructor_for(raw: openai.AsyncOpenAI, mode: instructor.Mode) -> instructor.AsyncInstructor:
    client = instructor.from_openai(raw, mode=mode)
    client.on("completion:response", _count_answer)
    return client


# What instructor's MD_JSON mode appends to the system message as "the schema". The real shape
# goes at the end of each stage's task (``json_shape``): the system message, which holds the
# article, must stay byte-identical across stages for llama.cpp to reuse its processed prefix.
SHAPE_IN_TASK = {"description": "the JSON object that the last message describes"}
SHAPE_PROMPT = "\n\nAnswer with the JSON object only, in a ```json block, shaped like this:\n"


class _TextModels:
    """Each response model once as a subclass whose JSON schema is ``SHAPE_IN_TASK`` (instructor's
    MD_JSON puts the schema in the system message), with its real shape kept for the task."""

    def __init__(self) -> None:
        self._models: dict[type[BaseModel], tuple[type[BaseModel], str]] = {}

    def __call__(self, response_model: type[T]) -> tuple[type[T], str]:
        if response_model not in self._models:
            shape = json_shape(response_model)

            class InTask(response_model):  # type: ignore[valid-type, misc]
                @classmethod
                def model_json_schema(cls, *args: object, **kwargs: object) -> dict[str, object]:
                    return SHAPE_IN_TASK

            InTask.__name__ = InTask.__qualname__ = response_model.__name__
            self._models[response_model] = (InTask, shape)
            if len(self._models) > 256:  # bounded, like _ToolModels
                self._models.pop(next(iter(self._models)))
        model, shape = self._models[response_model]
        return typing.cast(type[T], model), shape


text_model = _TextModels()
