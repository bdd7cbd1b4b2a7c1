"""Importing a distributor's order history from its ERP, so that "the usual" works on day one.

One order a line: `{"distributor": SLUG, "external_id": ..., "customer": {"phone", "name"},
"ordered_at": ISO 8601 with zone, "items": [{"sku", "quantity"}]}`. The whole file is checked
first (shape, known distributors, SKUs in their catalog) and refused with line numbers when any
line is wrong. Customers are found or created by the keyed hash of their phone (the phone itself
is stored encrypted, as the intake does: webhooks/inbound/store.py), and each order is created
once per (distributor, external_id): importing the same file again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from webhooks.inbound.store import normalised_phone
from worker.admin.catalog_file import MAX_ERRORS_SHOWN
from worker.admin.errors import AdminError
from worker.core.encryption import Keyring, default_keyring
from worker.core.repository import Repository, dumps

ORDER_KEYS = frozenset({"distributor", "external_id", "customer", "ordered_at", "items"})


@dataclass(frozen=True, kw_only=True)
class HistoryOrder:
    line: int
    distributor: str
    external_id: str
    phone: str
    customer_name: str | None
    ordered_at: datetime
    items: tuple[tuple[str, float], ...]  # (sku, quantity)


@dataclass(frozen=True, kw_only=True)
class HistoryResult:
    orders: int
    created: int
    existing: int  # already imported before
    customers_created: int


class HistoryFileError(AdminError):
    def __init__(self, path: Path, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "\n".join(f"  line {line}: {problem}" for line, problem in problems[:MAX_ERRORS_SHOWN])
        super().__init__(f"{path}: refused, nothing imported ({len(problems)} problem(s)):\n{shown}")


def parse_order(line: int, text: str) -> HistoryOrder:
    item: Any = json.loads(text)
    if not isinstance(item, dict):
        raise ValueError("expected one JSON object per line")
    unknown = sorted(set(item) - ORDER_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}")
    customer = item.get("customer")
    if not isinstance(customer, dict) or not isinstance(customer.get("phone"), str):
        raise ValueError('customer must be {"phone": "...", "name": "..."}')
    phone = normalised_phone(customer["phone"])
    if phone is None:
        raise ValueError(f"customer phone {customer['phone']!r} has no digits")
    ordered_at = datetime.fromisoformat(str(item.get("ordered_at")))
    if ordered_at.tzinfo is None:
        raise ValueError("ordered_at needs a time zone, e.g. 2026-11-02T10:30:00-06:00")
    items = item.get("items")
    if not isinstance(items, list) or not items:
        raise ValueError("items must be a non-empty list of {sku, quantity}")
    parsed = []
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("sku"), str):
            raise ValueError(f"item {entry!r}: needs a sku")
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity <= 0:
            raise ValueError(f"item {entry['sku']}: quantity must be a positive number, got {quantity!r}")
        parsed.append((entry["sku"], float(quantity)))
    external_id, distributor = item.get("external_id"), item.get("distributor")
    if not isinstance(external_id, str | int) or not str(external_id).strip():
        raise ValueError("external_id is missing")
    if not isinstance(distributor, str):
        raise ValueError("distributor (a slug) is missing")
    name = customer.get("name")
    return HistoryOrder(line=line, distributor=distributor, external_id=str(external_id).strip(), phone=phone,
                        customer_name=name if isinstance(name, str) and name.strip() else None,
                        ordered_at=ordered_at, items=tuple(parsed))


async def read_history(repo: Repository, path: Path) -> tuple[list[HistoryOrder], dict[str, str]]:
    """Every order of the file, checked against the database; (orders, distributor ids by slug)."""
    problems: list[tuple[int, str]] = []
    orders: list[HistoryOrder] = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                orders.append(parse_order(number, text))
            except (ValueError, TypeError) as exc:
                problems.append((number, str(exc)))
    distributor_ids = {r["slug"]: str(r["id"]) for r in await repo.fetch_all("all_distributors")}
    skus: dict[str, set[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for order in orders:
        distributor_id = distributor_ids.get(order.distributor)
        if distributor_id is None:
            problems.append((order.line, f"no distributor {order.distributor!r}"))
            continue
        if distributor_id not in skus:
            skus[distributor_id] = {r["sku"] for r in await repo.fetch_all("ops_catalog_skus",
                                                                            distributor_id=distributor_id)}
        missing = sorted({sku for sku, _ in order.items} - skus[distributor_id])
        if missing:
            problems.append((order.line, f"SKU(s) not in {order.distributor}'s catalog: {', '.join(missing)}"))
        key = (order.distributor, order.external_id)
        if key in seen:
            problems.append((order.line, f"external_id {order.external_id!r} again (first on line {seen[key]})"))
        seen.setdefault(key, order.line)
    if problems:
        raise HistoryFileError(path, sorted(problems))
    if not orders:
        raise HistoryFileError(path, [(1, "no orders")])
    return orders, distributor_ids


async def import_history(repo: Repository, path: Path, *, keyring: Keyring | None = None,
                         tick: Callable[[], None] | None = None) -> HistoryResult:
    orders, distributor_ids = await read_history(repo, path)
    keyring = keyring or default_keyring()
    created = customers_created = 0
    customers: dict[tuple[str, str], str] = {}
    for order in orders:
        distributor_id = distributor_ids[order.distributor]
        key = await keyring.data_key(repo, distributor_id)
        customer_id = customers.get((distributor_id, order.phone))
        if customer_id is None:
            phone_hash = key.phone_hash(order.phone)
            found = await repo.fetch_one("ops_customer_by_phone_hash", distributor_id=distributor_id,
                                         phone_hash=phone_hash)
            if found is None:
                row = await repo.fetch_one("ops_create_customer", distributor_id=distributor_id,
                                           name=order.customer_name, phone_hash=phone_hash,
                                           phone_encrypted=key.seal(order.phone, "customers.phone"))
                assert row is not None
                customer_id = str(row["id"])
                customers_created += 1
            else:
                customer_id = str(found["id"])
            customers[(distributor_id, order.phone)] = customer_id
        row = await repo.fetch_one("ops_import_order", distributor_id=distributor_id, external_id=order.external_id,
                                   customer_id=customer_id, ordered_at=order.ordered_at,
                                   items=dumps([{"sku": sku, "quantity": q} for sku, q in order.items]))
        assert row is not None
        created += bool(row["created"])
        if tick is not None:
            tick()
    return HistoryResult(orders=len(orders), created=created, existing=len(orders) - created,
                         customers_created=customers_created)


__all__ = ["HistoryFileError", "HistoryOrder", "HistoryResult", "import_history", "parse_order", "read_history"]
