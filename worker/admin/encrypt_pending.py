"""Encrypting the personal data that reached the database in plaintext.

The intake encrypts what it stores (worker/intake.py). Plaintext still arrives two ways: rows
written before encryption existed (by the first intake function) and what a distributor's staff type into
customers.phone / customers.address through a Supabase client, which holds no key. The worker
runs `encrypt_pending` at start and every few minutes; `orderflow keys encrypt-pending` runs it on
demand. Each row is updated only if it still holds the plaintext read, so concurrent runs are safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psycopg

from webhooks.inbound.store import normalised_phone
from worker.core.encryption import EncryptionError, Keyring
from worker.core.repository import Repository, Row

log = logging.getLogger(__name__)

BATCH = 500
ENCRYPT_INTERVAL = 300.0  # seconds between the worker's runs


@dataclass(frozen=True, kw_only=True)
class Encrypted:
    customers: int
    conversations: int
    payloads: int
    attachments: int = 0

    @property
    def total(self) -> int:
        return self.customers + self.conversations + self.payloads + self.attachments


async def _drain(repo: Repository, query: str, batch: int, encrypt: Callable[[Row], Awaitable[None]]) -> int:
    """Encrypt batch after batch of `query`'s rows; stops when a batch comes back short or repeats
    only rows already handled (one that could not be updated is left for the next run)."""
    seen: set[object] = set()
    while rows := await repo.fetch_all(query, limit=batch):
        fresh = [row for row in rows if row["id"] not in seen]
        for row in fresh:
            try:
                await encrypt(row)
            except (psycopg.DatabaseError, EncryptionError) as exc:
                if isinstance(exc, psycopg.OperationalError):
                    raise
                # One tenant's bad row (or key) must not stop the others' encryption: log and go on.
                log.warning("encryption of one row failed", extra={
                    "action": "encrypt_pending_failed", "query": query, "distributor_id": str(row["distributor_id"]),
                    "error": type(exc).__name__})
        seen.update(row["id"] for row in fresh)
        if len(rows) < batch or not fresh:
            break
    return len(seen)


async def encrypt_pending(repo: Repository, keyring: Keyring, *, batch: int = BATCH) -> Encrypted:
    """Encrypt every plaintext phone, address, handle and raw payload; returns the rows handled."""

    async def customer(row: Row) -> None:
        key = await keyring.data_key(repo, row["distributor_id"])
        phone = normalised_phone(row["phone"]) if row["phone"] else None
        await repo.execute(
            "encrypt_customer", id=row["id"], phone=row["phone"], address=row["address"],
            phone_hash=key.phone_hash(phone) if phone else None,
            phone_encrypted=key.seal(phone, "customers.phone") if phone else None,
            address_encrypted=key.seal(row["address"], "customers.address") if row["address"] else None)

    async def conversation(row: Row) -> None:
        key = await keyring.data_key(repo, row["distributor_id"])
        await repo.execute(
            "encrypt_conversation", id=row["id"], handle=row["handle"],
            handle_hash=key.handle_hash(row["channel"], row["handle"]),
            handle_encrypted=key.seal(row["handle"], "conversations.handle"))

    async def payload(row: Row) -> None:
        key = await keyring.data_key(repo, row["distributor_id"])
        await repo.execute("encrypt_payload", id=row["id"],
                           raw_encrypted=key.seal(row["raw_payload"], "messages.raw_payload"))

    async def attachment(row: Row) -> None:
        key = await keyring.data_key(repo, row["distributor_id"])
        await repo.execute(
            "encrypt_attachment", id=row["id"], caption=row["caption"], location=row["location"],
            caption_encrypted=key.seal(row["caption"], "order_attachments.caption") if row["caption"] else None,
            location_encrypted=key.seal(row["location"], "order_attachments.location") if row["location"] else None)

    result = Encrypted(customers=await _drain(repo, "plaintext_customers", batch, customer),
                       conversations=await _drain(repo, "plaintext_conversations", batch, conversation),
                       payloads=await _drain(repo, "plaintext_payloads", batch, payload),
                       attachments=await _drain(repo, "plaintext_attachments", batch, attachment))
    if result.total:
        log.info("encrypted plaintext personal data", extra={
            "action": "encrypted_pending", "customers": result.customers, "conversations": result.conversations,
            "payloads": result.payloads, "attachments": result.attachments})
    return result


__all__ = ["BATCH", "ENCRYPT_INTERVAL", "Encrypted", "encrypt_pending"]
