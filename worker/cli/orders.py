"""`orderflow orders …`: list and show orders, import a distributor's ERP history, and review
orders as the service through the same RPCs a distributor's staff call (worker/admin/corrections.py,
worker/admin/review.py): correct, confirm, add-line, remove-line, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from worker.admin import review
from worker.admin.corrections import Correction, confirm_order, correct_line
from worker.admin.order_history import import_history
from worker.admin.order_views import list_orders, parse_since, show_order
from worker.cli.errors import JSON, console, dump_json, emit, money, run
from worker.core.repository import Repository

orders_app = typer.Typer(help="Orders: list, show, import history, review (the matcher learns from it).",
                         no_args_is_help=True)


def _describe(c: Correction) -> str:
    learned = f", learned alias {c.alias!r}" if c.alias else ""
    return f"line {c.line_no}: {c.correction_type} → {c.sku} x {c.quantity:g}{learned}"


def _lines(order: dict[str, Any]) -> str:
    return "; ".join(f"{line['sku'] or '?'} x{line['quantity']:g}"
                     + (f" ({line['review_reason']})" if line["review_reason"] else "") for line in order["lines"])


@orders_app.command("list")
def list_command(
    distributor: Annotated[str | None, typer.Option("--distributor", help="Only this slug")] = None,
    customer_phone: Annotated[str | None, typer.Option("--customer-phone", help="Only this customer's")] = None,
    status: Annotated[str | None, typer.Option("--status", help="created, needs_review, confirmed ...")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this date or time (ISO 8601)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many")] = 200,
    as_json: JSON = False,
) -> None:
    """Orders, newest first."""

    async def work(repo: Repository) -> list[dict[str, Any]]:
        return await list_orders(repo, slug=distributor, phone=customer_phone, status=status,
                                 since=parse_since(since), limit=limit)

    orders = run(work)
    if as_json:
        emit(orders, (), as_json=True)
        return
    rows = [{**o, "customer": o["customer"]["name"] or o["customer"]["id"][:8],
             "total": money(o["total_cents"], o["currency"]), "lines": _lines(o)} for o in orders]
    emit(rows, ("id", "created_at", "distributor", "status", "customer", "total", "review_reasons", "lines"),
         as_json=False, title="orders (newest first)")


@orders_app.command("show")
def show_command(order_id: Annotated[str, typer.Argument(help="The order id")], as_json: JSON = False) -> None:
    """One order: lines, the source message (redacted) and its history."""
    order = run(lambda repo: show_order(repo, order_id))
    if as_json:
        print(dump_json(order))
        return
    console.print(f"[bold]order {order['id']}[/bold] {order['distributor']} {order['status']} "
                  f"{money(order['total_cents'], order['currency'])} customer {order['customer']['name'] or ''} "
                  f"({order['customer']['id']}) created {order['created_at']:%Y-%m-%d %H:%M}"
                  + (f" external {order['external_id']}" if order["external_id"] else ""), highlight=False)
    if order["review_reasons"]:
        console.print(f"review: {', '.join(order['review_reasons'])}", highlight=False)
    emit(order["lines"], ("id", "line_no", "customer_text", "sku", "name", "quantity", "unit", "total_cents",
                          "review_reason"), as_json=False, title="lines")
    for message in order["messages"]:
        console.print(f"[dim]{message['received_at']:%Y-%m-%d %H:%M} {message['direction']}:[/dim] "
                      f"{escape(message['text'] or '(not redacted yet)')}", highlight=False)
    emit(order["history"], ("at", "action", "actor_role", "actor", "previous_status", "status", "details"),
         as_json=False, title="history")


@orders_app.command("import")
def import_command(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL, one order a line")],
                   as_json: JSON = False) -> None:
    """Import order history from an ERP (idempotent on distributor and external_id)."""
    result = run(lambda repo: import_history(repo, path))
    summary = {"orders": result.orders, "created": result.created, "existing": result.existing,
               "customers_created": result.customers_created}
    if as_json:
        emit(summary, (), as_json=True)
    else:
        console.print(f"{result.orders} orders: {result.created} imported, {result.existing} already there; "
                      f"{result.customers_created} new customers")


@orders_app.command("correct")
def correct_command(
    line_id: Annotated[str, typer.Argument(help="The order line (order_products.id)")],
    sku: Annotated[str | None, typer.Option("--sku", help="The right product")] = None,
    quantity: Annotated[float | None, typer.Option("--quantity", min=0.001, help="The right quantity")] = None,
    confirm: Annotated[bool, typer.Option("--confirm", help="Record the review even if nothing changes")] = False,
) -> None:
    """Correct one order line's product and/or quantity (or confirm it with --confirm)."""
    if sku is None and quantity is None and not confirm:
        console.print("[red]give --sku and/or --quantity, or --confirm[/red]")
        raise typer.Exit(2)
    done = run(lambda repo: correct_line(repo, order_product_id=line_id, product_sku=sku, quantity=quantity,
                                         confirm=confirm))
    console.print(f"order {done.order_id} ({done.order_status}): {_describe(done)}")


@orders_app.command("confirm")
def confirm_command(order_id: Annotated[str, typer.Argument(help="The order (orders.id)")]) -> None:
    """Confirm every line of an order as it is, and the order (status confirmed)."""
    done = run(lambda repo: confirm_order(repo, order_id=order_id))
    console.print(f"order {order_id} ({done[-1].order_status}):")
    for correction in done:
        console.print(f"  {_describe(correction)}")


@orders_app.command("add-line")
def add_line_command(
    order_id: Annotated[str, typer.Argument(help="The order id")],
    sku: Annotated[str, typer.Option("--sku", help="The product")],
    quantity: Annotated[float, typer.Option("--quantity", min=0.001, help="How many catalog units")],
) -> None:
    """Add a line the analyzer missed."""
    done = run(lambda repo: review.add_line(repo, order_id=order_id, sku=sku, quantity=quantity))
    console.print(f"order {done['order_id']} ({done['order_status']}): line {done['line_no']} {done['sku']} "
                  f"x {float(done['quantity']):g} added")


@orders_app.command("remove-line")
def remove_line_command(line_id: Annotated[str, typer.Argument(help="The order line id")]) -> None:
    """Remove a line that should not be there."""
    done = run(lambda repo: review.remove_line(repo, line_id=line_id))
    console.print(f"order {done['order_id']} ({done['order_status']}): line {done['line_no']} removed")


@orders_app.command("cancel")
def cancel_command(
    order_id: Annotated[str, typer.Argument(help="The order id")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the order's notes)")] = None,
) -> None:
    """Cancel an order."""
    done = run(lambda repo: review.cancel_order(repo, order_id=order_id, reason=reason))
    console.print(f"order {done['order_id']} {done['order_status']}")


__all__ = ["orders_app"]
