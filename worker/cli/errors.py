"""The one place CLI commands turn failures into messages and exit codes, and print results.

`run(work)` runs a service call on a one-shot pool (worker/cli/oneshot.py). What the operator can
fix prints in red without a traceback: 1 for a refused request (bad input, closed order, missing
role), 3 for something that does not exist, 4 when the database cannot be reached. `emit` prints
a rich table, or JSON with --json (for machines: stable field names, ISO 8601 times).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from worker.admin.errors import AdminError, NotFound
from worker.cli.oneshot import run_once
from worker.core.encryption import EncryptionError
from worker.core.repository import DatabaseUnavailable, Refused, Repository

T = TypeVar("T")

JSON = Annotated[bool, typer.Option("--json", help="Print JSON for machines")]  # the `as_json` of `emit`

EXIT_REFUSED = 1
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    errors.print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(code)


def run(work: Callable[[Repository], Awaitable[T]], *, connections: int = 1) -> T:
    """Await `work(repo)` on the configured database; failures the operator can fix exit cleanly."""
    try:
        return run_once(work, connections=connections)
    except NotFound as exc:
        fail(str(exc), EXIT_NOT_FOUND)
    except Refused as exc:
        fail(str(exc), EXIT_NOT_FOUND if exc.sqlstate == "P0002" else EXIT_REFUSED)
    except (AdminError, EncryptionError) as exc:
        fail(str(exc))
    except DatabaseUnavailable as exc:
        fail(f"the database is unavailable: {exc}", EXIT_UNAVAILABLE)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None  # ciphertexts are never printed
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dump_json(value: Any) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, indent=2)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def emit(rows: Sequence[Mapping[str, Any]] | Mapping[str, Any], columns: Sequence[str], *, as_json: bool,
         title: str | None = None) -> None:
    """JSON (the whole objects) with --json, else a table of `columns`."""
    if as_json:
        print(dump_json(rows if isinstance(rows, Mapping) else list(rows)))
        return
    items = [rows] if isinstance(rows, Mapping) else rows
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in items:
        table.add_row(*(cell(row.get(c)) for c in columns))
    console.print(table)


def money(cents: int | None, currency: str | None) -> str:
    return "" if cents is None else f"{cents / 100:,.2f} {currency or ''}".strip()


__all__ = ["EXIT_NOT_FOUND", "EXIT_REFUSED", "EXIT_UNAVAILABLE", "JSON", "cell", "console", "dump_json", "emit", "fail",
           "money", "run"]
