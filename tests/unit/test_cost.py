"""Cost of AI calls from the versioned price table."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ai.analyzer import Usage
from ai.cost import ModelPrice, cost_micro_usd, price_for, usage_cost_micro_usd

OLD = ModelPrice(
    provider="openai",
    model="gpt-4o-mini",
    effective_from=date(2024, 7, 18),
    input_per_mtok_micro_usd=150_000,
    cached_input_per_mtok_micro_usd=75_000,
    output_per_mtok_micro_usd=600_000,
)
NEW = replace(OLD, effective_from=date(2025, 6, 1), input_per_mtok_micro_usd=100_000)
OTHER = replace(OLD, model="gpt-4.1-mini", effective_from=date(2025, 1, 1))
TABLE = (NEW, OTHER, OLD)  # order does not matter


def usage(input_tokens: int = 0, output_tokens: int = 0, cached: int = 0, **kwargs: str) -> Usage:
    fields = {"provider": "openai", "model": "gpt-4o-mini", **kwargs}
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cached_input_tokens=cached, **fields)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (date(2024, 7, 17), None),  # before the first row
        (date(2024, 7, 18), OLD),  # on its first day
        (date(2025, 5, 31), OLD),
        (date(2025, 6, 1), NEW),
        (date(2030, 1, 1), NEW),
    ],
)
def test_price_for_picks_the_latest_row_in_force(at: date, expected: ModelPrice | None) -> None:
    assert price_for(TABLE, "openai", "gpt-4o-mini", at) == expected


def test_price_for_matches_provider_and_model() -> None:
    assert price_for(TABLE, "openai", "gpt-4.1-mini", date(2025, 7, 1)) == OTHER
    assert price_for(TABLE, "openai", "gpt-5", date(2025, 7, 1)) is None
    assert price_for(TABLE, "azure", "gpt-4o-mini", date(2025, 7, 1)) is None
    assert price_for((), "openai", "gpt-4o-mini", date(2025, 7, 1)) is None


def test_cached_input_is_billed_at_the_cached_rate() -> None:
    # 800k uncached * $0.15/M + 200k cached * $0.075/M + 100k output * $0.60/M
    assert cost_micro_usd(usage(1_000_000, 100_000, cached=200_000), OLD) == 120_000 + 15_000 + 60_000


def test_a_typical_message() -> None:
    # 1800 in (1024 cached), 120 out: 776*0.15 + 1024*0.075 + 120*0.6 = 116.4 + 76.8 + 72 = 265.2
    assert cost_micro_usd(usage(1800, 120, cached=1024), OLD) == 265


@pytest.mark.parametrize(("tokens", "expected"), [(499_999, 0), (500_000, 1), (1_500_000, 2), (2_500_000, 3)])
def test_rounds_half_up(tokens: int, expected: int) -> None:
    one_micro = replace(OLD, input_per_mtok_micro_usd=1)  # 1 micro-USD per million tokens
    assert cost_micro_usd(usage(tokens), one_micro) == expected


def test_cached_count_above_input_is_clamped() -> None:
    assert (
        cost_micro_usd(usage(1000, cached=5000), OLD) == cost_micro_usd(usage(1000, cached=1000), OLD) == 75
    )


def test_zero_usage_costs_nothing() -> None:
    assert cost_micro_usd(usage(), OLD) == 0


def test_offline_usage_costs_nothing() -> None:
    offline = usage(5000, 800, provider="offline", model="rules-v1")
    assert cost_micro_usd(offline, OLD) == 0
    assert usage_cost_micro_usd(offline, TABLE, date(2025, 7, 1)) == 0


def test_price_for_another_model_is_refused() -> None:
    with pytest.raises(ValueError, match="gpt-4.1-mini"):
        cost_micro_usd(usage(1000), OTHER)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        cost_micro_usd(usage(-1), OLD)
    with pytest.raises(ValueError, match="negative"):
        replace(OLD, output_per_mtok_micro_usd=-1)


def test_usage_cost_looks_up_the_price_of_the_day() -> None:
    assert usage_cost_micro_usd(usage(1_000_000), TABLE, date(2025, 1, 1)) == 150_000
    assert usage_cost_micro_usd(usage(1_000_000), TABLE, date(2025, 7, 1)) == 100_000
    assert usage_cost_micro_usd(usage(1_000_000, model="gpt-5"), TABLE, date(2025, 7, 1)) is None
