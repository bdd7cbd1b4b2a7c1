"""The worker's and the delivery loop's per-message SQL reads the big tables by index only.

plpgsql (and, since Postgres 18, SQL-language) functions switch to a generic plan after five
calls. A generic plan does not know its parameters, and may then join a handful of rows against a
sequential scan of a whole table: an earlier claim function did, so each claim cost more as the messages
table grew (fixed in the one the worker calls now). Here every other hot-path function is called repeatedly
under `plan_cache_mode = force_generic_plan`, against a module-wide history of thousands of rows
per table (50 tenants), and must not start a single sequential scan of a table that grows with
that history (pg_stat_xact_user_tables, counted around the calls only). Small tables bounded by
the number of tenants or endpoints (distributors, webhook_endpoints, ai_budgets ...) are left out
on purpose: a sequential scan of their page or two is what the planner should pick here (with
3,000 tenants none of them was scanned either).

Each test runs in one transaction that is rolled back, so the tests share the history. A failure
shows which table was scanned how often; `set local enable_indexscan = off` and
`enable_bitmapscan = off` in generic_plans make every test but record_budget_usage's fail (that
one only writes its big tables, through ON CONFLICT arbiter indexes: it fails when it reads one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from ai.pii.detector import PiiFinding
from worker.core.queries import query
from worker.core.repository import dumps
from worker.outcome import MessageFacts

Conn = psycopg.Connection[tuple[Any, ...]]

CALLS = 8  # more than the five custom plans plpgsql tries before it settles on a generic one
WORKER = "plan-worker"

# 50 tenants and a processed history of 6,000 messages with what they produced: orders (2 lines
# each), AI responses and usage, PII findings, matching history, delivered webhooks; 20 channel
# integrations per tenant with their rate limits and buckets; three years of monthly usage and
# budget alerts. Then the work in flight the tests act on (committed here, not inserted by the
# test's own transaction, whose rows would fire foreign-key checks on every later update):
# hist-1 has CALLS messages claimed by WORKER and CALLS deliveries due, hist-2 CALLS deliveries
# leased by WORKER; hist-3's AI bucket is empty and hist-50 has no rate limit rows (defaults).
HISTORY = f"""
insert into public.distributors (slug, name) select 'hist-' || g, 'History ' || g from generate_series(1, 50) g;
insert into public.customers (distributor_id, name)
  select d.id, 'Tienda ' || g from public.distributors d, generate_series(1, 10) g;
insert into public.conversations (distributor_id, customer_id, channel, handle)
  select c.distributor_id, c.id, 'whatsapp', '+52' || c.id from public.customers c;
insert into public.products (distributor_id, sku, name, unit, price_cents, currency)
  select d.id, 'SKU-' || g, 'Product ' || g, 'pz', 1000 + g, 'MXN' from public.distributors d, generate_series(1, 40) g;
insert into public.pii_detection_rules (distributor_id, category)
  select d.id, c from public.distributors d,
         unnest(array['PERSON', 'PHONE_NUMBER', 'EMAIL_ADDRESS', 'ADDRESS', 'NATIONAL_ID', 'CREDIT_CARD']) c;
insert into public.webhook_endpoints (distributor_id, url, secret, max_concurrency)
  select d.id, 'https://hooks.example.com/' || d.slug, 'whsec_' || repeat('A', 32), 100 from public.distributors d;
insert into public.ai_budgets (distributor_id, monthly_budget_micro_usd) select d.id, 8000 from public.distributors d;
insert into public.external_integrations (distributor_id, kind, channel, name, external_account_id)
  select d.id, 'channel', 'webchat', 'Line ' || g, d.slug || '-line-' || g
    from public.distributors d, generate_series(1, 20) g;
insert into public.api_rate_limits (distributor_id, scope, integration_id, requests_per_minute, burst)
  select i.distributor_id, 'inbound', i.id, 600, 10 from public.external_integrations i
  union all
  select d.id, s, null, 600, 10 from public.distributors d, unnest(array['inbound', 'ai']) s where d.slug <> 'hist-50';
insert into private.rate_buckets (distributor_id, scope, integration_id, tat, emission_s, tolerance_s)
  select l.distributor_id, l.scope, l.integration_id, now() - interval '1 hour', 0.1, 0.9 from public.api_rate_limits l;
insert into public.distributor_usage (distributor_id, period, messages, orders, ai_calls, ai_cost_micro_usd)
  select d.id, (date_trunc('month', now() at time zone d.timezone) - make_interval(months => g))::date, 100, 50, 100, 9000
    from public.distributors d, generate_series(1, 36) g;
insert into public.ai_budget_alerts (distributor_id, period, threshold_pct, spent_micro_usd, budget_micro_usd, mode)
  select u.distributor_id, u.period, t, 9000, 8000, 'soft' from public.distributor_usage u, unnest(array[50, 80, 100]) t;

insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                             body, state, received_at, processed_at, available_at, attempts)
  select v.distributor_id, v.id, v.customer_id, 'inbound', 'whatsapp', 'wamid.hist.' || g, 'quiero agua',
         'processed', now() - make_interval(mins => g), now() - make_interval(mins => g),
         now() - make_interval(mins => g), 1
    from generate_series(1, 6000) g
    join (select row_number() over (order by c.id) - 1 as n, c.id, c.distributor_id, c.customer_id
            from public.conversations c) v on v.n = g % 500;
insert into public.ai_responses (distributor_id, message_id, provider, model, prompt_version, intent, output,
                                 needs_review, latency_ms)
  select m.distributor_id, m.id, 'offline', 'offline', 'v1', 'order', '{{}}', false, 100 from public.messages m;
insert into public.ai_usage_metrics (distributor_id, message_id, provider, model, prompt_version, input_tokens,
                                     output_tokens, cost_micro_usd, period)
  select m.distributor_id, m.id, 'offline', 'offline', 'v1', 100, 50, 10, date_trunc('month', m.received_at)::date
    from public.messages m;
insert into public.pii_detection_results (distributor_id, message_id, category, entity_type, start_offset, end_offset,
                                          score, recognizer)
  select m.distributor_id, m.id, 'PHONE_NUMBER', 'PHONE_NUMBER', 0, 5, 0.9, 'regex' from public.messages m;
insert into public.ai_errors (distributor_id, message_id, error_type, error_message, attempt, retryable)
  select m.distributor_id, m.id, 'timeout', 'analyzer timed out', 1, true from public.messages m;
insert into public.orders (distributor_id, customer_id, conversation_id, ai_source_message_id, status, currency)
  select m.distributor_id, m.customer_id, m.conversation_id, m.id, 'created', 'MXN' from public.messages m;
insert into public.order_products (distributor_id, order_id, line_no, customer_text, sku, quantity)
  select o.distributor_id, o.id, l, 'agua', 'SKU-' || l, 1 from public.orders o, generate_series(1, 2) l;
insert into public.product_matching_history (distributor_id, message_id, order_product_id, query_text)
  select op.distributor_id, o.ai_source_message_id, op.id, 'agua'
    from public.order_products op join public.orders o on o.id = op.order_id;
insert into public.webhook_deliveries (distributor_id, endpoint_id, event_id, event_type, payload, message_id, order_id,
                                       state, attempts, delivered_at)
  select o.distributor_id, e.id, 'msg_hist_' || o.id, 'order.created', '\\x7b7d', o.ai_source_message_id, o.id,
         'succeeded', 1, now()
    from public.orders o join public.webhook_endpoints e on e.distributor_id = o.distributor_id;

insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                             body, state, locked_by, lease_expires_at, attempts)
  select c.distributor_id, c.id, c.customer_id, 'inbound', 'whatsapp', 'wamid.hot.' || g,
         'quiero 2 garrafones, mi tel 5512345678', 'processing', '{WORKER}', now() + interval '1 hour', 1
    from (select c.* from public.conversations c join public.distributors d on d.id = c.distributor_id
           where d.slug = 'hist-1' limit 1) c, generate_series(1, {CALLS}) g;
insert into public.webhook_deliveries (distributor_id, endpoint_id, event_id, event_type, payload, next_attempt_at,
                                       locked_by, locked_until)
  select e.distributor_id, e.id, 'msg_hot_' || g, 'order.created', '\\x7b7d', now() - make_interval(secs => g),
         case when d.slug = 'hist-2' then '{WORKER}' end, case when d.slug = 'hist-2' then now() + interval '1 hour' end
    from public.webhook_endpoints e join public.distributors d on d.id = e.distributor_id, generate_series(1, {CALLS}) g
   where d.slug in ('hist-1', 'hist-2');
update public.api_rate_limits l set requests_per_minute = 1, burst = 1
  from public.distributors d where d.id = l.distributor_id and d.slug = 'hist-3' and l.scope = 'ai';
update private.rate_buckets b set tat = now() + interval '1 hour', emission_s = 60, tolerance_s = 0
  from public.distributors d where d.id = b.distributor_id and d.slug = 'hist-3' and b.scope = 'ai';
"""


@pytest.fixture(scope="module")
def history_url(module_db_url: str) -> str:
    with psycopg.connect(module_db_url, autocommit=True) as conn:
        conn.execute(HISTORY)
        conn.execute("vacuum analyze")
    return module_db_url


@contextmanager
def generic_plans(url: str) -> Iterator[Conn]:
    """One transaction, rolled back, in which every cached plan is generic."""
    with psycopg.connect(url) as conn:
        try:
            conn.execute("set local plan_cache_mode = force_generic_plan")
            yield conn
        finally:
            conn.rollback()


def _seq_scans(conn: Conn) -> dict[str, int]:
    rows = conn.execute("select schemaname || '.' || relname, seq_scan from pg_stat_xact_user_tables").fetchall()
    return {name: count for name, count in rows}


def seq_scans_during(conn: Conn, call: Callable[[int], object], tables: tuple[str, ...]) -> dict[str, int]:
    """The sequential scans of `tables` that CALLS calls of `call` (given 0, 1, ...) started."""
    before = _seq_scans(conn)
    for i in range(CALLS):
        call(i)
    after = _seq_scans(conn)
    return {table: after.get(table, 0) - before.get(table, 0) for table in tables}


def no_scans(tables: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(tables, 0)


def scalar(conn: Conn, sql: str, params: dict[str, Any] | tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def tenant(conn: Conn, n: int) -> str:
    return str(scalar(conn, "select id::text from public.distributors where slug = %s", (f"hist-{n}",)))


def claimed_messages(conn: Conn) -> list[str]:
    """hist-1's messages that WORKER holds (from HISTORY)."""
    rows = conn.execute("select id::text from public.messages where locked_by = %s order by id", (WORKER,)).fetchall()
    assert len(rows) == CALLS
    return [r[0] for r in rows]


def full_outcome(message_id: str, distributor_id: str) -> dict[str, Any]:
    """An outcome with every part record_outcome writes, in the shape the pipeline produces:
    PII, analysis, priced usage, a new order (one matched line, one unmatched), matches and a reply."""
    facts = MessageFacts(message_id=message_id, distributor_id=distributor_id, worker_id=WORKER, language="es",
                         body_redacted="quiero 2 garrafones, mi tel <PHONE_NUMBER>",
                         findings=[PiiFinding(category="PHONE_NUMBER", entity_type="PHONE_NUMBER", start=27, end=37,
                                              score=0.9, recognizer="regex")])
    lines = [
        {"line_no": 1, "customer_text": "2 garrafones", "sku": "SKU-1", "quantity": 2, "unit": "pz",
         "confidence": 0.9, "match_method": "alias", "review_reason": None},
        {"line_no": 2, "customer_text": "hielo", "sku": None, "quantity": 1, "unit": None,
         "confidence": 0.3, "match_method": "none", "review_reason": "unmatched"},
    ]
    return {
        **facts.header(),
        "needs_review": True,
        "review_reasons": ["unmatched:line:2"],
        "analysis": {"provider": "offline", "model": "offline", "prompt_version": "v1", "intent": "order",
                     "language": "es", "output": {"intent": "order"}, "confidence": 0.3, "needs_review": True,
                     "latency_ms": 12},
        "usage": [{"provider": "offline", "model": "offline", "prompt_version": "v1", "input_tokens": 100,
                   "cached_input_tokens": 0, "output_tokens": 50, "cost_micro_usd": 1000, "price_id": None,
                   "latency_ms": 12}],
        "matches": [{"line_no": 1, "order_line_no": 1, "query_text": "2 garrafones", "chosen_sku": "SKU-1", "score": 0.9,
                     "method": "alias", "accepted": True, "candidates": [{"sku": "SKU-1", "score": 0.9, "method": "alias"}]},
                    {"line_no": 2, "order_line_no": 2, "query_text": "hielo", "chosen_sku": None, "score": 0.3,
                     "method": "none", "accepted": False, "candidates": []}],
        "conversation": {"action": "create", "status": "needs_review", "review_reasons": ["unmatched:line:2"],
                         "delivery_date": None, "delivery_text": None, "close": False, "lines": lines,
                         "change": {"action": "none", "lines": []}},
        "reply": "Gracias, tu pedido queda en revisión",
    }


def this_month_alerts(conn: Conn, distributor_id: str) -> int:
    return int(scalar(conn, """select count(*) from public.ai_budget_alerts a join public.distributors d on d.id = a.distributor_id
                                where a.distributor_id = %s
                                  and a.period = date_trunc('month', now() at time zone d.timezone)::date""",
                      (distributor_id,)))


# --- the worker, per message -----------------------------------------------------------------------------------
# Tables only ever written by INSERT (ai_usage_metrics, pii_detection_results, data_access_audit ...) or
# by INSERT ... ON CONFLICT (distributor_usage, ai_budget_alerts: the conflict is found through the
# arbiter index, not a plan) are listed too: they must stay so if the function starts reading them.


def test_record_outcome_reads_big_tables_by_index_only(history_url: str) -> None:
    # distributors, webhook_endpoints and ai_budgets (one or two pages: a row per tenant or endpoint)
    # are left out; the foreign-key checks of every insert look up distributors.
    big = ("public.messages", "public.conversations", "public.customers", "public.orders", "public.order_products",
           "public.order_revisions",
           "public.products", "public.pii_detection_rules", "public.ai_responses", "public.ai_usage_metrics",
           "public.pii_detection_results", "public.product_matching_history", "public.webhook_deliveries",
           "public.distributor_usage", "public.ai_budget_alerts", "public.data_access_audit")
    with generic_plans(history_url) as conn:
        distributor_id = tenant(conn, 1)
        ids = claimed_messages(conn)
        results: list[dict[str, Any]] = []

        def record(i: int) -> None:
            outcome = dumps(full_outcome(ids[i], distributor_id))
            results.append(scalar(conn, query("record_outcome"), {"outcome": outcome}))

        scans = seq_scans_during(conn, record, big)
        alerts = this_month_alerts(conn, distributor_id)
    # an order, its revision and two events each time: order.created and (in review) order.needs_review
    assert all(r["order_id"] and r["revision"] == 1 and r["events"] == 2 for r in results)
    assert alerts == 3  # 8 x 1,000 of an 8,000 budget: 50, 80 and 100 % crossed (alert + webhook each)
    assert scans == no_scans(big)


def test_record_budget_usage_reads_big_tables_by_index_only(history_url: str) -> None:
    big = ("public.distributor_usage", "public.ai_budget_alerts", "public.webhook_deliveries")
    with generic_plans(history_url) as conn:
        distributor_id = tenant(conn, 2)
        scans = seq_scans_during(conn, lambda i: conn.execute(
            "select private.record_budget_usage(%s, 1, 1000, %s)", (distributor_id, i % 2)), big)
        alerts = this_month_alerts(conn, distributor_id)
    assert alerts == 3
    assert scans == no_scans(big)


def test_defer_messages_reads_messages_by_index_only(history_url: str) -> None:
    big = ("public.messages",)
    with generic_plans(history_url) as conn:
        ids = claimed_messages(conn)
        deferred: list[int] = []
        scans = seq_scans_during(conn, lambda i: deferred.append(scalar(conn, query("defer_messages"), {
            "worker_id": WORKER, "ids": [ids[i]], "seconds": 30})), big)
    assert deferred == [1] * CALLS
    assert scans == no_scans(big)


def test_extend_leases_reads_messages_by_index_only(history_url: str) -> None:
    big = ("public.messages",)
    with generic_plans(history_url) as conn:
        ids = claimed_messages(conn)
        extended: list[int] = []
        scans = seq_scans_during(conn, lambda i: extended.append(len(conn.execute(query("extend_leases"), {
            "worker_id": WORKER, "ids": ids, "lease_seconds": 60}).fetchall())), big)
    assert extended == [CALLS] * CALLS
    assert scans == no_scans(big)


def test_release_messages_reads_messages_by_index_only(history_url: str) -> None:
    big = ("public.messages",)
    with generic_plans(history_url) as conn:
        ids = claimed_messages(conn)
        released: list[int] = []
        scans = seq_scans_during(conn, lambda i: released.append(scalar(conn, query("release_messages"), {
            "worker_id": WORKER, "ids": [ids[i]]})), big)
    assert released == [1] * CALLS
    assert scans == no_scans(big)


def test_fail_message_reads_big_tables_by_index_only(history_url: str) -> None:
    big = ("public.messages", "public.ai_errors", "public.webhook_deliveries")
    with generic_plans(history_url) as conn:
        ids = claimed_messages(conn)
        states: list[str] = []
        # even calls retry (queued again), odd ones fail for good (message.failed webhook)
        scans = seq_scans_during(conn, lambda i: states.append(scalar(conn, query("fail_message"), {
            "message_id": ids[i], "worker_id": WORKER, "error_type": "timeout", "error_message": "analyzer timed out",
            "retryable": i % 2 == 0, "retry_delay": 5})), big)
    assert states == ["queued", "failed"] * (CALLS // 2)
    assert scans == no_scans(big)


def test_take_rate_token_reads_limits_and_buckets_by_index_only(history_url: str) -> None:
    big = ("public.api_rate_limits", "private.rate_buckets", "public.external_integrations")
    with generic_plans(history_url) as conn:
        hist_1, hist_3, hist_50 = tenant(conn, 1), tenant(conn, 3), tenant(conn, 50)
        integration_id = scalar(conn, "select id from public.external_integrations where distributor_id = %s limit 1",
                                (hist_1,))
        # (distributor, integration, scope): the tenant's AI row; an integration's own inbound row; an
        # empty bucket (refused, then read back for retry_after); no row at all (the defaults given)
        takes = [(hist_1, None, "ai"), (hist_1, integration_id, "inbound"), (hist_3, None, "ai"), (hist_50, None, "ai")]
        taken: list[tuple[Any, ...]] = []

        def take(i: int) -> None:
            distributor_id, integration, scope = takes[i % len(takes)]
            row = conn.execute(query("take_rate_token"), {"distributor_id": distributor_id, "integration_id": integration,
                                                          "scope": scope, "default_rpm": 600, "default_burst": 10}).fetchone()
            assert row is not None
            taken.append(tuple(row))

        scans = seq_scans_during(conn, take, big)
    assert [allowed for allowed, _, _ in taken] == [True, True, False, True] * (CALLS // len(takes))
    assert scans == no_scans(big)


# --- the delivery loop, per delivery ---------------------------------------------------------------------------


def test_claim_deliveries_reads_deliveries_by_index_only(history_url: str) -> None:
    # webhook_endpoints is left out: the claim looks at every enabled endpoint by design (a row each)
    big = ("public.webhook_deliveries",)
    with generic_plans(history_url) as conn:
        claimed: list[list[tuple[Any, ...]]] = []
        scans = seq_scans_during(conn, lambda i: claimed.append(conn.execute(query("claim_deliveries"), {
            "worker_id": WORKER, "batch": 1, "lease_seconds": 60}).fetchall()), big)
    assert [len(rows) for rows in claimed] == [1] * CALLS  # hist-1's due deliveries, one per call
    assert scans == no_scans(big)


def test_finish_deliveries_reads_deliveries_by_index_only(history_url: str) -> None:
    big = ("public.webhook_deliveries",)
    # the last one answered 410 Gone: the endpoint is disabled, its pending deliveries fail and an
    # endpoint.disabled event is queued
    outcomes = ("succeeded", "retry", "dead", "failed", "release", "succeeded", "retry", "gone")
    with generic_plans(history_url) as conn:
        ids = [r[0] for r in conn.execute(
            "select id::text from public.webhook_deliveries where locked_by = %s order by id", (WORKER,)).fetchall()]
        finished: list[tuple[Any, ...]] = []

        def finish(i: int) -> None:
            result = {"id": ids[i], "outcome": outcomes[i], "status_code": 200 if outcomes[i] == "succeeded" else 500,
                      "error": None, "snippet": None, "delay": 30}
            row = conn.execute(query("finish_deliveries"), {"worker_id": WORKER, "results": dumps([result]),
                                                            "failing_window_seconds": 432000}).fetchone()
            assert row is not None
            finished.append(tuple(row))

        scans = seq_scans_during(conn, finish, big)
    assert [row[0] for row in finished] == [1] * CALLS
    assert [len(row[1]) for row in finished] == [0] * (CALLS - 1) + [1]
    assert scans == no_scans(big)


# --- the intake, per message ---------------------------------------------------------------------------------------


def test_ingest_message_reads_big_tables_by_index_only(history_url: str) -> None:
    """New customers and conversations, a known customer, and a repeated delivery: each by key."""
    big = ("public.messages", "public.conversations", "public.customers", "public.order_attachments")
    with generic_plans(history_url) as conn:
        distributor_id = tenant(conn, 4)
        known_phone_hash = b"\x01" * 32
        conn.execute("update public.customers set phone_hash = %s where id = (select id from public.customers "
                     "where distributor_id = %s limit 1)", (known_phone_hash, distributor_id))
        stored: list[tuple[Any, ...]] = []

        def ingest(i: int) -> None:
            phone_hash = known_phone_hash if i % 2 else bytes([i + 2]) * 32
            row = conn.execute(query("ingest_message"), {
                "distributor_id": distributor_id, "channel": "whatsapp", "provider_message_id": f"wamid.plan.{i % 6}",
                "handle_hash": f"h1:{i:064x}", "handle_encrypted": b"sealed", "phone_hash": phone_hash,
                "phone_encrypted": b"sealed", "profile_name": "Tienda", "body": "quiero agua", "kind": "text",
                "raw_encrypted": b"sealed", "received_at": None, "integration_id": None, "needs_review": False,
                "review_reasons": [], "attachments": "[]"}).fetchone()
            stored.append(tuple(row or ()))

        scans = seq_scans_during(conn, ingest, big)
    assert [created for _, created in stored] == [True] * 6 + [False] * (CALLS - 6)  # the last ones are repeats
    assert scans == no_scans(big)
