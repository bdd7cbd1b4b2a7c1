"""Staff review through Supabase: the review RPCs under each role and across tenants, the review
inbox view, and the realtime publication.

Each test builds two distributors with an order in review (one unmatched line with the matcher's
candidates, one sure line) in the rolled-back `conn` transaction, then calls the RPCs as a
signed-in user of each role (tests/support/tenants.py `impersonate`), as another tenant's staff,
as anon and as the service.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.support.tenants import TEST_WHSEC, create_distributor, create_user, impersonate

ROLES = ("viewer", "staff", "manager", "admin")


@dataclass(frozen=True, kw_only=True)
class Tenant:
    id: uuid.UUID
    order: uuid.UUID
    unmatched_line: uuid.UUID
    sure_line: uuid.UUID
    coca: uuid.UUID
    sprite: uuid.UUID
    users: dict[str, uuid.UUID]


def one(conn: psycopg.Connection[Any], sql: str, params: tuple[object, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]


def tenant(conn: psycopg.Connection[Any]) -> Tenant:
    d = create_distributor(conn, f"rv-{uuid.uuid4().hex[:10]}")
    products = {}
    for sku, name, price in (("COCA-600", "Coca-Cola 600 ml", 28000), ("SPR-600", "Sprite 600 ml", 25000)):
        products[sku] = one(conn, "insert into products (distributor_id, sku, name, unit, price_cents, currency)"
                                  " values (%s, %s, %s, 'caja', %s, 'MXN') returning id", (d, sku, name, price))
    customer = one(conn, "insert into customers (distributor_id, name) values (%s, 'Tienda Lupita') returning id", (d,))
    conversation = one(conn, "insert into conversations (distributor_id, customer_id, channel, handle)"
                             " values (%s, %s, 'whatsapp', 'h1:' || md5(random()::text)) returning id", (d, customer))
    message = one(conn, "insert into messages (distributor_id, conversation_id, customer_id, direction, channel, body,"
                        " body_redacted, state) values (%s, %s, %s, 'inbound', 'whatsapp',"
                        " 'soy Lupita 5512345678, 3 de las rojitas y 2 coca', 'soy <PERSON> <PHONE>, 3 de las rojitas"
                        " y 2 coca', 'processed') returning id", (d, conversation, customer))
    order = one(conn, "insert into orders (distributor_id, customer_id, conversation_id, ai_source_message_id, status,"
                      " review_reasons, currency, total_cents, subtotal_cents) values (%s, %s, %s, %s, 'needs_review',"
                      " '{unmatched:line:1}', 'MXN', 56000, 56000) returning id", (d, customer, conversation, message))
    unmatched = one(conn, "insert into order_products (distributor_id, order_id, line_no, customer_text, quantity,"
                          " review_reason, confidence) values (%s, %s, 1, '3 de las rojitas', 3, 'unmatched', 0.2)"
                          " returning id", (d, order))
    sure = one(conn, "insert into order_products (distributor_id, order_id, product_id, line_no, customer_text, sku,"
                     " product_name, quantity, unit, unit_price_cents, total_cents, confidence) values (%s, %s, %s, 2,"
                     " '2 coca', 'COCA-600', 'Coca-Cola 600 ml', 2, 'caja', 28000, 56000, 0.95) returning id",
               (d, order, products["COCA-600"]))
    conn.execute("insert into product_matching_history (distributor_id, message_id, order_product_id, query_text,"
                 " candidates, score, method) values (%s, %s, %s, 'las rojitas', %s::jsonb, 0.2, 'fuzzy')",
                 (d, message, unmatched, json.dumps([{"sku": "SPR-600", "score": 0.41, "method": "fuzzy"},
                                                     {"sku": "COCA-600", "score": 0.33, "method": "fuzzy"}])))
    conn.execute("insert into webhook_endpoints (distributor_id, url, secret) values (%s, 'https://erp.example/h', %s)",
                 (d, TEST_WHSEC))
    users = {role: create_user(conn, d, role) for role in ROLES}
    return Tenant(id=d, order=order, unmatched_line=unmatched, sure_line=sure, coca=products["COCA-600"],
                  sprite=products["SPR-600"], users=users)


def rpc(conn: psycopg.Connection[Any], who: uuid.UUID | str | None, sql: str, params: tuple[object, ...]) -> Any:
    with impersonate(conn, who):  # type: ignore[arg-type]
        return one(conn, sql, params)


def events(conn: psycopg.Connection[Any], t: Tenant) -> list[str]:
    """The events enqueued for the tenant's endpoint, sorted (one transaction: one now() for all)."""
    return [r[0] for r in conn.execute("select event_type from webhook_deliveries where distributor_id = %s"
                                       " order by event_type", (t.id,)).fetchall()]


CORRECT = "select public.review_correct_line_v1(%s, %s, %s)"
CONFIRM = "select public.review_confirm_order_v1(%s)"
CANCEL = "select public.review_cancel_order_v1(%s, 'customer called')"
ALIAS = "select public.review_add_alias_v1(%s, %s)"


def test_staff_correct_a_line_and_the_order_leaves_review_with_a_revision(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)

    result = rpc(conn, t.users["staff"], CORRECT, (t.unmatched_line, t.sprite, None))

    assert (result["correction_type"], result["order_status"], result["sku"]) == ("product", "created", "SPR-600")
    assert one(conn, "select total_cents from orders where id = %s", (t.order,)) == 3 * 25000 + 56000
    revision = conn.execute("select revision, event, source, actor_id, change ->> 'action' from order_revisions"
                            " where order_id = %s", (t.order,)).fetchall()
    assert revision == [(1, "order.updated", "staff", t.users["staff"], "correct_line")]
    assert events(conn, t) == ["order.created", "order.updated"]  # leaving review announces the order, as before
    trained = conn.execute("select correction_type, created_by from ai_training_data where order_product_id = %s",
                           (t.unmatched_line,)).fetchall()
    assert trained == [("product", t.users["staff"])]
    assert one(conn, "select count(*) from learned_aliases where distributor_id = %s and product_id = %s",
               (t.id, t.sprite)) == 2  # the distributor's and the customer's
    audited = one(conn, "select details ->> 'action' from security_audit_log where distributor_id = %s"
                        " and event_type = 'order_reviewed' and actor = %s", (t.id, str(t.users["staff"])))
    assert audited == "correct_line"


def test_a_viewer_can_do_nothing(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    viewer = t.users["viewer"]
    for sql, params in ((CORRECT, (t.unmatched_line, t.sprite, None)), (CONFIRM, (t.order,)), (CANCEL, (t.order,)),
                        ("select public.review_add_line_v1(%s, %s, 1)", (t.order, t.sprite)),
                        ("select public.review_remove_line_v1(%s)", (t.sure_line,)), (ALIAS, (t.sprite, "refresco"))):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="role or above"), conn.transaction():
            rpc(conn, viewer, sql, params)
    assert one(conn, "select status::text from orders where id = %s", (t.order,)) == "needs_review"
    assert events(conn, t) == []


def test_another_tenants_staff_find_nothing_to_act_on(conn: psycopg.Connection[Any]) -> None:
    a, b = tenant(conn), tenant(conn)
    outsider = b.users["admin"]
    for sql, params in ((CORRECT, (a.unmatched_line, b.sprite, None)), (CONFIRM, (a.order,)), (CANCEL, (a.order,)),
                        ("select public.review_add_line_v1(%s, %s, 1)", (a.order, b.sprite)),
                        ("select public.review_remove_line_v1(%s)", (a.sure_line,)), (ALIAS, (a.sprite, "refresco"))):
        with pytest.raises(psycopg.errors.NoDataFound, match="not found"), conn.transaction():
            rpc(conn, outsider, sql, params)
    assert one(conn, "select status::text from orders where id = %s", (a.order,)) == "needs_review"
    assert one(conn, "select aliases from products where id = %s", (a.sprite,)) == []
    assert events(conn, a) == []


def test_a_product_of_another_tenant_cannot_be_put_on_a_line(conn: psycopg.Connection[Any]) -> None:
    a, b = tenant(conn), tenant(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue), conn.transaction():
        rpc(conn, a.users["staff"], CORRECT, (a.unmatched_line, b.sprite, None))
    with pytest.raises(psycopg.errors.InvalidParameterValue), conn.transaction():
        rpc(conn, a.users["staff"], "select public.review_add_line_v1(%s, %s, 1)", (a.order, b.sprite))


def test_anon_cannot_call_the_review_functions(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"), conn.transaction():
        rpc(conn, None, CONFIRM, (t.order,))


def test_confirming_needs_every_line_matched_then_confirms_the_order(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="no product"), conn.transaction():
        rpc(conn, t.users["staff"], CONFIRM, (t.order,))

    rpc(conn, t.users["staff"], CORRECT, (t.unmatched_line, t.sprite, 4))
    result = rpc(conn, t.users["manager"], CONFIRM, (t.order,))

    assert result["order_status"] == "confirmed"
    assert [line["correction_type"] for line in result["lines"]] == ["confirmed", "confirmed"]
    status, confirmed_at, revision = conn.execute("select status::text, confirmed_at, revision from orders"
                                                  " where id = %s", (t.order,)).fetchone()  # type: ignore[misc]
    assert (status, confirmed_at is not None, revision) == ("confirmed", True, 2)
    assert events(conn, t) == ["order.confirmed", "order.created", "order.updated"]
    payload = one(conn, "select convert_from(payload, 'UTF8')::jsonb from webhook_deliveries"
                        " where order_id = %s and event_type = 'order.confirmed'", (t.order,))
    assert payload["data"]["status"] == "confirmed" and payload["data"]["revision"] == 2
    assert [line["sku"] for line in payload["data"]["lines"]] == ["SPR-600", "COCA-600"]


def test_staff_add_and_remove_lines(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    staff = t.users["staff"]

    added = rpc(conn, staff, "select public.review_add_line_v1(%s, %s, 5)", (t.order, t.sprite))
    removed = rpc(conn, staff, "select public.review_remove_line_v1(%s)", (t.unmatched_line,))

    assert (added["line_no"], added["sku"]) == (3, "SPR-600")
    assert removed["order_status"] == "created"  # the unsure line is gone: nothing left to review
    lines = conn.execute("select line_no, sku, quantity::float from order_products where order_id = %s"
                         " order by line_no", (t.order,)).fetchall()
    assert lines == [(2, "COCA-600", 2.0), (3, "SPR-600", 5.0)]
    assert one(conn, "select total_cents from orders where id = %s", (t.order,)) == 56000 + 5 * 25000
    kinds = conn.execute("select expected_output ? 'added', expected_output ? 'removed' from ai_training_data"
                         " where distributor_id = %s order by created_at", (t.id,)).fetchall()
    assert sorted(kinds) == [(False, True), (True, False)]
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="last"), conn.transaction():
        rpc(conn, staff, "select public.review_remove_line_v1(%s)", (t.sure_line,))
        rpc(conn, staff, "select public.review_remove_line_v1(%s)", (added["line_id"],))
    confirmed = rpc(conn, staff, CONFIRM, (t.order,))
    assert [(line["line_no"], line["alias"]) for line in confirmed["lines"]] == [(2, "coca"), (3, None)]


def test_a_cancelled_order_can_no_longer_change(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    result = rpc(conn, t.users["staff"], CANCEL, (t.order,))

    assert result["order_status"] == "cancelled"
    assert events(conn, t) == ["order.cancelled"]
    assert one(conn, "select notes from orders where id = %s", (t.order,)) == "cancelled: customer called"
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState), conn.transaction():
        rpc(conn, t.users["staff"], CONFIRM, (t.order,))


def test_only_managers_and_admins_add_catalog_aliases(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="manager"), conn.transaction():
        rpc(conn, t.users["staff"], ALIAS, (t.sprite, "Refresco Verde"))

    result = rpc(conn, t.users["manager"], ALIAS, (t.sprite, "Refresco Verde"))
    again = rpc(conn, t.users["admin"], ALIAS, (t.sprite, "refresco verde"))

    assert (result["added"], again["added"]) == (True, False)
    assert one(conn, "select aliases from products where id = %s", (t.sprite,)) == ["refresco verde"]
    assert one(conn, "select count(*) from security_audit_log where distributor_id = %s"
                     " and event_type = 'catalog_alias_added'", (t.id,)) == 2


def test_the_service_acts_without_a_user_and_is_recorded_as_the_cli(conn: psycopg.Connection[Any]) -> None:
    t = tenant(conn)
    rpc(conn, "service_role", CORRECT, (t.unmatched_line, t.sprite, None))
    assert conn.execute("select source, actor_id from order_revisions where order_id = %s",
                        (t.order,)).fetchall() == [("cli", None)]


def test_the_inbox_shows_redacted_text_lines_and_candidates_to_the_tenant_only(conn: psycopg.Connection[Any]) -> None:
    a, b = tenant(conn), tenant(conn)

    with impersonate(conn, a.users["viewer"]):
        rows = conn.execute("select order_id, review_reasons, source_text, lines from review_inbox").fetchall()

    assert [r[0] for r in rows] == [a.order]
    _, reasons, text, lines = rows[0]
    assert reasons == ["unmatched:line:1"]
    assert text == "soy <PERSON> <PHONE>, 3 de las rojitas y 2 coca" and "5512345678" not in json.dumps(lines)
    assert [line["line_no"] for line in lines] == [1, 2]
    assert [(c["sku"], c["score"]) for c in lines[0]["candidates"]] == [("SPR-600", 0.41), ("COCA-600", 0.33)]
    assert lines[1]["candidates"] == []  # a sure line needs none
    with impersonate(conn, b.users["staff"]):
        assert [r[0] for r in conn.execute("select order_id from review_inbox").fetchall()] == [b.order]
    rpc(conn, a.users["staff"], CORRECT, (a.unmatched_line, a.sprite, None))
    with impersonate(conn, a.users["staff"]):
        assert conn.execute("select order_id from review_inbox").fetchall() == []


def test_anon_reads_nothing_from_the_inbox(conn: psycopg.Connection[Any]) -> None:
    tenant(conn)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        rpc(conn, None, "select count(*) from review_inbox", ())


def test_orders_lines_and_messages_are_published_for_realtime_without_raw_text(conn: psycopg.Connection[Any]) -> None:
    published = dict(conn.execute("select tablename::text, attnames from pg_publication_tables"
                                  " where pubname = 'supabase_realtime' and schemaname = 'public'").fetchall())
    assert {"orders", "order_products", "messages"} <= set(published)
    assert "body_redacted" in published["messages"]
    assert not {"body", "raw_payload", "raw_payload_encrypted"} & set(published["messages"])
