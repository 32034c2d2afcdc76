"""What a model's tokens cost (USD per 1M input, cached-input and output tokens): the user's
``[prices]`` table over each backend's own (``ModelPrice``, the type of a ``[prices]`` setting, is
defined with the settings)."""

from pipeline.llm.backends import registered
from pipeline.settings import ModelPrice

__all__ = ["BATCH_DISCOUNT", "ModelPrice", "price_for"]

BATCH_DISCOUNT = 0.5  # the OpenAI Batch API bills half the live price


def price_for(backend: str, model: str, overrides: dict[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of ``model``: the user's table by its exact name, then the backend's own (the
    openai backend's list prices, longest matching prefix; the embedded model is free), then the
    user's table by the longest name ``model`` starts with. None: no price known."""
    table = overrides or {}
    if model in table:
        return table[model]
    known = registered(backend)
    if known is not None and (price := known.price(model)) is not None:
        return price
    prefixes = sorted((name for name in table if model.startswith(name)), key=len, reverse=True)
    return table[prefixes[0]] if prefixes else None
