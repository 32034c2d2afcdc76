"""The spending limit of a run (``--budget``): estimated before an article starts, settled with its bill."""

from pipeline.llm.prices import ModelPrice
from pipeline.llm.usage import Usage
from pipeline.text.ingest import Article

# Budget estimate before anything is measured: tokens of one call's fixed part
# (instructions, worked example, tool schema) and of one call's answer.
CALL_OVERHEAD_TOKENS = 1_300
CALL_OUTPUT_TOKENS = 400
CALLS_PER_ARTICLE = 3


class Budget:
    """Spent + reserved for articles in flight + this article's estimate must stay within the limit."""

    def __init__(self, limit: float | None, price: ModelPrice | None):
        self.limit = limit
        self.price = price
        self.spent = 0.0
        self.reserved = 0.0
        self._billed_cost = 0.0
        self._billed_chars = 0
        self._billed = 0

    def estimate(self, article: Article) -> float:
        if self.price is None:
            return 0.0
        chars = len(article.text)
        if self._billed >= 3:  # measured cost per character, fixed part included
            return self._billed_cost / self._billed_chars * chars if self._billed_chars else 0.0
        prompt = CALLS_PER_ARTICLE * (CALL_OVERHEAD_TOKENS + chars // 4)
        return self.price.cost(prompt, 0, CALLS_PER_ARTICLE * CALL_OUTPUT_TOKENS)

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, bill: Usage, chars: int) -> None:
        self.reserved -= estimate
        self.spent += bill.cost_usd
        if bill.calls and not bill.cache_hits:  # only fully live articles say what an article costs
            self._billed += 1
            self._billed_cost += bill.cost_usd
            self._billed_chars += chars
