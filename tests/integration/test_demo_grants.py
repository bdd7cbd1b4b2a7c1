"""Issue 14, finding 14: `orderflow db reset` (and so `make demo`) leaves the grants a migrated
Supabase project holds, so a distributor's staff read their own rows on the demo database and
nothing of another tenant's. Before the fix, reset dropped schema public and Supabase's default
privileges with it: staff got "permission denied" on every table (red, run before the fix)."""

from __future__ import annotations

import psycopg

from tests.support.tenants import impersonate
from worker.core.settings import load_settings
from worker.db.migrate import reset

AURORA_STAFF = "b1000000-0000-4000-8000-000000000002"  # supabase/seed.sql


def test_staff_read_their_own_rows_on_the_reset_database(fresh_db_url: str) -> None:
    settings = load_settings()
    reset(fresh_db_url, settings.migrations_dir, settings.migrations_dir.parent / "seed.sql")
    with psycopg.connect(fresh_db_url) as conn:
        aurora, other = (conn.execute("select id from public.distributors where slug = %s", (s,)).fetchone()[0]  # type: ignore[index]
                         for s in ("aurora", "lakeside"))
        for d in (aurora, other):
            conn.execute(
                "with c as (select id from public.customers where distributor_id = %(d)s limit 1),"
                " v as (insert into public.conversations (distributor_id, customer_id, channel, handle)"
                "       select %(d)s, id, 'whatsapp', 'h1:' || gen_random_uuid() from c returning id, customer_id),"
                " m as (insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel,"
                "       body_redacted) select %(d)s, v.id, v.customer_id, 'inbound', 'whatsapp', 'hola' from v returning id)"
                " insert into public.orders (distributor_id, customer_id, currency) select %(d)s, customer_id, 'MXN' from v",
                {"d": d})
        with impersonate(conn, AURORA_STAFF):  # type: ignore[arg-type]
            seen = {table: conn.execute(
                f"select distinct distributor_id from public.{table}").fetchall()  # noqa: S608
                for table in ("orders", "customers", "messages")}
    assert seen == {table: [(aurora,)] for table in ("orders", "customers", "messages")}
