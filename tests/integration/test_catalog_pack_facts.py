"""The catalog import stores each product's pack facts (ai.pack_facts) in products.pack_facts."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from ai.pack_facts import pack_facts
from worker.admin.catalog_import import import_catalog
from worker.core.repository import Repository

PRODUCTS = [
    {"sku": "POR-20", "name": "Pork shoulder, 20 lb case", "unit": "case", "pack_size": 1, "price_cents": 9000},
    {"sku": "JUG-18", "name": "Jugo de mango 500 ml (caja 18)", "unit": "caja", "pack_size": 18, "price_cents": 300},
    {"sku": "PAN-1", "name": "Pan dulce", "unit": "pieza", "price_cents": 10},
]


async def test_import_fills_pack_facts(fresh_db_url: str) -> None:
    repo = Repository(fresh_db_url, min_size=1, max_size=2)
    await repo.open()
    try:
        data = {"distributor": {"slug": "packs", "name": "Packs", "locale": "es-MX", "currency": "MXN",
                                "timezone": "America/Mexico_City"}, "products": PRODUCTS}
        distributor_id, count = await import_catalog(repo, data)
    finally:
        await repo.close()
    assert count == 3
    with psycopg.connect(fresh_db_url, row_factory=dict_row) as conn:
        stored = {r["sku"]: r["pack_facts"] for r in conn.execute(
            "select sku, pack_facts from products where distributor_id = %s", (distributor_id,))}
        assert stored["POR-20"] == {"items": 1, "item_amount": 20.0, "measure": "lb", "pack_amount": 20.0}
        assert stored["JUG-18"] == pack_facts(name=PRODUCTS[1]["name"], unit="caja", pack_size=18).to_dict()
        assert stored["PAN-1"] == {"items": 1, "item_amount": None, "measure": None, "pack_amount": None}
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update products set pack_facts = '[1]'::jsonb where distributor_id = %s", (distributor_id,))
