"""`orderflow orders …`: review orders from the command line, as the service.

`correct LINE_ID --sku SKU --quantity Q` fixes one line, `confirm ORDER_ID` confirms every line
of an order as it is. Both teach the matcher (learned aliases) and leave training data; see
worker/corrections.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from worker.admin.corrections import Correction, CorrectionError, confirm_order, correct_line
from worker.cli.oneshot import run_once
from worker.core.repository import Repository

T = TypeVar("T")

console = Console()

orders_app = typer.Typer(help="Orders in review: correct or confirm lines (the matcher learns from it).",
                         no_args_is_help=True)


def _run(work: Callable[[Repository], Awaitable[T]]) -> T:
    try:
        return run_once(work)
    except CorrectionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def _describe(c: Correction) -> str:
    learned = f", learned alias {c.alias!r}" if c.alias else ""
    return f"line {c.line_no}: {c.correction_type} → {c.sku} x {c.quantity:g}{learned}"


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
    done = _run(lambda repo: correct_line(repo, order_product_id=line_id, product_sku=sku, quantity=quantity,
                                          confirm=confirm))
    console.print(f"order {done.order_id} ({done.order_status}): {_describe(done)}")


@orders_app.command("confirm")
def confirm_command(order_id: Annotated[str, typer.Argument(help="The order (orders.id)")]) -> None:
    """Confirm every line of an order as it is; it leaves review when no line needs one."""
    done = _run(lambda repo: confirm_order(repo, order_id=order_id))
    console.print(f"order {order_id} ({done[-1].order_status}):")
    for correction in done:
        console.print(f"  {_describe(correction)}")


__all__ = ["orders_app"]
