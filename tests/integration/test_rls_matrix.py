"""The tenant isolation proof: every public table × {select, insert, update, delete} × {anon, a user
of distributor A, a user of distributor B, service_role}, plus a viewer of A on every write.

The tables come from the catalog (collected from a freshly migrated database), and what A's user
may do comes from the table's policies in pg_policies (the `current_role_rank() >= n` they
require), never from a per-table list. The bar: A's user reads A's rows and writes where the
policies allow; B's user sees none of A's rows, its inserts into A hit row-level security and its
updates and deletes touch nothing; anon sees and changes nothing; service_role sees everything.
Each cell runs in the `conn` transaction, which is rolled back.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
import pytest
from psycopg import sql

from tests.support.tenants import (
    SERVICE_ROLE,
    TENANT_KEY,
    Catalog,
    Table,
    build_row,
    create_distributor,
    create_user,
    impersonate,
    insert_row,
    insert_statement,
    load_catalog,
    migrated_catalog,
    seed_tenant_rows,
)

VERBS = ("select", "insert", "update", "delete")
ROLES = ("anon", "user_a", "user_b", "service_role")  # the matrix; viewer_a cells come on top
VIEWER_VERBS = ("insert", "update", "delete")
RLS_DENIED = "violates row-level security"
PRIVILEGE_DENIED = "permission denied"
_RANK = re.compile(r"current_role_rank\(\)[^>]*?>=\s*(\d+)")
_SECRET_NAME = re.compile(r"(^|_)(secret|token|password)$")  # by name, in case a "secret:" comment is missing
KNOWN_SECRETS = {
    "webhook_endpoints.secret",
    "external_integrations.app_secret",
    "encryption_keys.wrapped_key",
}


@dataclass(frozen=True, kw_only=True)
class Cell:
    table: str
    verb: str
    actor: str  # anon | user_a | viewer_a | user_b | service_role

    def __str__(self) -> str:
        return f"{self.table}-{self.verb}-{self.actor}"


@functools.cache
def matrix() -> tuple[Cell, ...]:
    tables = [t.name for t in migrated_catalog().public_tables()]
    return tuple(Cell(table=t, verb=v, actor=r) for t in tables for v in VERBS for r in ROLES)


@functools.cache
def viewer_cells() -> tuple[Cell, ...]:
    tables = [t.name for t in migrated_catalog().public_tables()]
    return tuple(Cell(table=t, verb=v, actor="viewer_a") for t in tables for v in VIEWER_VERBS)


def secret_columns() -> list[str]:
    return sorted(
        f"{t.name}.{c.name}"
        for t in migrated_catalog().public_tables()
        for c in t.columns.values()
        if (c.comment or "").startswith("secret:") or _SECRET_NAME.search(c.name)
    )


@pytest.fixture(scope="module")
def warm_conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(db_url) as connection:
        yield connection


@pytest.fixture
def conn(warm_conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """conftest's `conn` (a transaction rolled back after the test) on one connection for the
    module: a new backend per cell would spend most of its time loading catalog caches."""
    with warm_conn.transaction(force_rollback=True):
        yield warm_conn


@pytest.fixture(scope="module")
def catalog(warm_conn: psycopg.Connection[Any]) -> Catalog:
    with warm_conn.transaction(force_rollback=True):
        return load_catalog(warm_conn)


# --- what the policies allow --------------------------------------------------------------------


def required_rank(table: Table, verb: str) -> int | None:
    """The lowest role rank an authenticated user needs for `verb` on `table` according to its
    policies (0: any signed-in user); None when no policy grants the command at all."""
    command = verb.upper()
    permissive: list[int] = []
    restrictive = 0
    for policy in table.policies:
        if policy.command not in (command, "ALL") or not {"authenticated", "public"} & set(policy.roles):
            continue
        text = " ".join(e for e in (policy.using, policy.with_check) if e)
        rank = max((int(n) for n in _RANK.findall(text)), default=0)
        if policy.permissive:
            permissive.append(rank)
        else:
            restrictive = max(restrictive, rank)
    return max(min(permissive), restrictive) if permissive else None


def role_for(catalog: Catalog, rank: int | None) -> str:
    """The lowest user_role reaching `rank` (the highest role when nothing reaches it)."""
    for label, role_rank in catalog.roles:
        if rank is not None and role_rank >= rank:
            return label
    return catalog.roles[-1][0]


@dataclass(frozen=True, kw_only=True)
class World:
    a: uuid.UUID
    b: uuid.UUID
    rows_a: dict[str, Any]
    target: Any  # A's row the verb aims at (None for insert)
    target_b: Any  # B's row of the same table (None for global tables and insert)
    actor: uuid.UUID | Literal["service_role"] | None
    db_role: str  # the Postgres role the actor runs as
    privileged: bool  # the role holds the privilege (grants) for the verb
    policy_ok: bool  # RLS lets this actor do the verb on A's row (policies, or BYPASSRLS)
    b_reads_own: bool  # B's user may read B's rows of this table

    @property
    def allowed(self) -> bool:
        return self.privileged and self.policy_ok


def build_world(conn: psycopg.Connection[Any], catalog: Catalog, table: Table, cell: Cell) -> World:
    suffix = uuid.uuid4().hex[:8]
    a = create_distributor(conn, f"a-{suffix}")
    b = create_distributor(conn, f"b-{suffix}")
    rows_a: dict[str, Any] = {}
    target = target_b = None
    if table.kind == "tenant":
        seed = [table.name] if cell.verb != "insert" else sorted(catalog.tenant_parents(table.name))
        rows_a = seed_tenant_rows(conn, a, tables=seed, catalog=catalog)
        rows_b = seed_tenant_rows(conn, b, tables=seed, catalog=catalog)
        target, target_b = rows_a.get(table.name), rows_b.get(table.name)
    elif table.kind == "distributors":
        target, target_b = (a, b) if cell.verb != "insert" else (None, None)
    elif cell.verb != "insert":
        target = insert_row(conn, catalog, table.name, build_row(conn, catalog, table.name, None, {}))["id"]

    need = required_rank(table, cell.verb)
    admin_rank = catalog.roles[-1][1]
    actor: uuid.UUID | Literal["service_role"] | None
    if cell.actor == "anon":
        actor, db_role, policy_ok = None, "anon", False  # no policy may let anon in
    elif cell.actor == "service_role":
        actor, db_role, policy_ok = SERVICE_ROLE, "service_role", _bypasses_rls(conn, "service_role")
    elif cell.actor == "user_b":  # B's admin: the most a user of another tenant can be
        actor, db_role = create_user(conn, b, role_for(catalog, admin_rank)), "authenticated"
        policy_ok = table.kind == "global" and need is not None
    else:
        label = role_for(catalog, need) if cell.actor == "user_a" else catalog.roles[0][0]
        rank = dict(catalog.roles)[label]
        actor, db_role = create_user(conn, a, label), "authenticated"
        policy_ok = need is not None and rank >= need
    read_need = required_rank(table, "select")
    return World(
        a=a,
        b=b,
        rows_a=rows_a,
        target=target,
        target_b=target_b,
        actor=actor,
        db_role=db_role,
        privileged=_privileged(conn, db_role, table, cell.verb),
        policy_ok=policy_ok,
        b_reads_own=read_need is not None and admin_rank >= read_need,
    )


def _key_column(table: Table) -> str | None:
    return {"tenant": TENANT_KEY, "distributors": "id"}.get(table.kind)


def _exists(conn: psycopg.Connection[Any], table: Table, row_id: Any) -> bool:
    query = sql.SQL("select exists (select from {} where id = %s)").format(table.ident)
    row = conn.execute(query, (row_id,)).fetchone()
    assert row is not None
    return bool(row[0])


def _privileged(conn: psycopg.Connection[Any], db_role: str, table: Table, verb: str) -> bool:
    """The grants let `db_role` run the cell's statement: SELECT on the columns it reads
    (id and the tenant key; the update reads id too), or the table privilege of the verb."""
    name = f"public.{table.name}"
    columns = ["id", *([k] if (k := _key_column(table)) and verb == "select" else [])]
    query = "select bool_and(has_column_privilege(%s, %s, c, 'SELECT')) from unnest(%s::text[]) c"
    row = conn.execute(query, (db_role, name, columns)).fetchone()
    assert row is not None
    readable = bool(row[0])
    if verb == "select":
        return readable
    row = conn.execute("select has_table_privilege(%s, %s, %s)", (db_role, name, verb.upper())).fetchone()
    assert row is not None
    return bool(row[0]) and (readable or verb == "insert")


def _bypasses_rls(conn: psycopg.Connection[Any], db_role: str) -> bool:
    row = conn.execute("select rolbypassrls from pg_roles where rolname = %s", (db_role,)).fetchone()
    return bool(row and row[0])


# --- the cells ------------------------------------------------------------------------------------


def _denied_by_grants(cell: Cell, w: World, exc: psycopg.Error) -> None:
    assert not w.privileged, f"{cell}: unexpected error: {exc}"
    assert PRIVILEGE_DENIED in str(exc), f"{cell}: expected '{PRIVILEGE_DENIED}', got: {exc}"


def check_select(conn: psycopg.Connection[Any], table: Table, w: World, cell: Cell) -> None:
    key = _key_column(table)
    of_a = sql.SQL("{} = %(a)s").format(sql.Identifier(key)) if key else sql.SQL("false")
    not_a = sql.SQL("{} is distinct from %(a)s").format(sql.Identifier(key)) if key else sql.SQL("false")
    query = sql.SQL(
        "select count(*) filter (where id = %(target)s), count(*) filter (where {of_a}),"
        " count(*) filter (where {not_a}), count(*) filter (where id = %(target_b)s), count(*) from {table}"
    ).format(of_a=of_a, not_a=not_a, table=table.ident)
    with impersonate(conn, w.actor):
        try:
            with conn.transaction():
                row = conn.execute(query, {"target": w.target, "a": w.a, "target_b": w.target_b}).fetchone()
        except psycopg.errors.InsufficientPrivilege as exc:
            _denied_by_grants(cell, w, exc)
            return
    assert w.privileged, f"{cell}: the grants deny SELECT, yet the query ran"
    assert row is not None
    target, rows_of_a, rows_not_a, target_b, total = row
    if cell.actor == "service_role":
        expected = 1 if w.policy_ok else 0
        assert target == expected and target_b == (expected if w.target_b else 0), (
            f"{cell}: service_role sees {total}"
        )
    elif cell.actor == "anon":
        assert total == 0, f"LEAK {cell}: anon sees {total} rows"
    elif cell.actor == "user_b" and table.kind != "global":
        assert target == 0 and rows_of_a == 0, f"LEAK {cell}: B's user sees {rows_of_a} of A's rows"
        assert target_b == (1 if w.b_reads_own else 0), f"{cell}: B's user should see its own row"
    elif w.policy_ok:
        assert target == 1, f"{cell}: A's user cannot read A's row"
        assert rows_not_a == 0, f"LEAK {cell}: A's user sees {rows_not_a} rows of another distributor"
    else:
        assert total == 0, f"LEAK {cell}: the policies allow no read, yet {total} rows are visible"


def check_insert(conn: psycopg.Connection[Any], catalog: Catalog, table: Table, w: World, cell: Cell) -> None:
    values = build_row(conn, catalog, table.name, w.a if table.kind == "tenant" else None, w.rows_a)
    statement = insert_statement(catalog, table.name, values)
    with impersonate(conn, w.actor):
        if w.allowed:
            assert conn.execute(statement, list(values.values())).rowcount == 1, f"{cell}: insert failed"
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as err, conn.transaction():
                conn.execute(statement, list(values.values()))
    assert _exists(conn, table, values["id"]) == w.allowed, f"LEAK {cell}: the row was inserted"
    if not w.allowed:
        expected = RLS_DENIED if w.privileged else PRIVILEGE_DENIED
        assert expected in str(err.value), f"{cell}: expected '{expected}', got: {err.value}"


def check_write(conn: psycopg.Connection[Any], table: Table, w: World, cell: Cell) -> None:
    if cell.verb == "update":
        query = sql.SQL("update {} set id = id where id = %s").format(table.ident)
    else:
        query = sql.SQL("delete from {} where id = %s").format(table.ident)
    with impersonate(conn, w.actor):
        try:
            with conn.transaction():
                affected = conn.execute(query, (w.target,)).rowcount
        except psycopg.errors.InsufficientPrivilege as exc:
            _denied_by_grants(cell, w, exc)
            affected = 0
        else:
            assert w.privileged, f"{cell}: the grants deny {cell.verb.upper()}, yet it ran"
    if w.allowed:
        assert affected == 1, f"{cell}: allowed, but it affected {affected} rows"
    else:
        assert affected == 0, f"LEAK {cell}: affected {affected} of A's rows"
    if cell.verb == "delete":
        assert _exists(conn, table, w.target) != w.allowed


@pytest.mark.parametrize("cell", [*matrix(), *viewer_cells()], ids=str)
def test_rls_cell(conn: psycopg.Connection[Any], catalog: Catalog, cell: Cell) -> None:
    table = catalog.tables[cell.table]
    assert table.kind in ("tenant", "distributors", "global"), f"{table.name} is unclassified"
    world = build_world(conn, catalog, table, cell)
    if cell.verb == "select":
        check_select(conn, table, world, cell)
    elif cell.verb == "insert":
        check_insert(conn, catalog, table, world, cell)
    else:
        check_write(conn, table, world, cell)


# --- rows cannot change tenant, secrets stay secret -------------------------------------------------


def _movable_tables() -> list[str]:
    return [t.name for t in migrated_catalog().of_kind("tenant") if required_rank(t, "update") is not None]


@pytest.mark.parametrize("table_name", _movable_tables())
def test_a_row_cannot_be_moved_to_another_distributor(
    conn: psycopg.Connection[Any], catalog: Catalog, table_name: str
) -> None:
    table = catalog.tables[table_name]
    a = create_distributor(conn, f"a-{uuid.uuid4().hex[:8]}")
    b = create_distributor(conn, f"b-{uuid.uuid4().hex[:8]}")
    row_id = seed_tenant_rows(conn, a, tables=[table_name], catalog=catalog)[table_name]
    writer = create_user(conn, a, role_for(catalog, required_rank(table, "update")))
    query = sql.SQL("update {} set distributor_id = %s where id = %s").format(table.ident)
    # RLS refuses the new row; tables whose distributor_id is not granted to clients refuse earlier (issue 14)
    with impersonate(conn, writer), pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                  match=f"{RLS_DENIED}|permission denied for table"):
        with conn.transaction():
            conn.execute(query, (b, row_id))


@pytest.mark.parametrize("column", secret_columns())
@pytest.mark.parametrize("who", ["admin", "anon"])
def test_secret_columns_are_unreadable(
    conn: psycopg.Connection[Any], catalog: Catalog, column: str, who: str
) -> None:
    table_name, column_name = column.split(".")
    table = catalog.tables[table_name]
    a = create_distributor(conn, f"a-{uuid.uuid4().hex[:8]}")
    seed_tenant_rows(conn, a, tables=[table_name], catalog=catalog)
    actor = create_user(conn, a, catalog.roles[-1][0]) if who == "admin" else None
    for query in (
        sql.SQL("select {} from {}").format(sql.Identifier(column_name), table.ident),
        sql.SQL("select * from {}").format(table.ident),
    ):
        with (
            impersonate(conn, actor),
            pytest.raises(psycopg.errors.InsufficientPrivilege, match=PRIVILEGE_DENIED),
        ):
            with conn.transaction():
                conn.execute(query)


def test_the_known_secrets_are_in_the_secret_list() -> None:
    assert KNOWN_SECRETS <= set(secret_columns())


# --- the shape of the schema ------------------------------------------------------------------------


def test_every_public_table_has_rls_enabled(catalog: Catalog) -> None:
    missing = [t.name for t in catalog.public_tables() if not t.rls_enabled]
    assert not missing, f"row level security is off on: {missing}"


def test_no_public_view_runs_with_its_owners_rights(conn: psycopg.Connection[Any]) -> None:
    """A view reads its tables as the view owner (no RLS) unless security_invoker is set; a
    materialized view has no RLS at all."""
    rows = conn.execute(
        "select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace"
        " and (c.relkind = 'm' or (c.relkind = 'v' and not coalesce('security_invoker=true' = any (c.reloptions)"
        " or 'security_invoker=on' = any (c.reloptions), false)))"
    ).fetchall()
    assert not rows, f"views bypassing RLS: {[r[0] for r in rows]}"


def test_every_public_table_is_a_tenant_table_distributors_or_global(catalog: Catalog) -> None:
    other = [t.name for t in catalog.public_tables() if t.kind == "other"]
    assert not other, f"no distributor_id and no 'global:' table comment: {other}"


@pytest.mark.parametrize("table_name", [t.name for t in migrated_catalog().of_kind("tenant")])
def test_tenant_policies_are_for_authenticated_and_scoped_to_the_distributor(
    catalog: Catalog, table_name: str
) -> None:
    table = catalog.tables[table_name]
    assert required_rank(table, "select") is not None, f"{table_name}: no select policy"
    for policy in table.policies:
        assert policy.roles == ("authenticated",), (
            f"{table_name}: policy {policy.name!r} is for {policy.roles}"
        )
        for expression in (policy.using, policy.with_check):
            if expression is not None:
                assert "get_current_distributor_id()" in expression, (
                    f"{table_name}: {policy.name!r} is not tenant-scoped"
                )


def test_matrix_covers_every_table_verb_and_role(catalog: Catalog) -> None:
    tables = {t.name for t in catalog.public_tables()}
    assert tables == {c.table for c in matrix()}, "the migrated schema changed since collection"
    assert len(matrix()) == len(tables) * len(VERBS) * len(ROLES)
    print(
        f"\nRLS matrix: {len(tables)} tables × {len(VERBS)} verbs × {len(ROLES)} roles = {len(matrix())} cells"
        f" (+{len(viewer_cells())} viewer cells, {len(secret_columns())} secret columns)"
    )
