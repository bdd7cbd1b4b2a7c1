"""The review actions beyond correcting and confirming: add a line, remove one, cancel an order,
add a catalog alias. Each calls the RPC a distributor's staff call under RLS
(supabase/migrations/20261205131000_staff_review.sql), as the service: the same checks, audit
rows, training data and webhook events whoever acts."""

from __future__ import annotations

import uuid
from typing import Any

from worker.admin import distributors
from worker.admin.errors import AdminError, NotFound
from worker.core.repository import Refused, Repository


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise AdminError(f"not an {what} id: {value!r}") from None


async def _rpc(repo: Repository, name: str, **params: Any) -> dict[str, Any]:
    try:
        row = await repo.fetch_one(name, **params)
    except Refused as exc:
        raise (NotFound if exc.sqlstate == "P0002" else AdminError)(str(exc)) from exc
    assert row is not None
    return dict(row["result"])


async def _product_id(repo: Repository, distributor_id: str, sku: str) -> str:
    product = await repo.fetch_one("product_by_sku", distributor_id=distributor_id, sku=sku)
    if product is None or not product["active"]:
        raise AdminError(f"no active product {sku!r} in this distributor's catalog")
    return str(product["id"])


async def add_line(repo: Repository, *, order_id: str, sku: str, quantity: float) -> dict[str, Any]:
    order_id = _uuid(order_id, "order")
    order = await repo.fetch_all("ops_orders", distributor_id=None, customer_ids=None, status=None, since=None,
                                 order_id=order_id, limit=1)
    if not order:
        raise NotFound(f"no order {order_id}")
    distributor_id = await distributors.resolve(repo, order[0]["distributor"])
    product_id = await _product_id(repo, distributor_id, sku)
    return await _rpc(repo, "ops_review_add_line", order_id=order_id, product_id=product_id, quantity=quantity)


async def remove_line(repo: Repository, *, line_id: str) -> dict[str, Any]:
    return await _rpc(repo, "ops_review_remove_line", line_id=_uuid(line_id, "order line"))


async def cancel_order(repo: Repository, *, order_id: str, reason: str | None = None) -> dict[str, Any]:
    return await _rpc(repo, "ops_review_cancel_order", order_id=_uuid(order_id, "order"), reason=reason)


async def add_alias(repo: Repository, *, distributor_slug: str, sku: str, alias: str) -> dict[str, Any]:
    distributor_id = await distributors.resolve(repo, distributor_slug)
    product_id = await _product_id(repo, distributor_id, sku)
    return await _rpc(repo, "ops_review_add_alias", product_id=product_id, alias=alias)


__all__ = ["add_alias", "add_line", "cancel_order", "remove_line"]
