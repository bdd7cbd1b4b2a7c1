"""Retention: message bodies, PII findings and AI responses past their window are anonymised or
deleted in batches, orders stay intact, a second run changes nothing, per-distributor policies
override the defaults, and each run is logged."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.support.tenants import create_distributor
from worker.admin.retention import RetentionResult, run_retention
from worker.cli import app
from worker.core.repository import Repository


@dataclass(frozen=True, kw_only=True)
class Seeded:
    distributor_id: uuid.UUID
    slug: str
    old_message: uuid.UUID  # 100 days: past the 90-day default
    old_outbound: uuid.UUID  # our reply, 100 days old
    old_queued: uuid.UUID  # 100 days, never processed: left alone
    mid_message: uuid.UUID  # 45 days
    new_message: uuid.UUID  # 10 days
    order: uuid.UUID  # made from old_message


def _one(conn: psycopg.Connection[Any], statement: str, params: Any) -> Any:
    row = conn.execute(statement, params).fetchone()
    assert row is not None
    return row[0]


def seed(url: str) -> Seeded:
    """One distributor with messages, PII findings and AI responses of several ages, and an order."""
    with psycopg.connect(url, autocommit=True) as conn:
        slug = f"r-{uuid.uuid4().hex[:10]}"
        d = create_distributor(conn, slug)
        customer = _one(conn, "insert into public.customers (distributor_id, name, phone) values (%s, 'Tienda', '+5215500000001')"
                              " returning id", (d,))
        conversation = _one(conn, "insert into public.conversations (distributor_id, customer_id, channel, handle)"
                                  " values (%s, %s, 'whatsapp', '5215500000001') returning id", (d, customer))

        def message(age_days: int, *, direction: str = "inbound", state: str = "processed") -> uuid.UUID:
            message_id = _one(conn, """
                insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, body,
                                             body_redacted, raw_payload, received_at, created_at, state)
                values (%(d)s, %(c)s, %(cu)s, %(dir)s, 'whatsapp', 'Soy Ana, 2 cajas de coca al 55 1234 5678',
                        'Soy <PERSON>, 2 cajas de coca al <PHONE_NUMBER>', '{"from": "5215500000001"}',
                        now() - make_interval(days => %(age)s), now() - make_interval(days => %(age)s), %(state)s)
                returning id""", {"d": d, "c": conversation, "cu": customer, "dir": direction, "age": age_days,
                                  "state": state})
            conn.execute("""
                insert into public.pii_detection_results (distributor_id, message_id, category, entity_type, start_offset,
                                                          end_offset, score, recognizer, created_at)
                values (%s, %s, 'PERSON', 'PERSON', 4, 7, 0.85, 'spacy', now() - make_interval(days => %s))""",
                         (d, message_id, age_days))
            conn.execute("""
                insert into public.ai_responses (distributor_id, message_id, provider, model, prompt_version, intent, output,
                                                 confidence, needs_review, latency_ms, created_at)
                values (%s, %s, 'openai', 'gpt-4o-mini', 'v1', 'order', '{"lines": [{"sku": "COCA-600", "quantity": 2}]}',
                        0.9, false, 420, now() - make_interval(days => %s * 2))""", (d, message_id, age_days))
            return message_id  # type: ignore[no-any-return]

        old = message(100)
        order = _one(conn, "insert into public.orders (distributor_id, customer_id, conversation_id, ai_source_message_id,"
                           " currency, created_at) values (%s, %s, %s, %s, 'MXN', now() - interval '100 days') returning id",
                     (d, customer, conversation, old))
        conn.execute("insert into public.order_products (distributor_id, order_id, line_no, customer_text, quantity)"
                     " values (%s, %s, 1, '2 cajas de coca', 2)", (d, order))
        return Seeded(distributor_id=d, slug=slug, old_message=old, old_outbound=message(100, direction="outbound",
                      state="outbound"), old_queued=message(100, state="queued"), mid_message=message(45),
                      new_message=message(10), order=order)


def bodies(url: str, distributor_id: uuid.UUID) -> dict[uuid.UUID, bool]:
    """Message id -> whether it still holds its body, redacted body and raw payload."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select id, body is not null and body_redacted is not null and raw_payload is not null,"
            " body is null and body_redacted is null and raw_payload is null"
            " from public.messages where distributor_id = %s", (distributor_id,),
        ).fetchall()
    assert all(intact or gone for _, intact, gone in rows), "a message was half anonymised"
    return {message_id: intact for message_id, intact, _ in rows}


def snapshot(url: str, distributor_id: uuid.UUID) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        def rows(table: str) -> list[str]:
            return sorted(json.dumps(r[0], sort_keys=True) for r in conn.execute(
                f"select to_jsonb(t) from public.{table} t where distributor_id = %s", (distributor_id,)).fetchall())
        return {table: rows(table) for table in ("messages", "pii_detection_results", "ai_responses", "orders",
                                                  "order_products", "security_audit_log")}


def counts(url: str, distributor_id: uuid.UUID) -> tuple[int, int, int]:
    """PII findings left, AI responses with output, AI responses left."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select (select count(*) from public.pii_detection_results where distributor_id = %(d)s),"
            " (select count(*) from public.ai_responses where distributor_id = %(d)s and output <> '{}'),"
            " (select count(*) from public.ai_responses where distributor_id = %(d)s)", {"d": distributor_id},
        ).fetchone()
    assert row is not None
    return row


@pytest.fixture
async def repo(fresh_db_url: str) -> Any:
    async with Repository(fresh_db_url, min_size=1, max_size=2) as repository:
        yield repository


def by_kind(results: list[RetentionResult], distributor_id: uuid.UUID) -> dict[str, RetentionResult]:
    return {r.data_kind: r for r in results if r.distributor_id == str(distributor_id)}


async def test_old_bodies_are_anonymised_and_recent_ones_kept(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)

    await run_retention(repo)

    assert bodies(fresh_db_url, s.distributor_id) == {
        s.old_message: False, s.old_outbound: False, s.old_queued: True, s.mid_message: True, s.new_message: True}
    with psycopg.connect(fresh_db_url) as conn:
        state = conn.execute("select state::text from public.messages where id = %s", (s.old_message,)).fetchone()
    assert state == ("processed",)


async def test_old_pii_findings_are_deleted_and_old_ai_outputs_emptied(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)  # findings 100 (x3), 45, 10 days old; AI responses 200 (x3), 90, 20 days old
    assert counts(fresh_db_url, s.distributor_id) == (5, 5, 5)

    results = by_kind(await run_retention(repo), s.distributor_id)

    assert counts(fresh_db_url, s.distributor_id) == (2, 2, 5)
    assert {k: (r.action, r.retain_days, r.is_default, r.affected) for k, r in results.items()} == {
        "message_bodies": ("anonymise", 90, True, 2),
        "pii_findings": ("delete", 90, True, 3),
        "ai_responses": ("anonymise", 180, True, 3),
        "webhook_deliveries": ("keep", None, True, 0),
        "orders": ("keep", None, True, 0),
    }


async def test_orders_and_their_lines_stay_intact(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)
    before = snapshot(fresh_db_url, s.distributor_id)

    await run_retention(repo)

    after = snapshot(fresh_db_url, s.distributor_id)
    assert after["orders"] == before["orders"] and after["order_products"] == before["order_products"]
    with psycopg.connect(fresh_db_url) as conn:
        source = conn.execute("select ai_source_message_id from public.orders where id = %s", (s.order,)).fetchone()
    assert source == (s.old_message,)


async def test_a_second_run_changes_nothing(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)
    await run_retention(repo)
    before = snapshot(fresh_db_url, s.distributor_id)

    results = await run_retention(repo)

    assert all(r.affected == 0 for r in results)
    assert snapshot(fresh_db_url, s.distributor_id) == before


async def test_a_distributor_s_policy_overrides_the_defaults(fresh_db_url: str, repo: Repository) -> None:
    a, b = seed(fresh_db_url), seed(fresh_db_url)
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("insert into public.data_retention_policies (distributor_id, data_kind, retain_days, action)"
                     " values (%(b)s, 'message_bodies', 30, 'anonymise'), (%(b)s, 'pii_findings', null, 'keep'),"
                     " (%(b)s, 'ai_responses', 60, 'delete')", {"b": b.distributor_id})

    results = by_kind(await run_retention(repo), b.distributor_id)

    assert bodies(fresh_db_url, a.distributor_id)[a.mid_message] is True  # 45 days: default 90 keeps it
    assert bodies(fresh_db_url, b.distributor_id)[b.mid_message] is False  # 45 days: B keeps 30
    assert bodies(fresh_db_url, b.distributor_id)[b.new_message] is True
    assert counts(fresh_db_url, a.distributor_id) == (2, 2, 5)
    assert counts(fresh_db_url, b.distributor_id) == (5, 1, 1)  # findings kept; responses over 60 days deleted
    assert (results["pii_findings"].action, results["pii_findings"].is_default) == ("keep", False)
    assert results["ai_responses"].affected == 4


async def test_batches_cover_everything_past_the_window(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)

    results = by_kind(await run_retention(repo, batch=1), s.distributor_id)

    assert (results["message_bodies"].affected, results["message_bodies"].batches) == (2, 3)
    assert (results["pii_findings"].affected, results["pii_findings"].batches) == (3, 4)
    assert counts(fresh_db_url, s.distributor_id) == (2, 2, 5)


async def test_a_dry_run_counts_what_a_run_changes_and_changes_nothing(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)
    before = snapshot(fresh_db_url, s.distributor_id)

    dry = by_kind(await run_retention(repo, dry_run=True), s.distributor_id)

    assert snapshot(fresh_db_url, s.distributor_id) == before
    real = by_kind(await run_retention(repo), s.distributor_id)
    assert {k: r.affected for k, r in dry.items()} == {k: r.affected for k, r in real.items()}
    assert all(r.dry_run for r in dry.values())


async def test_each_run_is_logged_per_distributor_and_kind(fresh_db_url: str, repo: Repository) -> None:
    s = seed(fresh_db_url)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    logger = logging.getLogger("orderflow.retention")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        await run_retention(repo, slug=s.slug)
        await run_retention(repo, slug=s.slug)
    finally:
        logger.removeHandler(handler)

    lines = [(r.action, r.data_kind, r.affected) for r in records]  # type: ignore[attr-defined]
    assert lines[:5] == [("retention_applied", "ai_responses", 3), ("retention_applied", "message_bodies", 2),
                         ("retention_applied", "orders", 0), ("retention_applied", "pii_findings", 3),
                         ("retention_applied", "webhook_deliveries", 0)]
    assert all(affected == 0 for _, _, affected in lines[5:]) and len(lines) == 10
    with psycopg.connect(fresh_db_url) as conn:
        logged = conn.execute(
            "select actor, details ->> 'data_kind', (details ->> 'affected')::int from public.security_audit_log"
            " where distributor_id = %s and event_type = 'retention_applied' order by 2", (s.distributor_id,),
        ).fetchall()
    assert logged == [("retention", "ai_responses", 3), ("retention", "message_bodies", 2),
                      ("retention", "pii_findings", 3)]  # once: the second run changed nothing


@pytest.mark.parametrize(("kind", "action"), [("orders", "delete"), ("message_bodies", "delete"),
                                               ("pii_findings", "anonymise"), ("ai_responses", "delete")])
def test_policies_allow_only_actions_that_fit_the_kind(conn: psycopg.Connection[Any], kind: str, action: str) -> None:
    d = create_distributor(conn, f"p-{uuid.uuid4().hex[:10]}")
    statement = ("insert into public.data_retention_policies (distributor_id, data_kind, retain_days, action)"
                 " values (%s, %s, 30, %s)")
    if (kind, action) == ("ai_responses", "delete"):
        conn.execute(statement, (d, kind, action))
        with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
            conn.execute(statement.replace("30", "null"), (d, "message_bodies", "anonymise"))
    else:
        with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
            conn.execute(statement, (d, kind, action))


# --- orderflow retention run --------------------------------------------------------------------------

@pytest.fixture
def cli_db(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    logger = logging.getLogger("orderflow")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield fresh_db_url
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_cli_dry_run_then_run(cli_db: str) -> None:
    s = seed(cli_db)
    runner = CliRunner()

    dry = runner.invoke(app, ["retention", "run", "--dry-run", "--distributor", s.slug])
    assert dry.exit_code == 0, dry.output
    assert bodies(cli_db, s.distributor_id)[s.old_message] is True

    real = runner.invoke(app, ["retention", "run", "--batch", "2"])
    assert real.exit_code == 0, real.output
    assert bodies(cli_db, s.distributor_id)[s.old_message] is False
    assert s.slug in real.output


def test_cli_unknown_distributor_fails(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["retention", "run", "--distributor", "nope"])
    assert result.exit_code == 1
