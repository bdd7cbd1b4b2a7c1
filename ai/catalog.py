"""A distributor's catalog as the analyzers and the matcher see it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ai.pack_facts import PackFacts, pack_facts


@dataclass(frozen=True, kw_only=True)
class Product:
    sku: str
    name: str
    aliases: tuple[str, ...] = ()
    unit: str
    pack_size: int = 1
    price_cents: int
    category: str | None = None
    id: str | None = None  # database uuid, when loaded from the database
    # what one catalog unit holds (products.pack_facts); None: derived from the row on first use
    pack_facts: PackFacts | None = None

    @property
    def pack(self) -> PackFacts:
        """Items per catalog unit and the weight/volume of each: stored, or derived from name, unit, pack size."""
        return self.pack_facts or pack_facts(name=self.name, unit=self.unit, pack_size=self.pack_size)


@dataclass(frozen=True, kw_only=True)
class Catalog:
    distributor: str  # slug or id: whatever the caller keys catalogs by
    distributor_name: str = ""  # "Distribuidora El Valle": customers greet it ("Hola Valle")
    products: tuple[Product, ...]
    timezone: str = "UTC"
    locale: str = "es-MX"
    currency: str = "USD"
    # learned aliases (distributor- or customer-level corrections): alias text -> sku
    learned_aliases: tuple[tuple[str, str], ...] = field(default=())

    def by_sku(self, sku: str) -> Product | None:
        for product in self.products:
            if product.sku == sku:
                return product
        return None


def load_catalog_file(path: Path) -> Catalog:
    """Load an eval-style catalog JSON file (`distributor` + `products`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data["distributor"]
    products = tuple(
        Product(
            sku=p["sku"],
            name=p["name"],
            aliases=tuple(p.get("aliases", ())),
            unit=p["unit"],
            pack_size=int(p.get("pack_size", 1)),
            price_cents=int(p["price_cents"]),
            category=p.get("category"),
            pack_facts=pack_facts(name=p["name"], unit=p["unit"], pack_size=int(p.get("pack_size", 1))),
        )
        for p in data["products"]
    )
    return Catalog(
        distributor=meta["slug"],
        distributor_name=meta.get("name", ""),
        products=products,
        timezone=meta.get("timezone", "UTC"),
        locale=meta.get("locale", "es-MX"),
        currency=meta.get("currency", "USD"),
    )


__all__ = ["Catalog", "Product", "load_catalog_file"]
