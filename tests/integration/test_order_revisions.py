"""private.record_order_revision_v1 on a real Postgres: the revision goes up by one per change,
each change keeps the whole order in order_revisions and enqueues its event with the revision;
staff read their revisions under RLS and cannot write them; service_role can call it (the trap
of 20261123098500), authenticated cannot.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.support.tenants import SERVICE_ROLE, create_distributor, create_user, impersonate, seed_tenant_rows

RECORD = "select private.record_order_revision_v1(%s, %s, %s, %s, null, null, %s::jsonb)"


def _order(conn: psycopg.Connection[Any], slug: str) -> tuple[uuid.UUID, uuid.UUID]:
    distributor_id = create_distributor(conn, slug)
    rows = seed_tenant_rows(conn, distributor_id, tables=["order_products"])
    conn.execute("insert into public.webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                 (distributor_id, "https://erp.example.com/hook", "whsec_" + "A" * 32))
    return distributor_id, rows["orders"]


def test_each_change_bumps_the_revision_and_keeps_a_snapshot(conn: psycopg.Connection[Any]) -> None:
    distributor_id, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    first = conn.execute(RECORD, (distributor_id, order_id, "order.created", "message", "{}")).fetchone()
    second = conn.execute(RECORD, (distributor_id, order_id, "order.updated", "staff",
                                   json.dumps({"lines": [{"op": "set", "sku": "X", "quantity": 2}]}))).fetchone()
    assert (first, second) == ((1,), (2,))
    revisions = conn.execute(
        "select revision, event, source, change, snapshot from public.order_revisions where order_id = %s order by revision",
        (order_id,)).fetchall()
    assert [(r[0], r[1], r[2]) for r in revisions] == [(1, "order.created", "message"), (2, "order.updated", "staff")]
    assert revisions[1][3] == {"lines": [{"op": "set", "sku": "X", "quantity": 2}]}
    assert revisions[1][4]["revision"] == 2 and revisions[1][4]["order_id"] == str(order_id)
    assert len(revisions[1][4]["lines"]) == 1
    assert conn.execute("select revision from public.orders where id = %s", (order_id,)).fetchone() == (2,)


def test_the_event_carries_the_whole_order_and_its_revision(conn: psycopg.Connection[Any]) -> None:
    distributor_id, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    conn.execute(RECORD, (distributor_id, order_id, "order.created", "message", "{}"))
    conn.execute(RECORD, (distributor_id, order_id, "order.cancelled", "cli", "{}"))
    events = conn.execute(
        "select event_type, convert_from(payload, 'UTF8')::jsonb from public.webhook_deliveries"
        " where order_id = %s order by created_at, event_type", (order_id,)).fetchall()
    by_type = {e[0]: e[1]["data"] for e in events}
    assert set(by_type) == {"order.created", "order.cancelled"}
    assert by_type["order.cancelled"]["revision"] == 2
    assert by_type["order.cancelled"]["lines"][0]["line_no"] == 1
    assert by_type["order.cancelled"]["source"] == "cli"


def test_an_unknown_event_or_source_is_refused(conn: psycopg.Connection[Any]) -> None:
    distributor_id, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(RECORD, (distributor_id, order_id, "order.shipped", "message", "{}"))
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(RECORD, (distributor_id, order_id, "order.updated", "browser", "{}"))


def test_another_distributors_order_is_not_found(conn: psycopg.Connection[Any]) -> None:
    _, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    other = create_distributor(conn, f"rev-{uuid.uuid4().hex[:8]}")
    with pytest.raises(psycopg.errors.NoDataFound), conn.transaction():
        conn.execute(RECORD, (other, order_id, "order.updated", "message", "{}"))


def test_service_role_may_record_and_authenticated_may_not(conn: psycopg.Connection[Any]) -> None:
    distributor_id, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    staff = create_user(conn, distributor_id, "staff")
    with conn.transaction(), impersonate(conn, SERVICE_ROLE):
        assert conn.execute(RECORD, (distributor_id, order_id, "order.updated", "system", "{}")).fetchone() == (1,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, staff):
        conn.execute(RECORD, (distributor_id, order_id, "order.updated", "staff", "{}"))


def test_staff_read_their_revisions_and_cannot_write_them(conn: psycopg.Connection[Any]) -> None:
    distributor_id, order_id = _order(conn, f"rev-{uuid.uuid4().hex[:8]}")
    other = create_distributor(conn, f"rev-{uuid.uuid4().hex[:8]}")
    conn.execute(RECORD, (distributor_id, order_id, "order.created", "message", "{}"))
    staff, viewer, stranger = (create_user(conn, distributor_id, "staff"), create_user(conn, distributor_id, "viewer"),
                               create_user(conn, other, "admin"))
    with conn.transaction(), impersonate(conn, staff):
        assert conn.execute("select count(*) from public.order_revisions").fetchone() == (1,)
    with conn.transaction(), impersonate(conn, viewer):
        assert conn.execute("select count(*) from public.order_revisions").fetchone() == (0,)
    with conn.transaction(), impersonate(conn, stranger):
        assert conn.execute("select count(*) from public.order_revisions").fetchone() == (0,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, staff):
        conn.execute("update public.order_revisions set change = '{}'")
