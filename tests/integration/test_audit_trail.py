"""Audit trail: every write to a sensitive table leaves a data_access_audit row (actor, table, row,
action, values minus secrets); security events land in security_audit_log; both logs are
append-only for everyone and readable by the distributor's admins only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
import pytest
from psycopg import sql

from tests.support.tenants import SERVICE_ROLE, create_distributor, create_user, impersonate
from worker.core.queries import query

AUDIT_TABLES = ("data_access_audit", "security_audit_log")
WHSEC_1 = "whsec_" + "A" * 40
WHSEC_2 = "whsec_" + "B" * 40
INTEGRATION_SECRETS = {"verify_token": "verify-me-123", "app_secret": "app-secret-456",
                       "signing_secret": WHSEC_1, "access_token": "EAAB-access-789"}
SECRET_VALUES = (WHSEC_1, WHSEC_2, *INTEGRATION_SECRETS.values())


def slug() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def one(conn: psycopg.Connection[Any], statement: str | sql.Composed, params: Any = None) -> Any:
    row = conn.execute(statement, params).fetchone()
    assert row is not None
    return row[0]


@dataclass(frozen=True, kw_only=True)
class Tenant:
    id: uuid.UUID
    admin: uuid.UUID
    staff: uuid.UUID
    customer: uuid.UUID
    order: uuid.UUID


def tenant(conn: psycopg.Connection[Any]) -> Tenant:
    d = create_distributor(conn, slug())
    customer = one(conn, "insert into public.customers (distributor_id, name) values (%s, 'Shop') returning id", (d,))
    order = one(conn, "insert into public.orders (distributor_id, customer_id, currency) values (%s, %s, 'USD') returning id",
                (d, customer))
    return Tenant(id=d, admin=create_user(conn, d, "admin"), staff=create_user(conn, d, "staff"),
                  customer=customer, order=order)


# What an admin does to each sensitive table: insert (returns the id), update, delete.
Write = Callable[[psycopg.Connection[Any], Tenant], uuid.UUID]


def _insert_user_profile(conn: psycopg.Connection[Any], t: Tenant) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute("reset role")  # auth.users belongs to Supabase Auth; profiles come from the service (issue 14)
    conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, f"{user_id.hex}@example.invalid"))
    conn.execute("set local role service_role")
    conn.execute("insert into public.user_profiles (id, distributor_id, email, role) values (%s, %s, %s, 'viewer')",
                 (user_id, t.id, f"{user_id.hex}@example.invalid"))
    return user_id


INSERTS: dict[str, Write] = {
    "customers": lambda c, t: one(c, "insert into public.customers (distributor_id, name) values (%s, 'New') returning id",
                                  (t.id,)),
    "orders": lambda c, t: one(c, "insert into public.orders (distributor_id, customer_id, currency)"
                                  " values (%s, %s, 'USD') returning id", (t.id, t.customer)),
    "order_products": lambda c, t: one(c, "insert into public.order_products (distributor_id, order_id, line_no,"
                                          " customer_text, quantity) values (%s, %s, 1, 'coca 600', 2) returning id",
                                       (t.id, t.order)),
    "webhook_endpoints": lambda c, t: one(c, "insert into public.webhook_endpoints (distributor_id, url, secret)"
                                             " values (%s, 'https://example.invalid/hook', %s) returning id",
                                          (t.id, WHSEC_1)),
    "user_profiles": _insert_user_profile,
    "external_integrations": lambda c, t: one(
        c, "insert into public.external_integrations (distributor_id, kind, name, external_account_id, verify_token,"
           " app_secret, signing_secret, access_token) values (%(d)s, 'whatsapp_cloud', 'WA', %(x)s, %(verify_token)s,"
           " %(app_secret)s, %(signing_secret)s, %(access_token)s) returning id",
        {"d": t.id, "x": uuid.uuid4().hex, **INTEGRATION_SECRETS}),
}
UPDATES = {
    "customers": "set name = 'Renamed'",
    "orders": "set notes = 'call first'",
    "order_products": "set quantity = 3",
    "webhook_endpoints": f"set description = 'orders', secret = '{WHSEC_2}', previous_secret = '{WHSEC_1}'",
    "user_profiles": "set role = 'staff'",
    "external_integrations": "set name = 'WhatsApp', access_token = 'EAAB-rotated-000'",
}
SENSITIVE = tuple(INSERTS)
SERVICE_WRITTEN = frozenset({"user_profiles", "external_integrations"})  # clients may not insert them (issue 14)


def insert_update_delete(conn: psycopg.Connection[Any], t: Tenant, table: str) -> uuid.UUID:
    ident = sql.Identifier("public", table)
    with impersonate(conn, SERVICE_ROLE if table in SERVICE_WRITTEN else t.admin):
        row_id = INSERTS[table](conn, t)
        conn.execute(sql.SQL("update {} " + UPDATES[table] + " where id = %s").format(ident), (row_id,))
        conn.execute(sql.SQL("delete from {} where id = %s").format(ident), (row_id,))
    return row_id


def audit_rows(conn: psycopg.Connection[Any], table: str, row_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = conn.execute(
        "select action, actor_user_id, actor_role, distributor_id, old_values, new_values"
        " from public.data_access_audit where table_name = %s and row_id = %s", (table, row_id),
    ).fetchall()
    names = ("action", "actor_user_id", "actor_role", "distributor_id", "old_values", "new_values")
    return sorted((dict(zip(names, r, strict=True)) for r in rows), key=lambda r: ("insert", "update", "delete").index(r["action"]))


@pytest.mark.parametrize("table", SENSITIVE)
def test_each_write_to_a_sensitive_table_is_audited_with_the_user_as_actor(conn: psycopg.Connection[Any], table: str) -> None:
    t = tenant(conn)
    row_id = insert_update_delete(conn, t, table)

    rows = audit_rows(conn, table, row_id)

    assert [r["action"] for r in rows] == ["insert", "update", "delete"]
    actor = (None, "service_role") if table in SERVICE_WRITTEN else (t.admin, "authenticated")
    assert {(r["actor_user_id"], r["actor_role"], r["distributor_id"]) for r in rows} == {(*actor, t.id)}
    insert, update, delete = rows
    assert insert["old_values"] is None and insert["new_values"]["id"] == str(row_id)
    assert update["old_values"] != update["new_values"]
    assert update["old_values"]["id"] == update["new_values"]["id"] == str(row_id)
    assert delete["old_values"]["id"] == str(row_id) and delete["new_values"] is None


@pytest.mark.parametrize("table", ["webhook_endpoints", "external_integrations"])
def test_secrets_never_reach_the_audit_values(conn: psycopg.Connection[Any], table: str) -> None:
    t = tenant(conn)
    row_id = insert_update_delete(conn, t, table)

    rows = audit_rows(conn, table, row_id)

    assert len(rows) == 3
    secret_columns = {"secret", "previous_secret", *INTEGRATION_SECRETS}
    for r in rows:
        for values in (r["old_values"], r["new_values"]):
            if values is not None:
                assert not secret_columns & set(values), f"secret column in {r['action']} values"
                assert not any(s in json.dumps(values) for s in SECRET_VALUES), f"secret value in {r['action']} values"


def test_each_audit_trigger_strips_exactly_the_columns_commented_secret(conn: psycopg.Connection[Any]) -> None:
    triggers = dict(conn.execute(
        "select c.relname::text, t.tgargs from pg_trigger t join pg_class c on c.oid = t.tgrelid"
        " where t.tgname = 'audit_row_change' and c.relnamespace = 'public'::regnamespace"
    ).fetchall())
    commented: dict[str, set[str]] = {table: set() for table in triggers}
    for table, column in conn.execute(
        "select c.relname::text, a.attname::text from pg_attribute a join pg_class c on c.oid = a.attrelid"
        " where c.relnamespace = 'public'::regnamespace and a.attnum > 0 and not a.attisdropped"
        " and col_description(c.oid, a.attnum) like 'secret:%%'"
    ).fetchall():
        commented.setdefault(table, set()).add(column)

    assert set(triggers) == set(SENSITIVE)
    for table, args in triggers.items():
        stripped = {a.decode()[len("secret:"):] for a in bytes(args).split(b"\x00") if a.startswith(b"secret:")}
        assert stripped == commented[table], f"{table}: the trigger strips {stripped}, comments say {commented[table]}"
    assert commented["webhook_endpoints"] == {"secret", "previous_secret"}
    assert commented["external_integrations"] == {*INTEGRATION_SECRETS, "access_token_encrypted"}


def test_writes_without_a_jwt_are_audited_as_the_service(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    rows = audit_rows(conn, "orders", t.order)
    assert [(r["action"], r["actor_user_id"], r["actor_role"]) for r in rows] == [("insert", None, "service")]


def test_writes_of_another_tenant_s_rows_leave_no_audit_row(conn: psycopg.Connection[Any]) -> None:
    a, b = tenant(conn), tenant(conn)
    with impersonate(conn, b.admin):
        assert conn.execute("update public.customers set name = 'x' where id = %s", (a.customer,)).rowcount == 0
    assert [r["action"] for r in audit_rows(conn, "customers", a.customer)] == ["insert"]


# --- append-only ------------------------------------------------------------------------------------

def log_event(conn: psycopg.Connection[Any], distributor_id: uuid.UUID, event_type: str = "test_event") -> uuid.UUID:
    return one(conn, "select private.log_security_event(%s, %s, 'info', 'test', '{}')", (distributor_id, event_type))  # type: ignore[no-any-return]


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("statement", ["update {} set created_at = now() where distributor_id = %s",
                                       "delete from {} where distributor_id = %s"])
@pytest.mark.parametrize("who", ["service_role", "postgres", "admin"])
def test_audit_rows_cannot_be_changed_or_deleted(conn: psycopg.Connection[Any], table: str, statement: str, who: str) -> None:
    t = tenant(conn)
    log_event(conn, t.id)
    before = one(conn, sql.SQL("select count(*) from {} where distributor_id = %s").format(sql.Identifier("public", table)),
                 (t.id,))
    assert before > 0
    actor: uuid.UUID | Literal["service_role"] = t.admin if who == "admin" else "service_role"
    query_ = sql.SQL(statement).format(sql.Identifier("public", table))
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as err, conn.transaction():
        if who == "postgres":
            conn.execute(query_, (t.id,))
        else:
            with impersonate(conn, actor):
                conn.execute(query_, (t.id,))
    expected = "append-only" if who == "postgres" else "permission denied"
    assert expected in str(err.value)
    after = one(conn, sql.SQL("select count(*) from {} where distributor_id = %s").format(sql.Identifier("public", table)),
                (t.id,))
    assert after == before


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("who", ["service_role", "postgres"])
def test_audit_tables_cannot_be_truncated(conn: psycopg.Connection[Any], table: str, who: str) -> None:
    statement = sql.SQL("truncate {}").format(sql.Identifier("public", table))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        if who == "postgres":
            conn.execute(statement)
        else:
            with impersonate(conn, "service_role"):
                conn.execute(statement)


def test_deleting_a_distributor_deletes_its_audit_rows_and_no_others(conn: psycopg.Connection[Any]) -> None:
    a, b = tenant(conn), tenant(conn)
    for t in (a, b):
        insert_update_delete(conn, t, "customers")
        log_event(conn, t.id)
    counts = "select (select count(*) from public.data_access_audit where distributor_id = %(d)s)," \
             " (select count(*) from public.security_audit_log where distributor_id = %(d)s)"
    b_before = conn.execute(counts, {"d": b.id}).fetchone()

    conn.execute("delete from public.distributors where id = %s", (a.id,))

    assert conn.execute(counts, {"d": a.id}).fetchone() == (0, 0)
    assert conn.execute(counts, {"d": b.id}).fetchone() == b_before


# --- who reads the logs -------------------------------------------------------------------------------

@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_admins_read_their_distributor_s_audit_rows_and_nobody_else_does(conn: psycopg.Connection[Any], table: str) -> None:
    a, b = tenant(conn), tenant(conn)
    for t in (a, b):
        insert_update_delete(conn, t, "webhook_endpoints")  # also logs webhook_secret_rotated
    count = sql.SQL("select count(*) filter (where distributor_id = %s), count(*) from {}").format(
        sql.Identifier("public", table))
    of_a = one(conn, sql.SQL("select count(*) from {} where distributor_id = %s").format(sql.Identifier("public", table)),
               (a.id,))
    assert of_a > 0

    seen: dict[str, tuple[Any, ...] | None] = {}
    for name, user in (("admin_a", a.admin), ("staff_a", a.staff), ("admin_b", b.admin)):
        with impersonate(conn, user):
            seen[name] = conn.execute(count, (a.id,)).fetchone()
    assert seen["admin_a"] == (of_a, of_a)  # A's rows, and only those
    assert seen["staff_a"] == (0, 0)
    assert seen["admin_b"] is not None and seen["admin_b"][0] == 0


# --- security events -------------------------------------------------------------------------------------

def events(conn: psycopg.Connection[Any], distributor_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select event_type, severity, actor, details from public.security_audit_log"
        " where distributor_id = %s and event_type like 'webhook%%' order by event_type", (distributor_id,),
    ).fetchall()


def test_disabling_a_webhook_endpoint_is_a_security_event(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    endpoint = one(conn, "insert into public.webhook_endpoints (distributor_id, url, secret)"
                         " values (%s, 'https://example.invalid/h', %s) returning id", (t.id, WHSEC_1))
    with impersonate(conn, t.admin):
        conn.execute("update public.webhook_endpoints set enabled = false, disabled_reason = 'gone' where id = %s",
                     (endpoint,))
    assert events(conn, t.id) == [("webhook_endpoint_disabled", "warning", str(t.admin),
                                   {"endpoint_id": str(endpoint), "url": "https://example.invalid/h", "reason": "gone"})]


def test_rotating_a_webhook_secret_is_a_security_event_without_the_secret(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    endpoint = one(conn, "insert into public.webhook_endpoints (distributor_id, url, secret)"
                         " values (%s, 'https://example.invalid/h', %s) returning id", (t.id, WHSEC_1))
    conn.execute("update public.webhook_endpoints set description = 'no event' where id = %s", (endpoint,))
    conn.execute("update public.webhook_endpoints set secret = %s, previous_secret = secret,"
                 " previous_secret_expires_at = now() + interval '1 day' where id = %s", (WHSEC_2, endpoint))

    logged = events(conn, t.id)
    assert [(e[0], e[2]) for e in logged] == [("webhook_secret_rotated", "service")]
    assert logged[0][3]["endpoint_id"] == str(endpoint)
    assert not any(s in json.dumps(logged[0][3]) for s in SECRET_VALUES)


def test_the_service_logs_security_events_through_the_named_query(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    params = {"distributor_id": t.id, "event_type": "inbound_signature_failed", "severity": "warning",
              "actor": "service:inbound", "details": json.dumps({"integration_id": "x"})}
    with impersonate(conn, "service_role"):
        event_id = one(conn, query("log_security_event"), params)
    row = conn.execute("select distributor_id, event_type, severity, actor, details from public.security_audit_log"
                       " where id = %s", (event_id,)).fetchone()
    assert row == (t.id, "inbound_signature_failed", "warning", "service:inbound", {"integration_id": "x"})


@pytest.mark.parametrize("who", ["admin", "anon"])
def test_users_cannot_log_security_events(conn: psycopg.Connection[Any], who: str) -> None:
    t = tenant(conn)
    with impersonate(conn, t.admin if who == "admin" else None):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select public.log_security_event_v1(%s, 'forged', 'info', 'me', '{}')", (t.id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("insert into public.security_audit_log (distributor_id, event_type, actor) values (%s, 'forged', 'me')",
                         (t.id,))
