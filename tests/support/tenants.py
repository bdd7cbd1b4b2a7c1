"""Tenants for tests: distributors, users, impersonation, and one valid row in every tenant table.

Everything here is derived from the catalog of the database under test, so a new tenant table is
seeded (and covered by the RLS matrix) without anyone editing a test: NOT NULL columns without
defaults get a value from their type, the first value of a `col = ANY (ARRAY[...])` check, the
first label of an enum, or a candidate matching a `col ~ '...'` check; composite tenant foreign
keys point at the parent row seeded for the same distributor. Only what a generator cannot guess
goes into OVERRIDES. A table that still cannot be filled raises SeedError naming it.

All helpers are sync psycopg and run as the connection's (superuser) role unless impersonating.
Impersonation follows Supabase's test helpers (`tests.authenticate_as`): `set local role` plus
`request.jwt.claims` for the current transaction only.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

TENANT_ROOT = "distributors"  # the tenants; every tenant table has distributor_id referencing it
TENANT_KEY = "distributor_id"
GLOBAL_COMMENT_PREFIX = "global:"
SERVICE_ROLE: Literal["service_role"] = "service_role"

# Values a generic generator cannot guess (multi-column checks and the like): table -> column -> value.
OVERRIDES: dict[str, dict[str, object]] = {
    "pii_detection_results": {"start_offset": 0, "end_offset": 1},  # check (end_offset > start_offset)
    "data_retention_policies": {"retain_days": 30},  # check (action = 'keep' or retain_days is not null)
}
TEST_WHSEC = "whsec_" + base64.b64encode(b"orderflow-test-signing-secret-32").decode()
SEED_DAY = date(2025, 3, 1)  # generated dates and times are pinned, never the clock
SEED_INSTANT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TEXT_CANDIDATES = ("https://example.invalid/hook", TEST_WHSEC, "test@example.invalid")


class SeedError(RuntimeError):
    """The catalog-driven generator cannot build a valid row for a table."""


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    type_sql: str  # schema-qualified type name, usable in a cast
    base_type: str  # typname (of the base type for domains)
    category: str  # pg_type.typcategory
    not_null: bool
    has_default: bool  # default, identity or generated
    choices: tuple[str, ...]  # enum labels or the values of a `= ANY (ARRAY[...])` check
    patterns: tuple[str, ...]  # regular expressions of `~ '...'` checks
    comment: str | None


@dataclass(frozen=True, kw_only=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str  # pg_constraint.confdeltype: a no action, r restrict, c cascade, n set null, d set default


@dataclass(frozen=True, kw_only=True)
class Policy:
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    roles: tuple[str, ...]
    permissive: bool
    using: str | None
    with_check: str | None


@dataclass(frozen=True, kw_only=True)
class Table:
    schema: str
    name: str
    kind: str  # tenant | distributors | global | other (public); external (other schemas)
    comment: str | None
    rls_enabled: bool
    columns: Mapping[str, Column]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    policies: tuple[Policy, ...]

    @property
    def key(self) -> str:
        return self.name if self.schema == "public" else f"{self.schema}.{self.name}"

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True, kw_only=True)
class Catalog:
    tables: Mapping[str, Table]  # public tables by name, others by "schema.name"
    roles: tuple[tuple[str, int], ...]  # public.user_role labels with their rank, lowest first

    def public_tables(self) -> list[Table]:
        return sorted((t for t in self.tables.values() if t.schema == "public"), key=lambda t: t.name)

    def of_kind(self, kind: str) -> list[Table]:
        return [t for t in self.public_tables() if t.kind == kind]

    def tenant_parents(self, name: str, *, nullable: bool = True) -> set[str]:
        """Tenant tables `name` references (itself excluded); without nullable, only NOT NULL ones."""
        table = self.tables[name]
        parents = set()
        for fk in table.foreign_keys:
            ref = self.tables.get(_key(fk.ref_schema, fk.ref_table))
            if ref is None or ref.kind != "tenant" or ref.name == name:
                continue
            own = [c for c in fk.columns if c != TENANT_KEY]
            if nullable or any(table.columns[c].not_null for c in own):
                parents.add(ref.name)
        return parents

    def seeding_order(self, tables: Iterable[str] | None = None) -> list[str]:
        """The given tenant tables and every tenant table they reference, parents first."""
        wanted = set(tables) if tables is not None else {t.name for t in self.of_kind("tenant")}
        todo = list(wanted)
        while todo:
            for parent in self.tenant_parents(todo.pop()):
                if parent not in wanted:
                    wanted.add(parent)
                    todo.append(parent)
        for nullable in (True, False):  # on a cycle, order by the NOT NULL references only
            order = _topological(wanted, lambda t, n=nullable: self.tenant_parents(t, nullable=n) & wanted)
            if order is not None:
                return order
        raise SeedError(f"foreign keys between {sorted(wanted)} form a NOT NULL cycle")


def _key(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _topological(nodes: set[str], parents: Any) -> list[str] | None:
    order: list[str] = []
    done: set[str] = set()
    pending = sorted(nodes)
    while pending:
        ready = [n for n in pending if parents(n) <= done]
        if not ready:
            return None
        order.extend(ready)
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return order


# --- the catalog -------------------------------------------------------------------------------

_TABLES_SQL = """
select n.nspname, c.relname, c.relrowsecurity, obj_description(c.oid, 'pg_class')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = any (%(schemas)s) and c.relkind in ('r', 'p') and not c.relispartition
"""
_COLUMNS_SQL = """
select n.nspname, c.relname, a.attname, quote_ident(tn.nspname) || '.' || quote_ident(t.typname),
       coalesce(bt.typname, t.typname), coalesce(bt.typcategory, t.typcategory), a.attnotnull,
       a.atthasdef or a.attidentity <> '' or a.attgenerated <> '',
       array(select e.enumlabel::text from pg_enum e where e.enumtypid = coalesce(bt.oid, t.oid) order by e.enumsortorder),
       col_description(c.oid, a.attnum)
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
  join pg_type t on t.oid = a.atttypid join pg_namespace tn on tn.oid = t.typnamespace
  left join pg_type bt on t.typtype = 'd' and bt.oid = t.typbasetype
 where n.nspname = any (%(schemas)s) and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
 order by n.nspname, c.relname, a.attnum
"""
_CONSTRAINTS_SQL = """
select n.nspname, c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
       array(select a.attname::text from unnest(k.conkey) with ordinality u(num, i)
               join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.num order by u.i),
       rn.nspname, rc.relname,
       array(select a.attname::text from unnest(k.confkey) with ordinality u(num, i)
               join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.num order by u.i),
       k.confdeltype::text
  from pg_constraint k
  join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
  left join pg_class rc on rc.oid = k.confrelid left join pg_namespace rn on rn.oid = rc.relnamespace
 where n.nspname = any (%(schemas)s) and k.contype in ('c', 'f', 'p')
 order by k.conname
"""
_POLICIES_SQL = """
select schemaname, tablename, policyname, cmd, roles::text[], permissive = 'PERMISSIVE', qual, with_check
  from pg_policies where schemaname = any (%(schemas)s) order by policyname
"""
_ROLES_SQL = """
select e.enumlabel::text, private.role_rank(e.enumlabel::public.user_role)
  from pg_enum e where e.enumtypid = 'public.user_role'::regtype order by e.enumsortorder
"""
_CHOICES = re.compile(r"=\s*ANY\s*\(\s*(?:\(\s*)?ARRAY\[(.*)\]")
_EQUALS = re.compile(r"^CHECK \(\(\w+ = ('(?:[^']|'')*')::\w+\)\)$")
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_PATTERN = re.compile(r"~\s*'((?:[^']|'')*)'")


def load_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    """Read the public schema (and the schemas it references) from the database."""
    params = {"schemas": ["public", "auth"]}
    constraints = conn.execute(_CONSTRAINTS_SQL, params).fetchall()
    checks: dict[tuple[str, str, str], list[str]] = {}
    keys: dict[str, tuple[str, ...]] = {}
    fks: dict[str, list[ForeignKey]] = {}
    for (
        schema,
        table,
        name,
        kind,
        definition,
        cols,
        ref_schema,
        ref_table,
        ref_cols,
        on_delete,
    ) in constraints:
        tkey = _key(schema, table)
        if kind == "c" and len(cols) == 1:
            checks.setdefault((schema, table, cols[0]), []).append(definition)
        elif kind == "p":
            keys[tkey] = tuple(cols)
        elif kind == "f":
            fks.setdefault(tkey, []).append(
                ForeignKey(
                    name=name,
                    columns=tuple(cols),
                    ref_schema=ref_schema,
                    ref_table=ref_table,
                    ref_columns=tuple(ref_cols),
                    on_delete=on_delete,
                )
            )
    columns: dict[str, dict[str, Column]] = {}
    for schema, table, name, type_sql, base, category, not_null, has_default, labels, comment in conn.execute(
        _COLUMNS_SQL, params
    ).fetchall():
        defs = checks.get((schema, table, name), [])
        choices = [
            lit.replace("''", "'")
            for d in defs
            if (m := _CHOICES.search(d))
            for lit in _LITERAL.findall(m[1])
        ]
        choices += [m[1][1:-1].replace("''", "'") for d in defs if (m := _EQUALS.match(d))]
        columns.setdefault(_key(schema, table), {})[name] = Column(
            name=name,
            type_sql=type_sql,
            base_type=base,
            category=category,
            not_null=not_null,
            has_default=has_default,
            choices=tuple(choices or labels),
            patterns=tuple(p.replace("''", "'") for d in defs for p in _PATTERN.findall(d)),
            comment=comment,
        )
    policies: dict[str, list[Policy]] = {}
    for schema, table, name, cmd, roles, permissive, using, with_check in conn.execute(
        _POLICIES_SQL, params
    ).fetchall():
        policies.setdefault(_key(schema, table), []).append(
            Policy(
                name=name,
                command=cmd,
                roles=tuple(roles),
                permissive=permissive,
                using=using,
                with_check=with_check,
            )
        )
    tables: dict[str, Table] = {}
    for schema, name, rls, comment in conn.execute(_TABLES_SQL, params).fetchall():
        tkey = _key(schema, name)
        cols = columns.get(tkey, {})
        if schema != "public":
            kind = "external"
        elif name == TENANT_ROOT:
            kind = "distributors"
        elif TENANT_KEY in cols:
            kind = "tenant"
        elif (comment or "").startswith(GLOBAL_COMMENT_PREFIX):
            kind = "global"
        else:
            kind = "other"
        tables[tkey] = Table(
            schema=schema,
            name=name,
            kind=kind,
            comment=comment,
            rls_enabled=rls,
            columns=cols,
            primary_key=keys.get(tkey, ()),
            foreign_keys=tuple(fks.get(tkey, ())),
            policies=tuple(policies.get(tkey, ())),
        )
    roles = tuple((label, int(rank)) for label, rank in conn.execute(_ROLES_SQL).fetchall())
    return Catalog(tables=tables, roles=roles)


@functools.cache
def migrated_catalog() -> Catalog:
    """The catalog of a freshly migrated scratch database, for parametrizing tests at collection."""
    from worker.core.settings import load_settings
    from worker.db import connection
    from worker.db.migrate import migrate

    settings = load_settings()
    admin_url = connection.database_url(settings, start=True)
    name = f"orderflow_catalog_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        url = make_conninfo("", **{**conninfo_to_dict(admin_url), "dbname": name})
        migrate(url, settings.migrations_dir)
        with psycopg.connect(url) as conn:
            return load_catalog(conn)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


# --- tenants, users, impersonation -------------------------------------------------------------


def create_distributor(conn: psycopg.Connection[Any], slug: str) -> uuid.UUID:
    row = conn.execute(
        "insert into public.distributors (slug, name) values (%s, %s) returning id",
        (slug, f"Distributor {slug}"),
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def create_user(conn: psycopg.Connection[Any], distributor_id: uuid.UUID, role: str) -> uuid.UUID:
    """An auth.users row and its public.user_profiles row with `role` in the distributor."""
    user_id = uuid.uuid4()
    email = f"{role}-{user_id.hex[:12]}@example.invalid"
    conn.execute("insert into auth.users (id, email) values (%s, %s)", (user_id, email))
    conn.execute(
        "insert into public.user_profiles (id, distributor_id, email, role) values (%s, %s, %s, %s)",
        (user_id, distributor_id, email, role),
    )
    return user_id


@contextmanager
def impersonate(
    conn: psycopg.Connection[Any], user_id: uuid.UUID | Literal["service_role"] | None
) -> Iterator[None]:
    """Act as a user (their JWT claims), anon (None) or the service role, for this transaction.

    Run statements expected to fail inside `with conn.transaction():` so the transaction survives.
    """
    if conn.autocommit and conn.info.transaction_status == TransactionStatus.IDLE:
        raise ValueError("impersonate() needs an open transaction (set local)")
    if user_id is None:
        role, claims = "anon", {"role": "anon"}
    elif user_id == SERVICE_ROLE:
        role, claims = "service_role", {"role": "service_role"}
    else:
        row = conn.execute("select email from auth.users where id = %s", (user_id,)).fetchone()
        if row is None:
            raise ValueError(f"no auth.users row {user_id}")
        role, claims = "authenticated", {"sub": str(user_id), "role": "authenticated", "email": row[0]}
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
    try:
        yield
    finally:
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.execute("reset role")
            conn.execute("select set_config('request.jwt.claims', '', true)")


# --- rows ---------------------------------------------------------------------------------------


def seed_tenant_rows(
    conn: psycopg.Connection[Any],
    distributor_id: uuid.UUID,
    *,
    tables: Iterable[str] | None = None,
    catalog: Catalog | None = None,
) -> dict[str, uuid.UUID]:
    """Insert one valid row per tenant table (or per `tables` and their parents), parents first."""
    catalog = catalog or load_catalog(conn)
    rows: dict[str, Any] = {}
    for name in catalog.seeding_order(tables):
        row = insert_row(conn, catalog, name, build_row(conn, catalog, name, distributor_id, rows))
        rows[name] = row[_single_key(catalog.tables[name])]
    return rows


def build_row(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    name: str,
    distributor_id: uuid.UUID | None,
    parents: Mapping[str, Any],
) -> dict[str, object]:
    """Values for a new row of `name`: foreign keys point at `parents` (table -> primary key)
    of the same distributor; NOT NULL parents outside the tenant tables are created."""
    table = catalog.tables[name]
    values: dict[str, object] = {}
    if distributor_id is not None and TENANT_KEY in table.columns:
        values[TENANT_KEY] = distributor_id
    for fk in table.foreign_keys:
        ref = catalog.tables.get(_key(fk.ref_schema, fk.ref_table))
        own_not_null = any(table.columns[c].not_null for c in fk.columns if c != TENANT_KEY)
        if ref is None:
            if own_not_null:
                raise SeedError(
                    f"{name}.{fk.name} references {fk.ref_schema}.{fk.ref_table}, not in the catalog"
                )
            continue
        if ref.kind == "distributors":
            parent: Mapping[str, object] | None = {c: distributor_id for c in fk.ref_columns}
        elif ref.kind == "tenant" and ref.name != name:
            parent_id = parents.get(ref.name)
            parent = None if parent_id is None else _parent_row(conn, ref, parent_id, fk.ref_columns)
        elif ref.name != name and own_not_null:  # auth.users, a global table: make one
            parent = insert_row(conn, catalog, ref.key, build_row(conn, catalog, ref.key, None, {}))
        else:
            parent = None
        if parent is None:
            if own_not_null:
                raise SeedError(f"{name}.{fk.name}: no {ref.key} row to reference; seed it first")
            continue
        for fk_col, ref_col in zip(fk.columns, fk.ref_columns, strict=True):
            if fk_col == TENANT_KEY and distributor_id is not None:
                continue
            values[fk_col] = parent[ref_col]
    pk = table.primary_key
    if len(pk) == 1 and pk[0] not in values and table.columns[pk[0]].base_type == "uuid":
        values[pk[0]] = uuid.uuid4()
    suffix = uuid.uuid4().hex[:10]
    for col in table.columns.values():
        if col.name in values:
            continue
        if col.name in OVERRIDES.get(name, {}):
            values[col.name] = OVERRIDES[name][col.name]
        elif col.not_null and not col.has_default:
            values[col.name] = _generate(name, col, suffix)
    return values


def insert_statement(catalog: Catalog, name: str, values: Mapping[str, object]) -> sql.Composed:
    """`insert into <table> (...) values (%s::type, ...)` for `values` (no RETURNING: it needs SELECT)."""
    table = catalog.tables[name]
    cols = list(values)
    return sql.SQL("insert into {} ({}) values ({})").format(
        table.ident,
        sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        sql.SQL(", ").join(sql.SQL("%s::" + table.columns[c].type_sql) for c in cols),
    )


def insert_row(
    conn: psycopg.Connection[Any], catalog: Catalog, name: str, values: Mapping[str, object]
) -> dict[str, Any]:
    """Insert `values` as the current role and return the whole row."""
    query = insert_statement(catalog, name, values) + sql.SQL(" returning *")
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query, list(values.values())).fetchone()
    except psycopg.Error as exc:
        raise SeedError(
            f"cannot seed {name} with {dict(values)}: {exc.diag.message_primary}; "
            "teach tests/support/tenants.py (OVERRIDES) a valid value"
        ) from exc
    assert row is not None
    return row


def _single_key(table: Table) -> str:
    if len(table.primary_key) != 1:
        raise SeedError(f"{table.key} has no single-column primary key: {table.primary_key}")
    return table.primary_key[0]


def _parent_row(
    conn: psycopg.Connection[Any], ref: Table, parent_id: Any, ref_columns: tuple[str, ...]
) -> dict[str, Any]:
    key = _single_key(ref)
    if set(ref_columns) - {TENANT_KEY} <= {key}:
        return {key: parent_id}
    query = sql.SQL("select * from {} where {} = %s").format(ref.ident, sql.Identifier(key))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, (parent_id,)).fetchone()
    if row is None:
        raise SeedError(f"{ref.key} row {parent_id} is gone")
    return row


def _generate(table: str, col: Column, suffix: str) -> object:
    if col.choices:
        return col.choices[0]
    if col.patterns:
        for candidate in (f"{col.name}-{suffix}", *TEXT_CANDIDATES):
            if all(re.search(p, candidate) for p in col.patterns):
                return candidate
        raise SeedError(
            f"no candidate value for {table}.{col.name} matches {col.patterns}; add it to OVERRIDES"
        )
    if col.category == "S":
        return f"{col.name}-{suffix}"  # lower-case and unique per row
    if col.category == "N":
        return 1
    if col.category == "B":
        return False
    if col.category == "A":
        return "{}"
    if col.category == "I":
        return "127.0.0.1"
    if col.category == "T":
        return "1 day"
    if col.category == "D":
        if col.base_type == "date":
            return SEED_DAY  # also satisfies period = date_trunc('month', period)
        if col.base_type in ("timestamptz", "timestamp"):
            return SEED_INSTANT
    if col.base_type in ("json", "jsonb"):
        return "{}"
    if col.base_type == "uuid":
        return uuid.uuid4()
    if col.base_type == "bytea":
        return b"\x01"
    raise SeedError(f"cannot generate {table}.{col.name} of type {col.type_sql}; add it to OVERRIDES")


__all__ = [
    "OVERRIDES",
    "SERVICE_ROLE",
    "TENANT_KEY",
    "TENANT_ROOT",
    "Catalog",
    "Column",
    "ForeignKey",
    "Policy",
    "SeedError",
    "Table",
    "build_row",
    "create_distributor",
    "create_user",
    "impersonate",
    "insert_row",
    "insert_statement",
    "load_catalog",
    "migrated_catalog",
    "seed_tenant_rows",
]
