"""Shared by the benchmark scripts: a scratch database and a description of the machine."""

from __future__ import annotations

import os
import platform
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from worker.core.encryption import new_master_key
from worker.core.settings import load_settings
from worker.db import connection
from worker.db.migrate import migrate

# Scratch databases are reached through DATABASE_URL by the processes a bench starts, and against a
# DATABASE_URL the service wants a master key: one per bench run, inherited by those processes.
os.environ.setdefault("ORDERFLOW_MASTER_KEY", new_master_key())


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.machine()}, Python {platform.python_version()}"


@contextmanager
def scratch_database(url: str | None = None) -> Iterator[str]:
    """A freshly migrated database, dropped afterwards (DATABASE_URL or the embedded server)."""
    admin = url or connection.database_url(load_settings(), start=True)
    name = f"orderflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    params = conninfo_to_dict(admin)
    params["dbname"] = name
    db_url = make_conninfo(**params)
    try:
        migrate(db_url, load_settings().migrations_dir)
        yield db_url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


__all__ = ["machine", "percentile", "scratch_database"]
