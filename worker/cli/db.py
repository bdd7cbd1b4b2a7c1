"""`orderflow db …`: embedded Postgres, migrations, reset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from worker.core.settings import load_settings
from worker.db import connection
from worker.db.audit import print_report, run_audit
from worker.db.erd import DEFAULT_ERD_PATH, write_erd
from worker.db.migrate import migrate as apply_migrations
from worker.db.migrate import reset as reset_database
from worker.db.schema import DEFAULT_SCHEMA_PATH, write_schema

db_app = typer.Typer(help="The database: embedded Postgres, migrations, audit, ER diagram, schema document.", no_args_is_help=True)
console = Console()


@db_app.command("start")
def db_start() -> None:
    """Start the embedded Postgres (no-op with DATABASE_URL)."""
    settings = load_settings()
    if settings.database_url:
        console.print("DATABASE_URL is set: using it, no embedded server started.")
        return
    url = connection.database_url(settings, start=True)
    console.print(f"embedded Postgres running: [bold]{url}[/bold]")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded Postgres."""
    connection.embedded_server(load_settings()).stop()
    console.print("embedded Postgres stopped")


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    print(connection.database_url(load_settings()))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations from supabase/migrations (idempotent)."""
    settings = load_settings()
    applied = apply_migrations(connection.database_url(settings), settings.migrations_dir)
    if not applied:
        console.print("migrations: up to date")
    for migration in applied:
        console.print(f"applied {migration.version}_{migration.name}")


@db_app.command("reset")
def db_reset(
    yes: bool = typer.Option(False, "--yes", help="Required when DATABASE_URL points at a non-embedded database"),
) -> None:
    """Drop everything, apply all migrations again and load supabase/seed.sql."""
    settings = load_settings()
    if settings.database_url and not yes:
        console.print("[red]refusing to reset DATABASE_URL without --yes[/red]")
        raise typer.Exit(2)
    applied = reset_database(connection.database_url(settings), settings.migrations_dir, settings.supabase_dir / "seed.sql")
    console.print(f"reset: {len(applied)} migrations applied, seed loaded")
    console.print("the seed's phones are plaintext until encrypted: the worker does it at start, "
                  "or run `orderflow keys encrypt-pending`")


@db_app.command("audit")
def db_audit(
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON"),
) -> None:
    """Check the live schema (RLS, policies, tenant keys, indexes, FKs, secrets); exit 1 on any failure."""
    report = run_audit(connection.database_url(load_settings()))
    if as_json:
        print(report.to_json())
    else:
        print_report(report, console)
    if not report.passed:
        raise typer.Exit(1)


@db_app.command("erd")
def db_erd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write")] = DEFAULT_ERD_PATH,
) -> None:
    """Write a Mermaid ER diagram of the live public schema (default docs/erd.md)."""
    diagram = write_erd(connection.database_url(load_settings()), output)
    console.print(f"wrote {output}: {diagram.table_count} tables, {diagram.relation_count} relations")


@db_app.command("schema")
def db_schema(
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write")] = DEFAULT_SCHEMA_PATH,
) -> None:
    """Write every table (columns, keys, policies) and function (signature, security, grants, migration) to Markdown
    (default docs/schema.md)."""
    settings = load_settings()
    schema = write_schema(connection.database_url(settings), settings.supabase_dir / "migrations", output)
    console.print(f"wrote {output}: {len(schema.tables)} tables, {len(schema.functions)} functions")


__all__ = ["db_app"]
