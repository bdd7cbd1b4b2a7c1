"""The learning loop against a real Postgres and the real pipeline (offline analyzer).

A customer calls a product by a nickname the catalog does not know ("las rojitas"); the line
goes to review; staff map it to the product; the same words then match with full confidence,
for that customer and for the distributor's other customers, and another distributor's
matcher is unaffected. Staff correct under RLS; another distributor's staff cannot.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from ai.offline.analyzer import OfflineAnalyzer
from tests.support.tenants import TEST_WHSEC, create_user, impersonate
from webhooks.inbound.store import InboundRecord, store_many
from worker import context as context_module
from worker.admin.catalog_import import import_catalog
from worker.admin.corrections import CorrectionError, confirm_order, correct_line, learned_alias
from worker.context import ContextCache
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.outcome import REVIEW_CONFIDENCE
from worker.runtime import build_worker

NICKNAME_ORDER = "Hola, mándame 3 cajas de las rojitas porfa"
RECEIVED_FROM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # pinned: messages are received from here on
_MESSAGE_GAPS = (timedelta(hours=3 * n) for n in itertools.count())
PRODUCTS = [
    {"sku": "COCA-355-24", "name": "Coca-Cola lata 355 ml (caja 24)", "aliases": ["coca lata"], "unit": "caja",
     "pack_size": 24, "price_cents": 30000, "category": "refrescos"},
    {"sku": "SPR-600-24", "name": "Sprite 600 ml (caja 24)", "aliases": ["sprite"], "unit": "caja",
     "pack_size": 24, "price_cents": 25000, "category": "refrescos"},
    {"sku": "JAR-FRESA-24", "name": "Jarritos fresa 600 ml (caja 24)", "aliases": ["jarritos fresa"], "unit": "caja",
     "pack_size": 24, "price_cents": 22000, "category": "refrescos"},
    {"sku": "JAR-TAMA-24", "name": "Jarritos tamarindo 600 ml (caja 24)", "aliases": ["jarritos tamarindo"],
     "unit": "caja", "pack_size": 24, "price_cents": 21000, "category": "refrescos"},
]


@dataclass(frozen=True, kw_only=True)
class World:
    url: str
    repo: Repository
    a: str  # distributor ids
    b: str


@pytest.fixture
async def world(fresh_db_url: str) -> AsyncIterator[World]:
    repo = Repository(fresh_db_url, min_size=1, max_size=6)
    await repo.open()
    try:
        ids = {}
        for slug in ("learn-a", "learn-b"):
            data = {"distributor": {"slug": slug, "name": slug.title(), "locale": "es-MX", "currency": "MXN",
                                    "timezone": "America/Mexico_City"}, "products": PRODUCTS}
            ids[slug], _ = await import_catalog(repo, data)
        yield World(url=fresh_db_url, repo=repo, a=ids["learn-a"], b=ids["learn-b"])
    finally:
        await repo.close()


async def order_for(w: World, distributor_id: str, handle: str, text: str) -> list[dict[str, Any]]:
    """Send one message through intake and the worker; the lines of the order it made (with the order).

    Each message is received three hours after the previous one: past the follow-up window, so a
    shop's next message is its next order (within the window it would join the open one)."""
    message_id = f"wamid.learn.{uuid.uuid4().hex}"
    received_at = RECEIVED_FROM + next(_MESSAGE_GAPS)
    await store_many(w.repo, [InboundRecord(distributor_id=distributor_id, channel="whatsapp",
                                            provider_message_id=message_id, handle=handle, profile_name=None,
                                            body=text, received_at=received_at)])
    worker = build_worker(w.repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=2, retry_base=0,
                          worker_id=f"learn-{uuid.uuid4().hex[:6]}")  # a new worker: a cold ContextCache
    stats = await worker.run(until_idle=True)
    assert stats.processed == 1
    return rows(w.url, """
        select o.id::text as order_id, o.status::text as status, o.review_reasons, o.total_cents, o.customer_id::text,
               op.id::text as line_id, op.sku, op.quantity, op.confidence, op.review_reason, op.match_method,
               op.customer_text
          from messages m
          join orders o on o.distributor_id = m.distributor_id and o.ai_source_message_id = m.id
          join order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
         where m.provider_message_id = %s order by op.line_no""", (message_id,))


def rows(url: str, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def one(url: str, sql: str, params: tuple[object, ...] = ()) -> Any:
    found = rows(url, sql, params)
    return next(iter(found[0].values())) if found else None


def assert_learned(line: dict[str, Any], sku: str) -> None:
    assert line["sku"] == sku
    assert line["review_reason"] is None
    assert float(line["confidence"]) >= REVIEW_CONFIDENCE
    assert line["match_method"].startswith("learned")


# --- the story ---------------------------------------------------------------------------------------


async def test_a_nickname_goes_to_review_and_matches_after_one_correction(world: World, verbose_logs: None) -> None:
    w = world
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    assert [(r["status"], r["sku"], r["review_reason"]) for r in first] == [("needs_review", None, "unmatched")]

    done = await correct_line(w.repo, order_product_id=first[0]["line_id"], product_sku="JAR-FRESA-24")

    assert (done.correction_type, done.order_status, done.sku, done.quantity, done.alias) == (
        "product", "created", "JAR-FRESA-24", 3.0, "rojitas")
    again = await order_for(w, w.a, "+5215511110001", "buenas, quiero 2 cajas de las rojitas")
    assert again[0]["status"] == "created" and again[0]["quantity"] == 2
    assert_learned(again[0], "JAR-FRESA-24")


async def test_another_customer_of_the_distributor_gets_the_distributor_alias(world: World) -> None:
    w = world
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    await correct_line(w.repo, order_product_id=first[0]["line_id"], product_sku="JAR-FRESA-24")

    other = await order_for(w, w.a, "+5215522220002", "me mandas 4 cajas de rojitas")

    assert other[0]["customer_id"] != first[0]["customer_id"]
    assert other[0]["status"] == "created"
    assert_learned(other[0], "JAR-FRESA-24")


async def test_a_customer_keeps_its_own_meaning_when_staff_teach_another_customer_differently(world: World) -> None:
    """Two shops call different products "las rojitas": each keeps its own; the distributor-wide
    alias follows the latest teaching, which a third shop (with none of its own) gets."""
    w = world
    fresa_shop, tama_shop, new_shop = "+5215533330001", "+5215533330002", "+5215533330003"
    first = await order_for(w, w.a, fresa_shop, NICKNAME_ORDER)
    await correct_line(w.repo, order_product_id=first[0]["line_id"], product_sku="JAR-FRESA-24")
    second = await order_for(w, w.a, tama_shop, NICKNAME_ORDER)
    assert_learned(second[0], "JAR-FRESA-24")  # the distributor-wide alias, until staff say otherwise
    await correct_line(w.repo, order_product_id=second[0]["line_id"], product_sku="JAR-TAMA-24")

    assert_learned((await order_for(w, w.a, fresa_shop, "2 cajas de rojitas"))[0], "JAR-FRESA-24")
    assert_learned((await order_for(w, w.a, tama_shop, "2 cajas de rojitas"))[0], "JAR-TAMA-24")
    assert_learned((await order_for(w, w.a, new_shop, "2 cajas de rojitas"))[0], "JAR-TAMA-24")


async def test_another_distributor_is_unaffected(world: World) -> None:
    w = world
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    await correct_line(w.repo, order_product_id=first[0]["line_id"], product_sku="JAR-FRESA-24")

    elsewhere = await order_for(w, w.b, "+5215511110001", NICKNAME_ORDER)

    assert [(r["status"], r["sku"], r["review_reason"]) for r in elsewhere] == [("needs_review", None, "unmatched")]
    assert one(w.url, "select count(*) from learned_aliases where distributor_id = %s", (w.b,)) == 0


# --- what one correction writes ------------------------------------------------------------------------


async def test_a_correction_writes_the_line_the_order_training_data_aliases_history_and_an_event(world: World) -> None:
    w = world
    with psycopg.connect(w.url, autocommit=True) as conn:
        conn.execute("insert into webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                     (w.a, "https://example.invalid/hook", TEST_WHSEC))
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    line = first[0]

    await correct_line(w.repo, order_product_id=line["line_id"], product_sku="JAR-FRESA-24")

    order = rows(w.url, "select status::text, review_reasons, total_cents from orders where id = %s", (line["order_id"],))[0]
    assert order == {"status": "created", "review_reasons": [], "total_cents": 3 * 22000}
    fixed = rows(w.url, """select sku, product_name, unit, quantity, unit_price_cents, total_cents, review_reason
                             from order_products where id = %s""", (line["line_id"],))[0]
    assert fixed == {"sku": "JAR-FRESA-24", "product_name": "Jarritos fresa 600 ml (caja 24)", "unit": "caja",
                     "quantity": 3, "unit_price_cents": 22000, "total_cents": 66000, "review_reason": None}
    training = rows(w.url, """select correction_type, input_text, expected_output, customer_id::text, created_by,
                                     ai_response_id is not null as has_response, message_id is not null as has_message
                                from ai_training_data where order_product_id = %s""", (line["line_id"],))
    assert training == [{"correction_type": "product", "input_text": line["customer_text"],
                         "expected_output": {"sku": "JAR-FRESA-24", "quantity": 3}, "customer_id": line["customer_id"],
                         "created_by": None, "has_response": True, "has_message": True}]
    aliases = rows(w.url, """select la.customer_id::text, la.alias, p.sku, la.source, la.uses from learned_aliases la
                              join products p on p.id = la.product_id where la.distributor_id = %s
                              order by la.customer_id nulls first""", (w.a,))
    assert aliases == [
        {"customer_id": None, "alias": "rojitas", "sku": "JAR-FRESA-24", "source": "correction", "uses": 1},
        {"customer_id": line["customer_id"], "alias": "rojitas", "sku": "JAR-FRESA-24", "source": "correction", "uses": 1},
    ]
    history = rows(w.url, """select p.sku as corrected, h.accepted from product_matching_history h
                              left join products p on p.id = h.corrected_product_id where h.order_product_id = %s""",
                   (line["line_id"],))
    assert history == [{"corrected": "JAR-FRESA-24", "accepted": False}]
    events = rows(w.url, "select event_type from webhook_deliveries where order_id = %s order by created_at, event_type",
                  (line["order_id"],))
    # revision 1 (order.created, in review) and the review event; leaving review announces the order again
    # (order.created) and the correction itself is a revision (order.updated), both in the correction's
    # transaction (one now(): their order between them is not defined)
    assert [e["event_type"] for e in events][:2] == ["order.created", "order.needs_review"]
    assert sorted(e["event_type"] for e in events[2:]) == ["order.created", "order.updated"]


async def test_confirming_an_order_records_correct_lines_and_leaves_review(world: World) -> None:
    w = world
    lines = await order_for(w, w.a, "+5215511110001", "necesito sprite para mañana")
    assert lines[0]["status"] == "needs_review" and lines[0]["sku"] == "SPR-600-24"

    done = await confirm_order(w.repo, order_id=lines[0]["order_id"])

    assert [(c.correction_type, c.order_status, c.alias) for c in done] == [("confirmed", "confirmed", "sprite")]
    assert one(w.url, "select source from learned_aliases where customer_id is null and alias = 'sprite'") == "confirmation"
    assert one(w.url, "select accepted from product_matching_history where order_product_id = %s",
               (lines[0]["line_id"],)) is True


async def test_the_context_cache_rebuilds_the_matcher_when_an_alias_is_learned(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    monkeypatch.setattr(context_module, "CONTEXT_TTL", 0.0)
    cache = ContextCache(w.repo)
    before = await cache.get(w.a)
    assert before.catalog.learned_aliases == () and (await cache.get(w.a)).matcher is before.matcher

    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    await correct_line(w.repo, order_product_id=first[0]["line_id"], product_sku="JAR-FRESA-24")
    after = await cache.get(w.a)

    assert after.catalog_version != before.catalog_version and after.matcher is not before.matcher
    assert after.catalog.learned_aliases == (("rojitas", "JAR-FRESA-24"),)
    assert (await cache.get(w.b)).catalog.learned_aliases == ()


async def test_customer_aliases_are_kept_while_the_distributor_alias_follows_the_latest_correction(world: World) -> None:
    """Both levels are stored; the matcher reads the distributor-wide one (it has no customer level)."""
    w = world
    x = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    await correct_line(w.repo, order_product_id=x[0]["line_id"], product_sku="JAR-FRESA-24")
    y = await order_for(w, w.a, "+5215522220002", NICKNAME_ORDER)
    assert_learned(y[0], "JAR-FRESA-24")  # the distributor alias; this customer means tamarindo
    await correct_line(w.repo, order_product_id=y[0]["line_id"], product_sku="JAR-TAMA-24")

    by_customer = {r["customer_id"]: (r["sku"], r["source"], r["uses"]) for r in rows(w.url, """
        select la.customer_id::text, p.sku, la.source, la.uses from learned_aliases la
          join products p on p.id = la.product_id where la.distributor_id = %s and la.alias = 'rojitas'""", (w.a,))}
    assert by_customer[None] == ("JAR-TAMA-24", "correction", 1)
    assert by_customer[x[0]["customer_id"]] == ("JAR-FRESA-24", "correction", 1)
    assert by_customer[y[0]["customer_id"]] == ("JAR-TAMA-24", "correction", 1)
    later = await order_for(w, w.a, "+5215533330003", "1 caja de rojitas")
    assert_learned(later[0], "JAR-TAMA-24")


# --- refusals ----------------------------------------------------------------------------------------


async def test_a_correction_without_a_change_or_an_unknown_sku_is_refused(world: World) -> None:
    w = world
    lines = await order_for(w, w.a, "+5215511110001", "necesito sprite para mañana")
    line_id = lines[0]["line_id"]
    with pytest.raises(CorrectionError, match="nothing to correct"):
        await correct_line(w.repo, order_product_id=line_id, product_sku="SPR-600-24")
    with pytest.raises(CorrectionError, match="no active product"):
        await correct_line(w.repo, order_product_id=line_id, product_sku="NOPE")
    with pytest.raises(CorrectionError, match="no order line"):
        await correct_line(w.repo, order_product_id=str(uuid.uuid4()), confirm=True)
    assert one(w.url, "select count(*) from ai_training_data") == 0


async def test_confirming_an_order_with_an_unmatched_line_is_refused(world: World) -> None:
    w = world
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    with pytest.raises(CorrectionError, match="have no product"):
        await confirm_order(w.repo, order_id=first[0]["order_id"])


# --- under RLS ------------------------------------------------------------------------------------------


async def test_staff_correct_their_line_under_rls_and_another_distributors_staff_cannot(world: World) -> None:
    w = world
    first = await order_for(w, w.a, "+5215511110001", NICKNAME_ORDER)
    line_id, order_id = first[0]["line_id"], first[0]["order_id"]
    call = "select public.correct_order_line_v1(%s, (select id from products where sku = %s limit 1), null, false)"
    with psycopg.connect(w.url) as conn:
        staff_b = create_user(conn, uuid.UUID(w.b), "staff")
        viewer_a = create_user(conn, uuid.UUID(w.a), "viewer")
        staff_a = create_user(conn, uuid.UUID(w.a), "staff")
        for outsider in (staff_b, viewer_a):
            with impersonate(conn, outsider), pytest.raises(psycopg.errors.NoDataFound, match="not found"):
                with conn.transaction():
                    conn.execute(call, (line_id, "JAR-FRESA-24"))
        assert conn.execute("select sku from order_products where id = %s", (line_id,)).fetchone() == (None,)

        with impersonate(conn, staff_a):
            product_a = conn.execute("select id from products where sku = 'JAR-FRESA-24'").fetchone()
            assert product_a is not None  # RLS: A's product only
            result = conn.execute("select public.correct_order_line_v1(%s, %s, null, false)",
                                  (line_id, product_a[0])).fetchone()
        assert result is not None and result[0]["order_status"] == "created"
        assert result[0]["alias"] == "cajas de las rojitas"  # the SQL fallback; the matcher drops "cajas de las"
        created_by = conn.execute("select created_by from ai_training_data where order_product_id = %s",
                                  (line_id,)).fetchone()
        assert created_by == (staff_a,)
        assert conn.execute("select status::text from orders where id = %s", (order_id,)).fetchone() == ("created",)
        conn.rollback()


async def test_anon_cannot_run_the_correction(world: World) -> None:
    with psycopg.connect(world.url) as conn, impersonate(conn, None):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select public.correct_order_line_v1(gen_random_uuid(), null, null, true)")


def test_the_alias_is_the_line_s_product_words() -> None:
    assert learned_alias("3 cajas de las rojitas") == "rojitas"
    assert learned_alias("x3 coca 600") == "coca 600"
    assert learned_alias("2 bags of fries", "en") == "fries"
    assert learned_alias("3 cajas") == ""
