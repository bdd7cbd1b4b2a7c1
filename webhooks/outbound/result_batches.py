"""The results of finished attempts, written to the database in batches by one flusher task.

The webhook deliverer (webhooks/outbound/delivery.py) and the reply sender
(webhooks/outbound/replies.py) both finish many attempts per database call: an attempt adds its
result, the flusher lets results gather for `FLUSH_DELAY` seconds (unless `FLUSH_MAX` are already
waiting or the loop is stopping) and hands up to `FLUSH_MAX` of them to `write`. A lost database
puts the batch back in front and is waited out with a doubling delay; once the loop is stopping,
for at most `drain_timeout` seconds, after which the unwritten results are given up (their leases
expire and the rows are claimed again). Anything else `write` raises ends the flusher: a caller
that wants to survive a refused batch catches it in `write`. After each batch the claim loop is
woken (`wake`), since the written results may have freed rows or ended an idle wait.

BatchedResultsLoop is the claim loop both run on: the flusher beside worker.core.claim_loop, and
"idle" meaning no result waits to be written and the due-count query answers 0.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from worker.core.claim_loop import RECONNECT_DELAY, RECONNECT_MAX, ClaimLoop, wait_any
from worker.core.repository import DatabaseUnavailable

FLUSH_DELAY = 0.005  # seconds to let results gather before a write
FLUSH_MAX = 500  # results per write at most

R = TypeVar("R")
T = TypeVar("T")


class ResultBatches(Generic[R]):
    """Collects results with `add`; `flush_until` writes them in batches until told to stop."""

    def __init__(self, *, write: Callable[[list[R]], Awaitable[None]], wake: Callable[[], None],
                 kind: str, log: logging.Logger, worker_id: str, drain_timeout: float) -> None:
        self._write = write
        self._wake = wake
        self._kind = kind  # names the loop in log actions: "<kind>_results_lost"
        self._log = log
        self._worker_id = worker_id
        self._drain_timeout = drain_timeout
        self._results: list[R] = []
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        """How many results wait to be written."""
        return len(self._results)

    def add(self, result: R) -> None:
        self._results.append(result)
        self._ready.set()

    async def flush_until(self, flushed: asyncio.Event) -> None:
        """Write results in batches until `flushed` is set and nothing is left (or the database stays away)."""
        delay = RECONNECT_DELAY
        deadline: float | None = None
        while True:
            if not self._results:
                if flushed.is_set():
                    return
                self._ready.clear()
                await wait_any(self._ready, flushed)
                continue
            if len(self._results) < FLUSH_MAX and not flushed.is_set():
                await asyncio.sleep(FLUSH_DELAY)
            batch, self._results = self._results[:FLUSH_MAX], self._results[FLUSH_MAX:]
            try:
                await self._write(batch)
                delay = RECONNECT_DELAY
            except DatabaseUnavailable:
                self._results = batch + self._results
                self._log.warning("database unavailable", extra={
                    "action": "db_unavailable", "worker_id": self._worker_id, "unwritten": len(self._results)})
                if flushed.is_set():
                    deadline = deadline or time.monotonic() + self._drain_timeout
                    if time.monotonic() > deadline:  # the leases expire; others claim the rows again
                        self._log.error("results not written", extra={
                            "action": f"{self._kind}_results_lost", "worker_id": self._worker_id,
                            "count": len(self._results)})
                        return
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)
            self._wake()


class BatchedResultsLoop(ClaimLoop[T], Generic[T, R]):
    """A claim loop (items T) whose attempts' results (R) are written in batches by `finish`.

    A subclass sets `due_query` (a named query answering one row with the count `due`) and
    `result_kind` (log actions: "<result_kind>_results_lost"), builds `self.results` in its
    __init__ with `batches`, and runs `run_with_flusher` inside its `run`.
    """

    due_query: str
    result_kind: str
    results: ResultBatches[R]

    def batches(self, *, drain_timeout: float) -> ResultBatches[R]:
        return ResultBatches[R](write=self.finish, wake=self.wake, kind=self.result_kind, log=self.log,
                                worker_id=self.worker_id, drain_timeout=drain_timeout)

    async def finish(self, batch: list[R]) -> None:
        """Write one batch of results (DatabaseUnavailable: the batch is written again later)."""
        raise NotImplementedError

    async def run_with_flusher(self, stop: asyncio.Event, *, until_idle: bool) -> None:
        """The claim loop with the flusher beside it; on the way out every result is written, then `stop` is set."""
        flushed = asyncio.Event()  # set: the flusher writes what is left and ends
        flusher = asyncio.create_task(self.results.flush_until(flushed))
        try:
            await self.run_loop(stop, until_idle=until_idle)
        finally:
            flushed.set()
            await flusher
            stop.set()

    async def idle(self) -> bool:
        if len(self.results):
            return False
        try:
            row = await self.repo.fetch_one(self.due_query)
        except DatabaseUnavailable:
            return False
        return row is None or int(row["due"]) == 0


__all__ = ["FLUSH_DELAY", "FLUSH_MAX", "BatchedResultsLoop", "ResultBatches"]
