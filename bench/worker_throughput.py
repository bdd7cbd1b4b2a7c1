"""End-to-end worker throughput: messages/s and message→order latency (p50/p99).

Scenario 1 (offline): N messages (default 10,000) over the three eval distributors, ingested
through the intake (ingest_message, encrypting as in production) while W worker processes consume them with the offline analyzer.
Scenario 2 (slow AI): 1,000 messages with the offline analyzer behind a simulated 800 ms
latency, one worker process, to show in-flight concurrency (target: done in ≤ 15 s).

Prints figures; asserts nothing. Usage: python bench/worker_throughput.py [--messages N] [--workers W]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from ai.eval.datasets import eval_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, percentile, scratch_database  # noqa: E402
from tests.support.flow import import_eval_catalogs, load_cases, records_from_cases  # noqa: E402
from webhooks.inbound.store import store_many  # noqa: E402
from worker.core.repository import Repository  # noqa: E402
from worker.core.settings import REPO_ROOT  # noqa: E402

EVAL_DIR = eval_dir()


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        return int(row[0]) if row else 0


def latencies(url: str) -> list[float]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("""select extract(epoch from o.created_at - m.received_at)
                                 from orders o join messages m on m.id = o.ai_source_message_id""").fetchall()
    return [float(r[0]) for r in rows]


async def ingest(url: str, n: int, prefix: str, rate: float | None = None) -> float:
    """Store n messages as fast as possible, or paced at `rate` messages/s."""
    repo = Repository(url, min_size=4, max_size=8)
    await repo.open()
    try:
        ids = await import_eval_catalogs(repo, EVAL_DIR)
        records = records_from_cases(load_cases(EVAL_DIR), ids, n, customers_per_distributor=200, prefix=prefix)
        started = time.perf_counter()
        if rate is None:
            chunks = [records[i::8] for i in range(8)]
            await asyncio.gather(*(store_many(repo, chunk) for chunk in chunks))
        else:
            tick = 0.05  # seconds
            per_tick = max(1, round(rate * tick))
            for i in range(0, n, per_tick):
                await store_many(repo, records[i:i + per_tick])
                delay = started + (i + per_tick) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
        return time.perf_counter() - started
    finally:
        await repo.close()


def spawn_workers(url: str, workers: int, concurrency: int, extra_env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DATABASE_URL": url, "ORDERFLOW_WORKER_CONCURRENCY": str(concurrency), **extra_env}
    env.pop("OPENAI_API_KEY", None)
    return [subprocess.Popen([sys.executable, "-m", "worker", "worker", "--log-level", "WARNING"], cwd=REPO_ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]


def wait_done(url: str, total: int, timeout: float) -> float:
    started = time.perf_counter()
    while count(url, "select count(*) from messages where direction = 'inbound' and state in ('processed', 'failed')") < total:
        if time.perf_counter() - started > timeout:
            raise TimeoutError("workers did not finish")
        time.sleep(0.05)
    return time.perf_counter() - started


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)


def scenario(url: str, *, messages: int, workers: int, concurrency: int, env: dict[str, str], label: str,
             rate: float | None = None) -> dict[str, float]:
    procs = spawn_workers(url, workers, concurrency, env)
    time.sleep(2.0)  # let them import and connect before the clock starts
    try:
        started = time.perf_counter()
        ingest_s = asyncio.run(ingest(url, messages, prefix=f"wamid.{label}.", rate=rate))
        elapsed = wait_done(url, messages, timeout=600) + 0  # from the end of ingest
        total_s = time.perf_counter() - started
    finally:
        stop(procs)
    lat = latencies(url)
    return {"messages": messages, "ingest_s": ingest_s, "total_s": total_s, "rate": messages / total_s,
            "p50_s": percentile(lat, 50), "p99_s": percentile(lat, 99), "orders": len(lat), "tail_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--slow-messages", type=int, default=1_000)
    parser.add_argument("--paced-rate", type=float, default=200.0, help="messages/s for the latency scenario")
    parser.add_argument("--paced-messages", type=int, default=3_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with scratch_database(args.database_url) as url:
        r = scenario(url, messages=args.messages, workers=args.workers, concurrency=args.concurrency, env={}, label="fast")
        print(f"offline analyzer: {r['messages']} messages, {args.workers} worker processes x {args.concurrency} in flight: "
              f"{r['rate']:.0f} messages/s end to end ({r['total_s']:.1f} s incl. intake {r['ingest_s']:.1f} s); "
              f"message→order latency p50 {r['p50_s'] * 1000:.0f} ms, p99 {r['p99_s'] * 1000:.0f} ms over {r['orders']} orders")
    with scratch_database(args.database_url) as url:
        r = scenario(url, messages=args.paced_messages, workers=args.workers, concurrency=args.concurrency, env={},
                     label="paced", rate=args.paced_rate)
        print(f"offline analyzer, paced intake at {args.paced_rate:.0f} messages/s ({r['messages']} messages): "
              f"message→order latency p50 {r['p50_s'] * 1000:.0f} ms, p99 {r['p99_s'] * 1000:.0f} ms over {r['orders']} orders")
    with scratch_database(args.database_url) as url:
        r = scenario(url, messages=args.slow_messages, workers=1, concurrency=256,
                     env={"ORDERFLOW_SIMULATED_AI_LATENCY_MS": "800"}, label="slow")
        print(f"simulated 800 ms analyzer: {r['messages']} messages, 1 worker process x 256 in flight: "
              f"done in {r['total_s']:.1f} s ({r['rate']:.0f} messages/s); latency p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s")


if __name__ == "__main__":
    main()
