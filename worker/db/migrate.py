"""Apply supabase/migrations in order, recorded where the Supabase CLI records them.

Each pending file runs in its own transaction and adds a row to
`supabase_migrations.schema_migrations (version, statements, name)`, so `supabase db push`
and `orderflow db migrate` agree on what is applied. Running it twice changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg

from worker.core.errors import OrderflowError

MIGRATION_FILE = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_\-]+)\.sql$")
LOCK_KEY = 7_344_119_001  # advisory lock: one migrator at a time


class MigrationError(OrderflowError, RuntimeError):
    """A migration file is misnamed or failed to apply."""


@dataclass(frozen=True, kw_only=True)
class Migration:
    version: str
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def discover(migrations_dir: Path) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(migrations_dir.glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if match is None:
            raise MigrationError(f"migration file name must be <YYYYMMDDHHMMSS>_<name>.sql: {path.name}")
        found.append(Migration(version=match["version"], name=match["name"], path=path))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise MigrationError("two migration files share a version")
    return found


def split_statements(sql: str) -> list[str]:
    """Split SQL into statements the way psql would: aware of quotes, dollar quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            current.append(sql[i:end])
            i = end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end == -1 else end + 2
            current.append(sql[i:end])
            i = end
        elif ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            current.append(sql[i : end + 1])
            i = end + 1
        elif ch == "$" and (tag := re.match(r"\$[A-Za-z_]*\$", sql[i:])):
            end = sql.find(tag.group(), i + len(tag.group()))
            end = n if end == -1 else end + len(tag.group())
            current.append(sql[i:end])
            i = end
        elif ch == ";":
            statement = "".join(current).strip()
            if _has_code(statement):
                statements.append(statement)
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    tail = "".join(current).strip()
    if _has_code(tail):
        statements.append(tail)
    return statements


def _has_code(statement: str) -> bool:
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.S)
    return bool(without_comments.strip())


def bootstrap_supabase(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
    """Create the Supabase roles, auth schema and migrations ledger when they are missing."""
    row = conn.execute(
        "select to_regclass('auth.users') is not null and to_regclass('supabase_migrations.schema_migrations') is not null"
    ).fetchone()
    if row is not None and row[0]:
        return False
    with conn.transaction():
        conn.execute(_bootstrap_sql())
    return True


def _bootstrap_sql() -> str:
    return resources.files("worker.db").joinpath("supabase_bootstrap.sql").read_text(encoding="utf-8")


def applied_versions(conn: psycopg.Connection[tuple[Any, ...]]) -> set[str]:
    rows = conn.execute("select version from supabase_migrations.schema_migrations").fetchall()
    return {str(r[0]) for r in rows}


def migrate(url: str, migrations_dir: Path) -> list[Migration]:
    """Apply pending migrations; return the ones applied (empty when up to date)."""
    migrations = discover(migrations_dir)
    applied: list[Migration] = []
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap_supabase(conn)
        conn.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            done = applied_versions(conn)
            for migration in migrations:
                if migration.version in done:
                    continue
                sql = migration.sql()
                try:
                    with conn.transaction():
                        conn.execute(sql)
                        conn.execute(
                            "insert into supabase_migrations.schema_migrations (version, name, statements)"
                            " values (%s, %s, %s)",
                            (migration.version, migration.name, split_statements(sql)),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"{migration.path.name}: {exc}") from exc
                applied.append(migration)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied


RESET_SQL = """
drop schema if exists public cascade;
drop schema if exists private cascade;
create schema public;
grant all on schema public to postgres;
truncate supabase_migrations.schema_migrations;
truncate auth.users cascade;
"""  # then the bootstrap again: dropping public dropped Supabase's default privileges with it


def reset(url: str, migrations_dir: Path, seed_file: Path | None) -> list[Migration]:
    """Drop everything the migrations made, apply them again, then load the seed.

    Dropping schema public drops the default privileges Supabase keeps on it (the API roles'
    table grants) and auth.users' triggers, so the bootstrap runs again before the migrations:
    the database then holds the grants a migrated Supabase project holds."""
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap_supabase(conn)
        with conn.transaction():
            conn.execute(RESET_SQL)
            conn.execute(_bootstrap_sql())
    applied = migrate(url, migrations_dir)
    if seed_file is not None and seed_file.exists():
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute(seed_file.read_text(encoding="utf-8"))
    return applied


__all__ = ["Migration", "MigrationError", "bootstrap_supabase", "discover", "migrate", "reset", "split_statements"]
