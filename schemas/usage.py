"""What LLM calls used: one type for one call, a stage, an article, a dataset and a whole run (as
pydantic-ai's ``usage.py``: one module, one vocabulary), added with ``+``.

Per-stage usage is a mapping stage name -> :class:`Usage` wherever it is kept: a result's
``run.usage``, run.json's ``by_stage``, usage.jsonl's ``stages``. All of them write it the one way
pydantic does (``model_dump(mode="json")``), so a stage's usage has the same fields in every file.

Two instruments fill it, each the fields it can see. The stages (a result's ``run.usage``) count
every answer they get, from the server or the response cache, as a call, with its tokens and the
stage's wall time; they cannot see cache hits, failed attempts or prices, so those stay 0 there.
The run's meter (run.json, usage.jsonl) sees each HTTP exchange: the billed answers as calls, the
cache's as cache hits, the failures, the cost, and the seconds its requests took.
"""

from collections.abc import Iterable
from typing import Annotated, Self

from pydantic import BaseModel, Field, PlainSerializer

# Written to the micro-dollar and the millisecond, whoever writes them.
Dollars = Annotated[float, PlainSerializer(lambda usd: round(usd, 6), return_type=float)]
Seconds = Annotated[float, PlainSerializer(lambda seconds: round(seconds, 3), return_type=float)]


class Usage(BaseModel):
    calls: int = Field(default=0, description="Answers from the model, instructor's re-asks included.")
    cache_hits: int = Field(default=0, description="Answers from the response cache, free (counted by the meter).")
    failed_attempts: int = Field(
        default=0, description="429s, 5xx, timeouts, dropped connections: retried, not billed (counted by the meter)."
    )
    prompt_tokens: int = Field(default=0, description="Tokens sent to the model.")
    completion_tokens: int = Field(default=0, description="Tokens the model wrote.")
    cached_tokens: int = Field(default=0, description="Prompt tokens the server reports as served from its cache.")
    cost_usd: Dollars = Field(
        default=0.0, description="Estimated USD at the model's price (counted by the meter; 0 with no price known)."
    )
    seconds: Seconds = Field(
        default=0.0, description="Wall time: the stage's in a result file, its requests' in the meter's bill."
    )

    def __add__(self, other: "Usage") -> "Usage":
        total = {name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields}
        total["seconds"] = round(total["seconds"], 3)
        return type(self)(**total)

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def total(cls, usages: Iterable["Usage"]) -> Self:
        """The sum of ``usages`` (zero for none)."""
        return sum(usages, cls())
