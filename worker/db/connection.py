"""Where the database is: DATABASE_URL, or the embedded Postgres (started on demand)."""

from __future__ import annotations

from worker.db.embedded import EmbeddedPostgres, wait_until_accepting
from worker.settings import Settings


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    return EmbeddedPostgres(data_dir=settings.home / "pgdata", port=settings.pg_port)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL to connect to. With no DATABASE_URL, the embedded server (started if asked)."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings)
    if start and not server.is_running():
        server.start()
        wait_until_accepting(server.url)
    return server.url


__all__ = ["database_url", "embedded_server"]
