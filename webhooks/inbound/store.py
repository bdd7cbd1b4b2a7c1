"""Storing inbound messages through the one intake function (ingest_message).

The HTTP intake (webhooks/) and `orderflow ingest FILE.jsonl` both end here. The customer's handle
and phone number and the provider's raw payload are hashed and encrypted here, with the
distributor's data key (worker/encryption.py), before anything reaches the database.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from worker.core.encryption import DataKey, Keyring, default_keyring
from worker.core.errors import OrderflowError
from worker.core.repository import Repository, dumps


@dataclass(frozen=True, kw_only=True)
class InboundRecord:
    distributor_id: str
    channel: str
    provider_message_id: str | None
    handle: str
    profile_name: str | None
    body: str | None
    kind: str = "text"
    raw: dict[str, Any] | None = None
    received_at: datetime | None = None
    integration_id: str | None = None
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()
    attachments: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class Stored:
    message_id: str
    created: bool  # False: a repeated delivery of a message we already had


PHONE_CHANNELS = frozenset({"whatsapp", "sms"})  # their handle is the customer's phone number


def normalised_phone(phone: str) -> str | None:
    """A phone number as the intake keys it: its digits ("+52 1 55-5000-0101" and WhatsApp's
    "5215550000101" are the same customer)."""
    return re.sub(r"[^0-9]", "", phone) or None


def phone_of(channel: str, handle: str) -> str | None:
    """The phone number a handle stands for, on channels where it is one."""
    return normalised_phone(handle) if channel in PHONE_CHANNELS else None


def sealed_attachment(item: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """An attachment as ingest_message_v3 takes it: caption and location only as ciphertexts (base64)."""
    sealed = {k: v for k, v in item.items() if k not in ("caption", "location")}
    if item.get("caption"):
        sealed["caption_encrypted"] = base64.b64encode(key.seal(item["caption"], "order_attachments.caption")).decode()
    if item.get("location") is not None:
        sealed["location_encrypted"] = base64.b64encode(
            key.seal(dumps(item["location"]), "order_attachments.location")).decode()
    return sealed


async def store(repo: Repository, record: InboundRecord, keyring: Keyring | None = None) -> Stored:
    key = await (keyring or default_keyring()).data_key(repo, record.distributor_id)
    phone = phone_of(record.channel, record.handle)
    row = await repo.fetch_one(
        "ingest_message",
        distributor_id=record.distributor_id, channel=record.channel, provider_message_id=record.provider_message_id,
        handle_hash=key.handle_hash(record.channel, record.handle),
        handle_encrypted=key.seal(record.handle, "conversations.handle"),
        phone_hash=key.phone_hash(phone) if phone else None,
        phone_encrypted=key.seal(phone, "customers.phone") if phone else None,
        profile_name=record.profile_name, body=record.body, kind=record.kind,
        raw_encrypted=key.seal(dumps(record.raw), "messages.raw_payload") if record.raw is not None else None,
        received_at=record.received_at, integration_id=record.integration_id, needs_review=record.needs_review,
        review_reasons=list(record.review_reasons),
        attachments=dumps([sealed_attachment(item, key) for item in record.attachments]),
    )
    assert row is not None
    return Stored(message_id=str(row["message_id"]), created=bool(row["created"]))


class IntakeFileError(OrderflowError, ValueError):
    """A line of an ingest file is not a message record."""


def parse_jsonl(lines: Iterable[str], distributor_ids: dict[str, str]) -> list[InboundRecord]:
    """Lines of {"distributor": slug, "channel", "id", "from", "name", "text", "received_at"}.

    `id` is the provider's message id (a repeated id is stored once); `received_at` (ISO 8601 with
    a zone; `timestamp` is its older name) is when the customer sent it, which every later rule
    about timing uses.
    """
    records: list[InboundRecord] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            slug = item["distributor"]
            if slug not in distributor_ids:
                raise ValueError(f"no distributor {slug!r}")
            distributor_id = distributor_ids[slug]
            received_at = _received_at(item)
            provider_id = item.get("id")
            records.append(InboundRecord(
                distributor_id=distributor_id, channel=item.get("channel", "whatsapp"),
                provider_message_id=str(provider_id) if provider_id is not None else None, handle=str(item["from"]),
                profile_name=item.get("name"), body=item.get("text"), received_at=received_at,
            ))
        except KeyError as exc:
            raise IntakeFileError(f"line {number}: missing {exc}") from exc
        except (TypeError, ValueError) as exc:
            raise IntakeFileError(f"line {number}: {exc}") from exc
    return records


def _received_at(item: dict[str, Any]) -> datetime | None:
    if item.get("received_at") is not None:
        parsed = datetime.fromisoformat(str(item["received_at"]))
        if parsed.tzinfo is None:
            raise ValueError(f"received_at {item['received_at']!r} needs a time zone (e.g. 2026-12-01T09:30:00-06:00)")
        return parsed
    timestamp = item.get("timestamp")
    return datetime.fromisoformat(timestamp) if timestamp else None


async def ingest_file(repo: Repository, path: Path) -> tuple[int, int]:
    """Store every message of a JSONL file; returns (stored, duplicates)."""
    rows = await repo.fetch_all("all_distributors")
    distributor_ids = {r["slug"]: str(r["id"]) for r in rows}
    with path.open(encoding="utf-8") as handle:
        records = parse_jsonl(handle, distributor_ids)
    return await store_many(repo, records)


async def store_many(repo: Repository, records: Sequence[InboundRecord],
                     keyring: Keyring | None = None) -> tuple[int, int]:
    created = duplicates = 0
    for record in records:
        stored = await store(repo, record, keyring)
        if stored.created:
            created += 1
        else:
            duplicates += 1
    return created, duplicates


__all__ = ["PHONE_CHANNELS", "InboundRecord", "IntakeFileError", "Stored", "ingest_file", "normalised_phone", "parse_jsonl", "phone_of", "sealed_attachment", "store",
           "store_many"]
