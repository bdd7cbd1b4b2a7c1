"""Roll-ups the worker refreshes: AI performance per model and per prompt version per day
(calls, latency, cost, and accuracy from staff reviews), and distributor_usage per month.

`refresh_rollups` runs the `refresh_rollups` named query once per distributor (its function: migrations
20261123095100_rollups.sql and 20261205110200_integrations_notify_settings.sql): it recomputes every day since `since` from ai_usage_metrics, ai_responses and ai_training_data,
with INSERT … ON CONFLICT DO UPDATE, so calling it again changes nothing. Days are the
distributor's; call it with yesterday (`default_since`) so a day that just ended in some time
zone, and reviews of yesterday's analyses, are counted. Reviews of older analyses are picked
up too: the days of analyses reviewed since `since` are recomputed as well.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

from worker.core.repository import Refused, Repository

ROLLUP_INTERVAL = 300.0  # seconds between refreshes a worker loop should wait
ROLLUP_LOOKBACK = timedelta(days=1)  # how far back a periodic refresh recomputes

log = logging.getLogger("orderflow.rollups")


@dataclass(frozen=True, kw_only=True)
class RollupRefresh:
    """Rows the refresh changed (inserted or updated with new numbers; removed when their source is gone)."""

    model_rows: int
    prompt_rows: int
    usage_rows: int
    removed: int
    failed: int = 0  # distributors whose refresh failed (logged, skipped)

    @property
    def changed(self) -> int:
        return self.model_rows + self.prompt_rows + self.usage_rows + self.removed


def default_since(now: datetime | None = None) -> date:
    """Yesterday (UTC): what a periodic refresh recomputes."""
    return ((now or datetime.now(UTC)).astimezone(UTC) - ROLLUP_LOOKBACK).date()


async def refresh_rollups(repo: Repository, since: date) -> RollupRefresh:
    """Recompute the roll-ups since `since`, one distributor per transaction; returns what changed.

    A distributor whose refresh fails (bad data of one tenant) is logged and skipped: the others
    are refreshed all the same. An unreachable database still stops the round (DatabaseUnavailable)."""
    totals = {"model_rows": 0, "prompt_rows": 0, "usage_rows": 0, "removed": 0}
    failed = 0
    for tenant in await repo.fetch_all("all_distributors"):
        try:
            row = await repo.fetch_one("refresh_rollups_one", since=since, distributor_id=tenant["id"])
        except (psycopg.DatabaseError, Refused) as exc:  # Refused: the repository's name for a refusal
            if isinstance(exc, psycopg.OperationalError):
                raise
            failed += 1
            log.warning("rollups failed for one distributor", extra={
                "action": "rollups_failed", "distributor_id": str(tenant["id"]), "sqlstate": exc.sqlstate})
            continue
        result = row["result"] if row else {}
        for key in totals:
            totals[key] += int(result.get(key, 0))
    done = RollupRefresh(model_rows=totals["model_rows"], prompt_rows=totals["prompt_rows"],
                         usage_rows=totals["usage_rows"], removed=totals["removed"], failed=failed)
    log.info("rollups refreshed", extra={"action": "rollups_refreshed", "since": since.isoformat(),
                                         "model_rows": done.model_rows, "prompt_rows": done.prompt_rows,
                                         "usage_rows": done.usage_rows, "removed": done.removed,
                                         "failed": done.failed})
    return done


__all__ = ["ROLLUP_INTERVAL", "ROLLUP_LOOKBACK", "RollupRefresh", "default_since", "refresh_rollups"]
