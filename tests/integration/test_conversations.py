"""Orders are conversations, through the real worker (offline analyzer) on a real Postgres.

Messages are ingested as the channels do, with their received_at (the time the customer sent
them) pinned from BASE; the worker then runs until idle. Each test reads what the customer's
messages left: orders, lines, revisions, events, the customer's confirmation and the replies.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from ai.analyzer import AnalysisRequest, AnalysisResult
from ai.offline.analyzer import OfflineAnalyzer
from tests.support.flow import import_eval_catalogs
from tests.support.tenants import TEST_WHSEC
from webhooks.inbound.store import InboundRecord, store
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.runtime import build_worker

BASE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MINUTE, HOUR = 60, 3600


@dataclass(frozen=True, kw_only=True)
class World:
    url: str
    repo: Repository
    ids: dict[str, str]


@pytest.fixture
async def world(fresh_db_url: str, eval_dir: Path) -> AsyncIterator[World]:
    repo = Repository(fresh_db_url, min_size=1, max_size=10)
    await repo.open()
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            for distributor_id in ids.values():
                conn.execute("insert into webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                             (distributor_id, "https://erp.example.invalid/hook", TEST_WHSEC))
        yield World(url=fresh_db_url, repo=repo, ids=ids)
    finally:
        await repo.close()


def rows(url: str, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


async def send(w: World, slug: str, handle: str, messages: list[tuple[str, float]], *, kind: str = "text") -> list[str]:
    """Store messages of one customer; (text, seconds after BASE) each. Returns their ids."""
    ids = []
    for text, at in messages:
        stored = await store(w.repo, InboundRecord(
            distributor_id=w.ids[slug], channel="whatsapp", provider_message_id=f"wamid.conv.{uuid.uuid4().hex}",
            handle=handle, profile_name=None, body=text, kind=kind, received_at=BASE + timedelta(seconds=at)))
        ids.append(stored.message_id)
    return ids


async def run(w: World, *, workers: int = 1, concurrency: int = 8) -> None:
    repos = [w.repo] + [Repository(w.url, min_size=1, max_size=4) for _ in range(workers - 1)]
    for repo in repos[1:]:
        await repo.open()
    try:
        built = [build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=concurrency, retry_base=0,
                              worker_id=f"conv-{i}", clock=lambda: BASE) for i, repo in enumerate(repos)]
        await asyncio.gather(*(worker.run(until_idle=True) for worker in built))
        # a worker leaves when it finds nothing claimable: drain what another worker's customer left
        await build_worker(w.repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=concurrency, retry_base=0,
                           worker_id="conv-last", clock=lambda: BASE).run(until_idle=True)
    finally:
        for repo in repos[1:]:
            await repo.close()


def customer_orders(w: World, message_id: str) -> list[dict[str, Any]]:
    return rows(w.url, """
        select o.id::text, o.status::text, o.revision, o.customer_confirmed_at, o.customer_confirmed_message_id::text,
               coalesce(jsonb_object_agg(op.sku, op.quantity::float) filter (where op.id is not null), '{}') as items
          from orders o
          left join order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
         where o.ai_source_message_id is not null
           and o.customer_id = (select customer_id from messages where id = %s)
         group by o.id order by o.created_at""", (message_id,))


def shape(found: list[dict[str, Any]]) -> list[tuple[str, dict[str, float]]]:
    return [(o["status"], o["items"]) for o in found]


# --- behaviours ----------------------------------------------------------------------------------------


async def test_a_follow_up_adds_a_line_to_the_open_order(world: World) -> None:
    ids = await send(world, "valle", "+5215510000001", [("mándame 5 cajas de coca 600", 0),
                                                         ("y 2 de sprite 600", 2 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"CC-600-24": 5.0, "SPR-600-24": 2.0})]


async def test_a_correction_sets_the_quantity(world: World) -> None:
    ids = await send(world, "northwind", "+13125550002", [("send 2 cases of limes and 1 sack of onions", 0),
                                                           ("bump the limes to 4 cases", 5 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"NW-LIM-200": 4.0, "NW-ONI-YEL-50": 1.0})]


async def test_a_removal_takes_the_line_out(world: World) -> None:
    ids = await send(world, "sol", "+5511900000003", [("2 fardos de café pilão e 1 caixa de detergente", 0),
                                                       ("tira o detergente", 10 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"SOL-CAFE-500-10": 2.0})]


async def test_a_cancellation_hours_later_cancels_the_open_order_and_keeps_its_lines(world: World) -> None:
    ids = await send(world, "valle", "+5215510000004", [("mándame 5 cajas de coca 600", 0),
                                                         ("cancela lo de hoy", 5 * HOUR)])
    await run(world)
    [order] = customer_orders(world, ids[0])
    assert (order["status"], order["items"], order["revision"]) == ("cancelled", {"CC-600-24": 5.0}, 2)
    events = rows(world.url, "select event_type from webhook_deliveries where order_id = %s order by created_at",
                  (order["id"],))
    assert [e["event_type"] for e in events] == ["order.created", "order.cancelled"]


async def test_after_a_closer_the_next_message_is_a_new_order(world: World) -> None:
    ids = await send(world, "valle", "+5215510000005", [("mándame 3 cajas de fanta 600", 0), ("ya con eso", MINUTE),
                                                         ("mándame 2 cajas de coca 600", 20 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"FAN-600-24": 3.0}), ("created", {"CC-600-24": 2.0})]


async def test_a_follow_up_after_the_window_starts_a_new_order(world: World) -> None:
    ids = await send(world, "northwind", "+13125550006", [("2 bags of rice", 0), ("and 1 case of mozzarella", 3 * HOUR)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"NW-RICE-LG-50": 2.0}),
                                                     ("created", {"NW-CHS-MOZZ-6": 1.0})]


async def test_a_separate_order_opener_starts_another_order_within_the_window(world: World) -> None:
    ids = await send(world, "sol", "+5511900000007", [("3 fardos de coca 2 litros", 0),
                                                       ("pedido à parte: 5 sacos de gelo", 2 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"SOL-COCA-2L-6": 3.0}),
                                                     ("created", {"SOL-GELO-5K": 5.0})]


async def test_the_usual_repeats_the_imported_last_order_with_the_messages_changes(world: World) -> None:
    first = await send(world, "valle", "+5215510000008", [("hola", -10 * 24 * HOUR)])
    await run(world)
    customer_id = rows(world.url, "select customer_id::text from messages where id = %s", (first[0],))[0]["customer_id"]
    for days, items in ((9, [("HUE-30", 1)]), (6, [("FAB-DET-1K-10", 1), ("CIEL-1L-12", 5), ("ARR-1K-10", 2)])):
        await world.repo.execute("eval_history_order", distributor_id=world.ids["valle"], customer_id=customer_id,
                                 created_at=BASE - timedelta(days=days),
                                 items=json.dumps([{"sku": s, "quantity": q} for s, q in items]))
    await send(world, "valle", "+5215510000008", [("lo de siempre pero sin el detergente y 8 de agua ciel litro", 0)])
    await run(world)
    assert shape(customer_orders(world, first[0])) == [("created", {"CIEL-1L-12": 8.0, "ARR-1K-10": 2.0})]


async def test_the_customers_yes_confirms_the_order_and_records_who_and_when(world: World) -> None:
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute("update distributors set order_confirmation = 'ask' where id = %s", (world.ids["valle"],))
    ids = await send(world, "valle", "+5215510000009", [("mándame 2 cajas de leche lala", 0), ("sí", 2 * MINUTE)])
    await run(world)
    [order] = customer_orders(world, ids[0])
    assert (order["status"], order["customer_confirmed_message_id"]) == ("created", ids[1])
    assert order["customer_confirmed_at"] == BASE + timedelta(minutes=2)
    replies = rows(world.url, """select body from messages where direction = 'outbound'
                                  and customer_id = (select customer_id from messages where id = %s) order by created_at""",
                   (ids[0],))
    assert "¿Lo confirmas?" in replies[0]["body"] and "Total" in replies[0]["body"]
    assert replies[1]["body"].startswith("¡Gracias por confirmar!")


async def test_a_confirm_button_confirms_like_a_typed_yes(world: World) -> None:
    ids = await send(world, "northwind", "+13125550010", [("2 cases of whole milk", 0)])
    ids += await send(world, "northwind", "+13125550010", [("Confirm", MINUTE)], kind="button")
    await run(world)
    [order] = customer_orders(world, ids[0])
    assert (order["items"], order["customer_confirmed_message_id"]) == ({"NW-MILK-WH-GAL-4": 2.0}, ids[1])


async def test_every_change_is_a_revision_with_its_event_and_message(world: World) -> None:
    ids = await send(world, "valle", "+5215510000011", [("mándame 5 cajas de coca 600", 0), ("y 2 de sprite 600", MINUTE),
                                                         ("mejor 6 de coca", 2 * MINUTE), ("ok", 3 * MINUTE)])
    await run(world)
    [order] = customer_orders(world, ids[0])
    revisions = rows(world.url, """select revision, event, source, message_id::text, snapshot, change
                                     from order_revisions where order_id = %s order by revision""", (order["id"],))
    assert [(r["revision"], r["event"], r["source"], r["message_id"]) for r in revisions] == [
        (1, "order.created", "message", ids[0]), (2, "order.updated", "message", ids[1]),
        (3, "order.updated", "message", ids[2]), (4, "order.confirmed", "message", ids[3])]
    assert {line["sku"]: line["quantity"] for line in revisions[1]["snapshot"]["lines"]} == {"CC-600-24": 5,
                                                                                             "SPR-600-24": 2}
    assert revisions[2]["change"]["lines"] == [{"op": "set", "sku": "CC-600-24", "quantity": 6.0, "line_no": 1}]
    payloads = rows(world.url, """select event_type, convert_from(payload, 'UTF8')::jsonb -> 'data' as data
                                    from webhook_deliveries where order_id = %s order by created_at""", (order["id"],))
    assert [(p["event_type"], p["data"]["revision"]) for p in payloads] == [
        ("order.created", 1), ("order.updated", 2), ("order.updated", 3), ("order.confirmed", 4)]
    assert order["revision"] == 4


# --- concurrency ---------------------------------------------------------------------------------------


async def test_bursts_of_one_customer_with_several_workers_make_one_order_and_lose_no_update(world: World) -> None:
    burst = [("mándame 5 cajas de coca 600", 0), ("y 2 de sprite 600", 5), ("y 1 caja de fanta 600", 6),
             ("agrégale 3 paquetes de pan bimbo", 7), ("mejor 6 de coca", 8), ("sin la fanta", 9),
             ("y 4 rejas de huevo", 10), ("ya con eso", 11)]
    others = [await send(world, "valle", f"+52155200{n:05d}", [("mándame 1 caja de takis", 0), ("y 1 de doritos", 3)])
              for n in range(12)]
    ids = await send(world, "valle", "+5215510000012", burst)
    await run(world, workers=4, concurrency=4)
    assert shape(customer_orders(world, ids[0])) == [
        ("created", {"CC-600-24": 6.0, "SPR-600-24": 2.0, "BIM-BCO-G": 3.0, "HUE-30": 4.0})]
    assert all(shape(customer_orders(world, o[0])) == [("created", {"TAK-FUE-40": 1.0, "DOR-NAC-40": 1.0})]
               for o in others)
    processed = rows(world.url, "select count(*) as n from messages where direction = 'inbound' and state = 'processed'")
    assert processed[0]["n"] == len(burst) + 2 * len(others)


async def test_messages_arriving_out_of_order_are_applied_in_received_order(world: World) -> None:
    """The correction reaches us before the order it corrects (a slow channel): it is applied after it."""
    handle = "+5215510000013"
    late = await send(world, "valle", handle, [("mejor 6 de coca", 2 * MINUTE)])
    first = await send(world, "valle", handle, [("mándame 5 cajas de coca 600 y 2 de sprite 600", 0)])
    await run(world, workers=2, concurrency=4)
    assert shape(customer_orders(world, first[0])) == [("created", {"CC-600-24": 6.0, "SPR-600-24": 2.0})]
    applied = rows(world.url, "select message_id::text from order_revisions order by revision")
    assert [r["message_id"] for r in applied] == [first[0], late[0]]


class StaffEditsMeanwhile:
    """The offline analyzer, except that while it reads `text` staff change the customer's order
    (a revision the worker did not read)."""

    provider, model, prompt_version, paid, reads_orders = "offline", "offline-rules-v1", "offline-1", False, True

    def __init__(self, url: str, text: str) -> None:
        self.inner, self.url, self.text, self.edits = OfflineAnalyzer(), url, text, 0

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        if request.text == self.text and self.edits == 0:
            self.edits += 1
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("""select private.record_order_revision_v1(o.distributor_id, o.id, 'order.updated', 'staff')
                                  from orders o where o.status = 'created'""")
        return await self.inner.analyze(request)


async def test_a_message_read_while_staff_changed_the_order_is_applied_again_on_the_fresh_order(world: World) -> None:
    ids = await send(world, "valle", "+5215510000014", [("mándame 5 cajas de coca 600", 0), ("y 2 de sprite 600", MINUTE)])
    analyzer = StaffEditsMeanwhile(world.url, "y 2 de sprite 600")
    await build_worker(world.repo, load_settings(), analyzer=analyzer, concurrency=4, retry_base=0, worker_id="edits",
                       clock=lambda: BASE).run(until_idle=True)
    [order] = customer_orders(world, ids[0])
    assert (order["items"], order["revision"]) == ({"CC-600-24": 5.0, "SPR-600-24": 2.0}, 3)
    errors = rows(world.url, "select error_type from ai_errors where message_id = %s", (ids[1],))
    assert [e["error_type"] for e in errors] == ["order_changed"]


async def test_after_the_distributors_cut_off_a_message_starts_the_next_order(world: World) -> None:
    with psycopg.connect(world.url, autocommit=True) as conn:  # BASE is 9:00 in Mexico City
        conn.execute("update distributors set order_cutoff_local = '10:00' where id = %s", (world.ids["valle"],))
    ids = await send(world, "valle", "+5215510000015", [("mándame 5 cajas de coca 600", 0),
                                                         ("y 2 de sprite 600", 30 * MINUTE),
                                                         ("y 1 caja de fanta 600", 90 * MINUTE)])
    await run(world)
    assert shape(customer_orders(world, ids[0])) == [("created", {"CC-600-24": 5.0, "SPR-600-24": 2.0}),
                                                     ("created", {"FAN-600-24": 1.0})]
