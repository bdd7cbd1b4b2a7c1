"""The one in-memory repository unit tests share (procrastinate/testing.py's InMemoryConnector, without SQL).

It answers each named query from a table of canned answers and records which queries ran with which
arguments, so a unit test checks what the code asked of the database. It never interprets SQL: only
real Postgres judges SQL (tests/integration). A query without an answer returns no row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from worker.core.queries import query
from worker.core.repository import Row

Answer = Row | list[Row] | None | Callable[[dict[str, Any]], Row | list[Row] | None]


class InMemoryRepository:
    """Satisfies worker.core.repository.NamedQueries; `ran` lists (query name, arguments) in order."""

    def __init__(self, answers: Mapping[str, Answer] | None = None, *, query_packages: tuple[str, ...] = ()) -> None:
        self.answers: dict[str, Answer] = dict(answers or {})
        self.query_packages = query_packages
        self.ran: list[tuple[str, dict[str, Any]]] = []
        self.notifications: asyncio.Queue[str] = asyncio.Queue()

    @property
    def names(self) -> list[str]:
        """The names of the queries that ran, in order."""
        return [name for name, _ in self.ran]

    def _answer(self, name: str, params: dict[str, Any]) -> Row | list[Row] | None:
        query(name, also=self.query_packages)  # an unknown name fails as it would against Postgres
        self.ran.append((name, params))
        answer = self.answers.get(name)
        return answer(params) if callable(answer) else answer

    async def execute(self, name: str, /, **params: Any) -> None:
        self._answer(name, params)

    async def fetch_one(self, name: str, /, **params: Any) -> Row | None:
        answer = self._answer(name, params)
        if isinstance(answer, list):
            return answer[0] if answer else None
        return answer

    async def fetch_all(self, name: str, /, **params: Any) -> list[Row]:
        answer = self._answer(name, params)
        if answer is None:
            return []
        return answer if isinstance(answer, list) else [answer]

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        async def payloads() -> AsyncIterator[str]:
            while True:
                yield await self.notifications.get()

        yield payloads()


__all__ = ["Answer", "InMemoryRepository"]
