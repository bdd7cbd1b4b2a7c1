"""The outbound delivery loop: claim due webhook deliveries, attempt them, record results in batches.

It runs on the skeleton of the message worker (worker.core.claim_loop): claim until nothing is
due, then wait for a NOTIFY on 'orderflow_deliveries' (private.enqueue_event, replays), a
finished attempt, a written batch of results, the poll interval (retries come due without a
NOTIFY) or a stop event. At most `concurrency` attempts are in flight, claims take up to
`batch_size` rows (once a quarter of the slots are free), and one flusher task writes the
results of many attempts per `finish_deliveries` call (webhooks.outbound.result_batches, shared with
the reply sender), so the database costs a fraction of a round trip per delivery. A lost database is waited out.

Leases: claimed rows are leased for `lease_seconds` (60 s by default). An attempt is cut off
after `timeout` (15 s) and its result is written within milliseconds, well inside the lease, so
there is no heartbeat (DeliveryConfig refuses a lease that does not exceed the timeout). Rows of
a worker that died are claimed again when their lease expires: at-least-once, and the receiver
deduplicates on webhook-id. Stopping drains the attempts in flight, gives back those cut off
(not counted as attempts) and writes every result before returning.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from webhooks.outbound.attempt import TIMEOUT, Claimed, Result, attempt, build_client
from webhooks.outbound.result_batches import BatchedResultsLoop
from worker.core.claim_loop import RECONNECT_MAX, new_worker_id
from worker.core.errors import OrderflowError
from worker.core.repository import DatabaseUnavailable, Repository, Row, dumps
from worker.core.settings import Settings

CHANNEL = "orderflow_deliveries"
CONCURRENCY = 64  # attempts in flight
BATCH_SIZE = 200  # rows per claim at most
LEASE_SECONDS = 60  # a claimed delivery is ours this long; must exceed the attempt timeout
POLL_INTERVAL = 2.0  # seconds between polls when no NOTIFY arrives
FAILING_WINDOW = 5 * 24 * 3600.0  # seconds without a successful delivery before an endpoint is disabled
DRAIN_TIMEOUT = TIMEOUT + 5.0  # seconds to finish in-flight attempts on shutdown

log = logging.getLogger("orderflow.webhooks.delivery")


@dataclass(frozen=True, kw_only=True)
class DeliveryConfig:
    concurrency: int = CONCURRENCY
    batch_size: int = BATCH_SIZE
    lease_seconds: int = LEASE_SECONDS
    timeout: float = TIMEOUT  # seconds per attempt
    poll_interval: float = POLL_INTERVAL
    failing_window: float = FAILING_WINDOW
    drain_timeout: float = DRAIN_TIMEOUT
    schedule_scale: float = 1.0  # multiplies the retry schedule (tests compress time)
    allow_private: bool = False  # loopback / RFC 1918 targets: local development and tests only

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("concurrency and batch_size must be at least 1")
        if self.lease_seconds <= self.timeout + 1:
            raise ValueError("lease_seconds must exceed the attempt timeout: no heartbeat renews leases")


@dataclass(kw_only=True)
class DeliveryStats:
    outcomes: dict[str, int] = field(default_factory=dict)  # result outcome -> count
    disabled_endpoints: list[str] = field(default_factory=list)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))  # seconds per attempt
    started_at: float = field(default_factory=time.monotonic)

    def count(self, result: Result) -> None:
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1


def _claimed(row: Row) -> Claimed:
    return Claimed(
        delivery_id=str(row["delivery_id"]), distributor_id=str(row["distributor_id"]),
        endpoint_id=str(row["endpoint_id"]), url=str(row["url"]), secrets=tuple(row["secrets"] or ()),
        event_id=str(row["event_id"]), event_type=str(row["event_type"]), payload=bytes(row["payload"]),
        attempts=int(row["attempts"]),
    )


class Deliverer(BatchedResultsLoop[Claimed, Result]):
    channel = CHANNEL
    kind = "delivery"
    log = log
    due_query = "count_due_deliveries"
    result_kind = "delivery"

    def __init__(self, *, repo: Repository, config: DeliveryConfig, worker_id: str | None = None,
                 client: httpx.AsyncClient | None = None, rng: random.Random | None = None) -> None:
        super().__init__(repo=repo, worker_id=worker_id or new_worker_id(), concurrency=config.concurrency,
                         batch_size=config.batch_size, poll_interval=config.poll_interval,
                         drain_timeout=config.drain_timeout,
                         min_claim=max(1, min(config.batch_size, config.concurrency) // 4))
        self.config = config
        self.stats = DeliveryStats()
        self._client = client
        self._running_client: httpx.AsyncClient | None = None  # the client of the run in progress
        self._rng = rng or random.Random()
        self.results = self.batches(drain_timeout=config.drain_timeout)

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> DeliveryStats:
        """Deliver until `stop` is set (or, with until_idle, until nothing is due or in flight)."""
        stop = stop or asyncio.Event()
        client = self._client or build_client(concurrency=self.config.concurrency, timeout=self.config.timeout,
                                              allow_private=self.config.allow_private)
        self._running_client = client
        log.info("delivery started", extra={"action": "delivery_start", "worker_id": self.worker_id})
        try:
            await self.run_with_flusher(stop, until_idle=until_idle)
        finally:
            if self._client is None:
                await client.aclose()
            log.info("delivery stopped", extra={"action": "delivery_stop", "worker_id": self.worker_id,
                                                **self.stats.outcomes})
        return self.stats

    async def claim(self, batch: int) -> list[Claimed]:
        rows = await self.repo.fetch_all("claim_deliveries", worker_id=self.worker_id, batch=batch,
                                         lease_seconds=self.config.lease_seconds)
        return [_claimed(row) for row in rows]

    def key(self, item: Claimed) -> str:
        return item.delivery_id

    async def handle(self, item: Claimed) -> None:
        assert self._running_client is not None, "handle runs inside run()"
        await self._run_one(self._running_client, item)

    async def _run_one(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        started = time.monotonic()
        try:
            result = await attempt(client, claimed, timeout=self.config.timeout,
                                   schedule_scale=self.config.schedule_scale, rng=self._rng)
        except asyncio.CancelledError:
            self._add(Result(delivery_id=claimed.delivery_id, outcome="release"))
            raise
        except Exception as exc:  # noqa: BLE001 - the job boundary: one delivery must not stop the loop
            log.exception("delivery attempt crashed", extra={
                "action": "delivery_crash", "delivery_id": claimed.delivery_id, "endpoint_id": claimed.endpoint_id,
                "distributor_id": claimed.distributor_id})
            result = Result(delivery_id=claimed.delivery_id, outcome="retry", error=f"internal: {type(exc).__name__}",
                            delay=RECONNECT_MAX)
        self.stats.latencies.append(time.monotonic() - started)
        self._add(result)
        level = logging.DEBUG if result.outcome in ("succeeded", "retry") else logging.INFO
        log.log(level, "delivery attempt", extra={
            "action": "delivery_attempt", "delivery_id": claimed.delivery_id, "endpoint_id": claimed.endpoint_id,
            "distributor_id": claimed.distributor_id, "event_id": claimed.event_id, "attempt": claimed.attempts + 1,
            "outcome": result.outcome, "status_code": result.status_code, "error": result.error})

    def _add(self, result: Result) -> None:
        self.stats.count(result)
        self.results.add(result)

    async def finish(self, batch: list[Result]) -> None:
        try:
            row = await self.repo.fetch_one("finish_deliveries", worker_id=self.worker_id,
                                            results=dumps([result.as_json() for result in batch]),
                                            failing_window_seconds=self.config.failing_window)
        except DatabaseUnavailable:
            raise  # the batch goes back; ResultBatches waits the database out
        except Exception:  # noqa: BLE001 - the batch boundary: a batch the database refuses must not stop the loop
            log.exception("results refused", extra={"action": "delivery_results_refused", "worker_id": self.worker_id,
                                                    "count": len(batch)})  # their leases expire: delivered again
            return
        for endpoint_id in (row or {}).get("disabled_endpoints") or ():
            self.stats.disabled_endpoints.append(str(endpoint_id))
            log.warning("endpoint disabled", extra={"action": "endpoint_disabled", "endpoint_id": str(endpoint_id),
                                                    "worker_id": self.worker_id})


def config_from_settings(settings: Settings, **overrides: Any) -> DeliveryConfig:
    """The delivery configuration for this deployment (private targets only when allowed)."""
    return dataclasses.replace(DeliveryConfig(allow_private=settings.allow_private_webhook_targets), **overrides)


class ReplayRequestError(OrderflowError, ValueError):
    """Neither a delivery id nor a complete, well-ordered time range was given."""


async def replay(
    repo: Repository,
    *,
    delivery_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    endpoint_id: str | None = None,
    distributor_id: str | None = None,
) -> int:
    """Queue finished deliveries again; returns how many.

    One delivery by id (whatever its finished state), or the dead and failed deliveries created
    in [since, until), optionally of one endpoint or distributor. They become pending with
    attempts 0, due now, with the same event id (webhook-id) and payload bytes; a NOTIFY wakes
    the loop. Nothing is ever deleted, so anything can be replayed. Deliveries of a disabled
    endpoint wait until it is enabled again.
    """
    if delivery_id is None:
        if since is None or until is None:
            raise ReplayRequestError("give a delivery id, or both since and until")
        if since.tzinfo is None or until.tzinfo is None:
            raise ReplayRequestError("since and until need a time zone (e.g. 2026-11-23T09:00:00Z)")
        if since >= until:
            raise ReplayRequestError("since must be before until")
    row = await repo.fetch_one("replay_deliveries", delivery_id=delivery_id, since=since, until=until,
                               endpoint_id=endpoint_id, distributor_id=distributor_id)
    return int(row["replayed"]) if row is not None else 0


async def run_delivery(repo: Repository, settings: Settings, stop: asyncio.Event, *,
                       config: DeliveryConfig | None = None, until_idle: bool = False) -> DeliveryStats:
    """Deliver webhooks until `stop` is set; the worker process or `orderflow deliver` runs this."""
    deliverer = Deliverer(repo=repo, config=config or config_from_settings(settings))
    return await deliverer.run(stop, until_idle=until_idle)


__all__ = [
    "CHANNEL", "DeliveryConfig", "DeliveryStats", "Deliverer", "ReplayRequestError", "config_from_settings", "replay",
    "run_delivery",
]
