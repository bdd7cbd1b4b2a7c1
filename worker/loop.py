"""The worker loop: claim messages, run the pipeline with many in flight, heartbeat, drain.

The claim/listen/reconnect/backoff/drain skeleton is worker.core.claim_loop's (the delivery loop
runs on it too): it claims until nothing is due, then waits for a NOTIFY from the intake, the
poll interval or a stop event. Here: a bounded number of messages are in flight at once (AI
calls are slow); a heartbeat extends their leases; stopping drains the in-flight work and
releases what it cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from worker.core.claim_loop import ClaimLoop, new_worker_id, wait_any
from worker.core.repository import DatabaseUnavailable, LeaseLost, Repository
from worker.pipeline import Claim, Pipeline, Processed

POLL_INTERVAL = 2.0  # seconds between polls when no NOTIFY arrives
LEASE_SECONDS = 60  # a claimed message is ours for this long without a heartbeat
HEARTBEAT_INTERVAL = 15.0  # seconds; well under the lease
DRAIN_TIMEOUT = 30.0  # seconds to finish in-flight messages on shutdown
CHANNEL = "orderflow_messages"

log = logging.getLogger("orderflow.worker")


@dataclass(kw_only=True)
class WorkerStats:
    processed: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0
    deferred: int = 0  # over the distributor's AI rate: given back without spending an attempt
    orders: int = 0
    orders_review: int = 0
    started_at: float = field(default_factory=time.monotonic)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))

    def count(self, outcome: Processed) -> None:
        if outcome.state == "processed":
            self.processed += 1
        elif outcome.state == "queued":
            self.retried += 1
        elif outcome.state == "failed":
            self.failed += 1
        elif outcome.state == "deferred":
            self.deferred += 1
        else:
            self.lost += 1
        if outcome.order_status == "created":
            self.orders += 1
        elif outcome.order_status == "needs_review":
            self.orders_review += 1


class Worker(ClaimLoop[Claim]):
    channel = CHANNEL
    kind = "worker"
    log = log

    def __init__(
        self,
        *,
        repo: Repository,
        pipeline: Pipeline,
        worker_id: str,
        concurrency: int = 32,
        batch_size: int = 32,
        lease_seconds: int = LEASE_SECONDS,
        poll_interval: float = POLL_INTERVAL,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        super().__init__(repo=repo, worker_id=worker_id, concurrency=concurrency, batch_size=batch_size,
                         poll_interval=poll_interval, drain_timeout=DRAIN_TIMEOUT)
        self.pipeline = pipeline
        self.lease_seconds = lease_seconds
        self.heartbeat_interval = heartbeat_interval
        self.stats = WorkerStats()

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> WorkerStats:
        """Process messages until `stop` is set (or, with until_idle, until nothing is due)."""
        stop = stop or asyncio.Event()
        log.info("worker started", extra={"action": "worker_start", "worker_id": self.worker_id})
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        try:
            await self.run_loop(stop, until_idle=until_idle)
        finally:
            stop.set()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            log.info("worker stopped", extra={"action": "worker_stop", "worker_id": self.worker_id,
                                              "processed": self.stats.processed, "failed": self.stats.failed})
        return self.stats

    async def claim(self, batch: int) -> list[Claim]:
        rows = await self.repo.fetch_all("claim_messages", worker_id=self.worker_id, batch=batch,
                                         lease_seconds=self.lease_seconds, per_distributor=batch)
        return [Claim(message_id=str(r["message_id"]), distributor_id=str(r["distributor_id"]),
                      attempts=int(r["attempts"]), message=r) for r in rows]

    def key(self, item: Claim) -> str:
        return item.message_id

    async def handle(self, item: Claim) -> None:
        started = time.monotonic()
        try:
            outcome = await self.pipeline.process(item)
        except LeaseLost:
            outcome = Processed(state="lost")
        except DatabaseUnavailable:
            outcome = Processed(state="lost")  # lease expires; another attempt picks it up
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the job boundary: one bad message must not stop the worker
            log.exception("message crashed the pipeline", extra={"action": "message_crash", "message_id": item.message_id,
                                                                    "distributor_id": item.distributor_id})
            try:
                outcome = await self.pipeline.fail_unexpected(item, exc)
            except DatabaseUnavailable:
                outcome = Processed(state="lost")
        self.stats.count(outcome)
        self.stats.latencies.append(time.monotonic() - started)
        log.debug("message done", extra={"action": "message_done", "message_id": item.message_id,
                                         "distributor_id": item.distributor_id, "state": outcome.state})

    async def released(self, keys: list[str]) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self.repo.fetch_one("release_messages", worker_id=self.worker_id, ids=keys)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_any(stop, timeout=self.heartbeat_interval)
            ids = self.in_flight
            if not ids:
                continue
            with contextlib.suppress(DatabaseUnavailable):
                await self.repo.fetch_all("extend_leases", worker_id=self.worker_id, ids=ids,
                                          lease_seconds=self.lease_seconds)


__all__ = ["Worker", "WorkerStats", "new_worker_id"]
