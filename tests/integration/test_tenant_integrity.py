"""Rows can never point across tenants, and the keys and delete rules the pipeline relies on hold.

Every composite tenant foreign key found in the catalog is tried with a child of distributor B
pointing at a parent of distributor A (as the superuser, so RLS is not what stops it). Each test
runs in the `conn` transaction, which is rolled back.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support.tenants import (
    TENANT_KEY,
    TENANT_ROOT,
    Catalog,
    ForeignKey,
    SeedError,
    Table,
    build_row,
    create_distributor,
    insert_row,
    insert_statement,
    load_catalog,
    migrated_catalog,
    seed_tenant_rows,
)


@pytest.fixture(scope="module")
def catalog(db_url: str) -> Catalog:
    with psycopg.connect(db_url) as conn:
        return load_catalog(conn)


def _tenant_fks() -> list[tuple[str, ForeignKey]]:
    catalog = migrated_catalog()
    return [
        (table.name, fk)
        for table in catalog.of_kind("tenant")
        for fk in table.foreign_keys
        if fk.ref_schema == "public" and catalog.tables[fk.ref_table].kind == "tenant"
    ]


def _distributors(conn: psycopg.Connection[Any]) -> tuple[uuid.UUID, uuid.UUID]:
    suffix = uuid.uuid4().hex[:8]
    return create_distributor(conn, f"a-{suffix}"), create_distributor(conn, f"b-{suffix}")


def _insert(conn: psycopg.Connection[Any], catalog: Catalog, table: str, values: dict[str, object]) -> None:
    conn.execute(insert_statement(catalog, table, values), list(values.values()))


def _count(conn: psycopg.Connection[Any], table: Table, where: str, value: object) -> int:
    query = sql.SQL("select count(*) from {} where {} = %s").format(table.ident, sql.Identifier(where))
    row = conn.execute(query, (value,)).fetchone()
    assert row is not None
    return int(row[0])


# --- the seed helper covers every tenant table ------------------------------------------------------


def test_every_tenant_table_gets_a_seeded_row(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    a, _ = _distributors(conn)
    rows = seed_tenant_rows(conn, a, catalog=catalog)
    assert set(rows) == {t.name for t in catalog.of_kind("tenant")}
    for name, row_id in rows.items():
        assert _count(conn, catalog.tables[name], "id", row_id) == 1, name


def test_a_table_the_generator_cannot_fill_fails_by_name(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "create table public.zz_unfillable (id uuid primary key default gen_random_uuid(),"
        " distributor_id uuid not null references public.distributors on delete cascade, spot point not null)"
    )
    a, _ = _distributors(conn)
    with pytest.raises(SeedError, match=r"zz_unfillable\.spot of type pg_catalog\.point"):
        seed_tenant_rows(conn, a, tables=["zz_unfillable"], catalog=load_catalog(conn))


# --- no row points at another tenant's row ---------------------------------------------------------


def test_every_reference_between_tenant_tables_includes_the_distributor() -> None:
    loose = [
        f"{table}.{fk.name}"
        for table, fk in _tenant_fks()
        if (TENANT_KEY, TENANT_KEY) not in zip(fk.columns, fk.ref_columns, strict=True)
    ]
    assert not loose, f"foreign keys between tenant tables without (distributor_id, ...): {loose}"


def test_every_tenant_table_references_the_distributors(catalog: Catalog) -> None:
    missing = [
        t.name
        for t in catalog.of_kind("tenant")
        if not any(
            fk.columns == (TENANT_KEY,) and fk.ref_table == TENANT_ROOT and fk.on_delete == "c"
            for fk in t.foreign_keys
        )
    ]
    assert not missing, f"distributor_id without references distributors on delete cascade: {missing}"


@pytest.mark.parametrize(("table_name", "fk"), [pytest.param(t, fk, id=fk.name) for t, fk in _tenant_fks()])
def test_a_child_of_b_cannot_reference_a_parent_of_a(
    conn: psycopg.Connection[Any], catalog: Catalog, table_name: str, fk: ForeignKey
) -> None:
    a, b = _distributors(conn)
    parent_of_a = seed_tenant_rows(conn, a, tables=[fk.ref_table], catalog=catalog)[fk.ref_table]
    parents_of_b = seed_tenant_rows(
        conn, b, tables=sorted(catalog.tenant_parents(table_name)), catalog=catalog
    )
    values = build_row(conn, catalog, table_name, b, parents_of_b)
    for column, ref_column in zip(fk.columns, fk.ref_columns, strict=True):
        if column != TENANT_KEY:
            assert ref_column == "id", f"{fk.name} references {fk.ref_table}.{ref_column}"
            values[column] = parent_of_a
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as err, conn.transaction():
        _insert(conn, catalog, table_name, values)
    assert err.value.diag.constraint_name == fk.name


# --- the keys the pipeline relies on ------------------------------------------------------------------


def _message(
    conn: psycopg.Connection[Any], catalog: Catalog, distributor: uuid.UUID, **columns: object
) -> dict[str, object]:
    parents = seed_tenant_rows(
        conn, distributor, tables=sorted(catalog.tenant_parents("messages")), catalog=catalog
    )
    return {**build_row(conn, catalog, "messages", distributor, parents), **columns}


def test_a_provider_message_is_stored_once_per_distributor_and_channel(
    conn: psycopg.Connection[Any], catalog: Catalog
) -> None:
    a, _ = _distributors(conn)
    _insert(
        conn,
        catalog,
        "messages",
        _message(conn, catalog, a, channel="whatsapp", provider_message_id="wamid.1"),
    )
    again = _message(conn, catalog, a, channel="whatsapp", provider_message_id="wamid.1")
    with pytest.raises(psycopg.errors.UniqueViolation) as err, conn.transaction():
        _insert(conn, catalog, "messages", again)
    assert err.value.diag.constraint_name == "messages_provider_key"


def test_the_same_provider_message_id_is_allowed_under_another_distributor(
    conn: psycopg.Connection[Any], catalog: Catalog
) -> None:
    a, b = _distributors(conn)
    _insert(
        conn,
        catalog,
        "messages",
        _message(conn, catalog, a, channel="whatsapp", provider_message_id="wamid.1"),
    )
    _insert(
        conn,
        catalog,
        "messages",
        _message(conn, catalog, b, channel="whatsapp", provider_message_id="wamid.1"),
    )
    row = conn.execute(
        "select count(*) from public.messages where provider_message_id = 'wamid.1'"
    ).fetchone()
    assert row == (2,)


def test_a_message_makes_at_most_one_order(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    a, _ = _distributors(conn)
    rows = seed_tenant_rows(conn, a, tables=["orders"], catalog=catalog)
    second = build_row(conn, catalog, "orders", a, rows)
    assert second["ai_source_message_id"] == rows["messages"]
    with pytest.raises(psycopg.errors.UniqueViolation) as err, conn.transaction():
        _insert(conn, catalog, "orders", second)
    assert err.value.diag.constraint_name == "orders_source_message_key"


# --- updated_at -----------------------------------------------------------------------------------


def _tables_with_updated_at() -> list[str]:
    return [t.name for t in migrated_catalog().public_tables() if "updated_at" in t.columns]


@pytest.mark.parametrize("table_name", _tables_with_updated_at())
def test_updating_a_row_bumps_updated_at(
    conn: psycopg.Connection[Any], catalog: Catalog, table_name: str
) -> None:
    table = catalog.tables[table_name]
    a, _ = _distributors(conn)
    if table.kind == "tenant":
        row_id = seed_tenant_rows(conn, a, tables=[table_name], catalog=catalog)[table_name]
    elif table.kind == "distributors":
        row_id = a
    else:
        row_id = insert_row(conn, catalog, table_name, build_row(conn, catalog, table_name, None, {}))["id"]
    query = sql.SQL("update {} set updated_at = '2000-01-01' where id = %s returning updated_at = now()")
    assert conn.execute(query.format(table.ident), (row_id,)).fetchone() == (True,), (
        f"{table_name}: no updated_at trigger"
    )


# --- delete rules ---------------------------------------------------------------------------------


def test_deleting_a_conversation_keeps_its_orders(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    a, _ = _distributors(conn)
    rows = seed_tenant_rows(conn, a, tables=["orders"], catalog=catalog)
    conn.execute("delete from public.conversations where id = %s", (rows["conversations"],))
    row = conn.execute(
        "select conversation_id, distributor_id from public.orders where id = %s", (rows["orders"],)
    ).fetchone()
    assert row == (None, a)


def test_deleting_an_order_deletes_its_lines(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    a, _ = _distributors(conn)
    rows = seed_tenant_rows(conn, a, tables=["order_products"], catalog=catalog)
    conn.execute("delete from public.orders where id = %s", (rows["orders"],))
    row = conn.execute(
        "select count(*) from public.order_products where id = %s", (rows["order_products"],)
    ).fetchone()
    assert row == (0,)


def test_deleting_a_distributor_deletes_all_its_rows_and_no_others(
    conn: psycopg.Connection[Any], catalog: Catalog
) -> None:
    a, b = _distributors(conn)
    seed_tenant_rows(conn, a, catalog=catalog)
    seed_tenant_rows(conn, b, catalog=catalog)
    tenant_tables = catalog.of_kind("tenant")
    before_b = {t.name: _count(conn, t, TENANT_KEY, b) for t in tenant_tables}
    assert all(_count(conn, t, TENANT_KEY, a) >= 1 for t in tenant_tables)
    conn.execute("delete from public.distributors where id = %s", (a,))
    left_a = {t.name: n for t in tenant_tables if (n := _count(conn, t, TENANT_KEY, a))}
    assert not left_a, f"rows of the deleted distributor survived: {left_a}"
    assert {t.name: _count(conn, t, TENANT_KEY, b) for t in tenant_tables} == before_b
