"""The database seam: the only module of the worker that talks to the driver.

Three calls (execute, fetch one, fetch all), each taking a named query from
worker/sql/queries.sql and keyword arguments. Driver errors are mapped here.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from worker.core.errors import OrderflowError
from worker.core.queries import query

POOL_TIMEOUT = 10.0  # seconds to wait for a free connection (then DatabaseUnavailable, and the caller retries)
RECONNECT_TIMEOUT = 600.0  # seconds the pool keeps trying (with backoff) to replace a lost connection
# What the admin and review functions raise when they refuse a request (not a fault):
# no_data_found, object_not_in_prerequisite_state, invalid_parameter_value, insufficient_privilege.
REFUSED_SQLSTATES = frozenset({"P0002", "55000", "22023", "42501"})
LEASE_LOST_SQLSTATE = "OF001"  # raised by record_outcome when another worker owns the message
ORDER_CHANGED_SQLSTATE = "OF002"  # raised by record_outcome when the order moved on since the worker read it

Row = dict[str, Any]


class LeaseLost(OrderflowError):
    """The message is no longer ours (lease expired and another worker claimed it)."""


class OrderChanged(OrderflowError):
    """The order a message changes got a new revision meanwhile (staff edited it): read it again."""


class DatabaseUnavailable(OrderflowError):
    """The database could not be reached; the caller retries later."""


class Refused(OrderflowError):
    """A database function refused the request (unknown row, closed order, bad value, missing role)."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
class NamedQueries(Protocol):
    """The seam every room codes against: three calls taking a named query and keyword arguments, and LISTEN.

    Repository is the real one (Postgres); worker.core.testing.InMemoryRepository the one unit tests share.
    """

    async def execute(self, name: str, /, **params: Any) -> None: ...

    async def fetch_one(self, name: str, /, **params: Any) -> Row | None: ...

    async def fetch_all(self, name: str, /, **params: Any) -> list[Row]: ...

    def listen(self, channel: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[str]]: ...


class Repository:
    """An async connection pool plus named queries."""

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10, query_packages: tuple[str, ...] = ()) -> None:
        self.url = url
        self.query_packages = query_packages  # packages whose queries.sql adds to the runtime queries
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Row]] = AsyncConnectionPool(
            url, connection_class=psycopg.AsyncConnection[Row], min_size=min_size, max_size=max_size, open=False,
            timeout=POOL_TIMEOUT,
            kwargs={"autocommit": True, "row_factory": dict_row}, reconnect_timeout=RECONNECT_TIMEOUT,
        )

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=POOL_TIMEOUT)

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> Repository:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Row]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        except psycopg.DatabaseError as exc:
            if exc.sqlstate == LEASE_LOST_SQLSTATE:
                raise LeaseLost(str(exc)) from exc
            if exc.sqlstate == ORDER_CHANGED_SQLSTATE:
                raise OrderChanged(str(exc)) from exc
            if exc.sqlstate in REFUSED_SQLSTATES:
                raise Refused(exc.diag.message_primary or str(exc), exc.sqlstate) from exc
            raise

    async def execute(self, name: str, /, **params: Any) -> None:
        async with self._connection() as conn:
            await conn.execute(query(name, also=self.query_packages), params)

    async def fetch_one(self, name: str, /, **params: Any) -> Row | None:
        async with self._connection() as conn:
            cur = await conn.execute(query(name, also=self.query_packages), params)
            return await cur.fetchone()

    async def fetch_all(self, name: str, /, **params: Any) -> list[Row]:
        async with self._connection() as conn:
            cur = await conn.execute(query(name, also=self.query_packages), params)
            return await cur.fetchall()

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        """A dedicated connection LISTENing on `channel`; yields an iterator of payloads."""
        try:
            conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        try:
            try:
                await conn.execute(f'listen "{channel}"')
            except psycopg.OperationalError as exc:
                raise DatabaseUnavailable(str(exc)) from exc

            async def payloads() -> AsyncIterator[str]:
                try:
                    async for notify in conn.notifies():
                        yield notify.payload
                except psycopg.OperationalError as exc:  # the server went away under the listener
                    raise DatabaseUnavailable(str(exc)) from exc

            yield payloads()
        finally:
            with contextlib.suppress(psycopg.Error):
                await conn.close()


def dumps(value: object) -> str:
    """JSON text for a `::jsonb` query parameter."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)



__all__ = ["DatabaseUnavailable", "LeaseLost", "NamedQueries", "OrderChanged", "OrderflowError", "Refused", "Repository", "Row",
           "dumps"]
