"""The `orderflow` command line: one Typer app; each room adds its own sub-commands."""

from __future__ import annotations

import typer

from worker.cli import service as commands
from worker.cli.budgets import budgets_app
from worker.cli.catalog import catalog_app
from worker.cli.db import db_app
from worker.cli.distributors import distributors_app
from worker.cli.endpoints import endpoints_app
from worker.cli.eval import evaluate
from worker.cli.integrations import integrations_app
from worker.cli.keys import customers_app, keys_app
from worker.cli.messages import messages_app
from worker.cli.orders import orders_app
from worker.cli.retention import retention_app
from worker.cli.users import users_app
from worker.cli.webhooks import deliver, serve, webhooks_app

app = typer.Typer(help="orderflow: WhatsApp and channel messages in, orders and signed webhooks out.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(distributors_app, name="distributors")
app.add_typer(catalog_app, name="catalog")
app.add_typer(integrations_app, name="integrations")
app.add_typer(endpoints_app, name="endpoints")
app.add_typer(budgets_app, name="budgets")
app.add_typer(messages_app, name="messages")
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
