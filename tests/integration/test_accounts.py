"""Accounts: signing up creates a profile only through a pending, unexpired invitation, used once;
users record only their own sign-ins; `orderflow users invite` makes invitations."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import psycopg
import pytest
from typer.testing import CliRunner

from tests.support.tenants import create_distributor, create_user, impersonate
from worker.cli import app

RLS_DENIED = "violates row-level security"


def slug() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.invalid"


def invite(conn: psycopg.Connection[Any], distributor_id: uuid.UUID, address: str, role: str,
           *, expires_in: str = "7 days", created_ago: str = "0 seconds") -> uuid.UUID:
    row = conn.execute(
        "insert into public.user_invitations (distributor_id, email, role, expires_at, created_at)"
        " values (%s, %s, %s, now() + %s::interval, now() - %s::interval) returning id",
        (distributor_id, address, role, expires_in, created_ago),
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def sign_up(conn: psycopg.Connection[Any], address: str) -> uuid.UUID:
    """What Supabase Auth does on sign-up: a row in auth.users."""
    user_id = uuid.uuid4()
    conn.execute("insert into auth.users (id, email, email_confirmed_at) values (%s, %s, now())", (user_id, address))
    return user_id


def profile(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> tuple[Any, ...] | None:
    return conn.execute(
        "select distributor_id, role::text, email from public.user_profiles where id = %s", (user_id,)
    ).fetchone()


def invitation(conn: psycopg.Connection[Any], invitation_id: uuid.UUID) -> tuple[Any, ...] | None:
    return conn.execute(
        "select used_at is not null, used_by from public.user_invitations where id = %s", (invitation_id,)
    ).fetchone()


def seed_order(conn: psycopg.Connection[Any], distributor_id: uuid.UUID) -> uuid.UUID:
    row = conn.execute(
        "with c as (insert into public.customers (distributor_id, name) values (%(d)s, 'Shop') returning id)"
        " insert into public.orders (distributor_id, customer_id, currency) select %(d)s, c.id, 'USD' from c returning id",
        {"d": distributor_id},
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def test_sign_up_with_an_invitation_creates_the_profile_and_uses_the_invitation(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    address = email()
    invitation_id = invite(conn, a, address, "manager")

    user = sign_up(conn, address.upper())

    assert profile(conn, user) == (a, "manager", address)
    assert invitation(conn, invitation_id) == (True, user)


def test_the_invited_user_reads_their_distributor_s_orders(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    order_id = seed_order(conn, a)
    seed_order(conn, create_distributor(conn, slug()))
    address = email()
    invite(conn, a, address, "viewer")
    user = sign_up(conn, address)

    with impersonate(conn, user):
        orders = conn.execute("select id from public.orders").fetchall()
    assert orders == [(order_id,)]


def test_sign_up_without_an_invitation_creates_no_profile_and_sees_nothing(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    seed_order(conn, a)
    invite(conn, a, email(), "admin")  # someone else's invitation

    user = sign_up(conn, email())

    assert profile(conn, user) is None
    with impersonate(conn, user):
        assert conn.execute("select public.get_current_distributor_id()").fetchone() == (None,)
        assert conn.execute("select count(*) from public.orders").fetchone() == (0,)
        assert conn.execute("select count(*) from public.customers").fetchone() == (0,)


def test_an_expired_invitation_creates_no_profile(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    address = email()
    invitation_id = invite(conn, a, address, "staff", expires_in="-1 minute", created_ago="8 days")

    user = sign_up(conn, address)

    assert profile(conn, user) is None
    assert invitation(conn, invitation_id) == (False, None)


def test_an_invitation_is_used_only_once(conn: psycopg.Connection[Any]) -> None:
    b = create_distributor(conn, slug())
    address = email()
    invitation_id = invite(conn, b, address, "staff")
    first = sign_up(conn, address)
    assert profile(conn, first) == (b, "staff", address)

    conn.execute("delete from auth.users where id = %s", (first,))  # profile goes with it
    second = sign_up(conn, address)

    assert profile(conn, second) is None
    used = conn.execute("select used_at is not null from public.user_invitations where id = %s", (invitation_id,))
    assert used.fetchone() == (True,)


def test_no_invitation_is_used_when_several_distributors_invited(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    b = create_distributor(conn, slug())
    address = email()
    older = invite(conn, a, address, "admin", created_ago="2 days")
    newer = invite(conn, b, address, "viewer", created_ago="1 hour")

    user = sign_up(conn, address)

    assert profile(conn, user) is None  # the user chooses (accept_invitation_v1)
    assert invitation(conn, newer) == (False, None)
    assert invitation(conn, older) == (False, None)


def test_using_an_invitation_is_a_security_event(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    address = email()
    invitation_id = invite(conn, a, address, "staff")

    user = sign_up(conn, address)

    events = conn.execute(
        "select event_type, actor, details ->> 'invitation_id', details ->> 'role'"
        " from public.security_audit_log where distributor_id = %s", (a,),
    ).fetchall()
    assert events == [("invitation_used", str(user), str(invitation_id), "staff")]


def test_admins_invite_to_their_distributor_and_staff_cannot(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    b = create_distributor(conn, slug())
    admin = create_user(conn, a, "admin")
    staff = create_user(conn, a, "staff")
    statement = "insert into public.user_invitations (distributor_id, email, role) values (%s, %s, 'staff')"

    with impersonate(conn, admin):
        conn.execute(statement, (a, email()))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=RLS_DENIED), conn.transaction():
            conn.execute(statement, (b, email()))
    with impersonate(conn, staff), pytest.raises(psycopg.errors.InsufficientPrivilege, match=RLS_DENIED):
        with conn.transaction():
            conn.execute(statement, (a, email()))
    assert conn.execute("select invited_by from public.user_invitations where distributor_id = %s",
                        (a,)).fetchone() == (admin,)


def test_a_user_records_their_own_sign_ins_only(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, slug())
    user = create_user(conn, a, "staff")
    other = create_user(conn, a, "staff")

    with impersonate(conn, user):
        own = conn.execute("select public.record_user_session_v1(%s, '203.0.113.7', 'Mozilla/5.0')", (user,)).fetchone()
        theirs = conn.execute("select public.record_user_session_v1(%s, '203.0.113.8', 'curl')", (other,)).fetchone()

    assert own is not None and own[0] is not None
    assert theirs == (None,)
    sessions = conn.execute(
        "select id, user_id, host(ip_address), user_agent from public.user_sessions where distributor_id = %s", (a,)
    ).fetchall()
    assert sessions == [(own[0], user, "203.0.113.7", "Mozilla/5.0")]


def test_a_user_without_a_profile_records_no_session(conn: psycopg.Connection[Any]) -> None:
    user = sign_up(conn, email())
    with impersonate(conn, user):
        assert conn.execute("select public.record_user_session_v1(%s, null, null)", (user,)).fetchone() == (None,)


@pytest.mark.parametrize("who", ["anon", "service_role"])
def test_only_signed_in_users_may_record_sessions(conn: psycopg.Connection[Any], who: str) -> None:
    actor: Literal["service_role"] | None = None if who == "anon" else "service_role"
    with impersonate(conn, actor), pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("select public.record_user_session_v1(%s, null, null)", (uuid.uuid4(),))


# --- orderflow users invite -------------------------------------------------------------------

@pytest.fixture
def cli_db(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    return fresh_db_url


def test_cli_invite_creates_an_invitation_a_sign_up_uses(cli_db: str) -> None:
    with psycopg.connect(cli_db, autocommit=True) as conn:
        distributor_slug = slug()
        a = create_distributor(conn, distributor_slug)

    result = CliRunner().invoke(app, ["users", "invite", "Bob@Example.Invalid", "--distributor", distributor_slug,
                                      "--role", "manager", "--days", "3"])

    assert result.exit_code == 0, result.output
    with psycopg.connect(cli_db) as conn:
        row = conn.execute(
            "select email, role::text, expires_at - now() between interval '71 hours' and interval '73 hours'"
            " from public.user_invitations where distributor_id = %s", (a,),
        ).fetchall()
        assert row == [("bob@example.invalid", "manager", True)]
        user = sign_up(conn, "bob@example.invalid")
        assert profile(conn, user) == (a, "manager", "bob@example.invalid")


def test_cli_invite_again_renews_the_pending_invitation(cli_db: str) -> None:
    with psycopg.connect(cli_db, autocommit=True) as conn:
        distributor_slug = slug()
        a = create_distributor(conn, distributor_slug)
    runner = CliRunner()
    for role in ("staff", "admin"):
        result = runner.invoke(app, ["users", "invite", "ann@example.invalid", "--distributor", distributor_slug,
                                     "--role", role])
        assert result.exit_code == 0, result.output

    with psycopg.connect(cli_db) as conn:
        rows = conn.execute("select role::text from public.user_invitations where distributor_id = %s", (a,)).fetchall()
    assert rows == [("admin",)]


def test_cli_invite_to_an_unknown_distributor_fails(cli_db: str) -> None:
    result = CliRunner().invoke(app, ["users", "invite", "ann@example.invalid", "--distributor", "nope",
                                      "--role", "staff"])
    assert result.exit_code == 1
    assert "no distributor" in result.output
