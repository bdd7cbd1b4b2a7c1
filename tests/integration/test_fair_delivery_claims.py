"""Issue 14, finding 13: delivery claims are fair across distributors, and endpoints are capped.

A tenant with many endpoints and older deliveries took whole batches under claim_deliveries_v1
(red before the fix: the batch held only the busy tenant's deliveries)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest

from worker.core.queries import load

SECRET = "whsec_" + "A" * 40


def _tenant(conn: psycopg.Connection[Any], endpoints: int, due: int, age: str) -> uuid.UUID:
    d = conn.execute("insert into public.distributors (slug, name) values (%s, 'D') returning id",
                     (f"f-{uuid.uuid4().hex[:8]}",)).fetchone()[0]  # type: ignore[index]
    for n in range(endpoints):
        e = conn.execute("insert into public.webhook_endpoints (distributor_id, url, secret, max_concurrency)"
                         " values (%s, %s, %s, 100) returning id", (d, f"https://e{n}.example/hook", SECRET)).fetchone()[0]  # type: ignore[index]
        conn.execute("insert into public.webhook_deliveries (distributor_id, endpoint_id, event_id, event_type, payload,"
                     " next_attempt_at) select %s, %s, 'evt_' || g, 'order.created', '\\x7b7d',"
                     " now() - %s::interval - make_interval(secs => g) from generate_series(1, %s) g",
                     (d, e, age, due))
    return d


def test_a_busy_tenant_does_not_take_the_whole_batch(conn: psycopg.Connection[Any]) -> None:
    conn.execute("update public.webhook_deliveries set state = 'succeeded' where state = 'pending'")  # others' leftovers
    busy = _tenant(conn, endpoints=8, due=20, age="1 hour")
    quiet = _tenant(conn, endpoints=1, due=3, age="1 minute")
    query = load("webhooks.sql")["claim_deliveries"]

    rows = conn.execute(query, {"worker_id": "w", "batch": 10, "lease_seconds": 60}).fetchall()

    per_tenant = Counter(row[1] for row in rows)
    assert len(rows) == 10
    assert per_tenant[quiet] == 3 and per_tenant[busy] == 7


def test_a_distributor_has_at_most_20_endpoints(conn: psycopg.Connection[Any]) -> None:
    d = _tenant(conn, endpoints=20, due=0, age="0 seconds")
    with pytest.raises(psycopg.errors.CheckViolation, match="at most 20"):
        conn.execute("insert into public.webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                     (d, "https://one-more.example/hook", SECRET))
