"""Importing a distributor's catalog: validate the whole file, then upsert it in one transaction.

`import_catalog_v1` upserts by SKU (a product the file lists again becomes active again) and,
with prune, deactivates the SKUs the file lacks; it never deletes, so order lines keep their
product. A JSON file's distributor block creates the distributor when it is missing. See
worker/admin/catalog_file.py for what a file may hold and how a bad one is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai.pack_facts import pack_facts
from worker.admin import distributors
from worker.admin.catalog_file import CatalogFile, CatalogFileError, read_catalog_file, validate_row
from worker.admin.errors import AdminError
from worker.core.repository import Repository, dumps


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    distributor_id: str
    distributor_created: bool
    products: int  # rows in the file
    inserted: int
    updated: int  # changed rows (unchanged ones are left alone)
    deactivated: int  # with prune
    categories: int  # new categories


def _with_pack_facts(product: dict[str, Any]) -> dict[str, Any]:
    """The row as the import function takes it, with what its pack holds (ai.pack_facts, from name, unit, size)."""
    facts = pack_facts(name=product["name"], unit=product["unit"], pack_size=int(product.get("pack_size") or 1))
    return {**product, "pack_facts": facts.to_dict()}


async def _write(repo: Repository, distributor_id: str, catalog: CatalogFile, *, prune: bool,
                 created: bool) -> ImportResult:
    row = await repo.fetch_one("ops_import_catalog", distributor_id=distributor_id,
                               products=dumps([_with_pack_facts(r.as_json()) for r in catalog.rows]), prune=prune)
    assert row is not None
    result = row["result"]
    return ImportResult(distributor_id=distributor_id, distributor_created=created, products=len(catalog.rows),
                        inserted=int(result["inserted"]), updated=int(result["updated"]),
                        deactivated=int(result["deactivated"]), categories=int(result["categories"]))


async def import_file(repo: Repository, path: Path, *, distributor_slug: str | None = None, prune: bool = False,
                      tick: Callable[[], None] | None = None) -> ImportResult:
    """Validate `path` (JSON or CSV) and import it; CatalogFileError lists every bad row."""
    catalog = read_catalog_file(path, tick)
    block = catalog.distributor
    if block is None and distributor_slug is None:
        raise AdminError(f"{path}: a CSV catalog needs --distributor SLUG")
    if block is not None and distributor_slug is not None and block.get("slug") != distributor_slug:
        raise AdminError(f"{path} is the catalog of {block.get('slug')!r}, not of {distributor_slug!r}")
    if block is not None:
        distributor_id, created = await distributors.ensure(repo, distributors.from_catalog_block(dict(block)))
    else:
        distributor_id, created = await distributors.resolve(repo, str(distributor_slug)), False
    return await _write(repo, distributor_id, catalog, prune=prune, created=created)


async def import_catalog(repo: Repository, data: dict[str, Any], *, prune: bool = False) -> tuple[str, int]:
    """A catalog already in memory (the JSON shape); returns (distributor id, products)."""
    problems, rows = [], []
    for index, product in enumerate(data["products"], start=1):
        try:
            rows.append(validate_row(index, product))
        except ValueError as exc:
            problems.append((index, str(exc)))
    if problems:
        raise CatalogFileError(Path("<catalog>"), problems)
    distributor_id, created = await distributors.ensure(repo, distributors.from_catalog_block(data["distributor"]))
    result = await _write(repo, distributor_id, CatalogFile(distributor=data["distributor"], rows=tuple(rows)),
                          prune=prune, created=created)
    return distributor_id, result.products


async def import_catalog_file(repo: Repository, path: Path) -> tuple[str, int]:
    result = await import_file(repo, path)
    return result.distributor_id, result.products


__all__ = ["ImportResult", "import_catalog", "import_catalog_file", "import_file"]
