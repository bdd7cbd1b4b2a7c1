"""Where the database is: DATABASE_URL, or the embedded Postgres (started on demand).

The embedded server's port is remembered in `<home>/port`, so every process of this checkout
finds the same server; a port taken by something else is traded for a free one at start.
"""

from __future__ import annotations

import socket

from worker.core.settings import DEFAULT_PG_PORT, Settings
from worker.db.embedded import EmbeddedPostgres, wait_until_accepting


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    data_dir = settings.home / "pgdata"
    if settings.pg_port is not None:
        return EmbeddedPostgres(data_dir=data_dir, port=settings.pg_port)
    port_file = settings.home / "port"
    port = int(port_file.read_text()) if port_file.exists() else DEFAULT_PG_PORT
    return EmbeddedPostgres(data_dir=data_dir, port=port)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL to connect to. With no DATABASE_URL, the embedded server (started if asked)."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings)
    if start and not server.is_running():
        if settings.pg_port is None and not _port_is_free(server.port):
            server = EmbeddedPostgres(data_dir=server.data_dir, port=_free_port())
        server.start()
        if settings.pg_port is None:
            (settings.home / "port").write_text(str(server.port))
        wait_until_accepting(server.url)
    return server.url


__all__ = ["database_url", "embedded_server"]
