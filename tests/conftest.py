"""Shared fixtures: a real Postgres (embedded by default, DATABASE_URL otherwise).

A session-wide template database is migrated once; `db_url` is a database made from it for
the session, `fresh_db_url` a new one per test (for tests that commit from several
connections or processes), and `conn` a connection whose transaction is rolled back.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ai.eval.datasets import eval_dir
from worker.core.encryption import new_master_key
from worker.core.settings import load_settings
from worker.db import connection
from worker.db.migrate import migrate

# One master key for the session, inherited by the processes tests start (`orderflow serve`, workers):
# against a DATABASE_URL the service refuses to run without one.
os.environ.setdefault("ORDERFLOW_MASTER_KEY", new_master_key())

EVAL_DIR = eval_dir()


def with_database(url: str, name: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = name
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def admin_url() -> str:
    """A superuser URL on the test server (it can create databases)."""
    return connection.database_url(load_settings(), start=True)


@pytest.fixture(scope="session")
def template_db(admin_url: str) -> Iterator[str]:
    name = f"orderflow_tpl_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    url = with_database(admin_url, name)
    migrate(url, load_settings().migrations_dir)
    yield url
    _drop(admin_url, name)


def _create_from_template(admin_url: str, template_url: str, name: str) -> str:
    template = conninfo_to_dict(template_url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{template}"')
    return with_database(admin_url, name)


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def db_url(admin_url: str, template_db: str) -> Iterator[str]:
    name = f"orderflow_test_{os.getpid()}"
    url = _create_from_template(admin_url, template_db, name)
    yield url
    _drop(admin_url, name)


@pytest.fixture
def fresh_db_url(admin_url: str, template_db: str) -> Iterator[str]:
    name = f"orderflow_t_{uuid.uuid4().hex[:12]}"
    url = _create_from_template(admin_url, template_db, name)
    yield url
    _drop(admin_url, name)


@pytest.fixture(scope="module")
def module_db_url(admin_url: str, template_db: str) -> Iterator[str]:
    """A migrated database shared by the tests of one module."""
    name = f"orderflow_m_{uuid.uuid4().hex[:10]}"
    yield _create_from_template(admin_url, template_db, name)
    _drop(admin_url, name)


@pytest.fixture
def verbose_logs() -> Iterator[None]:
    """Every log call runs (a bad `extra` key raises only when the level is enabled)."""
    logger = logging.getLogger("orderflow")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    yield
    logger.setLevel(level)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection inside a transaction that is rolled back at the end of the test."""
    with psycopg.connect(db_url) as connection_:
        try:
            yield connection_
        finally:
            connection_.rollback()


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not (EVAL_DIR / "cases-dev.jsonl").exists():
        pytest.fail(f"eval data not found at {EVAL_DIR} (set ORDERFLOW_EVAL_DIR)")
    return EVAL_DIR
