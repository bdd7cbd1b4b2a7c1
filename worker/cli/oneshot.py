"""One-shot commands: a small pool on the configured database (embedded or DATABASE_URL) for one
piece of work, closed afterwards. The CLI's short commands all run through `run_once`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from worker.core.repository import Repository
from worker.core.settings import Settings, load_settings
from worker.db import connection

T = TypeVar("T")


def run_once(work: Callable[[Repository], Awaitable[T]], settings: Settings | None = None, *, connections: int = 1) -> T:
    """Open a pool of `connections`, await `work(repo)`, close the pool; returns what `work` returned."""
    url = connection.database_url(settings or load_settings())

    async def go() -> T:
        repo = Repository(url, min_size=1, max_size=connections)
        await repo.open()
        try:
            return await work(repo)
        finally:
            await repo.close()

    return asyncio.run(go())


__all__ = ["run_once"]
