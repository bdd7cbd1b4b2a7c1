"""`orderflow serve`, `orderflow deliver` and `orderflow webhooks replay`.

Heavy modules (the ASGI app, uvicorn, the delivery loop) are imported inside the commands, so
the CLI starts fast whatever command runs.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import datetime

import typer
from rich.console import Console

from worker.cli.oneshot import run_once
from worker.core import logs
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.db import connection

console = Console()
BODY_TIMEOUT = 10.0  # seconds; the default of `orderflow serve --body-timeout` (webhooks.inbound.app has the same)
MAX_HEAD = 16 * 1024  # bytes of request line and headers
webhooks_app = typer.Typer(help="Outbound webhooks: replay finished deliveries.", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8080, help="Port to listen on"),
    pool_size: int = typer.Option(16, help="Database connections at most"),
    max_connections: int = typer.Option(256, min=1, help="Open connections at most; beyond it requests get 503"),
    body_timeout: float = typer.Option(BODY_TIMEOUT, min=0.1, help="Seconds to receive a whole request body (408 after)"),
    keep_alive: int = typer.Option(5, min=1, help="Seconds an idle keep-alive connection stays open"),
    log_level: str = typer.Option("INFO", help="Log level"),
) -> None:
    """Serve the inbound webhooks (WhatsApp Cloud API, generic channels): authenticate, validate, store.

    Slow or many clients cannot hold the server: a body must arrive within --body-timeout, idle
    connections close after --keep-alive, request heads are limited to MAX_HEAD bytes, and past
    --max-connections open connections new requests are answered 503 at once."""
    import uvicorn

    from webhooks.inbound.app import create_app

    logs.configure(log_level)
    settings = load_settings()

    async def _run() -> None:
        repo = Repository(connection.database_url(settings), min_size=2, max_size=pool_size)
        await repo.open()
        try:
            config = uvicorn.Config(create_app(repo, settings, body_timeout=body_timeout), host=host, port=port,
                                    lifespan="off", log_config=None, access_log=False, server_header=False,
                                    timeout_graceful_shutdown=10, http="h11", limit_concurrency=max_connections,
                                    timeout_keep_alive=keep_alive, h11_max_incomplete_event_size=MAX_HEAD)
            await uvicorn.Server(config).serve()
        finally:
            await repo.close()

    asyncio.run(_run())


def deliver(
    concurrency: int = typer.Option(64, help="Attempts in flight at once"),
    batch_size: int = typer.Option(200, help="Deliveries per claim at most"),
    until_idle: bool = typer.Option(False, "--until-idle", help="Exit when nothing is due"),
    log_level: str = typer.Option("INFO", help="Log level"),
    reply_concurrency: int = typer.Option(64, help="Replies to customers in flight at once"),
) -> None:
    """Deliver the outbound webhooks (sign, POST, retry on the schedule, disable gone endpoints) and
    send the replies to customers (WhatsApp Cloud API, generic channels' reply URLs)."""
    from webhooks.outbound.delivery import config_from_settings, run_delivery
    from worker.replies import reply_config, run_replies

    logs.configure(log_level)
    settings = load_settings()

    async def _run() -> tuple[dict[str, int], dict[str, int]]:
        repo = Repository(connection.database_url(settings), min_size=2, max_size=6)
        await repo.open()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            config = config_from_settings(settings, concurrency=concurrency, batch_size=batch_size)
            stats, sent = await asyncio.gather(
                run_delivery(repo, settings, stop, config=config, until_idle=until_idle),
                run_replies(repo, settings, stop, config=reply_config(settings, concurrency=reply_concurrency),
                            until_idle=until_idle))
            return stats.outcomes, sent.outcomes
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await repo.close()

    outcomes, replies = asyncio.run(_run())
    console.print(" ".join(f"{name}={count}" for name, count in sorted(outcomes.items())) or "nothing delivered")
    console.print("replies: " + (" ".join(f"{name}={count}" for name, count in sorted(replies.items())) or "none sent"))


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint=option) from exc
    if parsed.tzinfo is None:
        raise typer.BadParameter("give a time zone, e.g. 2026-11-23T09:00:00Z", param_hint=option)
    return parsed


def _uuid(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise typer.BadParameter(f"not a uuid: {value!r}", param_hint=option) from exc


@webhooks_app.command("replay")
def replay(
    delivery_id: str | None = typer.Option(None, "--id", help="One delivery to send again (any finished state)"),
    since: str | None = typer.Option(None, "--since", help="Dead/failed deliveries created from (ISO 8601, with zone)"),
    until: str | None = typer.Option(None, "--until", help="... until, exclusive (ISO 8601, with zone)"),
    endpoint: str | None = typer.Option(None, "--endpoint", help="Only this endpoint's deliveries"),
    distributor: str | None = typer.Option(None, "--distributor", help="Only this distributor's deliveries (uuid)"),
) -> None:
    """Queue finished deliveries again (attempts 0, due now, same webhook-id and payload)."""
    from webhooks.outbound.delivery import ReplayRequestError
    from webhooks.outbound.delivery import replay as replay_deliveries

    delivery_id = _uuid(delivery_id, "--id")
    window = (_instant(since, "--since"), _instant(until, "--until"))
    endpoint_id, distributor_id = _uuid(endpoint, "--endpoint"), _uuid(distributor, "--distributor")
    settings = load_settings()

    try:
        count = run_once(lambda repo: replay_deliveries(repo, delivery_id=delivery_id, since=window[0], until=window[1],
                                                        endpoint_id=endpoint_id, distributor_id=distributor_id),
                         settings)
    except ReplayRequestError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"replayed {count} deliver{'y' if count == 1 else 'ies'}")


__all__ = ["deliver", "serve", "webhooks_app"]
