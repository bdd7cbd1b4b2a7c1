"""`orderflow integrations add whatsapp|channel`, `integrations list`, `integrations disable ID`.

Secrets are read from files (never the command line, where they land in shell history). The
channel's generated whsec_ secret is printed once, when it is created; nothing prints a secret again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from worker.admin import integrations
from worker.cli.errors import JSON, console, emit, errors, run
from worker.core.repository import Repository

integrations_app = typer.Typer(help="Channel integrations: WhatsApp numbers, generic signed channels.",
                               no_args_is_help=True)
add_app = typer.Typer(help="Connect a WhatsApp number or a generic channel.", no_args_is_help=True)
integrations_app.add_typer(add_app, name="add")

@add_app.command("whatsapp")
def add_whatsapp(
    distributor: Annotated[str, typer.Option("--distributor", help="Slug")],
    phone_number_id: Annotated[str, typer.Option("--phone-number-id", help="Meta's phone_number_id of the number")],
    app_secret_file: Annotated[Path, typer.Option("--app-secret-file", exists=True, dir_okay=False,
                                                  help="File with the Meta app secret (signs the webhooks)")],
    access_token_file: Annotated[Path, typer.Option("--access-token-file", exists=True, dir_okay=False,
                                                    help="File with the Graph API access token")],
    verify_token: Annotated[str, typer.Option("--verify-token", help="The token you type in Meta's webhook setup")],
    skip_verify: Annotated[bool, typer.Option("--skip-verify", help="Do not ask the Graph API (local setups only)")]
    = False,
    name: Annotated[str | None, typer.Option("--name", help="A label for the number")] = None,
) -> None:
    """Connect a WhatsApp number: the access token must see it in the Graph API before it is saved."""
    if skip_verify:
        errors.print("[bold yellow]WARNING: --skip-verify: the access token is NOT checked against the Graph API. "
                     "Replies will fail if it cannot see this number. Use it for local setups only.[/bold yellow]")

    async def work(repo: Repository) -> tuple[str, integrations.GraphCheck]:
        setup = integrations.WhatsAppSetup(
            distributor_slug=distributor, phone_number_id=phone_number_id,
            app_secret=integrations.read_secret_file(app_secret_file, "--app-secret-file"),
            access_token=integrations.read_secret_file(access_token_file, "--access-token-file"),
            verify_token=verify_token, name=name)
        return await integrations.add_whatsapp(repo, setup, verify=not skip_verify)

    integration_id, check = run(work)
    console.print(f"WhatsApp number {phone_number_id} connected to {distributor} (integration {integration_id}); "
                  f"{check.detail}")
    console.print("point Meta's webhook at https://<your host>/webhooks/whatsapp with that verify token")


@add_app.command("channel")
def add_channel(
    distributor: Annotated[str, typer.Option("--distributor", help="Slug")],
    key: Annotated[str, typer.Option("--key", help="Part of the URL: /webhooks/channel/KEY")],
    channel: Annotated[str, typer.Option("--channel", help="What the messages are (sms, telegram ...)")] = "sms",
) -> None:
    """Add a generic channel (Standard Webhooks signatures); prints its whsec_ secret once."""
    integration_id, secret = run(lambda repo: integrations.add_channel(repo, distributor_slug=distributor, key=key,
                                                                        channel=channel))
    console.print(f"channel {key} added to {distributor} (integration {integration_id}); POST to "
                  f"/webhooks/channel/{key}")
    console.print("signing secret (shown once, store it now):")
    print(secret)


@integrations_app.command("list")
def list_(
    distributor: Annotated[str | None, typer.Option("--distributor", help="Only this slug")] = None,
    as_json: JSON = False,
) -> None:
    """Integrations and which secrets are set (never their values)."""
    rows = run(lambda repo: integrations.listing(repo, distributor))
    emit([dict(r) for r in rows], ("id", "slug", "kind", "channel", "external_account_id", "enabled",
                                   "has_app_secret", "has_access_token", "has_signing_secret"),
         as_json=as_json, title="integrations")


@integrations_app.command("disable")
def disable(integration_id: Annotated[str, typer.Argument(help="The integration id")]) -> None:
    """Disable an integration: its webhooks are refused from now on."""
    row = run(lambda repo: integrations.disable(repo, integration_id))
    console.print(f"disabled {row['kind']} {row['external_account_id']} ({row['id']})")


__all__ = ["integrations_app"]
