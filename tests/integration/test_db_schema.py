"""`orderflow db schema` (docs/schema.md) and `orderflow db erd` (docs/erd.md): generated from a migrated
database; the committed copies must be what the migrations produce now."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from worker.cli.db import db_app
from worker.core.settings import load_settings
from worker.db.erd import DEFAULT_ERD_PATH, read_diagram
from worker.db.erd import render as render_erd
from worker.db.schema import DEFAULT_SCHEMA_PATH, definitions, read_schema, render

MIGRATIONS = load_settings().supabase_dir / "migrations"
REGENERATE = "regenerate it: .venv/bin/orderflow db {} (after orderflow db migrate)"


def test_the_committed_schema_document_is_current(db_url: str) -> None:
    assert DEFAULT_SCHEMA_PATH.read_text(encoding="utf-8") == render(read_schema(db_url, MIGRATIONS)), \
        REGENERATE.format("schema")


def test_the_committed_erd_is_current(db_url: str) -> None:
    assert DEFAULT_ERD_PATH.read_text(encoding="utf-8") == render_erd(read_diagram(db_url)), REGENERATE.format("erd")


def test_a_tenant_table_shows_its_columns_keys_and_policies(db_url: str) -> None:
    text = render(read_schema(db_url, MIGRATIONS))
    orders = text[text.index("### `public.orders`"):]
    orders = orders[:orders.index("\n### ", 1)]
    assert "Row-level security: enabled." in orders
    assert "| `distributor_id` | uuid |  |  |" in orders
    assert "| primary key | PRIMARY KEY (id) |" in orders
    assert "REFERENCES public.customers" in orders
    assert "| authenticated |" in orders  # its policies, to authenticated


def test_a_function_shows_security_grants_and_its_last_migration(db_url: str) -> None:
    functions = {(f.schema, f.name): f for f in read_schema(db_url, MIGRATIONS).functions}
    claim = functions[("public", "claim_messages_v4")]
    assert (claim.security, claim.grants, claim.migration) == ("definer", "service_role", "20261123098200_claim_by_id.sql")
    assert all(f.migration for f in functions.values()), "every function comes from a migration"


def test_the_last_migration_that_creates_a_function_is_named(tmp_path: Path) -> None:
    (tmp_path / "20260101000000_a.sql").write_text("create function public.f(x int) returns int ...;\n"
                                                    "CREATE FUNCTION private.g() returns void ...;\n")
    (tmp_path / "20260102000000_b.sql").write_text("create or replace function f(x int, y int) returns int ...;\n"
                                                    "-- private.g is not created here\n")
    assert definitions(tmp_path.glob("*.sql")) == {("public", "f"): "20260102000000_b.sql",
                                                   ("private", "g"): "20260101000000_a.sql"}


def test_cli_schema_writes_the_output_file(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    output = tmp_path / "docs" / "schema.md"
    result = CliRunner().invoke(db_app, ["schema", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8") == render(read_schema(db_url, MIGRATIONS))
