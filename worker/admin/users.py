"""Inviting an e-mail to a distributor with a role (`orderflow users invite`: worker/cli/users.py).

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

from worker.core.errors import OrderflowError
from worker.core.repository import Repository

DEFAULT_INVITATION_DAYS = 7  # days an invitation stays usable
MAX_INVITATION_DAYS = 90  # days
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


__all__ = ["DEFAULT_INVITATION_DAYS", "MAX_INVITATION_DAYS", "Invitation", "InvitationError", "Role", "invite"]
