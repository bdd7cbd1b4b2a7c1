"""`orderflow distributors create|list|show`: the tenants."""

from __future__ import annotations

from typing import Annotated

import typer

from worker.admin import distributors
from worker.cli.errors import JSON, console, emit, run

distributors_app = typer.Typer(help="Distributors (the tenants): create, list, show.", no_args_is_help=True)

COLUMNS = ("slug", "name", "country", "locale", "currency", "timezone", "active_products", "integrations",
           "endpoints", "orders", "in_review")


@distributors_app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="Short name used everywhere else (lower case, digits, '-')")],
    name: Annotated[str, typer.Option("--name", help="The distributor's name")],
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166 code, e.g. MX")] = None,
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. MXN")] = "USD",
    timezone: Annotated[str, typer.Option("--timezone", help="IANA zone, e.g. America/Mexico_City")] = "UTC",
    language: Annotated[str, typer.Option("--language", help="es, en or pt: how customers write")] = "es",
    as_json: JSON = False,
) -> None:
    """Create a distributor."""
    new = distributors.NewDistributor(slug=slug, name=name, country=country.upper() if country else None,
                                      currency=currency.upper(), timezone=timezone, language=language)
    row = run(lambda repo: distributors.create(repo, new))
    if as_json:
        emit(dict(row), (), as_json=True)
    else:
        console.print(f"created distributor [bold]{row['slug']}[/bold] ({row['id']}), locale {row['locale']}, "
                      f"{row['currency']}, {row['timezone']}")


@distributors_app.command("list")
def list_(as_json: JSON = False) -> None:
    """Every distributor with its setup: products, integrations, endpoints, orders."""
    rows = run(lambda repo: distributors.listing(repo))
    emit([dict(r) for r in rows], COLUMNS, as_json=as_json, title="distributors")


@distributors_app.command("show")
def show(slug: Annotated[str, typer.Argument(help="The distributor's slug")], as_json: JSON = False) -> None:
    """One distributor and its setup."""
    row = dict(run(lambda repo: distributors.show(repo, slug)))
    if as_json:
        emit(row, (), as_json=True)
        return
    for key, value in row.items():
        console.print(f"[bold]{key}[/bold]: {'' if value is None else value}", highlight=False)
    if not row["active_products"]:
        console.print(f"no catalog yet: orderflow catalog import FILE --distributor {slug}")


__all__ = ["distributors_app"]
