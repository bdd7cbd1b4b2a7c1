"""`orderflow messages list`: a customer's conversation, both directions, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from worker.admin.order_views import list_messages
from worker.cli.errors import JSON, emit, run

messages_app = typer.Typer(help="Messages (redacted text only).", no_args_is_help=True)


@messages_app.command("list")
def list_command(
    distributor: Annotated[str | None, typer.Option("--distributor", help="Only this slug")] = None,
    customer_phone: Annotated[str | None, typer.Option("--customer-phone", help="Only this customer's")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many")] = 1000,
    as_json: JSON = False,
) -> None:
    """Inbound and outbound messages, oldest first; outbound with their delivery status."""
    rows: list[dict[str, Any]] = run(lambda repo: list_messages(repo, slug=distributor, phone=customer_phone,
                                                                 limit=limit))
    emit(rows, ("received_at", "distributor", "direction", "kind", "status", "text"), as_json=as_json,
         title="messages (oldest first)")


__all__ = ["messages_app"]
