"""Run the plain-SQL database tests in supabase/tests/database (basejump style, without pgTAP):
each file opens a transaction, asserts in DO blocks, and rolls back. Any error fails the test."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from worker.core.settings import load_settings

SQL_TESTS_DIR = load_settings().supabase_dir / "tests" / "database"
SQL_TESTS = sorted(SQL_TESTS_DIR.glob("*.sql"))


def test_there_are_sql_tests() -> None:
    assert SQL_TESTS, f"no SQL tests in {SQL_TESTS_DIR}"


@pytest.mark.parametrize("path", SQL_TESTS, ids=lambda p: p.name)
def test_sql_file_passes(fresh_db_url: str, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    statements = [
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("--")
    ]
    assert statements[0] == "begin;" and statements[-1] == "rollback;", (
        f"{path.name} must run in begin; … rollback;"
    )
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(text)
        row = conn.execute("select count(*) from public.distributors").fetchone()
    assert row == (0,), f"{path.name} left rows behind"
