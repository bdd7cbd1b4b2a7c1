"""The claim-loop skeleton both queues run on, over the shared in-memory repository (no database)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from worker.core import claim_loop
from worker.core.claim_loop import ClaimLoop
from worker.core.repository import DatabaseUnavailable
from worker.core.testing import InMemoryRepository


class Jobs(ClaimLoop[str]):
    channel = "test_jobs"
    kind = "test"
    log = logging.getLogger("orderflow.test")

    def __init__(self, due: list[str], *, work: float = 0.0, unavailable: int = 0, concurrency: int = 2) -> None:
        super().__init__(repo=InMemoryRepository(), worker_id="w", concurrency=concurrency, batch_size=2,
                         poll_interval=0.01, drain_timeout=0.05)
        self.due = due
        self.work = work
        self.unavailable = unavailable
        self.done: list[str] = []
        self.given_back: list[str] = []
        self.claims = 0

    async def claim(self, batch: int) -> list[str]:
        self.claims += 1
        if self.unavailable:
            self.unavailable -= 1
            raise DatabaseUnavailable("simulated")
        taken, self.due = self.due[:batch], self.due[batch:]
        return taken

    def key(self, item: str) -> str:
        return item

    async def handle(self, item: str) -> None:
        await asyncio.sleep(self.work)
        self.done.append(item)

    async def released(self, keys: list[str]) -> None:
        self.given_back += keys


async def test_until_idle_runs_every_due_item_once_and_returns() -> None:
    jobs = Jobs([f"j{i}" for i in range(7)])
    await jobs.run_loop(asyncio.Event(), until_idle=True)
    assert sorted(jobs.done) == [f"j{i}" for i in range(7)] and jobs.in_flight == []


async def test_a_lost_database_is_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claim_loop, "RECONNECT_DELAY", 0.001)  # the backoff's first step, shortened
    jobs = Jobs(["a", "b"], unavailable=2)
    await jobs.run_loop(asyncio.Event(), until_idle=True)
    assert sorted(jobs.done) == ["a", "b"] and jobs.claims >= 4


async def test_stopping_drains_and_hands_back_what_it_cut_off() -> None:
    jobs = Jobs(["slow-1", "slow-2"], work=10.0)
    stop = asyncio.Event()
    loop = asyncio.create_task(jobs.run_loop(stop))
    while len(jobs.in_flight) < 2:
        await asyncio.sleep(0.001)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert jobs.done == [] and sorted(jobs.given_back) == ["slow-1", "slow-2"] and jobs.in_flight == []
