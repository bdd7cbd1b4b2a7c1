"""Roll-ups: refresh_rollups_v1 against a hand count, idempotence, late reviews, and agreement
with the distributor_usage counters record_outcome_v1 keeps live."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from ai.offline.analyzer import OfflineAnalyzer
from tests.support.tenants import create_user, impersonate
from webhooks.inbound.store import InboundRecord, store_many
from worker.admin.catalog_import import import_catalog
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.rollups import RollupRefresh, default_since, refresh_rollups
from worker.runtime import build_worker

TZ = "America/Mexico_City"
DAY1, DAY2 = date(2025, 3, 10), date(2025, 3, 11)
SINCE = date(2025, 3, 1)
MODEL_COLUMNS = "day, provider, model, calls, reviewed, correct, avg_latency_ms, cost_micro_usd"
PROMPT_COLUMNS = "day, prompt_version, model, calls, reviewed, correct, avg_latency_ms, cost_micro_usd"


def local_noon(day: date) -> str:
    return f"{day.isoformat()} 12:00 {TZ}"


class Fixture:
    """One distributor, four analysed messages over two days, three reviewed lines."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        self.conn = conn
        self.d = self.value("insert into distributors (slug, name, timezone) values (%s, 'Rollup', %s) returning id",
                            (f"rollup-{uuid.uuid4().hex[:8]}", TZ))
        self.customer = self.value("insert into customers (distributor_id, name) values (%s, 'Shop') returning id", (self.d,))
        self.conversation = self.value("""insert into conversations (distributor_id, customer_id, channel, handle)
                                          values (%s, %s, 'whatsapp', '+1') returning id""", (self.d, self.customer))

    def value(self, sql: str, params: tuple[object, ...]) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return next(iter(row.values()))

    def analysed(self, day: date, provider: str, model: str, prompt: str, latency: int, cost: int) -> tuple[Any, Any]:
        at = local_noon(day)
        message = self.value("""insert into messages (distributor_id, conversation_id, customer_id, direction, channel,
                                  body, received_at, state, processed_at)
                                values (%s, %s, %s, 'inbound', 'whatsapp', 'x', %s, 'processed', %s) returning id""",
                             (self.d, self.conversation, self.customer, at, at))
        response = self.value("""insert into ai_responses (distributor_id, message_id, provider, model, prompt_version,
                                   intent, output, needs_review, latency_ms, created_at)
                                 values (%s, %s, %s, %s, %s, 'order', '{}', true, %s, %s) returning id""",
                              (self.d, message, provider, model, prompt, latency, at))
        self.conn.execute("""insert into ai_usage_metrics (distributor_id, message_id, ai_response_id, provider, model,
                               prompt_version, cost_micro_usd, latency_ms, period, occurred_at)
                             values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                          (self.d, message, response, provider, model, prompt, cost, latency, day.replace(day=1), at))
        return message, response

    def order(self, message: Any, day: date, lines: int) -> list[Any]:
        order = self.value("""insert into orders (distributor_id, customer_id, ai_source_message_id, currency, created_at)
                              values (%s, %s, %s, 'USD', %s) returning id""", (self.d, self.customer, message, local_noon(day)))
        return [self.value("""insert into order_products (distributor_id, order_id, line_no, customer_text, quantity)
                              values (%s, %s, %s, 'x', 1) returning id""", (self.d, order, n)) for n in range(1, lines + 1)]

    def review(self, message: Any, response: Any, line: Any, kind: str, at: datetime | None = None) -> None:
        self.conn.execute("""insert into ai_training_data (distributor_id, message_id, ai_response_id, order_product_id,
                               input_text, expected_output, correction_type, created_at)
                             values (%s, %s, %s, %s, 'x', '{}', %s, coalesce(%s, now()))""",
                          (self.d, message, response, line, kind, at))

    def refresh(self, since: date = SINCE) -> dict[str, int]:
        row = self.conn.execute("select public.refresh_rollups_v1(%s) as r", (since,)).fetchone()
        assert row is not None
        return dict(row["r"])

    def table(self, name: str, columns: str, order: str | None = None) -> list[tuple[Any, ...]]:
        found = self.conn.execute(f"select {columns} from {name} where distributor_id = %s order by {order or columns}",  # noqa: S608
                                  (self.d,)).fetchall()
        return [tuple(r.values()) for r in found]


@pytest.fixture
def fx(db_url: str) -> Iterator[Fixture]:
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        try:
            fixture = Fixture(conn)
            m1, r1 = fixture.analysed(DAY1, "openai", "gpt-x", "v1", latency=100, cost=1000)
            m2, r2 = fixture.analysed(DAY1, "openai", "gpt-x", "v2", latency=200, cost=3000)
            fixture.analysed(DAY1, "offline", "rules", "offline-1", latency=10, cost=0)
            fixture.analysed(DAY2, "openai", "gpt-x", "v1", latency=300, cost=500)
            a, b = fixture.order(m1, DAY1, 2)
            (c,) = fixture.order(m2, DAY1, 1)
            fixture.review(m1, r1, a, "confirmed")  # right as it was
            fixture.review(m1, r1, b, "product")  # wrong product
            fixture.review(m2, r2, c, "confirmed")
            fixture.review(m2, r2, c, "quantity")  # the same line, changed after all: reviewed, not correct
            yield fixture
        finally:
            conn.rollback()


def test_the_model_roll_up_matches_a_hand_count(fx: Fixture) -> None:
    fx.refresh()
    assert fx.table("ai_model_performance", MODEL_COLUMNS) == [
        (DAY1, "offline", "rules", 1, 0, 0, Decimal("10.0"), 0),
        (DAY1, "openai", "gpt-x", 2, 3, 1, Decimal("150.0"), 4000),
        (DAY2, "openai", "gpt-x", 1, 0, 0, Decimal("300.0"), 500),
    ]


def test_the_prompt_roll_up_matches_a_hand_count(fx: Fixture) -> None:
    fx.refresh()
    assert fx.table("ai_prompt_performance", PROMPT_COLUMNS) == [
        (DAY1, "offline-1", "rules", 1, 0, 0, Decimal("10.0"), 0),
        (DAY1, "v1", "gpt-x", 1, 2, 1, Decimal("100.0"), 1000),
        (DAY1, "v2", "gpt-x", 1, 1, 0, Decimal("200.0"), 3000),
        (DAY2, "v1", "gpt-x", 1, 0, 0, Decimal("300.0"), 500),
    ]


def test_usage_per_month_matches_a_hand_count(fx: Fixture) -> None:
    fx.refresh()
    assert fx.table("distributor_usage", "period, messages, orders, ai_calls, ai_cost_micro_usd") == [
        (date(2025, 3, 1), 4, 2, 4, 4500),
    ]


def test_a_second_refresh_changes_nothing(fx: Fixture) -> None:
    first = fx.refresh()
    assert first == {"model_rows": 3, "prompt_rows": 4, "usage_rows": 1, "removed": 0}
    tables = ("ai_model_performance", "ai_prompt_performance", "distributor_usage")
    snapshot = [fx.table(t, "*", order="id") for t in tables]

    assert fx.refresh() == {"model_rows": 0, "prompt_rows": 0, "usage_rows": 0, "removed": 0}
    assert [fx.table(t, "*", order="id") for t in tables] == snapshot


# When a review is made (pinned: never the clock) and the distributor's day it falls on (UTC-6 all year):
# just after midnight UTC is still the day before there, at a month's and at a year's end too.
REVIEWED = [
    (datetime(2025, 7, 1, 0, 30, tzinfo=UTC), date(2025, 6, 30)),
    (datetime(2026, 1, 1, 5, 59, tzinfo=UTC), date(2025, 12, 31)),
    (datetime(2026, 3, 1, 0, 30, tzinfo=UTC), date(2026, 2, 28)),
    (datetime(2025, 9, 17, 12, 0, tzinfo=UTC), date(2025, 9, 17)),
]


@pytest.mark.parametrize(("reviewed_at", "local_day"), REVIEWED)
def test_a_review_today_updates_the_day_of_the_analysis(fx: Fixture, reviewed_at: datetime, local_day: date) -> None:
    fx.refresh()
    m4 = fx.value("select message_id from ai_responses where distributor_id = %s and created_at::date >= %s",
                  (fx.d, DAY2))
    r4 = fx.value("select id from ai_responses where message_id = %s", (m4,))
    (line,) = fx.order(m4, DAY2, 1)
    fx.review(m4, r4, line, "confirmed", at=reviewed_at)  # reviewed months later

    assert fx.refresh(since=local_day) == {"model_rows": 1, "prompt_rows": 1, "usage_rows": 0, "removed": 0}
    assert (DAY2, "openai", "gpt-x", 1, 1, 1, Decimal("300.0"), 500) in fx.table("ai_model_performance", MODEL_COLUMNS)


def test_a_row_whose_source_is_gone_is_removed(fx: Fixture) -> None:
    fx.refresh()
    fx.conn.execute("delete from ai_usage_metrics where distributor_id = %s and provider = 'offline'", (fx.d,))

    assert fx.refresh()["removed"] == 2  # its model row and its prompt row
    assert [r[1] for r in fx.table("ai_model_performance", MODEL_COLUMNS)] == ["openai", "openai"]
    assert fx.table("distributor_usage", "ai_calls") == [(3,)]


def test_only_the_service_refreshes(conn: psycopg.Connection[Any]) -> None:
    distributor = conn.execute("insert into distributors (slug, name) values ('rollup-rls', 'R') returning id").fetchone()
    assert distributor is not None
    admin = create_user(conn, distributor[0], "admin")
    for who in (admin, None):
        with impersonate(conn, who), pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select public.refresh_rollups_v1(%s)", (SINCE,))


def test_default_since_is_yesterday() -> None:
    assert default_since(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == date(2026, 2, 28)


# --- agreement with the live counters ------------------------------------------------------------


@pytest.fixture
async def repo(fresh_db_url: str) -> AsyncIterator[Repository]:
    repository = Repository(fresh_db_url, min_size=1, max_size=4)
    await repository.open()
    try:
        yield repository
    finally:
        await repository.close()


async def test_a_refresh_agrees_with_the_usage_record_outcome_counts_live(
    repo: Repository, fresh_db_url: str, verbose_logs: None
) -> None:
    catalog = {"distributor": {"slug": "live", "name": "Live", "timezone": TZ},
               "products": [{"sku": "SPR-600-24", "name": "Sprite 600 ml (caja 24)", "aliases": ["sprite"],
                             "unit": "caja", "price_cents": 25000}]}
    distributor_id, _ = await import_catalog(repo, catalog)
    texts = ["mándame 3 cajas de sprite", "gracias!", "2 cajas de sprite y 1 de las rojitas", None]
    await store_many(repo, [
        InboundRecord(distributor_id=distributor_id, channel="whatsapp", provider_message_id=f"wamid.live.{i}",
                      handle=f"+52155{i}", profile_name=None, body=text, kind="text" if text else "image")
        for i, text in enumerate(texts)
    ])
    worker = build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=2, retry_base=0, worker_id="live")
    assert (await worker.run(until_idle=True)).processed == len(texts)
    with psycopg.connect(fresh_db_url) as conn:
        counted = conn.execute("select messages, orders, ai_calls, ai_cost_micro_usd from distributor_usage").fetchall()
    assert counted == [(4, 2, 3, 0)]  # the media message is counted, not analysed

    done = await refresh_rollups(repo, SINCE)  # a fresh database: every day since then, whatever today is

    assert done == RollupRefresh(model_rows=1, prompt_rows=1, usage_rows=0, removed=0)
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select messages, orders, ai_calls, ai_cost_micro_usd from distributor_usage").fetchall() == counted
        calls = conn.execute("select calls, reviewed from ai_model_performance").fetchall()
    assert calls == [(3, 0)]
    assert (await refresh_rollups(repo, SINCE)).changed == 0
