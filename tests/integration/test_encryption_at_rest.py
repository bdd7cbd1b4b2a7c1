"""Encryption at rest against a real Postgres: what the intake stores, the master key rotation,
plaintext left by older code or typed by staff, and what a distributor's staff can read."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.support.flow import scalar
from tests.support.tenants import create_distributor, create_user, impersonate
from webhooks.inbound.store import InboundRecord, store
from worker.admin.encrypt_pending import encrypt_pending
from worker.cli import app
from worker.core.encryption import EncryptionError, Keyring, MasterKey, new_master_key
from worker.core.repository import Repository


@pytest.fixture
async def repo(fresh_db_url: str) -> AsyncIterator[Repository]:
    async with Repository(fresh_db_url, min_size=1, max_size=4) as repository:
        yield repository


def distributor(url: str, slug: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return str(create_distributor(conn, slug))


def record(distributor_id: str, n: int, handle: str = "+52 1 55 5000 0101", **extra: Any) -> InboundRecord:
    return InboundRecord(distributor_id=distributor_id, channel="whatsapp", provider_message_id=f"wamid.enc.{n}",
                         handle=handle, profile_name="Lupita", body="3 cajas de coca 600",
                         raw={"id": f"wamid.enc.{n}", "from": handle}, **extra)


def plaintext_anywhere(url: str, needle: str) -> list[str]:
    """Columns of customers, conversations and messages whose text contains `needle`."""
    found = []
    with psycopg.connect(url) as conn:
        for table in ("customers", "conversations", "messages"):
            for row in conn.execute(f"select to_jsonb(t)::text from public.{table} t").fetchall():  # noqa: S608
                if needle in row[0]:
                    found.append(table)
    return found


async def test_the_intake_stores_no_plaintext_phone_and_finds_the_customer_again(fresh_db_url: str,
                                                                                  repo: Repository) -> None:
    keyring = Keyring(MasterKey.parse(new_master_key()))
    valle = distributor(fresh_db_url, "valle-enc")
    await store(repo, record(valle, 1), keyring)
    await store(repo, record(valle, 2, handle="5215550000101"), keyring)  # the same phone, written differently

    assert plaintext_anywhere(fresh_db_url, "5550000101") == []
    assert scalar(fresh_db_url, "select count(*) from customers where distributor_id = %s", (valle,)) == 1
    # a second distributor keys the same phone differently: hashes do not link tenants
    sol = distributor(fresh_db_url, "sol-enc")
    await store(repo, record(sol, 3), keyring)
    assert scalar(fresh_db_url, """
        select count(distinct phone_hash) from customers where distributor_id in (%s, %s)""", (valle, sol)) == 2
    key = await keyring.data_key(repo, valle)
    blob = scalar(fresh_db_url, "select phone_encrypted from customers where distributor_id = %s", (valle,))
    assert key.open(blob, "customers.phone") == "5215550000101"


async def test_rotating_the_master_key_rewraps_data_keys_and_nothing_else(fresh_db_url: str, repo: Repository) -> None:
    old, new = MasterKey.parse(new_master_key()), MasterKey.parse(new_master_key())
    ids = [distributor(fresh_db_url, f"rot-{i}") for i in range(3)]
    for n, distributor_id in enumerate(ids):
        await store(repo, record(distributor_id, n), Keyring(old))
    ciphertexts = scalar(fresh_db_url, "select array_agg(phone_encrypted order by id) from customers")

    during = Keyring(new, previous=old)  # services run with both keys while the rotation runs
    assert await during.rotate_master(repo, new) == 3
    assert await during.rotate_master(repo, new) == 0  # idempotent
    assert scalar(fresh_db_url, "select array_agg(distinct wrapped_with) from encryption_keys") == [new.key_id]
    assert scalar(fresh_db_url, "select array_agg(phone_encrypted order by id) from customers") == ciphertexts

    after = Keyring(new)  # the old key is gone from the environment
    for distributor_id in ids:
        key = await after.data_key(repo, distributor_id)
        blob = scalar(fresh_db_url, "select phone_encrypted from customers where distributor_id = %s", (distributor_id,))
        assert key.open(blob, "customers.phone") == "5215550000101"
    with pytest.raises(EncryptionError, match="wrapped with"):
        await Keyring(old).data_key(repo, ids[0])


def legacy_message(conn: psycopg.Connection[Any], distributor_id: str, provider_id: str, raw: object) -> None:
    """The rows the intake wrote before encryption existed: phone, handle and payload in plain text."""
    phone = "5215550000101"
    customer = conn.execute("insert into customers (distributor_id, name, phone) values (%s, 'Lupita', %s) returning id",
                            (distributor_id, phone)).fetchone()
    assert customer is not None
    conversation = conn.execute("""insert into conversations (distributor_id, customer_id, channel, handle)
                                   values (%s, %s, 'whatsapp', %s) returning id""",
                                (distributor_id, customer[0], phone)).fetchone()
    assert conversation is not None
    conn.execute("""insert into messages (distributor_id, conversation_id, customer_id, direction, channel,
                                          provider_message_id, kind, body, raw_payload)
                    values (%s, %s, %s, 'inbound', 'whatsapp', %s, 'text', 'hola', %s::jsonb)""",
                 (distributor_id, conversation[0], customer[0], provider_id, None if raw is None else json.dumps(raw)))


async def test_plaintext_from_older_code_and_staff_is_encrypted_and_the_customer_kept(fresh_db_url: str,
                                                                                    repo: Repository) -> None:
    keyring = Keyring(MasterKey.parse(new_master_key()))
    valle = distributor(fresh_db_url, "valle-legacy")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        # what the intake stored before encryption, and an address typed by staff
        legacy_message(conn, valle, "wamid.legacy.1", {"id": "wamid.legacy.1", "from": "5215550000101"})
        conn.execute("update customers set address = 'Calle 5 de Mayo 12, Puebla' where distributor_id = %s", (valle,))
    assert set(plaintext_anywhere(fresh_db_url, "5550000101")) == {"customers", "conversations", "messages"}

    done = await encrypt_pending(repo, keyring, batch=1)
    assert (done.customers, done.conversations, done.payloads) == (1, 1, 1)
    assert plaintext_anywhere(fresh_db_url, "5550000101") == []
    assert plaintext_anywhere(fresh_db_url, "5 de Mayo") == []
    assert (await encrypt_pending(repo, keyring)).total == 0

    # the next message from that phone lands on the same customer and the same open conversation
    await store(repo, record(valle, 9, handle="5215550000101"), keyring)
    assert scalar(fresh_db_url, "select count(*) from customers where distributor_id = %s", (valle,)) == 1
    assert scalar(fresh_db_url, "select count(*) from conversations where distributor_id = %s", (valle,)) == 1
    key = await keyring.data_key(repo, valle)
    address = scalar(fresh_db_url, "select address_encrypted from customers where distributor_id = %s", (valle,))
    assert key.open(address, "customers.address") == "Calle 5 de Mayo 12, Puebla"
    payload = scalar(fresh_db_url, """select raw_payload_encrypted from messages
                                       where provider_message_id = 'wamid.legacy.1'""")
    assert json.loads(key.open(payload, "messages.raw_payload"))["id"] == "wamid.legacy.1"


async def test_a_legacy_conversation_that_clashes_with_a_new_one_is_closed(fresh_db_url: str,
                                                                          repo: Repository) -> None:
    keyring = Keyring(MasterKey.parse(new_master_key()))
    valle = distributor(fresh_db_url, "valle-clash")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        legacy_message(conn, valle, "wamid.old", None)
    await store(repo, record(valle, 1, handle="5215550000101"), keyring)  # arrived before the backfill ran
    await encrypt_pending(repo, keyring)
    assert plaintext_anywhere(fresh_db_url, "5550000101") == []
    assert scalar(fresh_db_url, """select array_agg(status order by created_at) from conversations
                                    where distributor_id = %s""", (valle,)) == ["closed", "open"]


async def test_staff_read_ciphertext_only(fresh_db_url: str, repo: Repository) -> None:
    keyring = Keyring(MasterKey.parse(new_master_key()))
    valle = distributor(fresh_db_url, "valle-staff")
    await store(repo, record(valle, 1), keyring)
    with psycopg.connect(fresh_db_url) as conn:
        user = create_user(conn, uuid.UUID(valle), "admin")
        with impersonate(conn, user):
            rows = conn.execute("select to_jsonb(c)::text from customers c").fetchall()
            keys = conn.execute("select key_version, wrapped_with is null from encryption_keys").fetchall()
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("select wrapped_key from encryption_keys")
        conn.rollback()
    assert len(rows) == 1 and "5550000101" not in rows[0][0]
    assert keys == [(1, False)]  # its admins see that a key exists, never the wrapped key


# --- orderflow keys / customers ---------------------------------------------------------------------


def test_the_cli_encrypts_pending_plaintext_finds_by_phone_and_rotates_the_master_key(
    fresh_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = new_master_key(), new_master_key()
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("ORDERFLOW_MASTER_KEY", old)
    monkeypatch.delenv("ORDERFLOW_PREVIOUS_MASTER_KEY", raising=False)
    distributor(fresh_db_url, "cli-enc")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("""insert into customers (distributor_id, name, phone, address)
                        select id, 'Lupita', '+52 1 55 5000 0101', 'Calle 5 de Mayo 12' from distributors where slug = 'cli-enc'""")
    runner = CliRunner()

    done = runner.invoke(app, ["keys", "encrypt-pending"])
    assert done.exit_code == 0, done.output
    assert "encrypted: 1 customer(s)" in done.output
    assert plaintext_anywhere(fresh_db_url, "5000") == []
    found = runner.invoke(app, ["customers", "find", "--distributor", "cli-enc", "--phone", "5215550000101"])
    assert found.exit_code == 0, found.output
    assert "5215550000101" in found.output and "Calle 5 de Mayo 12" in found.output
    missing = runner.invoke(app, ["customers", "find", "--distributor", "cli-enc", "--phone", "5215550000999"])
    assert "Lupita" not in missing.output

    monkeypatch.setenv("ORDERFLOW_MASTER_KEY", new)
    refused = runner.invoke(app, ["customers", "find", "--distributor", "cli-enc"])
    assert refused.exit_code == 1 and "wrapped with" in refused.output  # the old key is not in the environment yet
    monkeypatch.setenv("ORDERFLOW_PREVIOUS_MASTER_KEY", old)
    rotated = runner.invoke(app, ["keys", "rotate-master"])
    assert rotated.exit_code == 0 and "re-wrapped 1 data key(s)" in rotated.output, rotated.output
    monkeypatch.delenv("ORDERFLOW_PREVIOUS_MASTER_KEY")
    after = runner.invoke(app, ["customers", "find", "--distributor", "cli-enc"])
    assert after.exit_code == 0 and "5215550000101" in after.output, after.output


def test_without_a_master_key_the_cli_refuses_against_a_database_url(fresh_db_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    monkeypatch.delenv("ORDERFLOW_MASTER_KEY")
    result = CliRunner().invoke(app, ["keys", "encrypt-pending"])
    assert result.exit_code == 2 and "ORDERFLOW_MASTER_KEY is not set" in result.output
