"""A distributor's monthly AI budget: the amount (USD), soft (alerts only) or hard (stop paid
analysis and send messages to review), and the alert thresholds in percent."""

from __future__ import annotations

from dataclasses import dataclass

from worker.admin import distributors
from worker.admin.errors import AdminError
from worker.core.repository import Repository

MODES = ("soft", "hard")
DEFAULT_THRESHOLDS = (50, 80, 100)  # percent of the monthly budget
MICRO_USD = 1_000_000


@dataclass(frozen=True, kw_only=True)
class Budget:
    distributor_slug: str
    monthly_micro_usd: int
    mode: str
    thresholds: tuple[int, ...]


def parse_thresholds(text: str | None) -> tuple[int, ...]:
    if text is None:
        return DEFAULT_THRESHOLDS
    try:
        values = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise AdminError(f"thresholds {text!r}: whole percentages separated by commas, like 50,80,100") from None
    if not values or values[0] <= 0:
        raise AdminError(f"thresholds {text!r}: at least one, each above 0")
    return values


async def set_budget(repo: Repository, *, distributor_slug: str, monthly_usd: float, mode: str,
                     thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS) -> Budget:
    if mode not in MODES:
        raise AdminError(f"mode {mode!r}: soft or hard")
    micro = round(monthly_usd * MICRO_USD)
    if micro <= 0:
        raise AdminError(f"--monthly-usd must be above 0, got {monthly_usd}")
    distributor_id = await distributors.resolve(repo, distributor_slug)
    row = await repo.fetch_one("ops_set_budget", distributor_id=distributor_id, micro_usd=micro, mode=mode,
                               thresholds=list(thresholds))
    assert row is not None
    return Budget(distributor_slug=distributor_slug, monthly_micro_usd=int(row["monthly_budget_micro_usd"]),
                  mode=str(row["mode"]), thresholds=tuple(row["thresholds"]))


__all__ = ["DEFAULT_THRESHOLDS", "MODES", "Budget", "parse_thresholds", "set_budget"]
