"""Webhook endpoints of a distributor: add (the signing secret is shown once), list, rotate the
secret (the old one keeps signing for a grace period, so the receiver can switch without losing
an event), disable, and test with a signed `ping` event through the real delivery attempt
(SSRF guard, Standard Webhooks headers, timeout)."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from webhooks.outbound.attempt import Claimed, Result, attempt, build_client
from webhooks.outbound.signing import generate_secret
from webhooks.outbound.ssrf import BlockedAddress, check_url
from worker.admin import distributors
from worker.admin.errors import AdminError, NotFound
from worker.core.repository import Repository, Row
from worker.core.settings import Settings

ROTATION_GRACE = 24 * 3600.0  # seconds the previous secret still signs after a rotation
PING_EVENT = "ping"
_EVENT = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


@dataclass(frozen=True, kw_only=True)
class PingResult:
    endpoint_id: str
    url: str
    event_id: str
    result: Result


def parse_events(events: str | None) -> list[str]:
    """'order.created,order.updated' → the list; empty (None) means every event."""
    if events is None or not events.strip():
        return []
    parsed = [e.strip() for e in events.split(",") if e.strip()]
    bad = [e for e in parsed if not _EVENT.match(e)]
    if bad:
        raise AdminError(f"not an event type: {', '.join(bad)} (like order.created)")
    return parsed


async def add(repo: Repository, *, distributor_slug: str, url: str, events: list[str],
              description: str | None = None) -> tuple[str, str]:
    """Returns (endpoint id, signing secret): the secret is shown once and never again."""
    if not re.match(r"^https?://", url):
        raise AdminError(f"{url!r}: an http(s) URL")
    try:
        check_url(url)  # scheme, credentials, host; addresses are checked on every delivery
    except BlockedAddress as exc:
        raise AdminError(f"{url!r} is refused ({exc})") from exc
    distributor_id = await distributors.resolve(repo, distributor_slug)
    secret = generate_secret()
    row = await repo.fetch_one("ops_insert_endpoint", distributor_id=distributor_id, url=url, description=description,
                               secret=secret, event_types=events)
    assert row is not None
    return str(row["id"]), secret


async def listing(repo: Repository, slug: str | None = None) -> list[Row]:
    return await repo.fetch_all("ops_endpoints", slug=slug)


def _check_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise AdminError(f"not an endpoint id: {value!r}") from None


async def rotate_secret(repo: Repository, endpoint_id: str, *, grace_seconds: float = ROTATION_GRACE
                        ) -> tuple[str, datetime]:
    """Returns (the new secret: show it once, when the old one stops signing)."""
    secret = generate_secret()
    row = await repo.fetch_one("ops_rotate_endpoint_secret", id=_check_id(endpoint_id), secret=secret,
                               grace_seconds=grace_seconds)
    if row is None:
        raise NotFound(f"no endpoint {endpoint_id}")
    return secret, row["previous_secret_expires_at"]


async def disable(repo: Repository, endpoint_id: str) -> Row:
    row = await repo.fetch_one("ops_disable_endpoint", id=_check_id(endpoint_id), reason="operator: disabled by CLI")
    if row is None:
        raise NotFound(f"no endpoint {endpoint_id}")
    return row


async def ping(repo: Repository, endpoint_id: str, settings: Settings) -> PingResult:
    """Send one signed `ping` event now (not through the outbox) and report the answer."""
    row = await repo.fetch_one("ops_endpoint_for_test", id=_check_id(endpoint_id))
    if row is None:
        raise NotFound(f"no endpoint {endpoint_id}")
    event_id = "msg_" + uuid.uuid4().hex
    payload = json.dumps({"type": PING_EVENT, "timestamp": datetime.fromtimestamp(time.time(), UTC).isoformat(),
                          "data": {"endpoint_id": row["id"], "distributor_id": row["distributor_id"]}},
                         separators=(",", ":")).encode()
    claimed = Claimed(delivery_id=event_id, distributor_id=row["distributor_id"], endpoint_id=row["id"],
                      url=row["url"], secrets=tuple(row["secrets"]), event_id=event_id, event_type=PING_EVENT,
                      payload=payload, attempts=0)
    async with build_client(concurrency=1, allow_private=settings.allow_private_webhook_targets) as client:
        result = await attempt(client, claimed)
    return PingResult(endpoint_id=row["id"], url=row["url"], event_id=event_id, result=result)


__all__ = ["PING_EVENT", "ROTATION_GRACE", "PingResult", "add", "disable", "listing", "parse_events", "ping",
           "rotate_secret"]
