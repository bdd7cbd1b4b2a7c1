"""Faults the platform rides out by itself: Postgres restarted under a running worker and delivery
loop, and the distributors' webhook receiver down for the first part of a run.

The test starts its own embedded server (the shared test server must not restart under other
tests), seeds 1,500 messages over the three eval distributors with webhook endpoints pointing
at a local receiver, and runs `orderflow worker` and `orderflow deliver` as real processes.
When about 30 % of the messages are processed the server is stopped in `immediate` mode (a
crash: no checkpoint, every connection cut), kept down for 2 s and started again. Nobody
restarts the processes: they must reconnect by themselves, process every message exactly once,
deliver every event exactly once per endpoint, and still stop cleanly on SIGTERM.

The embedded server runs with synchronous_commit=off (a development setting): a crash may then
lose transactions the clients saw committed. A real database (Supabase) commits synchronously,
so the test turns it on for its own database; what is judged is the platform, not that setting.
(`kill -9` of a worker mid-run is in test_worker_failures.py.)
"""

from __future__ import annotations

import asyncio
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import psycopg
import pytest

from tests.support.flow import scalar, seed_messages
from tests.support.tenants import TEST_WHSEC
from worker.core.repository import Repository
from worker.core.settings import REPO_ROOT, load_settings
from worker.db.embedded import EmbeddedPostgres, wait_until_accepting
from worker.db.migrate import migrate
from worker.demo.recorder import WebhookReceiver

TOTAL = 1_500  # messages
RESTART_AT = 0.3  # share of messages processed when the server goes down
DOWN_FOR = 2.0  # seconds the server stays down
PROGRESS_TIMEOUT = 60.0  # seconds to reach the restart point
FINISH_TIMEOUT = 90.0  # seconds, after the restart, to process and deliver everything (a delivery
# claimed just before the crash keeps its 60 s lease: that rare case still fits)
STOP_TIMEOUT = 30.0  # seconds for a process to exit on SIGTERM
RESUME_WITHIN = 10.0  # seconds from the server accepting connections again to the next processed message
ENDPOINTS = {"valle": ("a", "b"), "sol": ("a",), "northwind": ("a",)}  # two endpoints share valle's events


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A private embedded server (under the git-ignored .orderflow/), removed afterwards."""
    home = REPO_ROOT / ".orderflow" / f"faults-{uuid.uuid4().hex[:8]}"
    server = EmbeddedPostgres(data_dir=home / "pgdata", port=_free_port())
    try:
        server.start()
        wait_until_accepting(server.url)
        with psycopg.connect(server.url, autocommit=True) as conn:  # overrides the server's command line
            conn.execute(f"alter database {server.database} set synchronous_commit = on")
        assert scalar(server.url, "show synchronous_commit") == "on"
        yield server
    finally:
        try:
            server.stop(mode="immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)


def _spawn(command: str, url: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "ORDERFLOW_LEASE_SECONDS": "3", "ORDERFLOW_RETRY_BASE": "0",
           "ORDERFLOW_WORKER_CONCURRENCY": "16", "ORDERFLOW_ALLOW_PRIVATE_WEBHOOKS": "1"}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.Popen([sys.executable, "-m", "worker", command, "--log-level", "INFO"], cwd=REPO_ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _processed(url: str) -> int:
    return int(scalar(url, "select count(*) from messages where direction = 'inbound' and state = 'processed'"))


def _add_endpoints(url: str, receiver_url: str, ids: dict[str, str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for slug, names in ENDPOINTS.items():
            for name in names:
                conn.execute("insert into webhook_endpoints (distributor_id, url, secret, max_concurrency)"
                             " values (%s, %s, %s, 16)", (ids[slug], f"{receiver_url}{slug}/{name}", TEST_WHSEC))


async def _wait(condition: str, check: Callable[[], bool], procs: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path],
                timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        for name, proc in procs.items():
            assert proc.poll() is None, f"`orderflow {name}` exited ({proc.returncode}):\n{_tail(logs[name])}"
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {condition}\n" + "\n".join(
            f"--- {name} log ---\n{_tail(path)}" for name, path in logs.items())
        await asyncio.sleep(0.1)


async def test_postgres_restarted_mid_run_loses_and_doubles_nothing(
    own_server: EmbeddedPostgres, eval_dir: Path, tmp_path: Path
) -> None:
    url = own_server.url
    migrate(url, load_settings().migrations_dir)
    async with Repository(url, min_size=1, max_size=2) as repo:
        ids, _ = await seed_messages(repo, eval_dir, TOTAL)

    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "deliver")}
    with WebhookReceiver(secrets=[TEST_WHSEC]) as receiver, \
            logs["worker"].open("wb") as worker_log, logs["deliver"].open("wb") as deliver_log:
        _add_endpoints(url, receiver.url, ids)
        procs = {"worker": _spawn("worker", url, worker_log), "deliver": _spawn("deliver", url, deliver_log)}
        try:
            await _wait("30 % processed", lambda: _processed(url) >= TOTAL * RESTART_AT, procs, logs, PROGRESS_TIMEOUT)
            own_server.stop(mode="immediate")
            await asyncio.sleep(DOWN_FOR)
            own_server.start()
            back = time.monotonic()
            processed_at_restart = _processed(url)
            assert processed_at_restart < TOTAL, "the restart should land mid-run"
            await _wait("work resumes", lambda: _processed(url) > processed_at_restart, procs, logs, FINISH_TIMEOUT)
            resumed_after = time.monotonic() - back
            print(f"\nserver restarted at {processed_at_restart}/{TOTAL} processed; work resumed {resumed_after:.1f} s later")

            def delivered() -> bool:
                pending = scalar(url, "select count(*) from webhook_deliveries where state <> 'succeeded'")
                return bool(pending == 0 and len(receiver.requests) >= scalar(url, "select count(*) from webhook_deliveries"))

            await _wait("every message processed", lambda: _processed(url) == TOTAL, procs, logs, FINISH_TIMEOUT)
            await _wait("every delivery succeeded", delivered, procs, logs, FINISH_TIMEOUT)
            for name, proc in procs.items():
                assert proc.poll() is None, f"`orderflow {name}` did not survive the restart:\n{_tail(logs[name])}"
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            codes = {}
            for name, proc in procs.items():
                try:
                    codes[name] = proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes[name] = proc.wait()
        requests, base = receiver.requests, receiver.url

    # the processes reconnected by themselves and still stop cleanly
    for name, code in codes.items():
        assert code == 0, f"`orderflow {name}` exited with {code} on SIGTERM after the restart:\n{_tail(logs[name])}"
    assert resumed_after < RESUME_WITHIN, f"the worker resumed {resumed_after:.1f} s after the server was back:\n" + \
        _tail(logs["worker"])

    # every message analysed exactly once, one order per order message
    assert scalar(url, "select count(*) from messages where direction = 'inbound' and state <> 'processed'") == 0
    assert scalar(url, "select count(*) from ai_responses") == TOTAL
    assert scalar(url, "select count(distinct message_id) from ai_responses") == TOTAL
    order_messages = scalar(url, """select count(*) from ai_responses
                                     where intent = 'order' and jsonb_array_length(output -> 'lines') > 0""")
    assert order_messages > 0
    assert scalar(url, "select count(*) from orders") == order_messages
    assert scalar(url, "select count(distinct ai_source_message_id) from orders") == order_messages

    # every event delivered, signed, and seen once per endpoint
    with psycopg.connect(url) as conn:
        rows = conn.execute("""select d.event_id, e.url from webhook_deliveries d
                                join webhook_endpoints e on e.id = d.endpoint_id""").fetchall()
    expected = collections.Counter((str(event_id), str(endpoint_url).removeprefix(base)) for event_id, endpoint_url in rows)
    assert rows and len(expected) == len(rows), "one delivery per event and endpoint"
    seen = collections.Counter((r.headers["webhook-id"], r.path.lstrip("/")) for r in requests)
    assert all(r.verified for r in requests), "every webhook carries a valid signature"
    duplicates = {key: n for key, n in seen.items() if n > 1}
    assert not duplicates, f"{len(duplicates)} webhooks were delivered more than once, e.g. {next(iter(duplicates))}"
    assert seen == expected


RECEIVER_DOWN_TOTAL = 1_200  # messages: enough for the run to outlast the outage
FIRST_RETRY = (4.5, 5.5)  # seconds: the schedule's second attempt (5 s) with its +-10 % jitter


async def test_a_receiver_down_for_the_first_part_of_a_run_gets_every_event_once_on_schedule(
    fresh_db_url: str, eval_dir: Path, tmp_path: Path
) -> None:
    """`orderflow worker` and `orderflow deliver` run as real processes while the distributors'
    receiver is not listening (connection refused); it comes up a second after the first failed
    attempt. Every failed delivery must be retried on the schedule (5 s, jittered) and arrive
    exactly once, like the ones attempted after it came up."""
    url = fresh_db_url
    async with Repository(url, min_size=1, max_size=2) as repo:
        ids, _ = await seed_messages(repo, eval_dir, RECEIVER_DOWN_TOTAL)
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    _add_endpoints(url, base, ids)

    logs = {name: tmp_path / f"{name}.log" for name in ("worker", "deliver")}
    failures: dict[str, tuple[float, float]] = {}  # delivery id -> (failed at, next attempt at), epoch seconds

    def note_failures() -> bool:
        with psycopg.connect(url) as conn:
            for delivery_id, failed_at, next_at in conn.execute("""
                    select id::text, extract(epoch from updated_at)::float8, extract(epoch from next_attempt_at)::float8
                      from webhook_deliveries where attempts = 1 and delivered_at is null and last_error is not null"""):
                failures.setdefault(delivery_id, (failed_at, next_at))
        return bool(failures)

    with logs["worker"].open("wb") as worker_log, logs["deliver"].open("wb") as deliver_log:
        procs = {"worker": _spawn("worker", url, worker_log), "deliver": _spawn("deliver", url, deliver_log)}
        receiver = WebhookReceiver(secrets=[TEST_WHSEC], port=port)
        try:
            await _wait("a delivery fails against the closed port", note_failures, procs, logs, PROGRESS_TIMEOUT)
            up_by = time.monotonic() + 1.0
            while time.monotonic() < up_by:  # keep noting the failures of that second
                note_failures()
                await asyncio.sleep(0.05)
            receiver.start()

            def delivered() -> bool:
                note_failures()
                pending = scalar(url, "select count(*) from webhook_deliveries where state <> 'succeeded'")
                return bool(_processed(url) == RECEIVER_DOWN_TOTAL and pending == 0)

            await _wait("every delivery succeeded", delivered, procs, logs, FINISH_TIMEOUT)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs.values():
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            requests = receiver.requests
            receiver.stop()

    with psycopg.connect(url) as conn:
        rows = conn.execute("""select d.id::text, d.event_id, e.url, d.attempts, extract(epoch from d.delivered_at)::float8
                                 from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id""").fetchall()
    print(f"\n{len(failures)} of {len(rows)} deliveries failed while the receiver was down, then came on the first retry")
    assert failures, "some deliveries should have failed while the receiver was down"
    assert len(failures) < len(rows), "some deliveries should have been attempted after it came up"
    by_id = {r[0]: r for r in rows}
    for delivery_id, (failed_at, next_at) in failures.items():
        _, _, _, attempts, delivered_at = by_id[delivery_id]
        assert attempts == 2, f"delivery {delivery_id}: delivered on attempt {attempts}, expected the first retry"
        assert FIRST_RETRY[0] - 0.05 <= next_at - failed_at <= FIRST_RETRY[1] + 0.05
        assert delivered_at >= failed_at + FIRST_RETRY[0] - 0.05, "retried before its time"
    assert all(r[3] == 1 for r in rows if r[0] not in failures)

    expected = collections.Counter((str(event_id), str(endpoint_url).removeprefix(base)) for _, event_id, endpoint_url, _, _ in rows)
    seen = collections.Counter((r.headers["webhook-id"], r.path.lstrip("/")) for r in requests)
    assert all(r.verified for r in requests), "every webhook carries a valid signature"
    assert seen == expected, "every event exactly once per endpoint"
