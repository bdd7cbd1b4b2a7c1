"""Bare queue throughput: claim + complete jobs/s, our message queue versus procrastinate.

Both run in the same process, against the same Postgres server, with the same client code: C
consumers (default 4 and 16), each on its own autocommit psycopg connection, loop "claim, then
complete every claimed job with one statement each" until a claim comes back empty. No job
body runs, so what is measured is the queue's SQL and round trips.

- ours: the claim is the worker's own `claim_messages` query (worker/sql/queries.sql names the
  function it calls), in batches of 1 and of B (default 32). The completion is the minimal one, `update messages set state = 'processed' ...
  where id = $1 and locked_by = $worker` (the real worker writes its whole outcome with
  the `record_outcome` query instead: that is the pipeline, not the queue). N messages (default 20,000)
  of three distributors are inserted with generate_series before each run.
- procrastinate (PyPI, its own schema applied with `schema_manager.apply_schema_async` to a
  separate scratch database on the same server): N jobs deferred in bulk with
  `task.batch_defer_async`; each consumer registers as a worker and runs procrastinate's own
  `fetch_job` and `finish_job` queries (procrastinate.sql.queries, i.e. its versioned
  fetch and finish functions) — what its JobManager sends, without its job execution.

Prints jobs/s per configuration. Target: ours ≥ 5,000 jobs/s and not slower than procrastinate.
Usage: python bench/queue_vs_procrastinate.py [--jobs N] [--concurrency 4 16] [--batch B] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, scratch_database  # noqa: E402
from worker.core.queries import query  # noqa: E402
from worker.core.settings import load_settings  # noqa: E402
from worker.db import connection  # noqa: E402

JOBS = 20_000
CONCURRENCY = (4, 16)
BATCH = 32
LEASE_SECONDS = 300  # longer than any run: no lease expires while measuring
TARGET = 5_000  # jobs/s
DEFER_CHUNK = 5_000  # jobs per batch_defer_async call

COMPLETE = """update public.messages set state = 'processed', processed_at = now(), locked_by = null, lease_expires_at = null
               where id = %(id)s and state = 'processing' and locked_by = %(worker_id)s"""
COMPLETE_MANY = """update public.messages set state = 'processed', processed_at = now(), locked_by = null, lease_expires_at = null
                    where id = any(%(ids)s) and state = 'processing' and locked_by = %(worker_id)s"""
SEED_TENANTS = """
with d as (insert into public.distributors (slug, name) select 'bench-' || i, 'Bench ' || i from generate_series(1, 3) i
           returning id),
     c as (insert into public.customers (distributor_id, name)
           select d.id, 'Tienda ' || i from d cross join generate_series(1, 500) i returning id, distributor_id)
insert into public.conversations (distributor_id, customer_id, channel, handle)
select distributor_id, id, 'whatsapp', '+52155' || replace(id::text, '-', '') from c
"""  # 500 customers per distributor: the claim takes one message per customer at a time, as production does
SEED_MESSAGES = """
insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id, body,
                             available_at)
select v.distributor_id, v.id, v.customer_id, 'inbound', 'whatsapp', 'wamid.bench.' || g, 'quiero 3 cajas de agua',
       now() - interval '1 minute' + g * interval '1 microsecond'
  from generate_series(1, %(jobs)s) g
  join (select v.*, row_number() over (order by v.id) - 1 as k from public.conversations v) v on v.k = g %% 1500
"""


@dataclass(frozen=True, kw_only=True)
class Result:
    queue: str  # "ours (<the claim function>)" or "procrastinate 3.x"
    concurrency: int
    batch: int  # jobs per claim at most
    batched_completion: bool  # one statement completes the whole claim (else one per job)
    jobs: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds

    @property
    def label(self) -> str:
        completion = "one completion per claim" if self.batched_completion else "one completion per job"
        return f"{self.queue}, {self.concurrency} consumers, claims of {self.batch}, {completion}"


Consumer = Callable[[psycopg.AsyncConnection[dict[str, Any]], int], Awaitable[int]]


async def _timed(url: str, concurrency: int, consumer: Consumer) -> tuple[int, float]:
    conns = [await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) for _ in range(concurrency)]
    try:
        started = time.perf_counter()
        done = await asyncio.gather(*(consumer(conn, i) for i, conn in enumerate(conns)))
        return sum(done), time.perf_counter() - started
    finally:
        for conn in conns:
            await conn.close()


# ---- ours ------------------------------------------------------------------------------------------

def _claim_function(sql: str) -> str:
    match = re.search(r"(claim_messages_v\d+)", sql)
    return match[1] if match else "claim_messages"


def _reset_messages(url: str, jobs: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("select count(*) from public.conversations").fetchone() == (0,):
            conn.execute(SEED_TENANTS)
        conn.execute("delete from public.messages")
        conn.execute(SEED_MESSAGES, {"jobs": jobs})
        conn.execute("vacuum analyze public.messages")


async def _ours(url: str, claim_sql: str, concurrency: int, batch: int, batched_completion: bool) -> tuple[int, float]:
    async def consume(conn: psycopg.AsyncConnection[dict[str, Any]], i: int) -> int:
        worker_id = f"bench-{i}-{uuid.uuid4().hex[:6]}"
        params = {"worker_id": worker_id, "batch": batch, "lease_seconds": LEASE_SECONDS, "per_distributor": batch}
        done = 0
        while True:
            rows = await (await conn.execute(claim_sql, params)).fetchall()
            if not rows:
                return done
            if batched_completion:
                cur = await conn.execute(COMPLETE_MANY, {"ids": [r["message_id"] for r in rows], "worker_id": worker_id})
                assert cur.rowcount == len(rows)
            else:
                for row in rows:
                    await conn.execute(COMPLETE, {"id": row["message_id"], "worker_id": worker_id})
            done += len(rows)

    return await _timed(url, concurrency, consume)


def run_ours(url: str, *, jobs: int, concurrency: tuple[int, ...], batch: int) -> list[Result]:
    """The worker's claim: claims of 1 and of `batch` completed
    job by job (like procrastinate), and claims of `batch` completed with one statement."""
    worker_claim = query("claim_messages")
    claims = {_claim_function(worker_claim): worker_claim}
    modes = [(1, False), (batch, False), (batch, True)]
    results = []
    for name, claim_sql in claims.items():
        for n in concurrency:
            for size, batched in modes:
                _reset_messages(url, jobs)
                done, seconds = asyncio.run(_ours(url, claim_sql, n, size, batched))
                if done != jobs:
                    raise SystemExit(f"ours ({name}) completed {done} of {jobs} jobs")
                results.append(Result(queue=f"ours ({name})", concurrency=n, batch=size, batched_completion=batched,
                                      jobs=done, seconds=seconds))
                print(f"  {results[-1].label}: {results[-1].rate:,.0f} jobs/s", flush=True)
    return results


# ---- procrastinate ---------------------------------------------------------------------------------

@contextmanager
def _plain_database(url: str | None) -> Iterator[str]:
    admin = url or connection.database_url(load_settings(), start=True)
    name = f"orderflow_bench_pq_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield make_conninfo("", **{**conninfo_to_dict(admin), "dbname": name})
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


async def _procrastinate_setup(url: str, jobs: int, first: bool) -> None:
    import procrastinate

    logging.getLogger("procrastinate").setLevel(logging.ERROR)  # "App is instantiated in the main module": on purpose
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="bench_noop")
    async def noop() -> None:  # never runs: the bench fetches and finishes jobs itself
        return None

    async with app.open_async():
        if first:
            await app.schema_manager.apply_schema_async()
        for start in range(0, jobs, DEFER_CHUNK):
            await noop.batch_defer_async(*({} for _ in range(start, min(jobs, start + DEFER_CHUNK))))


def _reset_jobs(url: str, jobs: int, first: bool) -> None:
    if not first:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("truncate procrastinate_jobs, procrastinate_events, procrastinate_workers cascade")
    asyncio.run(_procrastinate_setup(url, jobs, first))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze procrastinate_jobs")


async def _procrastinate(url: str, concurrency: int) -> tuple[int, float]:
    from procrastinate import sql

    fetch, finish, register = sql.queries["fetch_job"], sql.queries["finish_job"], sql.queries["register_worker"]

    async def consume(conn: psycopg.AsyncConnection[dict[str, Any]], i: int) -> int:
        row = await (await conn.execute(register)).fetchone()
        assert row is not None
        worker_id = row["worker_id"]
        done = 0
        while True:
            job = await (await conn.execute(fetch, {"queues": None, "worker_id": worker_id})).fetchone()
            if job is None or job["id"] is None:
                return done
            await conn.execute(finish, {"job_id": job["id"], "status": "succeeded", "delete_job": False})
            done += 1

    return await _timed(url, concurrency, consume)


def run_procrastinate(url: str, *, jobs: int, concurrency: tuple[int, ...]) -> list[Result]:
    from importlib.metadata import version

    results = []
    for index, n in enumerate(concurrency):
        _reset_jobs(url, jobs, first=index == 0)
        done, seconds = asyncio.run(_procrastinate(url, n))
        if done != jobs:
            raise SystemExit(f"procrastinate completed {done} of {jobs} jobs")
        results.append(Result(queue=f"procrastinate {version('procrastinate')}", concurrency=n, batch=1,
                              batched_completion=False, jobs=done, seconds=seconds))
        print(f"  {results[-1].label}: {results[-1].rate:,.0f} jobs/s", flush=True)
    return results


# ---- both ------------------------------------------------------------------------------------------

def run(database_url: str | None = None, *, jobs: int = JOBS, concurrency: tuple[int, ...] = CONCURRENCY,
        batch: int = BATCH) -> list[Result]:
    """Every configuration, procrastinate first; the results in that order."""
    with _plain_database(database_url) as url:
        results = run_procrastinate(url, jobs=jobs, concurrency=concurrency)
    with scratch_database(database_url) as url:
        results += run_ours(url, jobs=jobs, concurrency=concurrency, batch=batch)
    return results


def worker_claim_results(results: list[Result]) -> list[Result]:
    """Ours with the worker's claim (it runs last)."""
    worker = [r for r in results if r.queue.startswith("ours")][-1].queue
    return [r for r in results if r.queue == worker]


def summary(results: list[Result]) -> list[str]:
    """One line per concurrency: ours (the worker's claim) against procrastinate."""
    lines = []
    theirs = {r.concurrency: r for r in results if r.queue.startswith("procrastinate")}
    ours = worker_claim_results(results)
    for n, other in sorted(theirs.items()):
        mine = [r for r in ours if r.concurrency == n]
        lines.append(f"{n} consumers: procrastinate {other.rate:,.0f} jobs/s; ours " + ", ".join(
            f"{r.rate:,.0f} ({r.rate / other.rate:.2f}x; claims of {r.batch}, "
            f"{'batched completion' if r.batched_completion else 'completion per job'})" for r in mine))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY))
    parser.add_argument("--batch", type=int, default=BATCH, help="our claim batch (batch 1 always runs too)")
    parser.add_argument("--database-url", default=None, help="server to create the scratch databases on")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.jobs:,} jobs per run; claim, then complete (no job body runs)")
    results = run(args.database_url, jobs=args.jobs, concurrency=tuple(args.concurrency), batch=args.batch)
    for line in summary(results):
        print(line)


if __name__ == "__main__":
    main()
