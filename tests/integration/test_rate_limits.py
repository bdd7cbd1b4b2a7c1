"""Rate limits per distributor: inbound 429s at the intake, AI calls in the worker, a fair claim.

The fairness test runs one worker twice on one database: distributor B alone, then B while A
floods the queue (2,000 messages queued first, A over its AI rate). B's p95 latency (message
row created → processed) must stay close to its latency alone; every A message still completes,
none failed, none with an attempt spent by deferral.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from ai.offline.analyzer import OfflineAnalyzer
from tests.support.flow import import_eval_catalogs, load_cases
from webhooks.inbound.app import create_app
from webhooks.inbound.store import InboundRecord, store, store_many
from worker.core.rate_limit import take_token
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.loop import WorkerStats
from worker.runtime import DelayedAnalyzer, build_worker

FLOOD = 2_000  # messages of A queued before B's
B_MESSAGES = 50
B_SPACING = 0.05  # seconds between two of B's messages
AI_DELAY = 0.02  # seconds per analysis (a slow AI provider, simulated)
CONCURRENCY = 8  # messages in flight in the worker
A_AI_PER_MINUTE = 6_000  # A's AI limit: 100 calls/s, below what the worker could do for A alone
A_AI_BURST = 10
FLOOD_TIMEOUT = 120.0  # seconds for A's flood to complete
LATENCY_FACTOR = 2.0  # B's p95 under the flood <= LATENCY_FACTOR * alone + LATENCY_SLACK
LATENCY_SLACK = 1.0  # seconds


def one(url: str, query: str, *params: object) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


async def open_repo(url: str, max_size: int = 6) -> Repository:
    repo = Repository(url, min_size=1, max_size=max_size)
    await repo.open()
    return repo


# --- inbound ---------------------------------------------------------------------------------

class WhatsApp:
    """A distributor with a WhatsApp Cloud integration of its own."""

    def __init__(self, url: str) -> None:
        slug = f"rl-{uuid.uuid4().hex[:10]}"
        self.phone_id = str(uuid.uuid4().int)[:15]
        self.app_secret = uuid.uuid4().hex
        self.distributor_id = str(one(url, "insert into distributors (slug, name) values (%s, %s) returning id", slug, slug))
        self.integration_id = str(one(
            url, "insert into external_integrations (distributor_id, kind, name, external_account_id, app_secret) "
                 "values (%s, 'whatsapp_cloud', 'wa', %s, %s) returning id", self.distributor_id, self.phone_id,
            self.app_secret))

    def request(self, *, signed: bool = True) -> tuple[bytes, dict[str, str]]:
        sender = "5491100000001"
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": self.phone_id},
                "contacts": [{"profile": {"name": "Tienda"}, "wa_id": sender}],
                "messages": [{"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                              "type": "text", "text": {"body": "2 cajas de agua"}}]}}]}]}).encode()
        secret = self.app_secret if signed else "not-the-secret"
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}

    def limit(self, url: str, per_minute: int, burst: int, *, own: bool = False) -> None:
        one(url, "insert into api_rate_limits (distributor_id, integration_id, scope, requests_per_minute, burst) "
                 "values (%s, %s, 'inbound', %s, %s) returning id",
            self.distributor_id, self.integration_id if own else None, per_minute, burst)

    def messages(self, url: str) -> int:
        return int(one(url, "select count(*) from messages where distributor_id = %s", self.distributor_id))


@pytest.fixture(scope="module")
def url(module_db_url: str) -> str:
    return module_db_url


@pytest.fixture
async def client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    repo = await open_repo(url, max_size=4)
    transport = httpx.ASGITransport(app=create_app(repo, load_settings()))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as http:
            yield http
    finally:
        await repo.close()


async def post(client: httpx.AsyncClient, wa: WhatsApp, *, signed: bool = True) -> httpx.Response:
    body, headers = wa.request(signed=signed)
    return await client.post("/webhooks/whatsapp", content=body, headers=headers)


@pytest.mark.usefixtures("verbose_logs")
async def test_over_the_inbound_limit_is_429_with_retry_after_and_stores_nothing(
    url: str, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    flooder, other = WhatsApp(url), WhatsApp(url)
    flooder.limit(url, per_minute=6, burst=3)  # 3 at once, then one every 10 s
    accepted = [(await post(client, flooder)).status_code for _ in range(3)]
    logger = logging.getLogger("orderflow.webhooks.intake")
    logger.addHandler(caplog.handler)
    try:
        refused = await post(client, flooder)
    finally:
        logger.removeHandler(caplog.handler)
    others = [(await post(client, other)).status_code for _ in range(20)]

    assert accepted == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json() == {"error": "rate_limited"}
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert flooder.messages(url) == 3
    assert others == [200] * 20 and other.messages(url) == 20
    logged = {(r.status, r.reason, r.distributor_id, r.retry_after)  # type: ignore[attr-defined]
              for r in caplog.records if getattr(r, "action", None) == "intake_rejected"}
    assert logged == {(429, "rate_limited", flooder.distributor_id, refused.headers["retry-after"])}


async def test_the_integrations_own_limit_wins_over_the_distributor_wide_one(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    wa.limit(url, per_minute=1, burst=1)
    wa.limit(url, per_minute=60, burst=5, own=True)
    statuses = [(await post(client, wa)).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_unsigned_requests_spend_no_tokens(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    wa.limit(url, per_minute=6, burst=2)
    forged = [(await post(client, wa, signed=False)).status_code for _ in range(5)]
    signed = [(await post(client, wa)).status_code for _ in range(2)]
    assert forged == [401] * 5
    assert signed == [200, 200]


async def test_without_a_row_the_default_inbound_limit_applies(url: str) -> None:
    wa = WhatsApp(url)
    repo = await open_repo(url, max_size=2)
    try:
        decisions = [await take_token(repo, distributor_id=wa.distributor_id, integration_id=wa.integration_id,
                                      scope="inbound", default_per_minute=60, default_burst=2) for _ in range(3)]
        unlimited = await take_token(repo, distributor_id=wa.distributor_id, scope="ai")
    finally:
        await repo.close()
    assert [d.allowed for d in decisions] == [True, True, False]
    assert 0.5 < decisions[2].retry_after <= 1.0  # one token a second
    assert decisions[2].retry_after_header == "1"
    assert (unlimited.allowed, unlimited.limited) == (True, False)


# --- the worker: deferral and the fair claim ---------------------------------------------------

def _records(cases: list[dict[str, Any]], distributor_id: str, slug: str, count: int, prefix: str) -> list[InboundRecord]:
    texts = [c["text"] for c in cases if c["distributor"] == slug]
    return [InboundRecord(distributor_id=distributor_id, channel="whatsapp", provider_message_id=f"{prefix}{i:06d}",
                          handle=f"+5215511{i % 20:05d}", profile_name=f"Tienda {i % 20}", body=texts[i % len(texts)])
            for i in range(count)]


async def test_deferring_gives_the_attempt_back_and_delays_the_message(fresh_db_url: str, eval_dir: Path) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        await store_many(repo, _records(load_cases(eval_dir), ids["valle"], "valle", 1, "wamid.D"))
        [claim] = await repo.fetch_all("claim_messages", worker_id="w", batch=5, lease_seconds=60, per_distributor=5)
        assert claim["attempts"] == 1
        row = await repo.fetch_one("defer_messages", worker_id="w", ids=[claim["message_id"]], seconds=30.0)
        again = await repo.fetch_all("claim_messages", worker_id="w", batch=5, lease_seconds=60, per_distributor=5)
    finally:
        await repo.close()
    assert row is not None and row["deferred"] == 1
    assert again == []
    assert one(fresh_db_url, "select state::text || ':' || attempts || ':' || (available_at > now() + interval '25 seconds') "
                             "from messages where id = %s", claim["message_id"]) == "queued:0:true"


async def test_the_claim_interleaves_distributors_oldest_first(fresh_db_url: str, eval_dir: Path) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        cases = load_cases(eval_dir)
        await store_many(repo, _records(cases, ids["valle"], "valle", 20, "wamid.A"))
        await store_many(repo, _records(cases, ids["sol"], "sol", 3, "wamid.B"))
        rows = await repo.fetch_all("claim_messages", worker_id="w", batch=8, lease_seconds=60, per_distributor=8)
    finally:
        await repo.close()
    owners = ["A" if str(r["distributor_id"]) == ids["valle"] else "B" for r in rows]
    assert sorted(owners) == ["A"] * 5 + ["B"] * 3  # all of B's, though A's 20 were queued first


async def test_a_distributor_without_ai_tokens_is_not_claimed(fresh_db_url: str, eval_dir: Path) -> None:
    repo = await open_repo(fresh_db_url)
    try:
        ids = await import_eval_catalogs(repo, eval_dir)
        one(fresh_db_url, "insert into api_rate_limits (distributor_id, scope, requests_per_minute, burst) "
                          "values (%s, 'ai', 1, 2) returning id", ids["valle"])
        await store_many(repo, _records(load_cases(eval_dir), ids["valle"], "valle", 5, "wamid.A"))
        for _ in range(2):  # spend the burst
            assert (await take_token(repo, distributor_id=ids["valle"], scope="ai")).allowed
        held_back = await repo.fetch_all("claim_messages", worker_id="w", batch=5, lease_seconds=60, per_distributor=5)
    finally:
        await repo.close()
    assert held_back == []


async def _run_until(url: str, stats: list[WorkerStats], stop: asyncio.Event) -> None:
    repo = await open_repo(url, max_size=CONCURRENCY + 2)
    try:
        worker = build_worker(repo, load_settings(), analyzer=DelayedAnalyzer(OfflineAnalyzer(), AI_DELAY),
                              concurrency=CONCURRENCY, worker_id=f"fair-{uuid.uuid4().hex[:6]}", retry_base=0)
        stats.append(await worker.run(stop))
    finally:
        await repo.close()


async def _send_spread(repo: Repository, records: list[InboundRecord]) -> None:
    for record in records:
        await store(repo, record)
        await asyncio.sleep(B_SPACING)


async def _wait_processed(url: str, prefix: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while one(url, "select count(*) from messages where provider_message_id like %s and state = 'processed'",
              f"{prefix}%") < count:
        assert time.monotonic() < deadline, f"{prefix} messages not processed within {timeout} s"
        await asyncio.sleep(0.1)


def _p95_latency(url: str, prefix: str) -> float:
    return float(one(url, "select percentile_cont(0.95) within group (order by extract(epoch from processed_at - created_at)) "
                          "from messages where provider_message_id like %s", f"{prefix}%"))


async def test_one_distributors_flood_leaves_the_others_latency_alone(fresh_db_url: str, eval_dir: Path) -> None:
    url = fresh_db_url
    sender = await open_repo(url, max_size=2)
    stop = asyncio.Event()
    stats: list[WorkerStats] = []
    try:
        ids = await import_eval_catalogs(sender, eval_dir)
        cases = load_cases(eval_dir)
        a, b = ids["valle"], ids["sol"]
        one(url, "insert into api_rate_limits (distributor_id, scope, requests_per_minute, burst) "
                 "values (%s, 'ai', %s, %s) returning id", a, A_AI_PER_MINUTE, A_AI_BURST)
        worker = asyncio.create_task(_run_until(url, stats, stop))

        await _send_spread(sender, _records(cases, b, "sol", B_MESSAGES, "wamid.Balone."))
        await _wait_processed(url, "wamid.Balone.", B_MESSAGES, 30.0)
        alone = _p95_latency(url, "wamid.Balone.")

        await store_many(sender, _records(cases, a, "valle", FLOOD, "wamid.Aflood."))
        flood_queued = time.monotonic()
        await _send_spread(sender, _records(cases, b, "sol", B_MESSAGES, "wamid.Bflood."))
        await _wait_processed(url, "wamid.Bflood.", B_MESSAGES, 30.0)
        flooded = _p95_latency(url, "wamid.Bflood.")
        await _wait_processed(url, "wamid.Aflood.", FLOOD, FLOOD_TIMEOUT)
        flood_seconds = time.monotonic() - flood_queued
    finally:
        stop.set()
        if "worker" in locals():
            await worker
        await sender.close()

    print(f"B p95 alone {alone * 1000:.0f} ms, under A's flood {flooded * 1000:.0f} ms; "
          f"A's {FLOOD} done {flood_seconds:.1f} s after B's first; deferred {stats[0].deferred if stats else '?'}")
    assert flooded <= LATENCY_FACTOR * alone + LATENCY_SLACK
    # every A message completed once: none failed, no attempt spent by deferral, no errors recorded
    assert one(url, "select count(*) from messages where distributor_id = %s and state = 'processed' and attempts = 1",
               a) == FLOOD
    assert one(url, "select count(*) from ai_errors") == 0
    # A's AI calls kept to its rate: FLOOD calls cannot take less than (FLOOD - burst) / rate
    a_span = one(url, "select extract(epoch from max(processed_at) - min(processed_at))::float from messages "
                      "where distributor_id = %s and provider_message_id like 'wamid.Aflood.%%'", a)
    assert a_span >= 0.9 * (FLOOD - A_AI_BURST) * 60 / A_AI_PER_MINUTE
