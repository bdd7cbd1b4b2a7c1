"""`orderflow worker`, `orderflow ingest`, `orderflow status`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from webhooks.inbound.store import IntakeFileError, ingest_file
from worker.cli.errors import fail
from worker.cli.oneshot import run_once
from worker.core import logs
from worker.core.settings import load_settings
from worker.db import connection

console = Console()


def worker(
    until_idle: bool = typer.Option(False, "--until-idle", help="Exit when no message is due"),
    concurrency: int = typer.Option(0, help="Messages in flight at once (default ORDERFLOW_WORKER_CONCURRENCY)"),
    log_level: str = typer.Option("INFO", help="Log level"),
    deliver: bool = typer.Option(False, "--deliver", help="Also run the webhook delivery loop in this process"),
) -> None:
    """Consume queued messages: PII, analysis, orders, usage, budget alerts, webhook events."""
    from worker.runtime import run_worker  # imports the analyzers and Presidio: only when working

    logs.configure(log_level)
    settings = load_settings()
    stats = asyncio.run(run_worker(connection.database_url(settings), settings, until_idle=until_idle,
                                   concurrency=concurrency or None, deliver=deliver))
    console.print(f"processed={stats.processed} orders={stats.orders} in_review={stats.orders_review} "
                  f"retried={stats.retried} failed={stats.failed}")


def ingest(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL file of messages")) -> None:
    """Store messages from a JSONL file through the intake function (as the channels do); per line
    {distributor, from, text, name, channel, id (the provider's message id), received_at (ISO 8601)}."""
    settings = load_settings()

    try:
        created, duplicates = run_once(lambda repo: ingest_file(repo, path), settings, connections=2)
    except IntakeFileError as exc:
        fail(f"{path}: refused, nothing stored: {exc}")
    console.print(f"stored {created} messages ({duplicates} duplicates ignored)")


def demo() -> None:
    """The whole flow on the embedded database, from signed WhatsApp payloads to verified webhooks."""
    from worker.demo.run import run_demo

    logs.configure("WARNING")
    asyncio.run(run_demo(load_settings(), console))


def status() -> None:
    """Queue depth by state, oldest queued age, last-minute throughput and failures, per distributor."""
    settings = load_settings()

    rows = run_once(lambda repo: repo.fetch_all("status_by_distributor"), settings)
    table = Table(title="orderflow queue")
    columns = ["slug", "queued", "processing", "processed", "in_review", "failed", "oldest_queued_s", "last_minute"]
    for column in columns:
        table.add_column(column, justify="left" if column == "slug" else "right")
    for row in rows:
        table.add_row(*[f"{row[c]:.1f}" if isinstance(row[c], float) else str(row[c]) for c in columns])
    console.print(table)


__all__ = ["demo", "ingest", "status", "worker"]
