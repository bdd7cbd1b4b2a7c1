"""Helpers for pipeline tests: distributors from the eval catalogs, messages from eval cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from webhooks.inbound.store import InboundRecord, store_many
from worker.admin.catalog_import import import_catalog_file
from worker.core.repository import Repository

SLUGS = ("valle", "sol", "northwind")


def load_cases(eval_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (eval_dir / "cases-dev.jsonl").read_text(encoding="utf-8").splitlines() if line]


async def import_eval_catalogs(repo: Repository, eval_dir: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    for slug in SLUGS:
        distributor_id, _ = await import_catalog_file(repo, eval_dir / f"catalog-{slug}.json")
        ids[slug] = distributor_id
    return ids


def records_from_cases(cases: list[dict[str, Any]], ids: dict[str, str], count: int, *,
                       customers_per_distributor: int = 20, prefix: str = "wamid.T") -> list[InboundRecord]:
    records = []
    for i in range(count):
        case = cases[i % len(cases)]
        records.append(InboundRecord(
            distributor_id=ids[case["distributor"]], channel="whatsapp", provider_message_id=f"{prefix}{i:06d}",
            handle=f"+5215500{i % customers_per_distributor:05d}", profile_name=f"Tienda {i % customers_per_distributor}",
            body=case["text"],
        ))
    return records


async def seed_messages(repo: Repository, eval_dir: Path, count: int,
                        customers_per_distributor: int | None = None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """`count` messages of the eval cases; by default each from its own customer, so every order
    message makes its own order (one customer's messages would join as a conversation)."""
    ids = await import_eval_catalogs(repo, eval_dir)
    cases = load_cases(eval_dir)
    await store_many(repo, records_from_cases(cases, ids, count,
                                              customers_per_distributor=customers_per_distributor or count))
    return ids, cases


def scalar(url: str, sql: str, params: tuple[object, ...] = ()) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None
