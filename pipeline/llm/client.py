"""One client for every backend: OpenAI protocol, instructor TOOLS mode, tenacity retries.

Retries have one layer each: instructor re-asks on validation errors only,
tenacity retries rate limits, 5xx, timeouts and dropped connections (honouring
Retry-After), and the openai client's own retries are off.
"""

import asyncio
import functools
import time
import typing
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx2
import instructor
import jiter
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam, ChatCompletionTokenLogprob
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from pipeline.llm._instructor import SHAPE_PROMPT, answer_count, instructor_for, text_model, tool_model
from pipeline.llm.costs import current_stage
from pipeline.llm.errors import EndpointError, InvalidOutputError, LLMError, ServerCrashError
from pipeline.llm.redaction import redact, register_secret
from schemas import Usage

if typing.TYPE_CHECKING:
    from pipeline.llm.embedded import EmbeddedServer

T = TypeVar("T", bound=BaseModel)
Grammar = typing.Literal["tool", "schema"]  # how a call that must follow its schema is constrained
Decoding = typing.Literal["free", "tool", "schema"]
MAX_RETRY_AFTER = 120.0


@dataclass
class Reply(Generic[T]):
    value: T
    usage: Usage
    warnings: list[str] = field(default_factory=list)
    # The answer's tokens with their most likely alternatives, when asked for and the server
    # gives them (llama.cpp does for tool calls; OpenAI does not).
    logprobs: list[ChatCompletionTokenLogprob] = field(default_factory=list)


def _api_error(error: BaseException) -> BaseException:
    """instructor wraps API errors in InstructorRetryException; look through it."""
    if isinstance(error, InstructorRetryException) and error.__cause__ is not None:
        return error.__cause__
    return error


def is_transient(error: BaseException) -> bool:
    error = _api_error(error)
    if isinstance(error, (openai.RateLimitError, openai.APIConnectionError)):  # includes timeouts
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code >= 500


def retry_after(error: BaseException) -> float | None:
    """Seconds the server asked us to wait, if it said so."""
    error = _api_error(error)
    if not isinstance(error, openai.APIStatusError):
        return None
    value = error.response.headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value is not None else None
    except ValueError:
        return None


_backoff = wait_exponential_jitter(initial=1, max=30)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    asked = retry_after(error) if error else None
    return asked if asked is not None else _backoff(state)


class LLM:
    def __init__(
        self,
        *,
        backend: str,
        base_url: str | None,
        api_key: str,
        model: str,
        temperature: float = 0.0,
        timeout: float = 300.0,
        max_attempts: int = 5,
        reasks: int = 1,
        max_tokens: int = 1536,
        extra_body: dict[str, object] | None = None,
        http_client: openai.DefaultAsyncHttpxClient | None = None,
        top_logprobs: int = 0,
        json_as_text: bool = False,
    ):
        self.backend = backend
        # Free JSON (instructor's MD_JSON) for llama.cpp, whose grammar-constrained decoding of
        # the tool schema is about 3x slower; tool calls for hosted APIs, which are not slowed.
        self.json_as_text = json_as_text
        self.model = model
        register_secret(api_key)
        self.endpoint = redact(base_url or "https://api.openai.com/v1")  # shown and stored: no userinfo
        self.temperature = temperature
        self.max_attempts = max_attempts
        self.reasks = reasks
        # A small model under a JSON grammar can loop inside a string until the context
        # is full; a cap turns minutes of runaway generation into a re-ask.
        self.max_tokens = max_tokens
        self.extra_body = extra_body or {}
        self.top_logprobs = top_logprobs  # 0: never ask for token probabilities
        # The embedded server this client's calls go to, when the CLI started one: a call that
        # fails asks it whether the process died (then no retry can help) and to restart it.
        self.server: EmbeddedServer | None = None
        self.raw = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0, http_client=http_client
        )

    @functools.cached_property
    def client(self) -> instructor.AsyncInstructor:
        # Built at the first call: it imports the openai SDK's resources (0.7 s), which a
        # re-run whose every article is already done never needs.
        return instructor_for(self.raw, instructor.Mode.TOOLS)

    @functools.cached_property
    def text_client(self) -> instructor.AsyncInstructor:
        return instructor_for(self.raw, instructor.Mode.MD_JSON)

    def use_http_client(self, http_client: openai.DefaultAsyncHttpxClient) -> None:
        """Send every call through ``http_client`` (e.g. cache, limiter and metering transports)
        for an LLM that the backend opened without one."""
        self.raw = self.raw.with_options(http_client=http_client)
        self.__dict__.pop("client", None)
        self.__dict__.pop("text_client", None)

    async def ask(
        self,
        stage: str,
        messages: list[ChatCompletionMessageParam],
        response_model: type[T],
        context: dict[str, object],
        *,
        logprobs: bool = False,
        max_tokens: int | None = None,
        grammar: Grammar | None = None,
    ) -> Reply[T]:
        """``logprobs``: ask for the answer's token probabilities, if this LLM is set to (``top_logprobs``).
        ``max_tokens``: this call's cap on the answer, when the stage knows a tighter one than the LLM's.
        ``grammar``: decode under the schema's grammar even when this LLM writes JSON as text:
        ``"tool"`` as a tool call, ``"schema"`` as text under ``response_format``'s schema (the same
        grammar in llama.cpp, without the tool schema its chat template writes into the prompt)."""
        started = time.perf_counter()
        generation = self.server.generation if self.server else 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=_wait,
            retry=retry_if_exception(lambda error: is_transient(error) and not self._server_died()),
            reraise=True,
        )
        warnings: list[str] = []
        answers = answer_count.set([0])
        asking = current_stage.set(stage)
        try:
            async for attempt in retrying:
                with attempt:
                    value, completion = await self._create(
                        messages, response_model, context, self.top_logprobs if logprobs else 0,
                        max_tokens or self.max_tokens,
                        decoding=(grammar or "free") if self.json_as_text else "tool",
                    )
        except InstructorRetryException as error:
            cause = _api_error(error)
            if isinstance(cause, openai.OpenAIError):
                raise await self._failure(stage, generation, cause) from cause
            if _without_choices(error.last_completion):  # instructor then fails on choices[0]
                raise LLMError(
                    f"{self.endpoint}: {stage}: the server's answer has no choices (an empty 'choices' list)"
                ) from error
            if cause is not error and not isinstance(cause, (ValidationError, ValueError)):
                raise cause from error  # a bug, not the model's output: let it surface
            # Re-asks exhausted: keep what validates without the article context;
            # the stage drops unresolvable references and reports them as warnings.
            value, completion = self._lenient_billed(error, response_model, stage, started)
            warnings.append(
                f"{stage}: model output still invalid after {self.reasks} re-ask(s): {_invalid_output_reason(error)}"
            )
        except IncompleteOutputException as error:
            # Cut off at max_tokens: a small model that loops (lists every sentence as a claim)
            # still wrote complete items first; keep those, and say the answer was cut.
            value, completion = self._lenient_billed(error, response_model, stage, started)
            warnings.append(
                f"{stage}: answer cut off at {max_tokens or self.max_tokens} tokens; its complete items kept"
            )
        except openai.OpenAIError as error:
            raise await self._failure(stage, generation, error) from error
        finally:
            answered = (answer_count.get() or [0])[0]
            answer_count.reset(answers)
            current_stage.reset(asking)
        usage = self._usage(completion, time.perf_counter() - started, max(1, answered))
        return Reply(value, usage, warnings, _token_logprobs(completion))

    async def _create(
        self,
        messages: list[ChatCompletionMessageParam],
        response_model: type[T],
        context: dict[str, object],
        top_logprobs: int,
        max_tokens: int,
        *,
        decoding: Decoding,
    ) -> tuple[T, ChatCompletion]:
        logprobs: dict[str, object] = {"logprobs": True, "top_logprobs": top_logprobs} if top_logprobs else {}
        extra_body = dict(self.extra_body)
        if decoding == "tool":
            model = tool_model(response_model)
        else:
            model, shape = text_model(response_model)
            *before, task = messages
            messages = [
                *before,
                typing.cast(ChatCompletionMessageParam, {**task, "content": f"{task['content']}{SHAPE_PROMPT}{shape}"}),
            ]
            if decoding == "schema":
                schema = {"name": response_model.__name__, "schema": response_model.model_json_schema()}
                extra_body["response_format"] = {"type": "json_schema", "json_schema": schema}
        messages, context = _verbatim(messages, context)
        client = self.client if decoding == "tool" else self.text_client
        value, completion = await client.chat.completions.create_with_completion(
            model=self.model,
            messages=messages,
            response_model=model,
            max_retries=self.reasks,
            temperature=self.temperature,
            max_tokens=max_tokens,
            context=context,
            extra_body=extra_body or None,
            **logprobs,
        )
        return typing.cast(T, value), completion

    def _lenient_billed(
        self, error: InstructorRetryException | IncompleteOutputException, response_model: type[T], stage: str,
        started: float,
    ) -> tuple[T, ChatCompletion]:
        """``_lenient``; when nothing survives, the error carries what the answers cost: they were paid for."""
        try:
            return self._lenient(error, response_model, stage)
        except InvalidOutputError as invalid:
            if getattr(error, "last_completion", None) is not None:
                answered = (answer_count.get() or [0])[0]
                invalid.usage = self._usage(error.last_completion, time.perf_counter() - started, max(1, answered))
            raise

    def _lenient(
        self, error: InstructorRetryException | IncompleteOutputException, response_model: type[T], stage: str
    ) -> tuple[T, ChatCompletion]:
        """Keep every item that validates on its own. Output cut off at ``max_tokens`` is parsed
        as partial JSON, so a model that loops after a few good items still yields those items."""
        completion = error.last_completion
        try:
            message = completion.choices[0].message
            arguments = (
                message.tool_calls[0].function.arguments if message.tool_calls else _json_text(message.content or "")
            )
            data = jiter.from_json(arguments.encode(), partial_mode="trailing-strings")
            return _valid_items(response_model, data), completion
        except (AttributeError, IndexError, TypeError, ValueError, ValidationError):
            raise InvalidOutputError(
                f"{self.endpoint}: {stage}: model output invalid after re-asks: {_invalid_output_reason(error)}"
            ) from error

    def _server_died(self) -> bool:
        return self.server is not None and not self.server.alive()

    async def _failure(self, stage: str, generation: int, error: BaseException) -> LLMError:
        """What a failed call raises. A crashed embedded server is named as such: this call
        fails (its article is recorded as failed) if the server is up again, else the run stops."""
        if self.server is not None:
            crashed = await asyncio.to_thread(self.server.recover, stage, generation)
            if crashed is not None:
                message, restarted = crashed
                return (
                    ServerCrashError(f"{message}; restarted, the run goes on") if restarted
                    else EndpointError(message)
                )
        return self._describe(error)

    def _describe(self, error: BaseException) -> LLMError:
        if isinstance(error, openai.AuthenticationError):
            return EndpointError(
                f"{self.endpoint}: API key rejected (HTTP 401); check OPENAI_API_KEY (or api_key in the config file)"
            )
        if isinstance(error, openai.NotFoundError):
            return EndpointError(f"{self.endpoint}: not found (HTTP 404): is model {self.model!r} served there?")
        if isinstance(error, openai.APITimeoutError):
            return LLMError(f"{self.endpoint}: timed out after {self.max_attempts} attempts")
        if isinstance(error, openai.APIConnectionError) and isinstance(error.__cause__, httpx2.ConnectError):
            return EndpointError(f"{self.endpoint}: cannot connect ({_first_line(error.__cause__)})")
        if isinstance(error, openai.APIConnectionError):  # connected, then dropped: this call's bad luck
            return LLMError(f"{self.endpoint}: connection lost ({_first_line(error.__cause__ or error)})")
        if isinstance(error, openai.APIStatusError):
            return LLMError(f"{self.endpoint}: HTTP {error.status_code}: {_first_line(error)}")
        return LLMError(f"{self.endpoint}: {_first_line(error)}")

    def _usage(self, completion: ChatCompletion, seconds: float, calls: int) -> Usage:
        usage = completion.usage
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        return Usage(
            calls=calls,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            cached_tokens=(getattr(details, "cached_tokens", None) or 0) if details else 0,
            seconds=round(seconds, 3),
        )

    async def close(self) -> None:
        await self.raw.close()


def _verbatim(
    messages: list[ChatCompletionMessageParam], context: dict[str, object]
) -> tuple[list[ChatCompletionMessageParam], dict[str, object]]:
    """instructor renders every message as a Jinja template over the validation context, so an
    article holding "{{" or "{%" would be altered, or fail. Each message's text goes in as a
    variable instead, which renders to exactly itself (and skips parsing the article as a template)."""
    shown: list[ChatCompletionMessageParam] = []
    texts: dict[str, object] = {}
    for number, message in enumerate(messages):
        content = message.get("content")
        if isinstance(content, str):
            name = f"_message_{number}"
            texts[name] = content
            message = typing.cast(ChatCompletionMessageParam, {**message, "content": "{{ " + name + " }}"})
        shown.append(message)
    return shown, {**context, **texts}


def _json_text(content: str) -> str:
    """The JSON in a free-text answer: after a ```json fence if there is one, else from the first
    brace (an answer cut off at ``max_tokens`` has no closing fence)."""
    fenced = content.split("```json", 1)
    text = fenced[1] if len(fenced) == 2 else content[content.find("{"):] if "{" in content else content
    return text.split("```", 1)[0]


def _token_logprobs(completion: ChatCompletion) -> list[ChatCompletionTokenLogprob]:
    choice = completion.choices[0] if completion.choices else None
    return list(choice.logprobs.content or []) if choice is not None and choice.logprobs is not None else []


def _invalid_output_reason(error: InstructorRetryException | IncompleteOutputException) -> str:
    """What was wrong with the last answer ("claims.1.sentences: Field required"); the
    exception's own text starts with an XML dump of every attempt, useless in a warning."""
    attempts = getattr(error, "failed_attempts", None) or []
    cause = attempts[-1].exception if attempts else error.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        first = cause.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return (f"{where}: {first['msg']}" if where else first["msg"])[:300]
    return _first_line(cause or error)


def _without_choices(completion: object) -> bool:
    return completion is not None and isinstance(getattr(completion, "choices", None), list) and not completion.choices  # type: ignore[attr-defined]


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def _valid_items(response_model: type[T], data: object) -> T:
    """Validate without the article context, whose checks are what kept failing. A model that
    holds one list (claims, denials) keeps the items that validate on their own."""
    fields = list(response_model.model_fields.items())
    if len(fields) != 1 or typing.get_origin(fields[0][1].annotation) is not list:
        return response_model.model_validate(data)  # e.g. verdicts keyed by claim id: all or nothing
    [(name, field)] = fields
    if not isinstance(data, dict) or not isinstance(data.get(name), list):
        raise ValueError("tool arguments hold no list of items")
    item_model = typing.get_args(field.annotation)[0]
    given = data.get(name, [])
    items = [item for item in given if _validates(item_model, item)]
    if given and not items:
        raise ValueError(f"none of the {len(given)} {name} validates")
    return response_model.model_validate({name: items})


def _validates(model: type[BaseModel], item: object) -> bool:
    try:
        model.model_validate(item)
    except ValidationError:
        return False
    return True
