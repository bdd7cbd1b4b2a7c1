"""Outbound webhook delivery against a real Postgres and real HTTP receivers on 127.0.0.1.

The receivers (worker/demo/recorder.py) check every signature with the PyPI standardwebhooks
library. Time is compressed by DeliveryConfig.schedule_scale; Retry-After is not scaled.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from webhooks.outbound.delivery import Deliverer, DeliveryConfig, replay
from webhooks.outbound.schedule import JITTER, MAX_ATTEMPTS, SCHEDULE
from webhooks.outbound.signing import generate_secret
from worker.cli import app
from worker.core.repository import DatabaseUnavailable, Repository
from worker.demo.recorder import Reply, WebhookReceiver

POLL = 0.05  # seconds: the loop's poll interval in these tests
WAIT = 10.0  # seconds to wait for a state


pytestmark = pytest.mark.usefixtures("verbose_logs")


@pytest.fixture(scope="module")
def url(module_db_url: str) -> str:
    return module_db_url


@pytest.fixture(autouse=True)
def quiet_queue(url: str) -> Iterator[None]:
    """Each test starts with nothing due: leftovers of earlier tests are marked failed."""
    yield
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update webhook_deliveries set state = 'failed', locked_until = null where state = 'pending'")


@pytest.fixture
async def repo(url: str) -> AsyncIterator[Repository]:
    async with Repository(url, min_size=1, max_size=4) as repository:
        yield repository


def sql(url: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def one(url: str, query: str, *params: object) -> Any:
    rows = sql(url, query, *params)
    return rows[0][0] if rows else None


def distributor(url: str) -> str:
    slug = f"d-{uuid.uuid4().hex[:10]}"
    return str(one(url, "insert into distributors (slug, name) values (%s, %s) returning id", slug, slug))


def endpoint(url: str, distributor_id: str, target: str, *, secret: str | None = None, events: list[str] | None = None,
             max_concurrency: int = 4, **columns: object) -> tuple[str, str]:
    secret = secret or generate_secret()
    extra = "".join(f", {name} = %s" for name in columns)
    endpoint_id = str(one(url, "insert into webhook_endpoints (distributor_id, url, secret, event_types, max_concurrency) "
                              "values (%s, %s, %s, %s, %s) returning id",
                          distributor_id, target, secret, events or [], max_concurrency))
    if columns:
        sql(url, f"update webhook_endpoints set updated_at = now(){extra} where id = %s", *columns.values(), endpoint_id)
    return endpoint_id, secret


def enqueue(url: str, distributor_id: str, event_type: str = "order.created", data: str = '{"order_id": "o-1"}') -> int:
    return int(one(url, "select private.enqueue_event(%s, %s, %s::jsonb, null, null)", distributor_id, event_type, data))


def delivery(url: str, endpoint_id: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        cur = conn.execute("select * from webhook_deliveries where endpoint_id = %s order by created_at", (endpoint_id,))
        names = [c.name for c in cur.description or ()]
        return dict(zip(names, cur.fetchone() or (), strict=False))


async def until(url: str, query: str, *params: object, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not one(url, query, *params):
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true within {timeout} s: {query} {params}")
        await asyncio.sleep(POLL)


@asynccontextmanager
async def delivering(repo: Repository, **config: Any) -> AsyncIterator[Deliverer]:
    """A delivery loop in the background for the duration of the block."""
    options: dict[str, Any] = {"allow_private": True, "poll_interval": POLL, **config}
    deliverer = Deliverer(repo=repo, config=DeliveryConfig(**options), worker_id=f"test-{uuid.uuid4().hex[:6]}")
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        yield deliverer
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_an_event_is_delivered_signed_with_exactly_the_frozen_payload(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=204)) as rx:
        endpoint_id, secret = endpoint(url, d, rx.url)
        rx.secrets = [secret]
        assert enqueue(url, d) == 1
        async with delivering(repo):
            await until(url, "select state = 'succeeded' from webhook_deliveries where endpoint_id = %s", endpoint_id)
        row = delivery(url, endpoint_id)
        (request,) = rx.requests
    assert request.verified is True and rx.failed == 0
    assert request.body == bytes(row["payload"])
    assert request.headers["webhook-id"] == row["event_id"]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "orderflow-webhooks/1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30
    assert (row["attempts"], row["last_status_code"], row["locked_until"]) == (1, 204, None)
    assert row["delivered_at"] is not None
    assert one(url, "select last_success_at is not null and failing_since is null from webhook_endpoints where id = %s",
               endpoint_id)


async def test_retries_follow_the_schedule_with_one_webhook_id_until_dead(url: str, repo: Repository) -> None:
    scale = 5e-5  # the 27.6 hours of the schedule in about 5 s
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=500, body=b"boom: database down")) as rx:
        endpoint_id, secret = endpoint(url, d, rx.url)
        rx.secrets = [secret]
        enqueue(url, d)
        async with delivering(repo, schedule_scale=scale):
            await until(url, "select state = 'dead' from webhook_deliveries where endpoint_id = %s", endpoint_id)
        requests = rx.requests
        row = delivery(url, endpoint_id)
    assert len(requests) == MAX_ATTEMPTS == row["attempts"]
    assert {r.headers["webhook-id"] for r in requests} == {row["event_id"]}
    assert all(r.verified for r in requests) and all(r.body == bytes(row["payload"]) for r in requests)
    for n in range(1, MAX_ATTEMPTS):
        gap = requests[n].received_at - requests[n - 1].received_at
        low, high = SCHEDULE[n] * scale * (1 - JITTER), SCHEDULE[n] * scale * (1 + JITTER)
        assert low <= gap <= high + POLL + 0.3, f"gap before attempt {n + 1}: {gap:.3f} s, not in [{low:.3f}, {high:.3f}]"
    assert (row["state"], row["last_status_code"], row["last_error"]) == ("dead", 500, "http_status: 500")
    assert row["response_snippet"] == "boom: database down"
    assert one(url, "select enabled and failing_since is not null from webhook_endpoints where id = %s", endpoint_id)


async def test_retry_after_pushes_the_next_attempt_later(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(replies=[Reply(status=429, headers={"retry-after": "1"})], default=Reply(status=200)) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo, schedule_scale=1e-6):
            await until(url, "select state = 'succeeded' from webhook_deliveries where endpoint_id = %s", endpoint_id)
        first, second = rx.requests
    assert 1.0 <= second.received_at - first.received_at <= 1.0 + POLL + 0.5
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-timestamp"] <= second.headers["webhook-timestamp"]
    assert delivery(url, endpoint_id)["attempts"] == 2


async def test_a_binary_error_body_is_kept_as_a_snippet_and_the_retry_is_scheduled(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(replies=[Reply(status=502, body=b"\x00bad gateway \xff" + b"x" * 2000)]) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo, schedule_scale=1000.0):  # the retry is far away
            await until(url, "select attempts = 1 from webhook_deliveries where endpoint_id = %s", endpoint_id)
    row = delivery(url, endpoint_id)
    assert (row["state"], row["last_status_code"], row["last_error"]) == ("pending", 502, "http_status: 502")
    assert row["response_snippet"].startswith("\ufffdbad gateway \ufffdxxx") and len(row["response_snippet"]) == 500
    delay = (row["next_attempt_at"] - row["updated_at"]).total_seconds()  # both from the finishing transaction's now()
    assert SCHEDULE[1] * 1000 * (1 - JITTER) <= delay <= SCHEDULE[1] * 1000 * (1 + JITTER)


async def test_a_timeout_is_retried_and_a_slow_answer_within_the_timeout_succeeds(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(replies=[Reply(status=200, delay=1.5), Reply(status=200, delay=0.1)]) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo, timeout=0.4, schedule_scale=1e-6) as deliverer:
            await until(url, "select state = 'succeeded' from webhook_deliveries where endpoint_id = %s", endpoint_id)
        assert len(rx.requests) == 2
    assert deliverer.stats.outcomes == {"retry": 1, "succeeded": 1}
    assert delivery(url, endpoint_id)["attempts"] == 2


async def test_410_disables_the_endpoint_fails_its_pending_deliveries_and_tells_the_others(
    url: str, repo: Repository
) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=410)) as gone, WebhookReceiver(default=Reply(status=200)) as other:
        gone_id, _ = endpoint(url, d, gone.url, events=["order.created"], max_concurrency=1)
        other_id, _ = endpoint(url, d, other.url, events=["endpoint.disabled"])
        for _ in range(3):
            enqueue(url, d)
        async with delivering(repo):
            await until(url, "select count(*) = 1 from webhook_deliveries where endpoint_id = %s and state = 'succeeded'",
                        other_id)
        assert len(gone.requests) == 1
        (notice,) = other.requests
    assert one(url, "select not enabled and disabled_reason like 'gone:%%' and disabled_at is not null "
                    "from webhook_endpoints where id = %s", gone_id)
    states = sql(url, "select state::text, last_status_code, last_error from webhook_deliveries where endpoint_id = %s "
                      "order by attempts desc", gone_id)
    assert states == [("failed", 410, "http_status: 410")] + [("failed", None, "endpoint_disabled: gone")] * 2
    assert b'"type": "endpoint.disabled"' in notice.body and gone_id.encode() in notice.body
    assert one(url, "select count(*) from security_audit_log where distributor_id = %s "
                    "and event_type = 'webhook_endpoint_disabled' and details ->> 'endpoint_id' = %s", d, gone_id) == 1


async def test_an_endpoint_failing_longer_than_the_window_is_disabled_with_an_event(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=503)) as failing, WebhookReceiver(default=Reply(status=200)) as other:
        failing_id, _ = endpoint(url, d, failing.url, events=["order.created"])
        sql(url, "update webhook_endpoints set failing_since = now() - interval '6 days' where id = %s", failing_id)
        other_id, _ = endpoint(url, d, other.url, events=["endpoint.disabled"])
        enqueue(url, d)
        async with delivering(repo) as deliverer:
            await until(url, "select count(*) = 1 from webhook_deliveries where endpoint_id = %s and state = 'succeeded'",
                        other_id)
    assert deliverer.stats.disabled_endpoints == [failing_id]
    assert one(url, "select not enabled and disabled_reason like 'failing:%%' from webhook_endpoints where id = %s",
               failing_id)
    row = delivery(url, failing_id)
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 1, "endpoint_disabled: failing")
    assert b'"reason": "failing"' in other.requests[0].body
    assert one(url, "select count(*) from security_audit_log where distributor_id = %s "
                    "and event_type = 'webhook_endpoint_disabled'", d) == 1


async def test_key_rotation_signs_with_both_secrets_until_the_old_one_expires(url: str, repo: Repository) -> None:
    d = distributor(url)
    old = generate_secret()
    with WebhookReceiver(default=Reply(status=200)) as rx:
        endpoint_id, new = endpoint(url, d, rx.url, previous_secret=old,
                                    previous_secret_expires_at="2999-01-01T00:00:00Z")
        enqueue(url, d)
        async with delivering(repo):
            await until(url, "select count(*) = 1 from webhook_deliveries where endpoint_id = %s and state = 'succeeded'",
                        endpoint_id)
            sql(url, "update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = %s",
                endpoint_id)
            enqueue(url, d)
            await until(url, "select count(*) = 2 from webhook_deliveries where endpoint_id = %s and state = 'succeeded'",
                        endpoint_id)
        rotating, rotated = rx.requests
    assert len(rotating.headers["webhook-signature"].split()) == 2
    for secret in (new, old):
        Webhook(secret).verify(rotating.body, rotating.headers, json_parse=False)
    assert len(rotated.headers["webhook-signature"].split()) == 1
    Webhook(new).verify(rotated.body, rotated.headers, json_parse=False)
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(old).verify(rotated.body, rotated.headers, json_parse=False)


async def test_a_loopback_target_is_refused_when_private_targets_are_not_allowed(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver() as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo, allow_private=False):
            await until(url, "select state = 'failed' from webhook_deliveries where endpoint_id = %s", endpoint_id)
        assert rx.requests == []
    row = delivery(url, endpoint_id)
    assert (row["attempts"], row["last_status_code"], row["last_error"]) == (1, None, "blocked_address: loopback")


async def test_an_endpoint_never_receives_another_distributors_events(url: str, repo: Repository) -> None:
    a, b = distributor(url), distributor(url)
    with WebhookReceiver(default=Reply(status=200)) as rx_a, WebhookReceiver(default=Reply(status=200)) as rx_b:
        endpoint_a, _ = endpoint(url, a, rx_a.url)
        endpoint_b, _ = endpoint(url, b, rx_b.url)
        assert [enqueue(url, a) for _ in range(3)] == [1, 1, 1]
        async with delivering(repo):
            await until(url, "select count(*) = 3 from webhook_deliveries where endpoint_id = %s and state = 'succeeded'",
                        endpoint_a)
            await asyncio.sleep(2 * POLL)
        assert len(rx_a.requests) == 3 and rx_b.requests == []
        assert all(a.encode() in r.body and b.encode() not in r.body for r in rx_a.requests)
    assert one(url, "select count(*) from webhook_deliveries where endpoint_id = %s or distributor_id = %s",
               endpoint_b, b) == 0


async def test_replay_queues_a_dead_delivery_again_with_the_same_webhook_id(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=200)) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        sql(url, "update webhook_deliveries set state = 'dead', attempts = 8, last_status_code = 500 where endpoint_id = %s",
            endpoint_id)
        row = delivery(url, endpoint_id)
        assert await replay(repo, delivery_id=str(row["id"])) == 1
        assert one(url, "select state = 'pending' and attempts = 0 from webhook_deliveries where id = %s", row["id"])
        async with delivering(repo):
            await until(url, "select state = 'succeeded' from webhook_deliveries where id = %s", row["id"])
        (request,) = rx.requests
    assert request.headers["webhook-id"] == row["event_id"] and request.body == bytes(row["payload"])
    assert delivery(url, endpoint_id)["attempts"] == 1


def test_replay_by_time_range_takes_dead_and_failed_deliveries_of_one_endpoint(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = distributor(url)
    first, _ = endpoint(url, d, "https://example.invalid/one")
    second, _ = endpoint(url, d, "https://example.invalid/two")
    for _ in range(2):
        enqueue(url, d)
    sql(url, "update webhook_deliveries set state = 'dead' where distributor_id = %s", d)
    sql(url, "update webhook_deliveries set state = 'succeeded' where id = (select id from webhook_deliveries "
             "where endpoint_id = %s order by created_at limit 1)", first)
    monkeypatch.setenv("DATABASE_URL", url)
    since = one(url, "select (min(created_at) - interval '1 second')::text from webhook_deliveries where distributor_id = %s", d)
    result = CliRunner().invoke(app, ["webhooks", "replay", "--since", since.replace(" ", "T"),
                                      "--until", "2999-01-01T00:00:00+00:00", "--endpoint", first])
    assert result.exit_code == 0, result.output
    assert sql(url, "select endpoint_id::text, state::text, count(*) from webhook_deliveries where distributor_id = %s "
                    "group by 1, 2 order by 1, 2", d) == sorted([(first, "pending", 1), (first, "succeeded", 1),
                                                                   (second, "dead", 2)])
    assert "replayed 1 delivery" in result.output
    assert CliRunner().invoke(app, ["webhooks", "replay"]).exit_code != 0
    assert CliRunner().invoke(app, ["webhooks", "replay", "--id", "not-a-uuid"]).exit_code != 0
    assert CliRunner().invoke(app, ["webhooks", "replay", "--since", "2026-01-01", "--until", "2027-01-01"]).exit_code != 0


async def test_claims_respect_max_concurrency_and_skip_disabled_endpoints(url: str, repo: Repository) -> None:
    d = distributor(url)
    busy, _ = endpoint(url, d, "https://example.invalid/busy", max_concurrency=2)
    for _ in range(5):
        enqueue(url, d)
    claimed = await repo.fetch_all("claim_deliveries", worker_id="w1", batch=10, lease_seconds=60)
    assert [str(r["endpoint_id"]) for r in claimed] == [busy, busy]
    assert await repo.fetch_all("claim_deliveries", worker_id="w2", batch=10, lease_seconds=60) == []
    await repo.fetch_one("finish_deliveries", worker_id="w1", failing_window_seconds=3600.0,
                         results=f'[{{"id": "{claimed[0]["delivery_id"]}", "outcome": "succeeded", "status_code": 200}}]')
    assert len(await repo.fetch_all("claim_deliveries", worker_id="w2", batch=10, lease_seconds=60)) == 1
    sql(url, "update webhook_endpoints set enabled = false where id = %s", busy)
    sql(url, "update webhook_deliveries set locked_until = null, locked_by = null where endpoint_id = %s", busy)
    assert await repo.fetch_all("claim_deliveries", worker_id="w3", batch=10, lease_seconds=60) == []


async def test_a_late_result_of_a_worker_whose_lease_expired_is_ignored(url: str, repo: Repository) -> None:
    d = distributor(url)
    endpoint_id, _ = endpoint(url, d, "https://example.invalid/late")
    enqueue(url, d)
    (slow,) = await repo.fetch_all("claim_deliveries", worker_id="slow", batch=10, lease_seconds=1)
    await asyncio.sleep(1.1)
    (fast,) = await repo.fetch_all("claim_deliveries", worker_id="fast", batch=10, lease_seconds=60)
    assert fast["delivery_id"] == slow["delivery_id"]
    late = await repo.fetch_one("finish_deliveries", worker_id="slow", failing_window_seconds=3600.0,
                                results=f'[{{"id": "{slow["delivery_id"]}", "outcome": "dead", "status_code": 500}}]')
    assert late is not None and late["finished"] == 0
    assert delivery(url, endpoint_id)["state"] == "pending"


async def test_stopping_drains_the_attempts_in_flight(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=200, delay=0.5)) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo):
            await rx.wait_for(1)
        assert delivery(url, endpoint_id)["state"] == "succeeded"


async def test_attempts_cut_off_by_the_drain_timeout_are_given_back_uncounted(url: str, repo: Repository) -> None:
    d = distributor(url)
    with WebhookReceiver(default=Reply(status=200, delay=1.0)) as rx:
        endpoint_id, _ = endpoint(url, d, rx.url)
        enqueue(url, d)
        async with delivering(repo, drain_timeout=0.2) as deliverer:
            await rx.wait_for(1)
    assert deliverer.stats.outcomes == {"release": 1}
    row = delivery(url, endpoint_id)
    assert (row["state"], row["attempts"], row["locked_until"], row["locked_by"]) == ("pending", 0, None, None)


class FlakyRepository(Repository):
    """Loses the database for the first claims."""

    failures = 2

    async def fetch_all(self, name: str, /, **params: Any) -> list[dict[str, Any]]:
        if name == "claim_deliveries" and self.failures > 0:
            self.failures -= 1
            raise DatabaseUnavailable("connection refused (simulated)")
        return await super().fetch_all(name, **params)


async def test_the_loop_waits_out_a_lost_database(url: str) -> None:
    d = distributor(url)
    flaky = FlakyRepository(url, min_size=1, max_size=4)
    await flaky.open()
    try:
        with WebhookReceiver(default=Reply(status=200)) as rx:
            endpoint_id, _ = endpoint(url, d, rx.url)
            enqueue(url, d)
            async with delivering(flaky):
                await until(url, "select state = 'succeeded' from webhook_deliveries where endpoint_id = %s", endpoint_id)
            assert len(rx.requests) == 1 and flaky.failures == 0
    finally:
        await flaky.close()
