"""Issue 14, findings 6 and 8: locations and captions are encrypted and cleared by retention with
the message body; WhatsApp profile names (customers.name) fall under retention too.

Red before the fix: retention left order_attachments.caption/location and customers.name in
place, and nothing encrypted plaintext attachments."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from worker.admin.encrypt_pending import encrypt_pending
from worker.core.encryption import default_keyring
from worker.core.repository import Repository


def _message(conn: psycopg.Connection[Any], d: uuid.UUID, name: str, days_ago: int) -> tuple[uuid.UUID, uuid.UUID]:
    row = conn.execute(
        "with c as (insert into public.customers (distributor_id, name) values (%(d)s, %(n)s) returning id),"
        " v as (insert into public.conversations (distributor_id, customer_id, channel, handle)"
        "       select %(d)s, id, 'whatsapp', 'h1:' || gen_random_uuid() from c returning id, customer_id)"
        " insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, kind, body,"
        "        received_at, state) select %(d)s, v.id, v.customer_id, 'inbound', 'whatsapp', 'location', 'here',"
        "        now() - make_interval(days => %(a)s), 'processed' from v returning id, customer_id",
        {"d": d, "n": name, "a": days_ago}).fetchone()
    assert row is not None
    conn.execute("insert into public.order_attachments (distributor_id, message_id, kind, caption, location,"
                 " caption_encrypted) values (%s, %s, 'location', 'Casa de Lupita', '{\"latitude\": 19.4}', '\\x01')",
                 (d, row[0]))
    return row[0], row[1]


def test_retention_clears_attachments_with_the_body_and_old_profile_names(conn: psycopg.Connection[Any]) -> None:
    d = conn.execute("insert into public.distributors (slug, name) values (%s, 'R') returning id",
                     (f"r-{uuid.uuid4().hex[:8]}",)).fetchone()[0]  # type: ignore[index]
    old_message, old_customer = _message(conn, d, "Lupita Gómez", 200)
    new_message, new_customer = _message(conn, d, "Mike Turner", 1)

    assert conn.execute("select public.retention_due_v2(%s, 'message_bodies')", (d,)).fetchone() == (2,)
    changed = conn.execute("select public.apply_retention_v2(%s, 'message_bodies', 100)", (d,)).fetchone()

    assert changed == (2,)  # one body, one name
    attachments = dict(conn.execute(
        "select message_id, array[caption, location::text, encode(caption_encrypted, 'hex')]"
        " from public.order_attachments where distributor_id = %s", (d,)).fetchall())
    assert attachments[old_message] == [None, None, None]
    assert attachments[new_message] == ["Casa de Lupita", '{"latitude": 19.4}', "01"]
    names = dict(conn.execute("select id, name from public.customers where distributor_id = %s", (d,)).fetchall())
    assert names == {old_customer: None, new_customer: "Mike Turner"}
    assert conn.execute("select public.apply_retention_v2(%s, 'message_bodies', 100)", (d,)).fetchone() == (0,)


@pytest.fixture
async def repo(fresh_db_url: str) -> AsyncIterator[Repository]:
    repository = Repository(fresh_db_url, min_size=1, max_size=2)
    await repository.open()
    try:
        yield repository
    finally:
        await repository.close()


async def test_plaintext_attachments_are_encrypted_by_the_worker(repo: Repository, fresh_db_url: str) -> None:
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        d = conn.execute("insert into public.distributors (slug, name) values (%s, 'E') returning id",
                         (f"e-{uuid.uuid4().hex[:8]}",)).fetchone()[0]  # type: ignore[index]
        message, _ = _message(conn, d, "Shop", 1)
        conn.execute("update public.order_attachments set caption_encrypted = null where message_id = %s", (message,))
    keyring = default_keyring()

    done = await encrypt_pending(repo, keyring)

    assert done.attachments == 1
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute("select caption, location, caption_encrypted, location_encrypted from public.order_attachments"
                           " where message_id = %s", (message,)).fetchone()
    assert row is not None and row[:2] == (None, None)
    key = await keyring.data_key(repo, str(d))
    assert key.open(row[2], "order_attachments.caption") == "Casa de Lupita"
    assert json.loads(key.open(row[3], "order_attachments.location")) == {"latitude": 19.4}
