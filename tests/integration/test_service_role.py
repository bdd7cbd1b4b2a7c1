"""Every service path works when the services connect as Supabase's `service_role`.

The README lets the worker, the delivery loop, the intake and the CLI connect as the database
owner or as service_role (BYPASSRLS, no ownership). Most tests connect as the owner; here one
connection string carries `-c role=service_role`, and a whole run goes through it: intake with
encryption, the worker (orders, usage, budget alerts, events, a failed message), delivery,
replay, a review correction, roll-ups, retention, pending encryption and the master key rotation.
A privilege the migrations forgot to grant shows up as a failure here.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ai.analyzer import AnalysisFailed, AnalysisRequest, AnalysisResult
from ai.offline.analyzer import OfflineAnalyzer
from tests.support.flow import scalar, seed_messages
from tests.support.tenants import TEST_WHSEC
from webhooks.outbound.delivery import Deliverer, DeliveryConfig, replay
from worker.admin.corrections import correct_line
from worker.admin.encrypt_pending import encrypt_pending
from worker.admin.retention import run_retention
from worker.core.encryption import Keyring, MasterKey, default_keyring, new_master_key
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.demo.recorder import WebhookReceiver
from worker.rollups import default_since, refresh_rollups
from worker.runtime import build_worker

MESSAGES = 60


def as_service_role(url: str) -> str:
    params = conninfo_to_dict(url)
    params["options"] = "-c role=service_role"
    return make_conninfo(**params)


class FailsFirst:
    """The offline analyzer, except that its first call fails for good (to reach fail_message)."""

    provider, model, prompt_version, paid = "offline", "offline-rules-v1", "offline-1", False
    reads_orders = True

    def __init__(self) -> None:
        self.inner = OfflineAnalyzer()
        self.calls = 0

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        self.calls += 1
        if self.calls == 1:
            raise AnalysisFailed("provider_error: the provider rejects this one", retryable=False)
        return await self.inner.analyze(request)


async def test_the_whole_service_runs_as_service_role(fresh_db_url: str, eval_dir: Path) -> None:
    url = as_service_role(fresh_db_url)
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone() == ("service_role",)
    keyring = default_keyring()  # the intake's
    repo = Repository(url, min_size=1, max_size=6)
    await repo.open()
    try:
        ids, _ = await seed_messages(repo, eval_dir, MESSAGES)
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute("insert into ai_budgets (distributor_id, monthly_budget_micro_usd) values (%s, 1)", (ids["valle"],))
        with WebhookReceiver(secrets=[TEST_WHSEC]) as receiver:
            with psycopg.connect(fresh_db_url, autocommit=True) as conn:
                for distributor_id in ids.values():
                    conn.execute("insert into webhook_endpoints (distributor_id, url, secret) values (%s, %s, %s)",
                                 (distributor_id, receiver.url, TEST_WHSEC))
            worker = build_worker(repo, load_settings(), analyzer=FailsFirst(), concurrency=8,
                                  retry_base=0, worker_id=f"svc-{uuid.uuid4().hex[:6]}")
            stats = await worker.run(until_idle=True)
            assert stats.processed + stats.failed == MESSAGES and stats.failed >= 1

            deliverer = Deliverer(repo=repo, config=DeliveryConfig(allow_private=True, poll_interval=0.05))
            await deliverer.run(asyncio.Event(), until_idle=True)
            delivered = scalar(fresh_db_url, "select count(*) from webhook_deliveries where state = 'succeeded'")
            assert delivered > 0 and delivered == len(receiver.requests)
            some = scalar(fresh_db_url, "select id::text from webhook_deliveries limit 1")
            assert await replay(repo, delivery_id=some) == 1

        line = scalar(fresh_db_url, "select id::text from order_products where review_reason is not null limit 1") or \
            scalar(fresh_db_url, "select id::text from order_products limit 1")
        await correct_line(repo, order_product_id=line, confirm=True)
        await refresh_rollups(repo, default_since())
        await run_retention(repo, batch=100)
        with psycopg.connect(fresh_db_url, autocommit=True) as conn:
            conn.execute("update customers set address = 'Calle 5 de Mayo 12'")
        assert (await encrypt_pending(repo, keyring)).customers > 0
        new = MasterKey.parse(new_master_key())
        assert await Keyring(new, previous=keyring.master).rotate_master(repo, new) == len(ids)
    finally:
        await repo.close()

    # what the run wrote, as the owner sees it
    assert scalar(fresh_db_url, "select count(*) from orders") > 0
    assert scalar(fresh_db_url, "select sum(messages) from distributor_usage") == scalar(
        fresh_db_url, "select count(*) from messages where direction = 'inbound' and state = 'processed'")
    assert scalar(fresh_db_url, "select count(*) from messages where state = 'failed'") >= 1
    assert scalar(fresh_db_url, "select count(*) from customers where address is not null") == 0
