"""Outbound webhook delivery throughput: signed deliveries/s to a fast local receiver.

N deliveries (default 5,000) are enqueued through private.enqueue_event for E endpoints of one
distributor (default 4, max_concurrency 64 each), all pointing at a receiver in a separate
process: a raw asyncio HTTP/1.1 server that answers 204 and counts requests. The delivery loop
(webhooks.outbound.delivery.Deliverer, as `orderflow deliver` runs it) then runs until nothing is due.
Prints deliveries/s, attempt latency (POST to response) and enqueue→delivered latency
(p50/p99), and the machine. Target: ≥ 1,000 deliveries/s. Asserts nothing but the counts.

Usage: python bench/webhook_delivery.py [--deliveries N] [--endpoints E] [--concurrency C]
                                        [--database-url URL]   (default: the embedded server)
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, percentile, scratch_database  # noqa: E402
from webhooks.outbound.delivery import Deliverer, DeliveryConfig  # noqa: E402
from webhooks.outbound.signing import generate_secret  # noqa: E402
from worker.core.repository import Repository  # noqa: E402

RECEIVER_START_TIMEOUT = 10.0  # seconds
PAYLOAD_DATA = '{"order_id": "%s", "lines": [{"sku": "AGUA-500", "quantity": 3}, {"sku": "COCA-1500", "quantity": 2}]}'


# ---- the receiver (runs in its own process: `python bench/webhook_delivery.py receiver PORT`) ----

class _Counter(asyncio.Protocol):
    requests = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            _Counter.requests += 1
            self.transport.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")


async def _receive(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Counter, "127.0.0.1", port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    print(f"requests {_Counter.requests}", flush=True)


def start_receiver() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, __file__, "receiver", "0"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"receiver did not start: {line!r}")
    return process, int(line.split()[1])


def stop_receiver(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=RECEIVER_START_TIMEOUT)
    return int(out.split()[-1])


# ---- the benchmark -----------------------------------------------------------------------------

def seed(url: str, port: int, deliveries: int, endpoints: int, endpoint_concurrency: int) -> None:
    events = -(-deliveries // endpoints)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("insert into distributors (slug, name) values ('bench', 'Bench') returning id").fetchone()
        assert row is not None
        for i in range(endpoints):
            conn.execute("insert into webhook_endpoints (distributor_id, url, secret, max_concurrency) values (%s, %s, %s, %s)",
                         (row[0], f"http://127.0.0.1:{port}/hooks/{i}", generate_secret(), endpoint_concurrency))
        conn.execute("select private.enqueue_event(%s, 'order.created', format(%s, g)::jsonb, null, null) "
                     "from generate_series(1, %s) g", (row[0], PAYLOAD_DATA, events))
        conn.execute("analyze webhook_deliveries")


async def deliver(url: str, concurrency: int, batch_size: int) -> tuple[float, Deliverer]:
    repo = Repository(url, min_size=2, max_size=4)
    await repo.open()
    try:
        deliverer = Deliverer(repo=repo, config=DeliveryConfig(concurrency=concurrency, batch_size=batch_size,
                                                               allow_private=True))
        started = time.perf_counter()
        await deliverer.run(until_idle=True)
        return time.perf_counter() - started, deliverer
    finally:
        await repo.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--endpoint-concurrency", type=int, default=64, help="each endpoint's max_concurrency")
    parser.add_argument("--concurrency", type=int, default=64, help="attempts in flight")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="server to create the scratch database on")
    args = parser.parse_args(argv)

    receiver, port = start_receiver()
    try:
        with scratch_database(args.database_url) as url:
            seed(url, port, args.deliveries, args.endpoints, args.endpoint_concurrency)
            with psycopg.connect(url) as conn:
                total = int(conn.execute("select count(*) from webhook_deliveries").fetchone()[0])  # type: ignore[index]
            elapsed, deliverer = asyncio.run(deliver(url, args.concurrency, args.batch_size))
            with psycopg.connect(url) as conn:
                succeeded = int(conn.execute("select count(*) from webhook_deliveries where state = 'succeeded'")
                                .fetchone()[0])  # type: ignore[index]
                lags = [float(r[0]) for r in conn.execute(
                    "select extract(epoch from delivered_at - created_at) from webhook_deliveries "
                    "where state = 'succeeded'").fetchall()]
    finally:
        received = stop_receiver(receiver)
    attempts = [s * 1000 for s in deliverer.stats.latencies]
    print(f"machine: {machine()}")
    print(f"deliveries: {total} enqueued for {args.endpoints} endpoints, {succeeded} succeeded, {received} received; "
          f"outcomes {deliverer.stats.outcomes}")
    print(f"throughput: {succeeded / elapsed:,.0f} signed deliveries/s ({elapsed:.2f} s; concurrency {args.concurrency}, "
          f"claims of up to {args.batch_size})")
    print(f"attempt latency: p50 {percentile(attempts, 50):.1f} ms, p99 {percentile(attempts, 99):.1f} ms")
    print(f"enqueue→delivered (all enqueued at once): p50 {percentile(lags, 50):.2f} s, p99 {percentile(lags, 99):.2f} s")
    if succeeded != total or received < total:
        raise SystemExit("not every delivery succeeded")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "receiver":
        asyncio.run(_receive(int(sys.argv[2])))
    else:
        main()
