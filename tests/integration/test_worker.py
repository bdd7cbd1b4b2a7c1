"""The worker against a real Postgres: exactly-once under concurrency, leases, failures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from ai.offline.analyzer import OfflineAnalyzer
from tests.support.flow import import_eval_catalogs, records_from_cases, scalar, seed_messages
from webhooks.inbound.store import store_many
from worker.core.repository import LeaseLost, Repository, dumps
from worker.core.settings import load_settings
from worker.outcome import MessageFacts, review_outcome
from worker.runtime import build_worker


async def open_repo(url: str) -> Repository:
    repo = Repository(url, min_size=1, max_size=6)
    await repo.open()
    return repo


async def test_two_workers_process_every_message_exactly_once(fresh_db_url: str, eval_dir: Path) -> None:
    seed_repo = await open_repo(fresh_db_url)
    await seed_messages(seed_repo, eval_dir, 500)
    repos = [await open_repo(fresh_db_url) for _ in range(2)]
    settings = load_settings()
    workers = [build_worker(r, settings, analyzer=OfflineAnalyzer(), concurrency=16, worker_id=f"w{i}", retry_base=0)
               for i, r in enumerate(repos)]
    try:
        stats = await asyncio.gather(*(w.run(until_idle=True) for w in workers))
    finally:
        for r in [seed_repo, *repos]:
            await r.close()

    assert sum(s.processed for s in stats) == 500
    assert all(s.processed > 0 for s in stats), "both workers should have taken a share"
    assert scalar(fresh_db_url, "select count(*) from messages where direction = 'inbound' and state = 'processed'") == 500
    assert scalar(fresh_db_url, "select count(*) from ai_responses") == 500
    assert scalar(fresh_db_url, "select count(distinct message_id) from ai_responses") == 500
    order_messages = scalar(fresh_db_url, """
        select count(*) from ai_responses where intent = 'order' and jsonb_array_length(output -> 'lines') > 0""")
    assert order_messages > 0
    assert scalar(fresh_db_url, "select count(*) from orders") == order_messages
    assert scalar(fresh_db_url, "select count(distinct ai_source_message_id) from orders") == order_messages
    assert scalar(fresh_db_url, "select count(*) from ai_usage_metrics") == 500
    # every order's lines carry catalog prices and the order total is their sum
    assert scalar(fresh_db_url, """
        select count(*) from orders o where o.total_cents <> (
          select coalesce(sum(total_cents), 0) from order_products op where op.order_id = o.id)""") == 0


async def test_a_late_worker_whose_lease_was_taken_writes_nothing(fresh_db_url: str, eval_dir: Path) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids, _ = await seed_messages(repo, eval_dir, 1)
        claimed = await repo.fetch_all("claim_messages", worker_id="slow", batch=1, lease_seconds=1, per_distributor=1)
        assert len(claimed) == 1
        await asyncio.sleep(1.2)
        again = await repo.fetch_all("claim_messages", worker_id="fast", batch=1, lease_seconds=60, per_distributor=1)
        assert [r["message_id"] for r in again] == [claimed[0]["message_id"]]
        message_id, distributor_id = str(claimed[0]["message_id"]), str(claimed[0]["distributor_id"])

        def outcome(worker_id: str) -> str:
            facts = MessageFacts(message_id=message_id, distributor_id=distributor_id, worker_id=worker_id,
                                 language="es", body_redacted="x", findings=[])
            return dumps(review_outcome(facts, reason="test"))

        await repo.fetch_one("record_outcome", outcome=outcome("fast"))
        with pytest.raises(LeaseLost):
            await repo.fetch_one("record_outcome", outcome=outcome("slow"))
        assert scalar(fresh_db_url, "select attempts from messages where id = %s", (message_id,)) == 2
    finally:
        await repo.close()


async def test_pii_is_redacted_but_the_distributors_own_name_and_brands_are_not(fresh_db_url: str, eval_dir: Path) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        text = "Hola Valle, soy Jesús Ramírez, mi cel 33 1234 5678. Mándeme 3 cajas de coca 600 y 1 don Julio"
        case = {"distributor": "valle", "text": text}
        await store_many(repo, records_from_cases([case], ids, 1, prefix="wamid.own"))
        await build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=1, worker_id="w",
                           retry_base=0).run(until_idle=True)
    finally:
        await repo.close()
    assert scalar(fresh_db_url, "select body_redacted from messages where direction = 'inbound'") == (
        "Hola Valle, soy <PERSON>, mi cel <PHONE_NUMBER>. Mándeme 3 cajas de coca 600 y 1 don Julio")
    assert scalar(fresh_db_url, "select string_agg(category, ',' order by start_offset) from pii_detection_results"
                  ) == "PERSON,PHONE_NUMBER"
    assert scalar(fresh_db_url, """select string_agg(p.sku || 'x' || op.quantity::int, ',' order by p.sku)
                                     from order_products op join products p on p.id = op.product_id""") == (
        "CC-600-24x3,DJ-BLA-750x1")


async def test_bank_details_a_cvv_and_a_name_before_a_phone_never_reach_the_analyzer(
    fresh_db_url: str, eval_dir: Path
) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        text = ("Devuélvanme a la CLABE 002 180 70123456789 5, tarjeta cvv 123. "
                "Cualquier cosa a Lupita 5512345678")
        await store_many(repo, records_from_cases([{"distributor": "valle", "text": text}], ids, 1, prefix="wamid.bank"))
        await build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=1, worker_id="w",
                           retry_base=0).run(until_idle=True)
    finally:
        await repo.close()
    assert scalar(fresh_db_url, "select body_redacted from messages where direction = 'inbound'") == (
        "Devuélvanme a la CLABE <BANK_ACCOUNT>, tarjeta cvv <CREDIT_CARD>. Cualquier cosa a <PERSON> <PHONE_NUMBER>")
    assert scalar(fresh_db_url, "select string_agg(entity_type, ',' order by start_offset) from pii_detection_results"
                  ) == "BANK_ACCOUNT,CARD_CVV,PERSON,PHONE_NUMBER"
    with psycopg.connect(fresh_db_url) as conn:  # a distributor may hold a rule for the new category
        conn.execute("insert into pii_detection_rules (distributor_id, category) values (%s, 'BANK_ACCOUNT')",
                     (ids["valle"],))
        conn.rollback()


def test_concurrent_usage_writes_cross_each_threshold_exactly_once(fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        distributor_id = conn.execute(
            "insert into distributors (slug, name) values ('race', 'Race') returning id").fetchone()[0]  # type: ignore[index]
        conn.execute("insert into ai_budgets (distributor_id, monthly_budget_micro_usd) values (%s, 1000)", (distributor_id,))

    def spend(n: int) -> None:
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            for _ in range(n):
                conn.execute("select private.record_budget_usage(%s, 1, 30)", (distributor_id,))

    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(spend, [5] * 8))  # 40 writes x 30 = 1200 micro-USD against a 1000 budget

    assert scalar(fresh_db_url, "select ai_cost_micro_usd from distributor_usage where distributor_id = %s",
                  (distributor_id,)) == 1200
    rows = scalar(fresh_db_url, "select array_agg(threshold_pct order by threshold_pct) from ai_budget_alerts where distributor_id = %s",
                  (distributor_id,))
    assert rows == [50, 80, 100]


def test_a_claim_never_scans_the_whole_messages_table(fresh_db_url: str) -> None:
    """The claim's cost must not grow with the messages ever received: with a long processed
    history, repeated claims (the generic plan plpgsql switches to) read messages by index only.
    An earlier claim function hash-joined its picks against a sequential scan of the table. Ten customers:
    a claim takes one message per customer at a time."""
    from worker.core.queries import query

    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("""
            with d as (insert into distributors (slug, name) values ('history', 'History') returning id),
                 c as (insert into customers (distributor_id, name) select id, 'Tienda ' || n from d, generate_series(1, 10) n
                       returning id, distributor_id),
                 v as (insert into conversations (distributor_id, customer_id, channel, handle)
                       select distributor_id, id, 'whatsapp', '+52155' || id from c returning id, distributor_id, customer_id),
                 w as (select v.*, row_number() over (order by v.id) - 1 as n from v)
            insert into messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                                  body, state, processed_at, available_at)
            select w.distributor_id, w.id, w.customer_id, 'inbound', 'whatsapp', 'wamid.history.' || g, 'quiero agua',
                   case when g <= 5000 then 'processed' else 'queued' end::message_state,
                   case when g <= 5000 then now() end, now() - interval '1 minute'
              from generate_series(1, 5020) g join w on w.n = g % 10""")
        conn.execute("vacuum analyze messages")
        with conn.transaction():
            conn.execute("set local plan_cache_mode = force_generic_plan")
            claimed = [conn.execute(query("claim_messages"), {"worker_id": "w", "batch": 1, "lease_seconds": 60,
                                                              "per_distributor": 1}).fetchall() for _ in range(8)]
            seq_scans = conn.execute(
                "select seq_scan from pg_stat_xact_user_tables where relid = 'public.messages'::regclass").fetchone()
    assert [len(rows) for rows in claimed] == [1] * 8
    assert seq_scans == (0,)
