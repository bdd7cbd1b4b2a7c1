"""What one AI call cost, from a versioned price table. Pure: no I/O, no clock.

The table itself is data in the database (public.ai_model_prices, filled by the migration
20261205100100_model_prices.sql and later ones); the worker loads it and passes it in.

Prices are integer micro-USD per million tokens (1 USD = 1_000_000 micro-USD), so a price of
$0.15 / 1M tokens is 150_000. Costs are integer micro-USD, rounded half up. A price row applies
from its `effective_from` date until a later row for the same provider and model replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ai.analyzer import Usage

OFFLINE_PROVIDER = "offline"  # the offline analyzer: never billed
TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are per million tokens


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    provider: str
    model: str
    effective_from: date
    input_per_mtok_micro_usd: int
    cached_input_per_mtok_micro_usd: int
    output_per_mtok_micro_usd: int

    def __post_init__(self) -> None:
        rates = (
            self.input_per_mtok_micro_usd,
            self.cached_input_per_mtok_micro_usd,
            self.output_per_mtok_micro_usd,
        )
        if min(rates) < 0:
            raise ValueError(f"negative price for {self.provider}/{self.model}")


def price_for(prices: Sequence[ModelPrice], provider: str, model: str, at: date) -> ModelPrice | None:
    """The row in force on `at`: the latest effective_from on or before it, or None."""
    in_force = [p for p in prices if p.provider == provider and p.model == model and p.effective_from <= at]
    return max(in_force, key=lambda p: p.effective_from, default=None)


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def cost_micro_usd(usage: Usage, price: ModelPrice) -> int:
    """Cached input tokens at the cached rate, the rest of the input at the input rate, plus output."""
    if usage.provider == OFFLINE_PROVIDER:
        return 0
    if (usage.provider, usage.model) != (price.provider, price.model):
        raise ValueError(f"price for {price.provider}/{price.model} used for {usage.provider}/{usage.model}")
    tokens = (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens)
    if min(tokens) < 0:
        raise ValueError(f"negative token count in {usage}")
    cached = min(usage.cached_input_tokens, usage.input_tokens)
    uncached = usage.input_tokens - cached
    numerator = (
        uncached * price.input_per_mtok_micro_usd
        + cached * price.cached_input_per_mtok_micro_usd
        + usage.output_tokens * price.output_per_mtok_micro_usd
    )
    return _round_half_up(numerator, TOKENS_PER_PRICE_UNIT)


def usage_cost_micro_usd(usage: Usage, prices: Sequence[ModelPrice], at: date) -> int | None:
    """Cost of `usage` on day `at`: 0 offline, None when the table has no price for the model."""
    if usage.provider == OFFLINE_PROVIDER:
        return 0
    price = price_for(prices, usage.provider, usage.model, at)
    return None if price is None else cost_micro_usd(usage, price)


__all__ = [
    "OFFLINE_PROVIDER",
    "ModelPrice",
    "cost_micro_usd",
    "price_for",
    "usage_cost_micro_usd",
]
