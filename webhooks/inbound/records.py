"""What the HTTP intake reads and writes: channel integrations (cached) and message records.

An inbound payload names its integration (WhatsApp phone_number_id, or the generic channel's
key in the URL); `IntegrationCache` finds it, keeping answers for CACHE_TTL seconds (unknown
keys for NEGATIVE_TTL, so a flood of made-up keys costs one query per key and interval, and a
new integration is found quickly). `message_record` turns a parsed `InboundMessage` into the
`InboundRecord` that webhooks.inbound.store.store writes, with attachments for media and locations.
Text headed for Postgres is scrubbed first: it cannot store NUL characters, lone surrogates or
NaN in jsonb, which JSON can carry, and one such message must not fail a whole batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webhooks.inbound.envelope import InboundMessage
from webhooks.inbound.store import InboundRecord
from worker.core.repository import Repository

CACHE_TTL = 30.0  # seconds a found integration is reused without a query
NEGATIVE_TTL = 5.0  # seconds an unknown key is remembered as unknown
CACHE_MAX = 10_000  # entries; the cache is emptied when it grows past this (made-up keys)
REPLACEMENT = "\ufffd"


@dataclass(frozen=True, kw_only=True)
class Integration:
    id: str
    distributor_id: str
    kind: str  # whatsapp_cloud | channel
    channel: str
    app_secret: str | None  # WhatsApp: X-Hub-Signature-256 key
    signing_secret: str | None  # channel: whsec_ secrets, space separated (rotation)


class IntegrationCache:
    """Enabled integrations by (kind, external account id), cached in memory for a short while."""

    def __init__(self, repo: Repository, *, ttl: float = CACHE_TTL, negative_ttl: float = NEGATIVE_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.repo = repo
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, Integration | None]] = {}

    async def get(self, kind: str, account: str) -> Integration | None:
        key = (kind, account)
        now = self.clock()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        row = await self.repo.fetch_one("integration_by_account", kind=kind, account=scrub(account))
        integration = None if row is None else Integration(
            id=str(row["id"]), distributor_id=str(row["distributor_id"]), kind=str(row["kind"]),
            channel=str(row["channel"]), app_secret=row["app_secret"], signing_secret=row["signing_secret"])
        if len(self._entries) >= CACHE_MAX:
            self._entries.clear()
        self._entries[key] = (now + (self.ttl if integration else self.negative_ttl), integration)
        return integration


def scrub(value: str) -> str:
    """Text Postgres can store: NUL and lone surrogates become U+FFFD."""
    if value.isascii() and "\x00" not in value:
        return value
    return value.replace("\x00", REPLACEMENT).encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _scrub_json(value: Any) -> Any:
    """JSON Postgres can store: scrubbed text, and no NaN or Infinity (json.loads accepts them)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    return value


def _opt(value: str | None) -> str | None:
    return None if value is None else scrub(value)


def _attachments(message: InboundMessage) -> tuple[dict[str, Any], ...]:
    found: list[dict[str, Any]] = [
        {"kind": message.kind, "media_id": scrub(ref.media_id), "mime_type": _opt(ref.mime_type),
         "caption": _opt(ref.caption), "location": None}
        for ref in message.media
    ]
    if message.location is not None:
        place = message.location
        found.append({"kind": "location", "media_id": None, "mime_type": None, "caption": _opt(place.name),
                      "location": {"latitude": place.latitude, "longitude": place.longitude,
                                   "name": _opt(place.name), "address": _opt(place.address)}})
    return tuple(found)


def message_record(integration: Integration, message: InboundMessage) -> InboundRecord:
    """The record webhooks.inbound.store.store writes for one parsed message of this integration."""
    return InboundRecord(
        distributor_id=integration.distributor_id,
        channel=scrub(message.channel),
        provider_message_id=scrub(message.provider_message_id),
        handle=scrub(message.from_handle),
        profile_name=_opt(message.profile_name),
        body=_opt(message.text),
        kind=message.kind,
        raw=_scrub_json(message.raw),
        received_at=message.timestamp,
        integration_id=integration.id,
        needs_review=message.needs_review,
        review_reasons=tuple(scrub(reason) for reason in message.review_reasons),
        attachments=_attachments(message),
    )


__all__ = ["CACHE_TTL", "Integration", "IntegrationCache", "message_record", "scrub"]
