"""The worker when things go wrong: budgets, a failing AI provider, a killed process.

The paid path uses the real OpenAI SDK over an httpx client mocked by respx (the network edge).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import respx

from ai.openai.analyzer import OpenAIAnalyzer, OpenAIConfig
from tests.support.flow import scalar, seed_messages
from worker.core.repository import Repository
from worker.core.settings import REPO_ROOT, load_settings
from worker.runtime import build_worker

BASE_URL = "https://llm.test/v1"
MODEL = "gpt-4o-mini"


def completion(content: dict[str, Any], *, prompt_tokens: int = 900, cached: int = 400, completion_tokens: int = 120) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(content), "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": cached}},
    }


def not_an_order() -> dict[str, Any]:
    return {"intent": "question", "language": "es", "lines": [], "delivery": None, "needs_review": False,
            "review_reasons": [], "reply": "Con gusto le ayudamos."}


def paid_analyzer(router: respx.Router, model: str = MODEL) -> OpenAIAnalyzer:
    config = OpenAIConfig(api_key="sk-test", base_url=BASE_URL, model=model, max_attempts=2,
                          backoff_base_s=0.0, backoff_cap_s=0.0, max_total_wait_s=0.0)
    return OpenAIAnalyzer(config, http_client=httpx.AsyncClient(transport=httpx.MockTransport(router.handler)))


async def run_one_worker(url: str, analyzer: OpenAIAnalyzer) -> None:
    async with Repository(url, min_size=1, max_size=4) as repo:
        worker = build_worker(repo, load_settings(), analyzer=analyzer, concurrency=8, retry_base=0, worker_id="wf")
        await worker.run(until_idle=True)


async def seed(url: str, eval_dir: Path, count: int) -> None:
    async with Repository(url, min_size=1, max_size=2) as repo:
        await seed_messages(repo, eval_dir, count)


def setup_budget(url: str, slug: str, *, budget: int, mode: str, spent: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        distributor_id = str(conn.execute("select id from distributors where slug = %s", (slug,)).fetchone()[0])  # type: ignore[index]
        conn.execute("insert into ai_budgets (distributor_id, monthly_budget_micro_usd, mode) values (%s, %s, %s)",
                     (distributor_id, budget, mode))
        conn.execute("""insert into distributor_usage (distributor_id, period, ai_cost_micro_usd)
                        select id, date_trunc('month', now() at time zone timezone)::date, %s from distributors where id = %s""",
                     (spent, distributor_id))
        conn.execute("""insert into ai_model_prices (provider, model, effective_from, input_per_mtok_micro_usd,
                        cached_input_per_mtok_micro_usd, output_per_mtok_micro_usd)
                        values ('openai', %s, '2024-01-01', 150000, 75000, 600000) on conflict do nothing""", (MODEL,))
        conn.execute("""insert into webhook_endpoints (distributor_id, url, secret)
                        values (%s, 'https://hooks.example.invalid/x', 'whsec_' || encode(sha256('k'::bytea), 'base64'))""",
                     (distributor_id,))
    return distributor_id


async def test_hard_budget_stops_paid_calls_and_sends_messages_to_review(fresh_db_url: str, eval_dir: Path) -> None:
    await seed(fresh_db_url, eval_dir, 40)
    valle = setup_budget(fresh_db_url, "valle", budget=1000, mode="hard", spent=1000)
    router = respx.Router(assert_all_called=False)
    route = router.post(f"{BASE_URL}/chat/completions").mock(return_value=httpx.Response(200, json=completion(not_an_order())))
    await run_one_worker(fresh_db_url, paid_analyzer(router))

    valle_messages = scalar(fresh_db_url, "select count(*) from messages where distributor_id = %s and direction = 'inbound'", (valle,))
    assert valle_messages == 15
    assert scalar(fresh_db_url, """select count(*) from messages where distributor_id = %s and direction = 'inbound'
                                   and state = 'processed' and needs_review and 'budget_exceeded' = any(review_reasons)""",
                  (valle,)) == valle_messages
    assert scalar(fresh_db_url, "select count(*) from ai_usage_metrics where distributor_id = %s", (valle,)) == 0
    # the other distributors have no budget: their 25 messages were analysed by the paid model
    assert route.call_count == 40 - valle_messages
    assert scalar(fresh_db_url, "select count(*) from ai_usage_metrics where provider = 'openai'") == 25


async def test_paid_usage_is_priced_from_the_table_and_crosses_soft_thresholds_once(fresh_db_url: str, eval_dir: Path) -> None:
    await seed(fresh_db_url, eval_dir, 40)
    # each call: (900-400) * 0.15 + 400 * 0.075 + 120 * 0.6 = 75 + 30 + 72 = 177 micro-USD
    valle = setup_budget(fresh_db_url, "valle", budget=1000, mode="soft", spent=0)
    router = respx.Router()
    router.post(f"{BASE_URL}/chat/completions").mock(return_value=httpx.Response(200, json=completion(not_an_order())))
    await run_one_worker(fresh_db_url, paid_analyzer(router))

    assert scalar(fresh_db_url, "select array_agg(distinct cost_micro_usd) from ai_usage_metrics") == [177]
    assert scalar(fresh_db_url, "select count(*) from ai_usage_metrics where price_id is null") == 0
    assert scalar(fresh_db_url, "select sum(cached_input_tokens) from ai_usage_metrics where distributor_id = %s", (valle,)) == 15 * 400
    # 15 calls x 177 = 2655 micro-USD against 1000: 50, 80 and 100 % each alerted exactly once
    assert scalar(fresh_db_url, "select array_agg(threshold_pct order by threshold_pct) from ai_budget_alerts where distributor_id = %s",
                  (valle,)) == [50, 80, 100]
    assert scalar(fresh_db_url, "select count(*) from webhook_deliveries where event_type = 'budget.threshold_reached'") == 3


async def test_a_model_without_a_price_records_its_tokens_and_sends_the_message_to_review(
    fresh_db_url: str, eval_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(fresh_db_url, eval_dir, 3)
    router = respx.Router()
    router.post(f"{BASE_URL}/chat/completions").mock(return_value=httpx.Response(200, json=completion(not_an_order())))
    with caplog.at_level(logging.WARNING, logger="orderflow.pipeline"):
        await run_one_worker(fresh_db_url, paid_analyzer(router, model="gpt-unpriced"))

    assert scalar(fresh_db_url, """select count(*) from ai_usage_metrics where model = 'gpt-unpriced' and price_id is null
                                   and input_tokens = 900 and cached_input_tokens = 400 and output_tokens = 120""") == 3
    assert scalar(fresh_db_url, """select count(*) from messages where direction = 'inbound' and state = 'processed'
                                   and needs_review and 'price_unknown' = any(review_reasons)""") == 3
    warnings = [r for r in caplog.records if getattr(r, "action", None) == "price_unknown"]
    assert len(warnings) == 3 and {getattr(r, "model", None) for r in warnings} == {"gpt-unpriced"}


async def test_the_migration_prices_the_default_model_and_gpt_4o_by_effective_date(fresh_db_url: str) -> None:
    rows = scalar(fresh_db_url, """select array_agg(model || ' ' || effective_from || ' ' || input_per_mtok_micro_usd
                                                order by model, effective_from)
                                     from ai_model_prices where model in ('gpt-4o', 'gpt-4o-mini')""")
    assert rows == ["gpt-4o 2024-05-13 5000000", "gpt-4o 2024-10-02 2500000", "gpt-4o-mini 2024-07-18 150000"]


async def test_a_message_the_provider_keeps_failing_on_is_retried_then_failed_and_visible(fresh_db_url: str, eval_dir: Path) -> None:
    await seed(fresh_db_url, eval_dir, 1)
    setup_budget(fresh_db_url, "valle", budget=10**9, mode="soft", spent=0)
    router = respx.Router()
    route = router.post(f"{BASE_URL}/chat/completions").mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    await run_one_worker(fresh_db_url, paid_analyzer(router))

    max_attempts = scalar(fresh_db_url, "select max_attempts from messages where direction = 'inbound'")
    assert route.call_count == 2 * max_attempts  # two HTTP tries per attempt, then the message is retried
    assert scalar(fresh_db_url, "select state::text from messages where direction = 'inbound'") == "failed"
    assert scalar(fresh_db_url, "select needs_review from messages where direction = 'inbound'") is True
    assert scalar(fresh_db_url, "select count(*) from ai_errors where retryable") == max_attempts
    assert scalar(fresh_db_url, "select count(*) from webhook_deliveries where event_type = 'message.failed'") == 1
    assert scalar(fresh_db_url, "select count(*) from orders") == 0


def _worker_process(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "ORDERFLOW_LEASE_SECONDS": "2", "ORDERFLOW_WORKER_CONCURRENCY": "16",
           "ORDERFLOW_RETRY_BASE": "0"}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.Popen([sys.executable, "-m", "worker", "worker", "--log-level", "WARNING"], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_worker_killed_mid_batch_loses_and_doubles_nothing(fresh_db_url: str, eval_dir: Path) -> None:
    total = 2000
    await seed(fresh_db_url, eval_dir, total)

    proc = _worker_process(fresh_db_url)
    try:
        deadline = time.monotonic() + 120
        while scalar(fresh_db_url, "select count(*) from messages where state = 'processed' and direction = 'inbound'") < 300:
            assert proc.poll() is None, "worker exited early"
            assert time.monotonic() < deadline, "worker made no progress"
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    in_flight_at_kill = scalar(fresh_db_url, "select count(*) from messages where state = 'processing'")
    processed_at_kill = scalar(fresh_db_url, "select count(*) from messages where state = 'processed' and direction = 'inbound'")
    assert processed_at_kill < total, "the kill should land mid-run"

    restarted = _worker_process(fresh_db_url)
    try:
        deadline = time.monotonic() + 180
        while scalar(fresh_db_url, "select count(*) from messages where state = 'processed' and direction = 'inbound'") < total:
            assert restarted.poll() is None, "restarted worker exited"
            assert time.monotonic() < deadline, "restarted worker did not finish"
            await asyncio.sleep(0.2)
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(30) == 0
    finally:
        if restarted.poll() is None:
            restarted.kill()

    assert scalar(fresh_db_url, "select count(*) from ai_responses") == total
    assert scalar(fresh_db_url, "select count(distinct message_id) from ai_responses") == total
    order_messages = scalar(fresh_db_url, """select count(*) from ai_responses
                                             where intent = 'order' and jsonb_array_length(output -> 'lines') > 0""")
    assert scalar(fresh_db_url, "select count(*) from orders") == order_messages
    assert scalar(fresh_db_url, "select count(distinct ai_source_message_id) from orders") == order_messages
    # messages caught in flight were claimed again after their lease expired, spending an attempt
    if in_flight_at_kill:
        assert scalar(fresh_db_url, "select count(*) from messages where attempts > 1") >= 1
