"""Replies sent per second to the Graph API stand-in (WhatsApp Cloud API on 127.0.0.1).

N replies (default 5,000) are queued for D distributors (default 4), each with one WhatsApp number
(throughput setting 1,000 messages/s, Meta's upper tier) and C customers whose handles and the
number's token are sealed with the distributor's data key, as the intake and `store_access_token`
store them. The Graph API stand-in (worker/demo/graph_api.py) runs in a separate process. The
reply sender (webhooks.outbound.replies.ReplySender, as `orderflow deliver` runs it) then runs
until nothing is due: claim round-robin, open the token and handle, POST, finish in batches.
Prints replies/s and the machine. Target: ≥ 500 replies/s on 2 cores. Asserts the counts only.

Usage: python bench/reply_send.py [--replies N] [--distributors D] [--concurrency C] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, scratch_database  # noqa: E402
from webhooks.outbound.graph import GraphConfig  # noqa: E402
from webhooks.outbound.replies import HANDLE_COLUMN, TOKEN_COLUMN, ReplyConfig  # noqa: E402
from worker.core.encryption import Keyring  # noqa: E402
from worker.core.repository import Repository  # noqa: E402
from worker.core.settings import load_settings  # noqa: E402
from worker.replies import build_sender  # noqa: E402

TARGET = 500  # replies/s
TOKEN = "bench-token"
CUSTOMERS = 50  # per distributor
START_TIMEOUT = 15.0  # seconds for the stand-in to listen


def start_stand_in() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, __file__, "stand-in"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"stand-in did not start: {line!r}")
    return process, line.split()[1]


def stop_stand_in(process: subprocess.Popen[str]) -> tuple[int, float]:
    """Stop the stand-in; returns (messages it accepted, its CPU seconds)."""
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=START_TIMEOUT)
    words = out.split()
    return int(words[-1]), float(words[-3])


def run_stand_in() -> None:
    from worker.demo.graph_api import GraphApiStandIn

    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    with GraphApiStandIn(tokens={TOKEN}) as stand_in:
        print(f"ready {stand_in.url}", flush=True)
        while not stop:
            time.sleep(0.05)
        print(f"cpu {time.process_time():.1f} sent {len(stand_in.sent)}", flush=True)


async def seed(url: str, keyring: Keyring, replies: int, distributors: int) -> None:
    repo = Repository(url, min_size=1, max_size=2)
    await repo.open()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for d in range(distributors):
                distributor_id = str(conn.execute("insert into distributors (slug, name) values (%s, %s) returning id",
                                                  (f"bench-{d}", f"Bench {d}")).fetchone()[0])  # type: ignore[index]
                integration_id = str(conn.execute(
                    "insert into external_integrations (distributor_id, kind, name, external_account_id, settings) "
                    "values (%s, 'whatsapp_cloud', 'wa', %s, %s) returning id",
                    (distributor_id, f"10{d:013d}", json.dumps({"messages_per_second": 1000}))).fetchone()[0])  # type: ignore[index]
                key = await keyring.data_key(repo, distributor_id)
                conn.execute("select public.set_integration_token_v1(%s, %s, %s)",
                             (distributor_id, integration_id, key.seal(TOKEN, TOKEN_COLUMN)))
                for c in range(CUSTOMERS):
                    handle = f"52155{d:02d}{c:06d}"
                    conn.execute(
                        "with cu as (insert into customers (distributor_id, name) values (%s, 'Tienda') returning id) "
                        "insert into conversations (distributor_id, customer_id, integration_id, channel, handle, "
                        "handle_encrypted) select %s, cu.id, %s, 'whatsapp', %s, %s from cu",
                        (distributor_id, distributor_id, integration_id, key.handle_hash("whatsapp", handle),
                         key.seal(handle, HANDLE_COLUMN)))
                per = replies // distributors + (1 if d < replies % distributors else 0)
                conn.execute(
                    "with c as (select id, customer_id, row_number() over (order by id) - 1 as n "
                    "             from conversations where distributor_id = %(d)s) "
                    "insert into messages (distributor_id, conversation_id, customer_id, direction, channel, body, "
                    "                      language, state) "  # the queue_reply trigger queues each reply
                    "select %(d)s, c.id, c.customer_id, 'outbound', 'whatsapp', "
                    "       '¡Gracias! Tu pedido: 3 × Coca-Cola 600 ml, 2 × Agua 1,5 L. Total $312.00', 'es', 'outbound' "
                    "  from generate_series(1, %(per)s) g join c on c.n = g %% %(customers)s",
                    {"d": distributor_id, "per": per, "customers": CUSTOMERS})
            conn.execute("analyze reply_deliveries")
    finally:
        await repo.close()


async def send(url: str, graph_url: str, keyring: Keyring, concurrency: int) -> tuple[float, float, dict[str, int]]:
    """Run the sender until nothing is due; returns (seconds, CPU seconds, outcomes)."""
    repo = Repository(url, min_size=2, max_size=4)
    await repo.open()
    try:
        settings = load_settings()
        config = ReplyConfig(concurrency=concurrency, graph=GraphConfig(graph_url=graph_url))
        sender = build_sender(repo, settings, keyring=keyring, config=config)
        started, cpu = time.perf_counter(), time.process_time()
        stats = await sender.run(until_idle=True)
        return time.perf_counter() - started, time.process_time() - cpu, stats.outcomes
    finally:
        await repo.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=5000)
    parser.add_argument("--distributors", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64, help="sends in flight")
    parser.add_argument("--database-url", default=None, help="server to create the scratch database on")
    args = parser.parse_args(argv)

    keyring = Keyring.from_settings(load_settings())
    stand_in, graph_url = start_stand_in()
    try:
        with scratch_database(args.database_url) as url:
            asyncio.run(seed(url, keyring, args.replies, args.distributors))
            elapsed, cpu, outcomes = asyncio.run(send(url, graph_url, keyring, args.concurrency))
            with psycopg.connect(url) as conn:
                sent = int(conn.execute("select count(*) from reply_deliveries where status = 'sent'")
                           .fetchone()[0])  # type: ignore[index]
    finally:
        received, stand_in_cpu = stop_stand_in(stand_in)
    print(f"machine: {machine()}")
    print(f"replies: {args.replies} queued for {args.distributors} numbers, {sent} sent, {received} accepted by the "
          f"stand-in; outcomes {outcomes}")
    print(f"throughput: {sent / elapsed:,.0f} replies/s ({elapsed:.2f} s; concurrency {args.concurrency})")
    print(f"cpu per reply: sender {cpu / max(sent, 1) * 1000:.2f} ms, stand-in {stand_in_cpu / max(received, 1) * 1000:.2f} ms "
          f"(load average before: {os.getloadavg()[0]:.1f})")
    if sent != args.replies or received != args.replies:
        raise SystemExit("not every reply was sent exactly once")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "stand-in":
        run_stand_in()
    else:
        main()
