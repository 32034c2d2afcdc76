"""The spending limit of a run (``--budget``): estimated before an article starts, settled with its bill."""

import math
from collections import deque

from pipeline.llm.prices import ModelPrice
from pipeline.text.ingest import Article
from schemas import Usage

# Budget estimate before anything is measured: tokens of one call's fixed part
# (instructions, worked example, tool schema) and of one call's answer.
CALL_OVERHEAD_TOKENS = 1_300
CALL_OUTPUT_TOKENS = 400


class Budget:
    """Spent + reserved for articles in flight + this article's estimate must stay within the limit.

    Once three fully live articles are billed, an article is estimated at the largest cost of a
    recent billed article, scaled up in proportion for an article longer than it: an upper bound
    whenever an article costs no more than a billed one at least as long (each call's fixed part
    makes cost grow slower than length). An average cost per character would not be one: it
    under-estimates every article shorter than the average, and the last one started passes the
    budget."""

    MEASURED = 256  # billed articles the estimate looks at: the most recent ones

    def __init__(self, limit: float | None, price: ModelPrice | None, *, calls_per_window: int, window_chars: int):
        """``calls_per_window``: LLM calls per context window of ``window_chars`` characters, from the
        stages the run makes (``pipeline.stages.registry.calls_per_window``)."""
        self.limit = limit
        self.price = price
        self.calls_per_window = calls_per_window
        self.window_chars = window_chars
        self.spent = 0.0
        self.reserved = 0.0
        self._billed: deque[tuple[float, int]] = deque(maxlen=self.MEASURED)  # (cost, chars)

    def estimate(self, article: Article) -> float:
        return self.estimate_chars(len(article.text))

    def estimate_chars(self, chars: int) -> float:
        if self.price is None:
            return 0.0
        if len(self._billed) >= 3:  # measured, fixed part included
            return max(cost * max(1.0, chars / max(1, billed)) for cost, billed in self._billed)
        return self.rough(chars)[1]

    def rough(self, chars: int) -> tuple[int, float]:
        """An article's calls and cost before anything is measured: each call's fixed part and
        answer, and each stage reading the article once (window by window)."""
        calls = self.calls_per_window * max(1, math.ceil(chars / self.window_chars))
        if self.price is None:
            return calls, 0.0
        prompt = calls * CALL_OVERHEAD_TOKENS + self.calls_per_window * (chars // 4)
        return calls, self.price.cost(prompt, 0, calls * CALL_OUTPUT_TOKENS)

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, bill: Usage, chars: int) -> None:
        self.reserved -= estimate
        self.spent += bill.cost_usd
        if bill.calls and not bill.cache_hits:  # only fully live articles say what an article costs
            self._billed.append((bill.cost_usd, chars))
