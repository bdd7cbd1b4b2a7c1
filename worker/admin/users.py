"""`orderflow users …`: invite an e-mail to a distributor with a role.

Accounts come from Supabase Auth. Signing up with an invited e-mail creates the user's profile
with the invitation's distributor and role (the `on_auth_user_created` trigger of
supabase/migrations/20261123093100_accounts.sql); without an invitation the user gets no
profile and sees nothing. Admins invite from the app (RLS lets them insert into
user_invitations); this command does it for the platform, as the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from worker.cli.oneshot import run_once
from worker.core.repository import OrderflowError, Repository
from worker.core.settings import load_settings

DEFAULT_INVITATION_DAYS = 7  # days an invitation stays usable
MAX_INVITATION_DAYS = 90  # days
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

console = Console()


class Role(StrEnum):
    """public.user_role."""

    viewer = "viewer"
    staff = "staff"
    manager = "manager"
    admin = "admin"


class InvitationError(OrderflowError):
    """The invitation cannot be made: unknown distributor or malformed e-mail."""


@dataclass(frozen=True, kw_only=True)
class Invitation:
    id: str
    distributor_id: str
    email: str
    role: str
    expires_at: datetime


async def invite(repo: Repository, *, email: str, distributor_slug: str, role: Role,
                 days: int = DEFAULT_INVITATION_DAYS) -> Invitation:
    """Invite `email` (lower-cased) to the distributor; renews a pending invitation of that e-mail."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvitationError(f"not an e-mail address: {email!r}")
    distributor = await repo.fetch_one("distributor_by_slug", slug=distributor_slug)
    if distributor is None:
        raise InvitationError(f"no distributor with slug {distributor_slug!r}")
    row = await repo.fetch_one("create_invitation", distributor_id=distributor["id"], email=email,
                               role=role.value, days=days)
    assert row is not None
    return Invitation(id=str(row["id"]), distributor_id=str(distributor["id"]), email=row["email"],
                      role=row["role"], expires_at=row["expires_at"])


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


__all__ = ["DEFAULT_INVITATION_DAYS", "Invitation", "InvitationError", "Role", "invite", "users_app"]
