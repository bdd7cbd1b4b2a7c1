"""The `orderflow` command line: one Typer app; each room adds its own sub-commands."""

from __future__ import annotations

import typer

from worker.cli import service as commands
from worker.cli.db import db_app
from worker.cli.eval import evaluate
from worker.cli.keys import customers_app, keys_app
from worker.cli.orders import orders_app
from worker.cli.retention import retention_app
from worker.cli.users import users_app
from worker.cli.webhooks import deliver, serve, webhooks_app

app = typer.Typer(help="orderflow: WhatsApp and channel messages in, orders and signed webhooks out.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(retention_app, name="retention")
app.add_typer(orders_app, name="orders")
app.add_typer(keys_app, name="keys")
app.add_typer(customers_app, name="customers")
app.command("worker")(commands.worker)
app.command("ingest")(commands.ingest)
app.command("status")(commands.status)
app.command("demo")(commands.demo)
app.command("eval")(evaluate)
app.command("serve")(serve)
app.command("deliver")(deliver)
app.add_typer(webhooks_app, name="webhooks")


def main() -> None:  # pragma: no cover - console entry point
    app()


__all__ = ["app", "main"]
