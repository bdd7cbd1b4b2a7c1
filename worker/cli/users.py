"""`orderflow users`: invitations (the service is worker.admin.users)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from worker.admin.users import DEFAULT_INVITATION_DAYS, MAX_INVITATION_DAYS, InvitationError, Role, invite
from worker.cli.oneshot import run_once
from worker.core.settings import load_settings

console = Console()

users_app = typer.Typer(help="Platform users: invitations (sign-up with an invited e-mail creates the profile).",
                        no_args_is_help=True)


@users_app.command("invite")
def invite_command(
    email: Annotated[str, typer.Argument(help="The e-mail to invite (lower-cased)")],
    distributor: Annotated[str, typer.Option("--distributor", help="Slug of the distributor")],
    role: Annotated[Role, typer.Option("--role", help="Role the user gets in the distributor")],
    days: Annotated[int, typer.Option("--days", min=1, max=MAX_INVITATION_DAYS,
                                      help="Days the invitation stays usable")] = DEFAULT_INVITATION_DAYS,
) -> None:
    """Invite an e-mail to a distributor with a role; signing up with it creates the profile."""
    settings = load_settings()

    try:
        invitation = run_once(lambda repo: invite(repo, email=email, distributor_slug=distributor, role=role, days=days),
                              settings)
    except InvitationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"invited {invitation.email} to {distributor} as {invitation.role} "
                  f"until {invitation.expires_at:%Y-%m-%d %H:%M %Z} (invitation {invitation.id})")


__all__ = ["users_app"]
