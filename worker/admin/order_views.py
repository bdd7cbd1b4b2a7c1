"""What the operator reads: orders (newest first, with customer and lines), one order with its
source messages and history, and a customer's conversation (both directions, oldest first).

Text is always the redacted body (messages.body_redacted), never the raw body of an inbound
message; a customer is found by the keyed hash of their phone, computed with each distributor's
data key (the phone itself is never compared in clear).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from webhooks.inbound.store import normalised_phone
from worker.admin import distributors
from worker.admin.errors import AdminError, NotFound
from worker.core.encryption import Keyring, default_keyring
from worker.core.repository import Repository, Row

ORDER_STATUSES = ("created", "needs_review", "confirmed", "cancelled", "fulfilled")
DEFAULT_LIMIT = 200


def parse_since(text: str | None) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 time with zone."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise AdminError(f"--since {text!r}: a date (2026-11-30) or an ISO 8601 time with zone") from None
    if parsed.tzinfo is None:
        raise AdminError(f"--since {text!r}: give a time zone, e.g. 2026-11-30T08:00:00-06:00")
    return parsed


async def customers_by_phone(repo: Repository, phone: str, distributor_id: str | None,
                             keyring: Keyring | None = None) -> list[str]:
    """The ids of the customers with this phone (in one distributor, or in each)."""
    digits = normalised_phone(phone)
    if digits is None:
        raise AdminError(f"--customer-phone {phone!r} has no digits")
    keyring = keyring or default_keyring()
    ids = [distributor_id] if distributor_id else [str(r["id"]) for r in await repo.fetch_all("all_distributors")]
    found = []
    for one in ids:
        key = await keyring.data_key(repo, one)
        row = await repo.fetch_one("ops_customer_by_phone_hash", distributor_id=one, phone_hash=key.phone_hash(digits))
        if row is not None:
            found.append(str(row["id"]))
    return found


async def _scope(repo: Repository, slug: str | None, phone: str | None) -> tuple[str | None, list[str] | None]:
    distributor_id = await distributors.resolve(repo, slug) if slug else None
    customer_ids = await customers_by_phone(repo, phone, distributor_id) if phone else None
    return distributor_id, customer_ids


def _order(row: Row) -> dict[str, Any]:
    lines = [{**line, "quantity": float(line["quantity"]),
              "confidence": float(line["confidence"]) if line.get("confidence") is not None else None}
             for line in row["lines"]]
    return {"id": row["id"], "distributor": row["distributor"], "status": row["status"],
            "created_at": row["created_at"], "external_id": row["external_id"], "customer": row["customer"],
            "total_cents": int(row["total_cents"]), "currency": row["currency"],
            "review_reasons": list(row["review_reasons"]), "confirmed_at": row["confirmed_at"],
            "source_message_id": row["source_message_id"], "lines": lines}


async def list_orders(repo: Repository, *, slug: str | None = None, phone: str | None = None,
                      status: str | None = None, since: datetime | None = None,
                      limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    if status is not None and status not in ORDER_STATUSES:
        raise AdminError(f"--status {status!r}: one of {', '.join(ORDER_STATUSES)}")
    distributor_id, customer_ids = await _scope(repo, slug, phone)
    if customer_ids == []:
        return []
    rows = await repo.fetch_all("ops_orders", distributor_id=distributor_id, customer_ids=customer_ids,
                                status=status, since=since, order_id=None, limit=limit)
    return [_order(r) for r in rows]


async def show_order(repo: Repository, order_id: str) -> dict[str, Any]:
    try:
        order_id = str(uuid.UUID(order_id))
    except ValueError:
        raise AdminError(f"not an order id: {order_id!r}") from None
    rows = await repo.fetch_all("ops_orders", distributor_id=None, customer_ids=None, status=None, since=None,
                                order_id=order_id, limit=1)
    if not rows:
        raise NotFound(f"no order {order_id}")
    order = _order(rows[0])
    source = [order["source_message_id"]] if order["source_message_id"] else []
    order["messages"] = [_message(m) for m in await repo.fetch_all(
        "ops_messages", distributor_id=None, customer_ids=None, message_ids=source, limit=10)] if source else []
    order["history"] = [dict(h) for h in await repo.fetch_all("ops_order_history", order_id=order_id)]
    return order


def _message(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "distributor": row["distributor"], "customer_id": row["customer_id"],
            "direction": row["direction"], "kind": row["kind"], "text": row["text"], "status": row["status"],
            "received_at": row["received_at"]}


async def list_messages(repo: Repository, *, slug: str | None = None, phone: str | None = None,
                        limit: int = 1000) -> list[dict[str, Any]]:
    distributor_id, customer_ids = await _scope(repo, slug, phone)
    if customer_ids == []:
        return []
    rows = await repo.fetch_all("ops_messages", distributor_id=distributor_id, customer_ids=customer_ids,
                                message_ids=None, limit=limit)
    return [_message(r) for r in rows]


__all__ = ["ORDER_STATUSES", "customers_by_phone", "list_messages", "list_orders", "parse_since", "show_order"]
