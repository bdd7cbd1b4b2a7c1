"""Inbound intake throughput: signed WhatsApp webhooks POSTed to a real `orderflow serve`.

The server (uvicorn, one process) runs in a subprocess on a scratch database; an httpx client
with C requests in flight (default 32) POSTs N payloads (default 3,000), each one new text
message signed with X-Hub-Signature-256, from 200 customers of one distributor. Prints
requests/s, messages stored (counted in the database afterwards), latency p50/p99 and the
machine. The server logs at WARNING (per-message INFO lines cost about a tenth of the rate).

Usage: python bench/inbound_intake.py [--requests N] [--concurrency C] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, percentile, scratch_database  # noqa: E402
from worker.core.settings import REPO_ROOT  # noqa: E402

PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "bench-app-secret-0123456789abcdef"
SERVER_START_TIMEOUT = 30.0  # seconds
CUSTOMERS = 200
BENCH_RATE_PER_MINUTE = 10_000_000  # inbound api_rate_limits row of the bench distributor


def payload(i: int) -> bytes:
    sender = f"54911{i % CUSTOMERS:08d}"
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Tienda {i % CUSTOMERS}"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": f"wamid.bench.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                      "type": "text", "text": {"body": f"Hola, mandame {i % 9 + 1} cajas de agua 500ml"}}]}}]}]}).encode()


def seed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("insert into distributors (slug, name) values ('bench', 'Bench') returning id").fetchone()
        assert row is not None
        conn.execute("insert into external_integrations (distributor_id, kind, name, external_account_id, app_secret) "
                     "values (%s, 'whatsapp_cloud', 'bench', %s, %s)", (row[0], PHONE_NUMBER_ID, APP_SECRET))
        # A limit the bench never reaches: it measures the cost of the check, not the 429s.
        conn.execute("insert into api_rate_limits (distributor_id, scope, requests_per_minute, burst) "
                     "values (%s, 'inbound', %s, %s)", (row[0], BENCH_RATE_PER_MINUTE, BENCH_RATE_PER_MINUTE))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "worker", "serve", "--port", str(port), "--log-level", "WARNING"],
                              cwd=REPO_ROOT, env={**os.environ, "DATABASE_URL": url})
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("orderflow serve did not start")
        time.sleep(0.1)


async def post_all(port: int, requests: int, concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    """POST every payload with `concurrency` in flight; one small client per two workers (httpcore's
    pool costs grow with its connection count, which would make the client the bottleneck)."""
    bodies = iter([payload(i) for i in range(requests)])
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30)
               for _ in range(-(-concurrency // 2))]

    async def worker(client: httpx.AsyncClient) -> None:
        for body in bodies:
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            started = time.perf_counter()
            response = await client.post("/webhooks/whatsapp", content=body, headers={
                "content-type": "application/json", "x-hub-signature-256": signature})
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(clients[i // 2]) for i in range(concurrency)))
        return time.perf_counter() - started, latencies, statuses
    finally:
        for client in clients:
            await client.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="server to create the scratch database on")
    args = parser.parse_args(argv)

    with scratch_database(args.database_url) as url:
        seed(url)
        port = free_port()
        server = start_server(url, port)
        try:
            elapsed, latencies, statuses = asyncio.run(post_all(port, args.requests, args.concurrency))
        finally:
            server.terminate()
            server.wait(10)
        with psycopg.connect(url) as conn:
            stored = int(conn.execute("select count(*) from messages").fetchone()[0])  # type: ignore[index]
    print(f"machine: {machine()}")
    print(f"requests: {args.requests} signed WhatsApp webhooks, {args.concurrency} in flight; statuses {statuses}")
    print(f"throughput: {args.requests / elapsed:,.0f} requests/s, {stored / elapsed:,.0f} messages stored/s "
          f"({stored} stored in {elapsed:.2f} s)")
    print(f"latency: p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms")
    if stored != args.requests:
        raise SystemExit("not every message was stored")


if __name__ == "__main__":
    main()
