"""`orderflow keys …` and `orderflow customers find`: the master key's life, and service-side reads
of encrypted customer data (worker/encryption.py).

Rotating the master key, with no downtime:
  1. `orderflow keys new-master` prints a new key;
  2. every service gets ORDERFLOW_MASTER_KEY=<new> and ORDERFLOW_PREVIOUS_MASTER_KEY=<old>
     (both unwrap, new data keys are wrapped with the new one);
  3. `orderflow keys rotate-master` re-wraps every data key with the new key (only encryption_keys
     rows change; no ciphertext is touched); run it again until it reports 0;
  4. drop ORDERFLOW_PREVIOUS_MASTER_KEY.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from webhooks.inbound.store import normalised_phone
from worker.admin.encrypt_pending import encrypt_pending
from worker.cli.oneshot import run_once
from worker.core.encryption import EncryptionError, Keyring, new_master_key
from worker.core.repository import Repository
from worker.core.settings import load_settings

T = TypeVar("T")

console = Console()

keys_app = typer.Typer(help="Encryption keys: new and rotated master keys, pending plaintext.", no_args_is_help=True)
customers_app = typer.Typer(help="Customers, read by the service (decrypted).", no_args_is_help=True)


def _run(work: Callable[[Repository, Keyring], Awaitable[T]]) -> T:
    settings = load_settings()
    try:
        keyring = Keyring.from_settings(settings)
    except EncryptionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    try:
        return run_once(lambda repo: work(repo, keyring), settings)
    except EncryptionError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@keys_app.command("new-master")
def new_master() -> None:
    """Print a fresh master key (32 random bytes, base64) for ORDERFLOW_MASTER_KEY."""
    print(new_master_key())


@keys_app.command("rotate-master")
def rotate_master() -> None:
    """Re-wrap every data key with ORDERFLOW_MASTER_KEY (unwrapping with it or ORDERFLOW_PREVIOUS_MASTER_KEY)."""
    count = _run(lambda repo, keyring: keyring.rotate_master(repo, keyring.master))
    console.print(f"re-wrapped {count} data key(s) with {Keyring.from_settings().master.key_id}")


@keys_app.command("encrypt-pending")
def encrypt_pending_command() -> None:
    """Encrypt plaintext phones, addresses, handles and raw payloads now (the worker does it every 5 minutes)."""
    done = _run(lambda repo, keyring: encrypt_pending(repo, keyring))
    console.print(f"encrypted: {done.customers} customer(s), {done.conversations} conversation(s), "
                  f"{done.payloads} payload(s)")


@keys_app.command("status")
def status() -> None:
    """Data keys per master key, and rows still holding plaintext personal data."""

    async def work(repo: Repository, keyring: Keyring) -> tuple[list[dict[str, object]], dict[str, object] | None]:
        return await repo.fetch_all("data_keys_by_master"), await repo.fetch_one("plaintext_pending")

    keys, pending = _run(work)
    current = Keyring.from_settings().master.key_id
    table = Table(title="data keys")
    table.add_column("wrapped with")
    table.add_column("keys", justify="right")
    for row in keys:
        marker = " (current)" if row["wrapped_with"] == current else ""
        table.add_row(f"{row['wrapped_with']}{marker}", str(row["keys"]))
    console.print(table)
    if pending:
        console.print("plaintext pending: " + ", ".join(f"{k} {v}" for k, v in pending.items()))


@customers_app.command("find")
def find(
    distributor: str = typer.Option(..., "--distributor", help="Distributor slug"),
    phone: str | None = typer.Option(None, "--phone", help="Only the customer with this phone (looked up by its keyed hash)"),
    limit: int = typer.Option(20, "--limit", min=1),
) -> None:
    """A distributor's customers with their phone and address decrypted."""

    async def work(repo: Repository, keyring: Keyring) -> list[tuple[str, str, str]] | None:
        found = await repo.fetch_one("distributor_by_slug", slug=distributor)
        if found is None:
            return None
        key = await keyring.data_key(repo, str(found["id"]))
        wanted = normalised_phone(phone) if phone else None
        rows = await repo.fetch_all("customer_secrets", distributor_id=found["id"], limit=limit,
                                    phone_hash=key.phone_hash(wanted) if wanted else None)
        return [(r["name"] or "",
                 key.open(r["phone_encrypted"], "customers.phone") if r["phone_encrypted"] else (r["phone"] or ""),
                 key.open(r["address_encrypted"], "customers.address") if r["address_encrypted"] else (r["address"] or ""))
                for r in rows]

    rows = _run(work)
    if rows is None:
        console.print(f"[red]no distributor with slug {distributor!r}[/red]")
        raise typer.Exit(1)
    table = Table(title=f"customers of {distributor}")
    for column in ("name", "phone", "address"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


__all__ = ["customers_app", "keys_app"]
