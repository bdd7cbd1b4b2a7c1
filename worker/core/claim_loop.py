"""The skeleton both queues run on: claim, run many at once, listen, reconnect, back off, drain.

A loop registers, claims until nothing is due, then waits for a NOTIFY on its channel, a
finished item, the poll interval (retries come due without a NOTIFY) or a stop event
(procrastinate's worker.run). At most `concurrency` items are in flight; a claim takes up to
`batch_size` rows and waits until at least `min_claim` slots are free. A lost database is waited
out with a doubling delay, for claims and for the listener alike. Stopping waits up to
`drain_timeout` for the items in flight, cancels the rest and hands their keys to `released`.

The message worker (worker/loop.py) and the webhook delivery loop (webhooks/outbound/delivery.py)
subclass it and fill in what differs: what a claim returns, how one item runs, what "idle" means
and what happens to items cut off by a drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from worker.core.repository import DatabaseUnavailable, Repository

RECONNECT_DELAY = 0.5  # seconds, doubled up to RECONNECT_MAX while the database is away
RECONNECT_MAX = 5.0  # seconds

T = TypeVar("T")


def new_worker_id() -> str:
    """A claimant id unique per process: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Until any of `events` is set or `timeout` seconds passed."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class ClaimLoop(ABC, Generic[T]):
    """Claims items of type T and runs them as tasks; subclasses say how to claim and run one."""

    channel: str  # the NOTIFY channel that says work is due
    kind: str  # names the loop in log actions: "<kind>_drain"
    log: logging.Logger

    def __init__(self, *, repo: Repository, worker_id: str, concurrency: int, batch_size: int,
                 poll_interval: float, drain_timeout: float, min_claim: int = 1) -> None:
        self.repo = repo
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.drain_timeout = drain_timeout
        self.min_claim = min_claim
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()

    # --- what a subclass fills in ------------------------------------------------------------------

    @abstractmethod
    async def claim(self, batch: int) -> list[T]:
        """Claim up to `batch` due items (raises DatabaseUnavailable while the database is away)."""

    @abstractmethod
    def key(self, item: T) -> str:
        """The item's id: its slot among the items in flight."""

    @abstractmethod
    async def handle(self, item: T) -> None:
        """Run one item; never raises but for cancellation (the job boundary is the subclass's)."""

    async def idle(self) -> bool:
        """With until_idle: whether the loop may end once nothing was claimed and nothing is in flight."""
        return True

    async def released(self, keys: list[str]) -> None:
        """Items a drain cut off (their tasks are cancelled); give them back if the claim needs it."""

    # --- the skeleton ---------------------------------------------------------------------------------

    @property
    def in_flight(self) -> list[str]:
        return list(self._in_flight)

    def wake(self) -> None:
        """Look for due work now (a finished item, written results)."""
        self._wake.set()

    async def run_loop(self, stop: asyncio.Event, *, until_idle: bool = False) -> None:
        """Claim and run until `stop` is set (or, with until_idle, until idle); drains before returning."""
        listener = asyncio.create_task(self._listen(stop))
        try:
            await self._claim_until(stop, until_idle)
        finally:
            await self._drain()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _claim_until(self, stop: asyncio.Event, until_idle: bool) -> None:
        delay = RECONNECT_DELAY
        while not stop.is_set():
            free = self.concurrency - len(self._in_flight)
            want = min(free, self.batch_size)
            claimed: list[T] = []
            if free >= self.min_claim or not self._in_flight:
                try:
                    claimed = await self.claim(want)
                    delay = RECONNECT_DELAY
                except DatabaseUnavailable:
                    self.log.warning("database unavailable", extra={"action": "db_unavailable", "worker_id": self.worker_id})
                    await wait_any(stop, timeout=delay)
                    delay = min(delay * 2, RECONNECT_MAX)
                    continue
            for item in claimed:
                self._in_flight[self.key(item)] = asyncio.create_task(self._run(item))
            if claimed and len(claimed) == want:
                continue  # more may be due: claim again at once
            if until_idle and not claimed and not self._in_flight and await self.idle():
                return
            self._wake.clear()
            await wait_any(stop, self._wake, timeout=self.poll_interval)

    async def _run(self, item: T) -> None:
        try:
            await self.handle(item)
        finally:
            self._in_flight.pop(self.key(item), None)
            self._wake.set()

    async def _listen(self, stop: asyncio.Event) -> None:
        delay = RECONNECT_DELAY
        while not stop.is_set():
            try:
                async with self.repo.listen(self.channel) as payloads:
                    delay = RECONNECT_DELAY
                    async for _ in payloads:
                        self._wake.set()
            except (DatabaseUnavailable, OSError):
                pass
            await wait_any(stop, timeout=delay)
            delay = min(delay * 2, RECONNECT_MAX)

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        tasks = list(self._in_flight.values())
        self.log.info("draining", extra={"action": f"{self.kind}_drain", "worker_id": self.worker_id, "in_flight": len(tasks)})
        _, pending = await asyncio.wait(tasks, timeout=self.drain_timeout)
        if not pending:
            return
        keys = [key for key, task in self._in_flight.items() if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.released(keys)


__all__ = ["RECONNECT_DELAY", "RECONNECT_MAX", "ClaimLoop", "new_worker_id", "wait_any"]
