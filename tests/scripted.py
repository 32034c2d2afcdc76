"""A stage run against a scripted model: each request gets the tool arguments a test chose."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx2
import openai

from pipeline.llm.client import LLM
from pipeline.testing.fake_openai import completion

T = TypeVar("T")
Body = dict[str, object]


def run_scripted(
    answer: Callable[[Body], str],
    call: Callable[[LLM], Awaitable[T]],
    *,
    json_as_text: bool = False,
    cut_off: bool = False,
) -> T:
    """Run ``call`` with an LLM whose server answers each request body with ``answer(body)``: as
    tool-call arguments, or (``json_as_text``: the LLM asks as for the embedded model) as text;
    ``cut_off``: every answer stopped at max_tokens."""

    def server(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        reply = completion(body, answer(body))
        if cut_off:  # the answer reached max_tokens
            reply["choices"][0]["finish_reason"] = "length"  # type: ignore[index]
        return httpx2.Response(200, json=reply)

    llm = LLM(backend="openai", base_url="http://model.test/v1", api_key="test", model="fake",
              json_as_text=json_as_text,
              http_client=openai.DefaultAsyncHttpxClient(transport=httpx2.MockTransport(server)))

    async def go() -> T:
        try:
            return await call(llm)
        finally:
            await llm.close()

    return asyncio.run(go())
