"""Storing inbound messages through the one intake function (ingest_message_v1).

The HTTP intake (webhooks/) and `orderflow ingest FILE.jsonl` both end here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from worker.repository import Repository, dumps


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


async def store(repo: Repository, record: InboundRecord) -> Stored:
    row = await repo.fetch_one(
        "ingest_message",
        distributor_id=record.distributor_id, channel=record.channel, provider_message_id=record.provider_message_id,
        handle=record.handle, profile_name=record.profile_name, body=record.body, kind=record.kind,
        raw=dumps(record.raw) if record.raw is not None else None, received_at=record.received_at,
        integration_id=record.integration_id, needs_review=record.needs_review,
        review_reasons=list(record.review_reasons), attachments=dumps(list(record.attachments)),
    )
    assert row is not None
    return Stored(message_id=str(row["message_id"]), created=bool(row["created"]))


class IntakeFileError(ValueError):
    """A line of an ingest file is not a message record."""


def parse_jsonl(lines: Iterable[str], distributor_ids: dict[str, str]) -> list[InboundRecord]:
    """Lines of {"distributor": slug, "channel", "id", "from", "name", "text", "timestamp"}."""
    records: list[InboundRecord] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            slug = item["distributor"]
            distributor_id = distributor_ids[slug]
            timestamp = item.get("timestamp")
            records.append(InboundRecord(
                distributor_id=distributor_id, channel=item.get("channel", "whatsapp"),
                provider_message_id=item.get("id"), handle=str(item["from"]), profile_name=item.get("name"),
                body=item.get("text"), received_at=datetime.fromisoformat(timestamp) if timestamp else None,
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise IntakeFileError(f"line {number}: {exc!r}") from exc
    return records


async def ingest_file(repo: Repository, path: Path) -> tuple[int, int]:
    """Store every message of a JSONL file; returns (stored, duplicates)."""
    rows = await repo.fetch_all("all_distributors")
    distributor_ids = {r["slug"]: str(r["id"]) for r in rows}
    with path.open(encoding="utf-8") as handle:
        records = parse_jsonl(handle, distributor_ids)
    return await store_many(repo, records)


async def store_many(repo: Repository, records: Sequence[InboundRecord]) -> tuple[int, int]:
    created = duplicates = 0
    for record in records:
        stored = await store(repo, record)
        if stored.created:
            created += 1
        else:
            duplicates += 1
    return created, duplicates


__all__ = ["InboundRecord", "IntakeFileError", "Stored", "ingest_file", "parse_jsonl", "store", "store_many"]
