"""Issue 14, the security review: each attack of the review, replayed against the migrated schema.

Each test was run red on the schema before 20261205110000..110300 (the attack worked) and passes
now. Impersonation is Supabase's: `set local role` plus request.jwt.claims for the transaction.
"""

from __future__ import annotations

import select
import uuid
from typing import Any

import psycopg
import pytest

from tests.support.tenants import create_distributor, create_user, impersonate
from worker.db.audit import run_audit

DENIED = "permission denied"


def _slug() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def _email() -> str:
    return f"Cfo-{uuid.uuid4().hex[:10]}@Example.invalid"


def _sign_up(conn: psycopg.Connection[Any], address: str, *, confirmed: bool) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute("insert into auth.users (id, email, email_confirmed_at) values (%s, %s, case when %s then now() end)",
                 (user_id, address, confirmed))
    return user_id


def _profile(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> Any:
    return conn.execute("select distributor_id, role::text from public.user_profiles where id = %s",
                        (user_id,)).fetchone()


def _invite_as(conn: psycopg.Connection[Any], admin: uuid.UUID, distributor: uuid.UUID, address: str,
               extra: str = "", values: tuple[Any, ...] = ()) -> None:
    with impersonate(conn, admin):
        conn.execute(f"insert into public.user_invitations (distributor_id, email, role{extra})"
                     f" values (%s, %s, 'admin'{', %s' * len(values)})", (distributor, address.lower(), *values))


# 1. Invitation capture across tenants.

def test_a_tenant_cannot_backdate_or_postdate_its_invitations(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    admin_a = create_user(conn, a, "admin")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=DENIED), conn.transaction():
        _invite_as(conn, admin_a, a, _email(), ", created_at", ("2999-01-01",))
    with pytest.raises(psycopg.errors.CheckViolation, match="30 days"), conn.transaction():
        _invite_as(conn, admin_a, a, _email(), ", expires_at", ("2999-01-01",))


def test_invitations_of_two_tenants_join_no_one_until_the_user_chooses(conn: psycopg.Connection[Any]) -> None:
    a, b = create_distributor(conn, _slug()), create_distributor(conn, _slug())
    admin_a, admin_b = create_user(conn, a, "admin"), create_user(conn, b, "admin")
    address = _email()
    _invite_as(conn, admin_b, b, address)
    _invite_as(conn, admin_a, a, address)  # A invites B's future CFO too
    user = _sign_up(conn, address, confirmed=True)
    assert _profile(conn, user) is None
    name_b = conn.execute("select name from public.distributors where id = %s", (b,)).fetchone()[0]  # type: ignore[index]
    with impersonate(conn, user):
        offered = conn.execute("select invitation_id, distributor_name from public.my_invitations_v1()").fetchall()
        assert len(offered) == 2
        chosen = next(i for i, name in offered if name == name_b)
        assert conn.execute("select public.accept_invitation_v1(%s)", (chosen,)).fetchone() == (b,)
        assert conn.execute("select public.accept_invitation_v1(%s)", (offered[0][0],)).fetchone() == (None,)
    assert _profile(conn, user) == (b, "admin")


# 2. Unconfirmed e-mails.

def test_an_unconfirmed_sign_up_gets_nothing_until_confirmed(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    admin_a = create_user(conn, a, "admin")
    address = _email()
    _invite_as(conn, admin_a, a, address)
    user = _sign_up(conn, address.upper(), confirmed=False)
    assert _profile(conn, user) is None
    assert conn.execute("select count(*) from public.user_invitations where email = %s and used_at is null",
                        (address.lower(),)).fetchone() == (1,)
    conn.execute("update auth.users set email_confirmed_at = now() where id = %s", (user,))
    assert _profile(conn, user) == (a, "admin")


# 3. Adopting users.

def test_an_admin_cannot_adopt_a_user_or_rewrite_a_profile_id(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    admin_a, staff_a = create_user(conn, a, "admin"), create_user(conn, a, "staff")
    stranger = _sign_up(conn, _email(), confirmed=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, admin_a):
        conn.execute("insert into public.user_profiles (id, distributor_id, email, role) values (%s, %s, 'x', 'admin')",
                     (stranger, a))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, admin_a):
        conn.execute("update public.user_profiles set id = %s where id = %s", (stranger, staff_a))
    with impersonate(conn, admin_a):
        conn.execute("update public.user_profiles set role = 'manager' where id = %s", (staff_a,))
    assert _profile(conn, staff_a) == (a, "manager")


# 4. WhatsApp numbers.

def test_a_tenant_cannot_claim_or_repoint_a_whatsapp_number(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    admin_a = create_user(conn, a, "admin")
    integration = conn.execute(
        "insert into public.external_integrations (distributor_id, kind, name, external_account_id, app_secret)"
        " values (%s, 'whatsapp_cloud', 'A', %s, 'secret') returning id", (a, f"pnid-{uuid.uuid4().hex}")).fetchone()[0]  # type: ignore[index]
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, admin_a):
        conn.execute("insert into public.external_integrations (distributor_id, kind, name, external_account_id)"
                     " values (%s, 'whatsapp_cloud', 'mine', 'someone-elses-pnid')", (a,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, admin_a):
        conn.execute("update public.external_integrations set external_account_id = 'other' where id = %s",
                     (integration,))
    with impersonate(conn, admin_a):
        conn.execute("update public.external_integrations set enabled = false where id = %s", (integration,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, admin_a):
        conn.execute("update public.external_integrations set enabled = true where id = %s", (integration,))


# 5. Audit trail of encrypted columns.

def test_the_audit_trail_keeps_no_plaintext_phone_or_address(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    customer = conn.execute("insert into public.customers (distributor_id, name, phone, address)"
                            " values (%s, 'Shop', '5215550001', 'Calle 1') returning id", (a,)).fetchone()[0]  # type: ignore[index]
    conn.execute("update public.customers set phone = null, phone_encrypted = '\\x01'::bytea, address = null"
                 " where id = %s", (customer,))
    rows = conn.execute("select old_values, new_values from public.data_access_audit"
                        " where row_id = %s order by occurred_at, id", (customer,)).fetchall()
    text = str(rows)
    assert "5215550001" not in text and "Calle 1" not in text
    old, new = next(r for r in rows if r[0] is not None)  # the update
    assert old["phone"] == "[encrypted]" and new["phone"] is None
    assert set(new["_encrypted_changed"]) == {"phone", "phone_encrypted", "address"}


# 8. Staff read the redacted body.

def test_viewers_and_staff_read_the_redacted_body_managers_the_verbatim_one(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    viewer, staff, manager = (create_user(conn, a, r) for r in ("viewer", "staff", "manager"))
    message = conn.execute(
        "with c as (insert into public.customers (distributor_id, name) values (%(d)s, 'S') returning id),"
        " v as (insert into public.conversations (distributor_id, customer_id, channel, handle)"
        "       select %(d)s, id, 'whatsapp', 'h1:x' from c returning id, customer_id)"
        " insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, body, body_redacted)"
        " select %(d)s, v.id, v.customer_id, 'inbound', 'whatsapp', 'call 5512345678', 'call <PHONE_NUMBER>' from v"
        " returning id", {"d": a}).fetchone()[0]  # type: ignore[index]
    for user in (viewer, staff):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, user):
            conn.execute("select body from public.messages where id = %s", (message,))
        with impersonate(conn, user):
            assert conn.execute("select body_redacted from public.messages where id = %s",
                                (message,)).fetchone() == ("call <PHONE_NUMBER>",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, user):
            conn.execute("select public.message_body_v1(%s)", (message,))
    with impersonate(conn, manager):
        assert conn.execute("select public.message_body_v1(%s)", (message,)).fetchone() == ("call 5512345678",)
    assert conn.execute("select count(*) from public.data_access_audit where row_id = %s and action = 'select'",
                        (message,)).fetchone() == (1,)


# 9. TRUNCATE, TRIGGER, REFERENCES.

def test_a_signed_in_user_cannot_truncate_or_add_triggers(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    staff = create_user(conn, a, "staff")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, staff):
        conn.execute("truncate public.orders cascade")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction(), impersonate(conn, staff):
        conn.execute("create trigger t before insert on public.orders for each row execute function"
                     " private.set_updated_at()")


def test_future_tables_get_no_truncate_for_clients(conn: psycopg.Connection[Any]) -> None:
    conn.execute("create table public.later_table (id uuid primary key, created_at timestamptz default now())")
    assert conn.execute("select has_table_privilege('authenticated', 'public.later_table', 'TRUNCATE'),"
                        " has_table_privilege('authenticated', 'public.later_table', 'SELECT')").fetchone() == (False, True)
    assert conn.execute("select count(*) from pg_trigger where tgrelid = 'public.later_table'::regclass"
                        " and tgname = 'keep_server_columns'").fetchone() == (1,)


# 1 (every table). Server timestamps.

def test_clients_cannot_choose_created_at_on_any_table(conn: psycopg.Connection[Any]) -> None:
    a = create_distributor(conn, _slug())
    staff = create_user(conn, a, "staff")
    with impersonate(conn, staff):
        row = conn.execute("insert into public.customer_labels (distributor_id, name, created_at, updated_at)"
                           " values (%s, 'VIP', '2999-01-01', '2999-01-01') returning created_at < '2100-01-01',"
                           " updated_at < '2100-01-01'", (a,)).fetchone()
    assert row == (True, True)


# 10. NOTIFY payloads.

def test_notify_payloads_carry_no_distributor_id(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as listener, psycopg.connect(db_url, autocommit=True) as writer:
        listener.execute("listen orderflow_messages")
        d = create_distributor(writer, _slug())
        writer.execute("select public.ingest_message_v3(%s, 'whatsapp', %s, 'h1:abc', null, null, null, 'P', 'hola')",
                       (d, uuid.uuid4().hex))
        select.select([listener.fileno()], [], [], 5)
        payloads = [n.payload for n in listener.notifies(timeout=1, stop_after=1)]
        writer.execute("delete from public.distributors where id = %s", (d,))
    assert payloads == [""]


# 11. Time zones, currency, language.

@pytest.mark.parametrize(("column", "value"), [("timezone", "Mars/Olympus"), ("currency", "usd"), ("locale", "xx")])
def test_an_admin_cannot_set_invalid_distributor_settings(conn: psycopg.Connection[Any], column: str, value: str) -> None:
    a = create_distributor(conn, _slug())
    admin = create_user(conn, a, "admin")
    with pytest.raises((psycopg.errors.IntegrityError, psycopg.errors.DataError)), conn.transaction(), impersonate(conn, admin):
        conn.execute(f"update public.distributors set {column} = %s where id = %s", (value, a))  # noqa: S608
    with impersonate(conn, admin):
        conn.execute("update public.distributors set timezone = 'America/Mexico_City' where id = %s", (a,))


# db audit: the two new checks pass on the migrations and catch a regression.

def test_db_audit_catches_truncate_and_writable_timestamps(fresh_db_url: str) -> None:
    assert run_audit(fresh_db_url).passed
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute("grant truncate on public.orders to authenticated")
        conn.execute("alter table public.customer_labels disable trigger keep_server_columns")
    report = run_audit(fresh_db_url)
    assert report.result("client_table_privileges").offender_dicts() == [
        {"table": "public.orders", "role": "authenticated", "privilege": "TRUNCATE"}]
    assert {(o["column"], o["privilege"]) for o in report.result("server_columns_writable").offender_dicts()} == {
        ("created_at", "INSERT"), ("created_at", "UPDATE"), ("updated_at", "INSERT"), ("updated_at", "UPDATE")}
