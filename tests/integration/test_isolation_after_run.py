"""Tenant isolation after a real mixed run: three distributors' messages through the worker.

The RLS matrix (test_rls_matrix.py) proves the policies on one seeded row per table; this test
proves them on the data the platform itself wrote. About 300 messages of the three eval
distributors go through the in-process worker (offline analyzer), each distributor with a webhook
endpoint (so the outbox fills; nothing delivers it). Then, for every public table with a
distributor_id (from the catalog) and every distributor, an admin of that distributor sees
exactly the rows the service role counts for the distributor and not one row of another; anon
sees nothing. Tables the run left empty for a distributor get one seeded row first (the
catalog-driven seeder of the RLS matrix), so no table is judged on nothing. The users, the seeded
rows and the reads live in one transaction that is rolled back.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from ai.offline.analyzer import OfflineAnalyzer
from tests.support.flow import SLUGS, seed_messages
from tests.support.tenants import (
    SERVICE_ROLE,
    TENANT_KEY,
    TEST_WHSEC,
    Table,
    create_user,
    impersonate,
    load_catalog,
    seed_tenant_rows,
)
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.runtime import build_worker

MESSAGES = 300
WRITTEN_BY_THE_RUN = {  # tables the catalog import, intake and worker must have filled for every distributor
    "customers", "conversations", "messages", "pii_detection_results", "ai_responses", "ai_usage_metrics",
    "product_matching_history", "orders", "order_products", "webhook_deliveries", "distributor_usage", "products",
}


async def _run_worker(url: str, eval_dir: Path) -> dict[str, str]:
    async with Repository(url, min_size=1, max_size=8) as repo:
        ids, _ = await seed_messages(repo, eval_dir, MESSAGES)
        with psycopg.connect(url, autocommit=True) as conn:
            for slug, distributor_id in ids.items():
                conn.execute("insert into webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                             (distributor_id, f"https://hooks.example.invalid/{slug}", TEST_WHSEC))
        worker = build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=16, retry_base=0,
                              worker_id="isolation")
        stats = await worker.run(until_idle=True)
    assert stats.processed == MESSAGES
    return ids


def _counts(conn: psycopg.Connection[Any], table: Table, actor: uuid.UUID | Literal["service_role"] | None,
            distributor_id: str) -> tuple[int, int] | str:
    """(rows of the distributor, rows of any other distributor) visible to `actor`, or the error."""
    query = sql.SQL("select count(*) filter (where {key} = %(d)s), count(*) filter (where {key} is distinct from %(d)s)"
                    " from {table}").format(key=sql.Identifier(TENANT_KEY), table=table.ident)
    with impersonate(conn, actor):
        try:
            with conn.transaction():
                row = conn.execute(query, {"d": distributor_id}).fetchone()
        except psycopg.errors.InsufficientPrivilege as exc:
            return str(exc).splitlines()[0]
    assert row is not None
    return int(row[0]), int(row[1])


def _service_counts(conn: psycopg.Connection[Any], tables: list[Table], ids: dict[str, str]) -> dict[tuple[str, str], int]:
    """(table, slug) -> rows of the distributor, as the service role counts them."""
    counts = {}
    for table in tables:
        for slug, distributor_id in ids.items():
            owned = _counts(conn, table, SERVICE_ROLE, distributor_id)
            assert not isinstance(owned, str), f"{table.name}: the service role cannot read it: {owned}"
            counts[table.name, slug] = owned[0]
    return counts


async def test_each_distributor_sees_exactly_its_own_rows_after_a_mixed_run(fresh_db_url: str, eval_dir: Path) -> None:
    ids = await _run_worker(fresh_db_url, eval_dir)
    assert set(ids) == set(SLUGS)
    problems: list[str] = []
    with psycopg.connect(fresh_db_url) as conn, conn.transaction(force_rollback=True):
        catalog = load_catalog(conn)
        tables = catalog.of_kind("tenant")
        assert len(tables) > 30, "the catalog should list every tenant table"
        by_run = _service_counts(conn, tables, ids)
        for slug in ids:
            missing = sorted(WRITTEN_BY_THE_RUN - {t.name for t in tables if by_run[t.name, slug]})
            assert not missing, f"the run wrote no {missing} rows for {slug}"
        # one row more in each table the run left empty, so no table is checked on nothing
        for slug, distributor_id in ids.items():
            empty = [t.name for t in tables if not by_run[t.name, slug]]
            seed_tenant_rows(conn, uuid.UUID(distributor_id), tables=empty, catalog=catalog)
        admin_role = catalog.roles[-1][0]
        admins = {slug: create_user(conn, uuid.UUID(distributor_id), admin_role) for slug, distributor_id in ids.items()}
        owned = _service_counts(conn, tables, ids)
        for table in tables:
            for slug, distributor_id in ids.items():
                assert owned[table.name, slug] > 0, f"{table.name} has no row of {slug}"
                seen = _counts(conn, table, admins[slug], distributor_id)
                if isinstance(seen, str):
                    problems.append(f"{table.name}: {slug}'s admin cannot read it: {seen}")
                elif seen[1]:
                    problems.append(f"LEAK {table.name}: {slug}'s admin sees {seen[1]} rows of other distributors")
                elif seen[0] != owned[table.name, slug]:
                    problems.append(f"{table.name}: {slug}'s admin sees {seen[0]} of its {owned[table.name, slug]} rows")
            anon = _counts(conn, table, None, next(iter(ids.values())))
            if not isinstance(anon, str) and anon[0] + anon[1]:
                problems.append(f"LEAK {table.name}: anon sees {anon[0] + anon[1]} rows")
        distributors = catalog.tables["distributors"]
        for slug, distributor_id in ids.items():
            with impersonate(conn, admins[slug]):
                rows = conn.execute(sql.SQL("select id::text from {}").format(distributors.ident)).fetchall()
            if rows != [(distributor_id,)]:
                problems.append(f"distributors: {slug}'s admin sees {rows}")

    assert not problems, "\n".join(problems)
    rows_by_run = sum(by_run.values())
    print(f"\nisolation after {MESSAGES} messages: {len(tables)} tenant tables x {len(ids)} distributors checked, "
          f"{rows_by_run} rows written by the run, "
          f"{sum(owned.values()) - rows_by_run} seeded where the run left a table empty")
