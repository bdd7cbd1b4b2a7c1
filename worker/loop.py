"""The worker loop: claim messages, run the pipeline with many in flight, heartbeat, drain.

It registers, claims until nothing is due, then waits for a NOTIFY from the intake, the poll
interval or a stop event (procrastinate's worker.run). A bounded number of messages are in
flight at once (AI calls are slow); a heartbeat extends their leases; stopping drains the
in-flight work and releases what was not started. A lost database connection is waited out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

from worker.core.repository import DatabaseUnavailable, LeaseLost, Repository
from worker.pipeline import Claim, Pipeline, Processed

POLL_INTERVAL = 2.0  # seconds between polls when no NOTIFY arrives
LEASE_SECONDS = 60  # a claimed message is ours for this long without a heartbeat
HEARTBEAT_INTERVAL = 15.0  # seconds; well under the lease
DRAIN_TIMEOUT = 30.0  # seconds to finish in-flight messages on shutdown
RECONNECT_DELAY = 0.5  # seconds, doubled up to RECONNECT_MAX while the database is away
RECONNECT_MAX = 5.0  # seconds
CHANNEL = "orderflow_messages"

log = logging.getLogger("orderflow.worker")


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


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


class Worker:
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
        self.repo = repo
        self.pipeline = pipeline
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.heartbeat_interval = heartbeat_interval
        self.stats = WorkerStats()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> WorkerStats:
        """Process messages until `stop` is set (or, with until_idle, until nothing is due)."""
        stop = stop or asyncio.Event()
        log.info("worker started", extra={"action": "worker_start", "worker_id": self.worker_id})
        listener = asyncio.create_task(self._listen(stop))
        heartbeat = asyncio.create_task(self._heartbeat(stop))
        delay = RECONNECT_DELAY
        try:
            while not stop.is_set():
                free = self.concurrency - len(self._in_flight)
                claims: list[Claim] = []
                if free > 0:
                    try:
                        claims = await self._claim(min(free, self.batch_size))
                        delay = RECONNECT_DELAY
                    except DatabaseUnavailable:
                        log.warning("database unavailable", extra={"action": "db_unavailable", "worker_id": self.worker_id})
                        await self._sleep_or_stop(stop, delay)
                        delay = min(delay * 2, RECONNECT_MAX)
                        continue
                for claim in claims:
                    self._in_flight[claim.message_id] = asyncio.create_task(self._run_one(claim))
                if claims and len(claims) == min(free, self.batch_size):
                    continue  # more may be due: claim again at once
                if until_idle and not claims and not self._in_flight:
                    break
                await self._wait_for_work(stop)
        finally:
            await self._drain()
            stop.set()
            for task in (listener, heartbeat):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            log.info("worker stopped", extra={"action": "worker_stop", "worker_id": self.worker_id,
                                              "processed": self.stats.processed, "failed": self.stats.failed})
        return self.stats

    async def _claim(self, batch: int) -> list[Claim]:
        rows = await self.repo.fetch_all("claim_messages", worker_id=self.worker_id, batch=batch,
                                         lease_seconds=self.lease_seconds, per_distributor=batch)
        return [Claim(message_id=str(r["message_id"]), distributor_id=str(r["distributor_id"]),
                      attempts=int(r["attempts"]), message=r) for r in rows]

    async def _run_one(self, claim: Claim) -> None:
        started = time.monotonic()
        try:
            outcome = await self.pipeline.process(claim)
        except LeaseLost:
            outcome = Processed(state="lost")
        except DatabaseUnavailable:
            outcome = Processed(state="lost")  # lease expires; another attempt picks it up
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the job boundary: one bad message must not stop the worker
            log.exception("message crashed the pipeline", extra={"action": "message_crash", "message_id": claim.message_id,
                                                                    "distributor_id": claim.distributor_id})
            try:
                outcome = await self.pipeline.fail_unexpected(claim, exc)
            except DatabaseUnavailable:
                outcome = Processed(state="lost")
        finally:
            self._in_flight.pop(claim.message_id, None)
            self._wake.set()
        self.stats.count(outcome)
        self.stats.latencies.append(time.monotonic() - started)
        log.debug("message done", extra={"action": "message_done", "message_id": claim.message_id,
                                         "distributor_id": claim.distributor_id, "state": outcome.state})

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _sleep_or_stop(self, stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    async def _listen(self, stop: asyncio.Event) -> None:
        delay = RECONNECT_DELAY
        while not stop.is_set():
            try:
                async with self.repo.listen(CHANNEL) as payloads:
                    delay = RECONNECT_DELAY
                    async for _ in payloads:
                        self._wake.set()
            except DatabaseUnavailable:
                pass
            except OSError:
                pass
            await self._sleep_or_stop(stop, delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._sleep_or_stop(stop, self.heartbeat_interval)
            ids = list(self._in_flight)
            if not ids:
                continue
            with contextlib.suppress(DatabaseUnavailable):
                await self.repo.fetch_all("extend_leases", worker_id=self.worker_id, ids=ids,
                                          lease_seconds=self.lease_seconds)

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        tasks = list(self._in_flight.values())
        log.info("draining", extra={"action": "worker_drain", "worker_id": self.worker_id, "in_flight": len(tasks)})
        done, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT)
        if pending:
            ids = [mid for mid, task in self._in_flight.items() if task in pending]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            with contextlib.suppress(DatabaseUnavailable):
                await self.repo.fetch_one("release_messages", worker_id=self.worker_id, ids=ids)


__all__ = ["Worker", "WorkerStats", "new_worker_id"]
