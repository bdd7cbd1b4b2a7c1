"""The SQL tests in supabase/tests/database are pgTAP files, shaped the way `supabase test db` runs them:
`begin;` … `select plan(n);` … `select * from finish();` `rollback;`. They run under pg_prove on
PostgreSQL 15 with pgTAP (tests/integration/test_migrations.py); the embedded server has no pgTAP."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.core.settings import load_settings

SQL_TESTS_DIR = load_settings().supabase_dir / "tests" / "database"
SQL_TESTS = sorted(SQL_TESTS_DIR.glob("*.sql"))


def statements(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("--")]


def test_there_are_sql_tests() -> None:
    assert SQL_TESTS, f"no SQL tests in {SQL_TESTS_DIR}"


@pytest.mark.parametrize("path", SQL_TESTS, ids=lambda p: p.name)
def test_a_sql_test_is_a_pgtap_file_in_a_rolled_back_transaction(path: Path) -> None:
    lines = statements(path)
    assert lines[0] == "begin;" and lines[-1] == "rollback;", f"{path.name} must run in begin; … rollback;"
    assert lines[-2] == "select * from finish();", f"{path.name} must end with select * from finish();"
    plans = [line for line in lines if line.startswith("select plan(")]
    assert len(plans) == 1, f"{path.name} must declare one plan"
