"""The `orderflow` command line: one Typer app; each room adds its own sub-commands."""

from __future__ import annotations

import typer

from worker.db.commands import db_app

app = typer.Typer(help="orderflow: WhatsApp and channel messages in, orders and signed webhooks out.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def main() -> None:  # pragma: no cover - console entry point
    app()


__all__ = ["app", "main"]
