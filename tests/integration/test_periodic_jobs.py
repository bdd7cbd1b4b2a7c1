"""Issue 14, finding 11: one tenant's bad data never stops a periodic job for the others.

A distributor whose time zone is no time zone (written before the database validated it) made
refresh_rollups_v1 fail for every tenant (red before the fix: refresh_rollups raised). Now each
distributor is refreshed in its own transaction, the bad one is logged and skipped."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import date

import psycopg
import pytest

from worker.core.repository import Repository
from worker.rollups import refresh_rollups

SINCE = date(2026, 11, 1)


@pytest.fixture
async def repo(fresh_db_url: str) -> AsyncIterator[Repository]:
    repository = Repository(fresh_db_url, min_size=1, max_size=2)
    await repository.open()
    try:
        yield repository
    finally:
        await repository.close()


async def test_a_tenant_with_a_broken_time_zone_does_not_stop_the_others_roll_ups(
    repo: Repository, fresh_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        good, bad = (conn.execute("insert into distributors (slug, name) values (%s, 'D') returning id",
                                  (f"d-{uuid.uuid4().hex[:8]}",)).fetchone()[0] for _ in range(2))  # type: ignore[index]
        for d in (good, bad):
            conn.execute("insert into ai_usage_metrics (distributor_id, provider, model, prompt_version, cost_micro_usd,"
                         " latency_ms, period, occurred_at) values (%s, 'openai', 'gpt-x', 'v1', 100, 10,"
                         " date_trunc('month', now())::date, now())", (d,))
        # A zone written before the check existed: the trigger is bypassed the way old data got in.
        conn.execute("alter table distributors disable trigger check_distributor_settings")
        conn.execute("update distributors set timezone = 'Mars/Olympus' where id = %s", (bad,))
        conn.execute("alter table distributors enable trigger check_distributor_settings")

    with caplog.at_level(logging.WARNING, logger="orderflow.rollups"):
        done = await refresh_rollups(repo, SINCE)

    assert done.failed == 1
    with psycopg.connect(fresh_db_url) as conn:
        rows = conn.execute("select distributor_id, calls from ai_model_performance").fetchall()
    assert rows == [(good, 1)]
    assert [(r.action, r.distributor_id) for r in caplog.records if getattr(r, "action", "") == "rollups_failed"] == [  # type: ignore[attr-defined]
        ("rollups_failed", str(bad))]
