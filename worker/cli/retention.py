"""`orderflow retention`: apply the data-retention policies (the service is worker.admin.retention)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from worker.admin.retention import DEFAULT_BATCH, run_retention
from worker.cli.oneshot import run_once
from worker.core import logs
from worker.core.settings import load_settings

console = Console()

retention_app = typer.Typer(help="Data retention: anonymise or delete what is past each distributor's window.",
                            no_args_is_help=True)


@retention_app.command("run")
def run_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would change, change nothing"),
    batch: int = typer.Option(DEFAULT_BATCH, "--batch", min=1, help="Rows per batch (one transaction each)"),
    distributor: str | None = typer.Option(None, "--distributor", help="Only this distributor (slug)"),
    log_level: str = typer.Option("INFO", help="Log level"),
) -> None:
    """Apply the retention policies (defaults where a distributor has none), in batches; safe to rerun."""
    logs.configure(log_level)
    settings = load_settings()

    results = run_once(lambda repo: run_retention(repo, batch=batch, dry_run=dry_run, slug=distributor), settings)
    if distributor and not results:
        console.print(f"[red]no distributor with slug {distributor!r}[/red]")
        raise typer.Exit(1)
    table = Table(title="retention (dry run: nothing changed)" if dry_run else "retention")
    for column in ("distributor", "kind", "policy", "days", "would change" if dry_run else "changed"):
        table.add_column(column, justify="right" if column in ("days", "changed", "would change") else "left")
    for r in results:
        policy = f"{r.action} (default)" if r.is_default else r.action
        table.add_row(r.slug, r.data_kind, policy, "" if r.retain_days is None else str(r.retain_days), str(r.affected))
    console.print(table)


__all__ = ["retention_app"]
