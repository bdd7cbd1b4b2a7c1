"""The migration runner: idempotent, recorded where the Supabase CLI records migrations, strict
about file names, `reset` rebuilds and seeds, and the migrations also apply on PostgreSQL 15
(the oldest server the schema supports: ON DELETE SET NULL (column), UNIQUE NULLS NOT DISTINCT)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from worker.core.settings import load_settings
from worker.db.embedded import SYSTEM_USER_WHEN_ROOT
from worker.db.migrate import MigrationError, discover, migrate, reset, split_statements

MIGRATIONS_DIR = load_settings().migrations_dir
SQL_TESTS_DIR = load_settings().supabase_dir / "tests" / "database"
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
PG15_START_TIMEOUT = 60  # seconds
PGTAP_CONTROL = Path("/usr/share/postgresql/15/extension/pgtap.control")  # Debian's postgresql-15-pgtap


@pytest.fixture
def empty_db_url(admin_url: str) -> Iterator[str]:
    name = f"orderflow_m_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield make_conninfo("", **{**conninfo_to_dict(admin_url), "dbname": name})
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def _ledger(url: str) -> dict[str, tuple[str, list[str]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations"
        ).fetchall()
    return {version: (name, statements) for version, name, statements in rows}


def test_migrate_applies_every_file_once_and_records_it(empty_db_url: str) -> None:
    files = discover(MIGRATIONS_DIR)
    assert [m.version for m in migrate(empty_db_url, MIGRATIONS_DIR)] == [m.version for m in files]
    assert migrate(empty_db_url, MIGRATIONS_DIR) == []
    ledger = _ledger(empty_db_url)
    assert set(ledger) == {m.version for m in files}
    for migration in files:
        name, statements = ledger[migration.version]
        assert name == migration.name
        assert statements and statements == split_statements(migration.sql()), migration.path.name


def test_a_misnamed_migration_file_is_rejected(empty_db_url: str, tmp_path: Path) -> None:
    (tmp_path / "20261123090000_ok.sql").write_text("select 1;")
    (tmp_path / "001_no_timestamp.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="001_no_timestamp.sql"):
        migrate(empty_db_url, tmp_path)
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone() == (
            None,
        )


def test_two_migrations_with_one_version_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "20261123090000_one.sql").write_text("select 1;")
    (tmp_path / "20261123090000_two.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="share a version"):
        discover(tmp_path)


def test_a_failing_migration_is_not_recorded(empty_db_url: str, tmp_path: Path) -> None:
    (tmp_path / "20261123090000_good.sql").write_text("create table public.t_good (id int);")
    (tmp_path / "20261123090100_bad.sql").write_text("create table public.t_bad (id int); select 1/0;")
    with pytest.raises(MigrationError, match="20261123090100_bad.sql"):
        migrate(empty_db_url, tmp_path)
    assert set(_ledger(empty_db_url)) == {"20261123090000"}
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("select to_regclass('public.t_bad')").fetchone() == (None,)


def test_reset_rebuilds_the_schema_and_loads_the_seed(fresh_db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(
            "insert into public.distributors (slug, name) values ('before-reset', 'Gone after reset')"
        )
    seed = tmp_path / "seed.sql"
    seed.write_text("insert into public.distributors (slug, name) values ('seeded', 'From the seed');")
    applied = reset(fresh_db_url, MIGRATIONS_DIR, seed)
    assert [m.version for m in applied] == [m.version for m in discover(MIGRATIONS_DIR)]
    assert set(_ledger(fresh_db_url)) == {m.version for m in applied}
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select slug from public.distributors").fetchall() == [("seeded",)]


def test_reset_loads_the_project_seed(fresh_db_url: str) -> None:
    seed = load_settings().supabase_dir / "seed.sql"
    if not seed.exists():
        pytest.skip(f"no seed file at {seed}")
    reset(fresh_db_url, MIGRATIONS_DIR, seed)
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute("select count(*) from public.distributors").fetchone()
    assert row is not None and row[0] > 0


# --- PostgreSQL 15 ---------------------------------------------------------------------------------


def _server_user() -> str | None:
    """initdb and postgres refuse root; as root, run them as the embedded server's system user."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam(SYSTEM_USER_WHEN_ROOT)  # KeyError: start the embedded server once, it creates the user
    return SYSTEM_USER_WHEN_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], user: str | None) -> None:
    result = subprocess.run(args, capture_output=True, text=True, user=user, check=False)
    assert result.returncode == 0, f"{args[0]} failed: {result.stderr.strip()}"


@pytest.fixture(scope="module")
def pg15_url() -> Iterator[str]:
    if not (PG15_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG15_BIN}")
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="orderflow-pg15-"))
    if user is not None:
        shutil.chown(base, user, user)
    data, log = base / "data", base / "postgres.log"
    port = _free_port()
    try:
        _run(
            [
                str(PG15_BIN / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--encoding=utf8",
                "--locale=C",
                "-U",
                "postgres",
            ],
            user,
        )
        _run(
            [
                str(PG15_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                str(PG15_START_TIMEOUT),
                "-o",
                f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off",
                "start",
            ],
            user,
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_migrations_apply_on_postgres_15(pg15_url: str) -> None:
    with psycopg.connect(pg15_url) as conn:
        row = conn.execute("select current_setting('server_version_num')::int / 10000").fetchone()
    assert row == (15,)
    files = discover(MIGRATIONS_DIR)
    assert [m.version for m in migrate(pg15_url, MIGRATIONS_DIR)] == [m.version for m in files]
    assert set(_ledger(pg15_url)) == {m.version for m in files}
    assert migrate(pg15_url, MIGRATIONS_DIR) == []


@pytest.mark.parametrize("path", sorted(SQL_TESTS_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_the_sql_tests_pass_under_pg_prove_on_postgres_15(pg15_url: str, path: Path) -> None:
    """The pgTAP files as `supabase test db` runs them: pg_prove, a plan, every test ok."""
    if not PGTAP_CONTROL.exists():
        pytest.skip(f"pgTAP for PostgreSQL 15 is not installed ({PGTAP_CONTROL} is missing): `make test` installs "
                    "postgresql-15-pgtap when run as root; otherwise apt-get install postgresql-15-pgtap")
    pg_prove = shutil.which("pg_prove")
    if pg_prove is None:
        pytest.skip("pg_prove is not on PATH: apt-get install libtap-parser-sourcehandler-pgtap-perl")
    migrate(pg15_url, MIGRATIONS_DIR)
    result = subprocess.run([pg_prove, "--verbose", "--dbname", pg15_url, str(path)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All tests successful." in result.stdout
    with psycopg.connect(pg15_url) as conn:
        assert conn.execute("select count(*) from public.distributors").fetchone() == (0,), f"{path.name} left rows"
