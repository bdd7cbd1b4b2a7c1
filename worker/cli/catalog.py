"""`orderflow catalog import FILE [--distributor SLUG] [--prune]`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from worker.admin import review
from worker.admin.catalog_file import count_rows
from worker.admin.catalog_import import ImportResult, import_file
from worker.cli.errors import JSON, console, emit, run
from worker.core.repository import Repository

catalog_app = typer.Typer(help="A distributor's catalog: import JSON or CSV, add aliases.", no_args_is_help=True)

PROGRESS_FROM_ROWS = 2000  # files with more lines than this show a progress bar


@catalog_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="catalog .json or .csv")],
    distributor: Annotated[str | None, typer.Option("--distributor", help="Slug (required for CSV)")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Deactivate SKUs the file lacks (never deletes)")] = False,
    as_json: JSON = False,
) -> None:
    """Validate every row, then upsert by SKU in one transaction; a bad row refuses the whole file."""
    rows = count_rows(path)
    if rows > PROGRESS_FROM_ROWS and not as_json:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task("validating, then writing", total=rows)

            def tick() -> None:
                progress.advance(task)

            async def work(repo: Repository) -> ImportResult:
                return await import_file(repo, path, distributor_slug=distributor, prune=prune, tick=tick)

            result = run(work)
            progress.update(task, description="imported", completed=rows)
    else:
        result = run(lambda repo: import_file(repo, path, distributor_slug=distributor, prune=prune))
    summary = {"distributor_id": result.distributor_id, "distributor_created": result.distributor_created,
               "products": result.products, "inserted": result.inserted, "updated": result.updated,
               "unchanged": result.products - result.inserted - result.updated,
               "deactivated": result.deactivated, "categories": result.categories}
    if as_json:
        emit(summary, (), as_json=True)
        return
    created = " (distributor created)" if result.distributor_created else ""
    console.print(f"imported {result.products} products{created}: {result.inserted} new, {result.updated} changed, "
                  f"{summary['unchanged']} unchanged, {result.deactivated} deactivated")


@catalog_app.command("alias")
def alias(
    alias_text: Annotated[str, typer.Argument(metavar="ALIAS", help="How customers name the product")],
    distributor: Annotated[str, typer.Option("--distributor", help="Slug")],
    sku: Annotated[str, typer.Option("--sku", help="The product")],
) -> None:
    """Add an alias to a product (what managers do through review_add_alias_v1)."""
    done = run(lambda repo: review.add_alias(repo, distributor_slug=distributor, sku=sku, alias=alias_text))
    console.print(f"{done['sku']}: alias {done['alias']!r} {'added' if done['added'] else 'was there already'}")


__all__ = ["catalog_app"]
