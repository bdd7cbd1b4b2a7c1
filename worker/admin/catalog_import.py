"""Import a distributor's catalog from a JSON file (`distributor` + `products`, the shape of
the eval catalogs): creates the distributor if missing and upserts products by SKU."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ai.pack_facts import pack_facts
from worker.core.repository import Repository


async def import_catalog(repo: Repository, data: dict[str, Any]) -> tuple[str, int]:
    """Returns (distributor id, products upserted)."""
    meta = data["distributor"]
    row = await repo.fetch_one(
        "upsert_distributor", slug=meta["slug"], name=meta["name"], country=meta.get("country"),
        locale=meta.get("locale", "es-MX"), currency=meta.get("currency", "USD"), timezone=meta.get("timezone", "UTC"),
    )
    assert row is not None
    distributor_id = str(row["id"])
    categories: dict[str, str] = {}
    for product in data["products"]:
        category = product.get("category")
        if category and category not in categories:
            cat_row = await repo.fetch_one("upsert_category", distributor_id=distributor_id, name=category)
            assert cat_row is not None
            categories[category] = str(cat_row["id"])
        await repo.execute(
            "upsert_product", distributor_id=distributor_id, category_id=categories.get(category) if category else None,
            sku=product["sku"], name=product["name"], aliases=list(product.get("aliases", [])), unit=product["unit"],
            pack_size=int(product.get("pack_size", 1)), price_cents=int(product["price_cents"]),
            currency=meta.get("currency", "USD"),
        )
        facts = pack_facts(name=product["name"], unit=product["unit"], pack_size=int(product.get("pack_size", 1)))
        await repo.execute("set_product_pack_facts", distributor_id=distributor_id, sku=product["sku"],
                           pack_facts=json.dumps(facts.to_dict()))
    return distributor_id, len(data["products"])


async def import_catalog_file(repo: Repository, path: Path) -> tuple[str, int]:
    return await import_catalog(repo, json.loads(path.read_text(encoding="utf-8")))


__all__ = ["import_catalog", "import_catalog_file"]
