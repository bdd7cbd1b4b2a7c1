"""`orderflow db erd`: a Mermaid ER diagram of the migrated schema."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from worker.cli.db import db_app
from worker.db.erd import Column, Diagram, read_diagram, render


def public_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tablename::text from pg_tables where schemaname = 'public'").fetchall()
    return sorted(str(r[0]) for r in rows)


def test_erd_has_a_block_for_every_public_table_in_name_order(db_url: str) -> None:
    text = render(read_diagram(db_url))
    assert text.count("```mermaid\nerDiagram\n") == 1
    tables = public_tables(db_url)
    assert "orders" in tables and "distributors" in tables
    blocks = [
        line.strip().removesuffix(" {")
        for line in text.splitlines()
        if line.startswith("    ") and line.endswith(" {")
    ]
    assert blocks == tables


def test_erd_relates_orders_to_customers_and_marks_optional_parents(db_url: str) -> None:
    lines = render(read_diagram(db_url)).splitlines()
    assert '    orders }o--|| customers : "customer_id"' in lines
    assert '    orders }o--o| conversations : "conversation_id"' in lines
    assert '    orders }o--|| distributors : "distributor_id"' in lines
    assert '    user_profiles }o--|| "auth.users" : "id"' in lines


def test_erd_marks_keys_and_types(db_url: str) -> None:
    lines = [line.strip() for line in render(read_diagram(db_url)).splitlines()]
    assert "uuid id PK" in lines
    assert "uuid customer_id FK" in lines
    assert "text slug UK" in lines
    assert "order_status status" in lines
    assert "timestamptz created_at" in lines
    assert 'numeric quantity "numeric(12,3)"' in lines


def test_erd_is_stable_across_runs(db_url: str) -> None:
    assert render(read_diagram(db_url)) == render(read_diagram(db_url))


def test_cli_erd_writes_the_output_file(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    output = tmp_path / "docs" / "erd.md"
    result = CliRunner().invoke(db_app, ["erd", "--output", str(output)])
    assert result.exit_code == 0, result.output
    first = output.read_text(encoding="utf-8")
    assert first == render(read_diagram(db_url))
    result = CliRunner().invoke(db_app, ["erd", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8") == first


def test_render_spells_postgres_types_as_single_mermaid_words() -> None:
    def column(name: str, type_: str) -> Column:
        return Column(name=name, type=type_, not_null=True, pk=False, fk=False, uk=False)

    diagram = Diagram(
        tables=(
            (
                "t",
                (
                    column("a", "timestamp(3) with time zone"),
                    column("b", "character varying(20)[]"),
                    column("c", "numeric(12,3)[]"),
                    column("d", "double precision"),
                    column("e", "public.order_status"),
                    column("f", "time without time zone"),
                ),
            ),
        ),
        relations=(),
    )
    lines = [line.strip() for line in render(diagram).splitlines()]
    assert lines[lines.index("t {") + 1 : lines.index("t {") + 7] == [
        "timestamptz(3) a",
        "varchar(20)[] b",
        'numeric[] c "numeric(12,3)[]"',
        "float8 d",
        "order_status e",
        "time f",
    ]
