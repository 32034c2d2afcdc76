"""Prices per model (USD per 1M input, cached-input and output tokens), overridable by the user
(``ModelPrice``, the type of a ``[prices]`` setting, is defined with the settings)."""

from pipeline.settings import ModelPrice

BATCH_DISCOUNT = 0.5  # the OpenAI Batch API bills half the live price
FREE = ModelPrice(input=0, cached_input=0, output=0)

# Published list prices (USD / 1M tokens) when this table was written; override them in
# factcheck.toml ([prices."model-name"] input = ..., cached_input = ..., output = ...).
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, cached_input=0.075, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, cached_input=1.25, output=10.00),
    "gpt-4.1-nano": ModelPrice(input=0.10, cached_input=0.025, output=0.40),
    "gpt-4.1-mini": ModelPrice(input=0.40, cached_input=0.10, output=1.60),
    "gpt-4.1": ModelPrice(input=2.00, cached_input=0.50, output=8.00),
    "gpt-5-nano": ModelPrice(input=0.05, cached_input=0.005, output=0.40),
    "gpt-5-mini": ModelPrice(input=0.25, cached_input=0.025, output=2.00),
    "gpt-5": ModelPrice(input=1.25, cached_input=0.125, output=10.00),
}


def price_for(backend: str, model: str, overrides: dict[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of ``model``: user table first, then the defaults, longest matching prefix
    (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``). The embedded model is free;
    an unknown model has no price (None)."""
    table = {**DEFAULT_PRICES, **(overrides or {})}
    if model in table:
        return table[model]
    if backend == "embedded":
        return FREE
    prefixes = sorted((name for name in table if model.startswith(name)), key=len, reverse=True)
    return table[prefixes[0]] if prefixes else None
