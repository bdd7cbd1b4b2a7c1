"""Replies to the customer against a real Postgres and the Graph API stand-in on 127.0.0.1.

Replies are queued the way the worker queues them (record_outcome through its named query) and
sent by the real ReplySender with real httpx clients; status webhooks go through the real intake
app (signed as Meta signs them). Backoff is compressed by ReplyConfig.retry_base.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from webhooks.inbound.app import create_app
from webhooks.inbound.store import InboundRecord, store
from webhooks.outbound.graph import GraphConfig
from webhooks.outbound.replies import ReplyConfig, ReplySender
from webhooks.outbound.signing import generate_secret
from worker.admin.integration_tokens import store_access_token
from worker.cli import app
from worker.core.encryption import Keyring
from worker.core.repository import Repository, dumps
from worker.core.settings import load_settings
from worker.demo.graph_api import (
    PAIR_RATE_LIMITED,
    RATE_LIMITED,
    UNDELIVERABLE,
    WINDOW_CLOSED,
    GraphApiStandIn,
)
from worker.demo.recorder import WebhookReceiver
from worker.replies import button_titles

WAIT = 10.0  # seconds to wait for a state
WORKER = "test-worker"

pytestmark = pytest.mark.usefixtures("verbose_logs")


@pytest.fixture(scope="module")
def url(module_db_url: str) -> str:
    return module_db_url


@pytest.fixture
async def repo(url: str) -> AsyncIterator[Repository]:
    repository = Repository(url, min_size=1, max_size=6)
    await repository.open()
    yield repository
    await repository.close()


@pytest.fixture(scope="module")
def graph_api() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(tokens={"token-1"}) as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def quiet_queue(url: str) -> Iterator[None]:
    """Each test starts with nothing due: leftovers of earlier tests are marked failed."""
    yield
    sql(url, "update reply_deliveries set status = 'failed', locked_by = null where status = 'queued'")


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.from_settings(load_settings())


def sql(url: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def one(url: str, query: str, *params: object) -> Any:
    rows = sql(url, query, *params)
    return rows[0][0] if rows else None


class Tenant:
    """A distributor with one integration: WhatsApp Cloud (its own number), or a generic channel."""

    def __init__(self, url: str, *, kind: str = "whatsapp_cloud", reply_url: str | None = None) -> None:
        slug = f"r-{uuid.uuid4().hex[:10]}"
        self.url = url
        self.phone_id = str(uuid.uuid4().int)[:15]
        self.app_secret = uuid.uuid4().hex
        self.secret = generate_secret()
        self.channel = "whatsapp" if kind == "whatsapp_cloud" else "sms"
        self.distributor_id = str(one(url, "insert into distributors (slug, name) values (%s, %s) returning id", slug, slug))
        self.integration_id = str(one(
            url, "insert into external_integrations (distributor_id, kind, name, channel, external_account_id, "
                 "app_secret, signing_secret, settings) values (%s, %s, 'main', %s, %s, %s, %s, %s) returning id",
            self.distributor_id, kind, self.channel, self.phone_id, self.app_secret, self.secret,
            json.dumps({"reply_url": reply_url} if reply_url else {})))

    def reply(self, reply_id: str) -> dict[str, Any]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute("select * from reply_deliveries where id = %s", (reply_id,))
            row = cur.fetchone()
            assert row is not None and cur.description is not None
            return dict(zip([c.name for c in cur.description], row, strict=True))


async def queue_reply(repo: Repository, url: str, tenant: Tenant, *, to: str, reply: str, order: bool = False,
                      language: str = "es", integration: bool = True) -> dict[str, Any]:
    """An inbound message stored by the intake, then, in one transaction as record_outcome writes
    them, the order it made (if any) and the reply (the outbound message)."""
    stored = await store(repo, InboundRecord(
        distributor_id=tenant.distributor_id, channel=tenant.channel, provider_message_id=f"in.{uuid.uuid4().hex}",
        handle=to, profile_name="Tienda", body="3 cajas de coca",
        integration_id=tenant.integration_id if integration else None))
    with psycopg.connect(url) as conn:  # one transaction
        conversation_id, customer_id = conn.execute(
            "select conversation_id, customer_id from messages where id = %s", (stored.message_id,)).fetchone() or ()
        order_id = None
        if order:
            order_id = conn.execute(
                "insert into orders (distributor_id, customer_id, conversation_id, ai_source_message_id, status, currency) "
                "values (%s, %s, %s, %s, 'created', 'MXN') returning id",
                (tenant.distributor_id, customer_id, conversation_id, stored.message_id)).fetchone()[0]  # type: ignore[index]
        message_id = conn.execute(
            "insert into messages (distributor_id, conversation_id, customer_id, direction, channel, kind, body, language, "
            "state) values (%s, %s, %s, 'outbound', %s, 'text', %s, %s, 'outbound') returning id",
            (tenant.distributor_id, conversation_id, customer_id, tenant.channel, reply, language)).fetchone()[0]  # type: ignore[index]
    reply_id = one(url, "select id from reply_deliveries where message_id = %s", message_id)
    return {"reply_delivery_id": str(reply_id), "order_id": str(order_id) if order_id else None}


def sender(repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn, **overrides: Any) -> ReplySender:
    config = ReplyConfig(graph=GraphConfig(graph_url=graph_api.url, api_version=graph_api.version),
                         poll_interval=0.05, retry_base=0.02, allow_private=True, **overrides)
    return ReplySender(repo=repo, keyring=keyring, button_titles=button_titles, config=config)


async def send_until(repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn, done: Any,
                     **overrides: Any) -> ReplySender:
    """Run a sender until `done()` is true (retries come due while it runs)."""
    replies = sender(repo, keyring, graph_api, **overrides)
    stop = asyncio.Event()
    task = asyncio.create_task(replies.run(stop))
    deadline = time.monotonic() + WAIT
    try:
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the replies did not reach the expected state")
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
    return replies


async def whatsapp_tenant(repo: Repository, url: str, keyring: Keyring, token: str = "token-1") -> Tenant:
    tenant = Tenant(url)
    await store_access_token(repo, keyring, distributor_id=tenant.distributor_id, integration_id=tenant.integration_id,
                             token=token)
    return tenant


def wa_id() -> str:
    return "521" + str(uuid.uuid4().int)[:10]


async def post_status(repo: Repository, tenant: Tenant, wamid: str, status: str, *, to: str, at: int,
                      error_code: int | None = None) -> None:
    body = json.dumps(GraphApiStandIn.status_payload(tenant.phone_id, wamid, status, recipient=to, timestamp=at,
                                                     error_code=error_code)).encode()
    digest = hmac.new(tenant.app_secret.encode(), body, hashlib.sha256).hexdigest()
    transport = httpx.ASGITransport(app=create_app(repo, load_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers={
            "content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"})
    assert response.status_code == 200 and response.json()["statuses"] == 1


async def test_an_order_confirmation_goes_out_with_confirm_and_change_buttons_and_keeps_its_wamid(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    queued = await queue_reply(repo, url, tenant, to=to, reply="Tu pedido:\n3 × Coca 600\n¿Confirmas?", order=True)
    reply_id, order_id = queued["reply_delivery_id"], queued["order_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] != "queued")

    sent = [m for m in graph_api.sent if m.to == to]
    assert len(sent) == 1 and sent[0].phone_number_id == tenant.phone_id and sent[0].token == "token-1"
    interactive = sent[0].body["interactive"]
    assert sent[0].type == "interactive" and interactive["body"]["text"].startswith("Tu pedido:")
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": f"confirm:{order_id}", "title": "Sí, confirmar"}, {"id": f"change:{order_id}", "title": "Cambiar pedido"}]
    row = tenant.reply(reply_id)
    assert (row["status"], row["provider_message_id"], row["kind"], row["attempts"]) == ("sent", sent[0].wamid,
                                                                                         "confirmation", 1)
    assert one(url, "select provider_message_id from messages where id = %s", row["message_id"]) == sent[0].wamid


async def test_a_reply_without_an_order_is_a_text_message(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="¡Gracias por tu mensaje!"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    [message] = [m for m in graph_api.sent if m.to == to]
    assert message.type == "text" and message.body["text"]["body"] == "¡Gracias por tu mensaje!"


async def test_statuses_in_any_order_only_move_a_reply_forward(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    wamid = tenant.reply(reply_id)["provider_message_id"]
    base = 1_800_000_000
    await post_status(repo, tenant, wamid, "read", to=to, at=base + 30)
    await post_status(repo, tenant, wamid, "delivered", to=to, at=base + 20)
    await post_status(repo, tenant, wamid, "sent", to=to, at=base + 10)  # late: never overwrites read
    await post_status(repo, tenant, wamid, "failed", to=to, at=base + 40, error_code=131026)  # after read: ignored
    row = tenant.reply(reply_id)
    assert row["status"] == "read"
    assert (int(row["read_at"].timestamp()), int(row["delivered_at"].timestamp())) == (base + 30, base + 20)
    assert row["error_code"] is None


async def test_a_closed_window_sends_the_distributors_template_with_the_summary(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    sql(url, "update distributors set whatsapp_template_name = 'pedido_resumen', whatsapp_template_language = 'es_MX' "
             "where id = %s", tenant.distributor_id)
    to = wa_id()
    graph_api.fail(to, WINDOW_CLOSED)
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="Tu pedido:\n3 × Coca 600\n\tTotal $30"))[
        "reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] != "queued")
    [message] = [m for m in graph_api.sent if m.to == to]
    template = message.body["template"]
    assert message.type == "template" and template["name"] == "pedido_resumen"
    assert template["language"] == {"code": "es_MX"}
    assert template["components"][0]["parameters"] == [{"type": "text", "text": "Tu pedido: · 3 × Coca 600 · Total $30"}]
    row = tenant.reply(reply_id)
    assert (row["status"], row["via_template"]) == ("sent", True)
    assert (to, 131047) in graph_api.refused


async def test_a_131047_status_after_acceptance_sends_the_default_template_once(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="Recibido", language="pt"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    first = tenant.reply(reply_id)["provider_message_id"]
    await post_status(repo, tenant, first, "failed", to=to, at=1_800_000_000, error_code=131047)
    assert tenant.reply(reply_id)["status"] == "queued"
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    sent = [m for m in graph_api.sent if m.to == to]
    assert [m.type for m in sent] == ["text", "template"]
    assert sent[1].body["template"]["name"] == "order_update"
    assert sent[1].body["template"]["language"] == {"code": "pt_BR"}
    assert tenant.reply(reply_id)["provider_message_id"] == sent[1].wamid


async def test_rate_limits_are_retried_with_backoff_and_sent_once(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    graph_api.fail(to, RATE_LIMITED, PAIR_RATE_LIMITED)
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    assert [m.to for m in graph_api.sent].count(to) == 1
    assert [code for who, code in graph_api.refused if who == to] == [130429, 131056]
    assert tenant.reply(reply_id)["attempts"] == 3


async def test_undeliverable_fails_at_once_with_the_reason(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    graph_api.fail(to, UNDELIVERABLE)
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] != "queued")
    row = tenant.reply(reply_id)
    assert (row["status"], row["error_code"], row["attempts"]) == ("failed", "131026", 1)
    assert "Message undeliverable" in row["last_error"]
    assert [code for who, code in graph_api.refused if who == to] == [131026]


async def test_a_refused_token_marks_the_integration_failing_and_replies_wait_for_a_new_token(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring, token="expired-token")
    endpoint_secret = generate_secret()
    sql(url, "insert into webhook_endpoints (distributor_id, url, secret) values (%s, 'https://example.invalid/h', %s)",
        tenant.distributor_id, endpoint_secret)
    to = wa_id()
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
    await send_until(repo, keyring, graph_api, lambda: one(
        url, "select failing_since is not null from external_integrations where id = %s", tenant.integration_id))
    row = tenant.reply(reply_id)
    assert (row["status"], row["attempts"], row["locked_by"]) == ("queued", 0, None)
    events = sql(url, "select event_type, convert_from(payload, 'utf8')::jsonb -> 'data' ->> 'integration_id' "
                      "from webhook_deliveries where distributor_id = %s", tenant.distributor_id)
    assert ("integration.failing", tenant.integration_id) in events
    assert one(url, "select count(*) from reply_deliveries r join external_integrations i on i.id = r.integration_id "
                    "where r.id = %s and i.failing_since is null", reply_id) == 0  # not due while failing

    was_failing = await store_access_token(repo, keyring, distributor_id=tenant.distributor_id,
                                           integration_id=tenant.integration_id, token="token-1")
    assert was_failing
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
    [message] = [m for m in graph_api.sent if m.to == to]
    assert message.token == "token-1"
    assert one(url, "select count(*) from webhook_deliveries where distributor_id = %s "
                    "and event_type = 'integration.failing'", tenant.distributor_id) == 1


async def test_a_reply_whose_attempt_may_have_reached_meta_is_never_sent_again(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    tenant = await whatsapp_tenant(repo, url, keyring)
    to = wa_id()
    reply_id = (await queue_reply(repo, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
    claimed = await repo.fetch_all("claim_replies", worker_id="crashed", batch=10, lease_seconds=60, per_distributor=10)
    assert reply_id in [str(r["reply_id"]) for r in claimed]
    sql(url, "update reply_deliveries set locked_until = now() - interval '1 second' where id = %s", reply_id)
    await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] != "queued")
    row = tenant.reply(reply_id)
    assert row["status"] == "failed" and row["last_error"].startswith("outcome_unknown")
    assert [m for m in graph_api.sent if m.to == to] == []
    late = await repo.fetch_one("finish_replies", worker_id="crashed",
                                results=dumps([{"id": reply_id, "outcome": "retry", "delay": 0}]))
    assert late is not None and late["finished"] == 0  # the crashed worker's late result is ignored


async def test_a_generic_channel_reply_is_a_signed_post_and_a_2xx_is_sent(
        url: str, repo: Repository, keyring: Keyring, graph_api: GraphApiStandIn) -> None:
    with WebhookReceiver(replies=[503]) as receiver:
        tenant = Tenant(url, kind="channel", reply_url=receiver.url)
        receiver.secrets = [tenant.secret]
        queued = await queue_reply(repo, url, tenant, to="+5215550001234", reply="Tu pedido: 3 × Coca", order=True)
        reply_id = queued["reply_delivery_id"]
        await send_until(repo, keyring, graph_api, lambda: tenant.reply(reply_id)["status"] == "sent")
        requests = receiver.requests
    assert len(requests) == 2 and all(r.verified for r in requests)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"] == f"reply_{reply_id}"
    data = json.loads(requests[1].body)["data"]
    assert (data["to"], data["text"], data["order_id"]) == ("+5215550001234", "Tu pedido: 3 × Coca", queued["order_id"])
    assert [b["id"] for b in data["buttons"]] == [f"confirm:{queued['order_id']}", f"change:{queued['order_id']}"]
    assert tenant.reply(reply_id)["attempts"] == 2


async def test_a_reply_in_a_conversation_without_an_integration_is_kept_failed(
        url: str, repo: Repository, keyring: Keyring) -> None:
    tenant = Tenant(url)
    reply_id = (await queue_reply(repo, url, tenant, to=wa_id(), reply="ok", integration=False))["reply_delivery_id"]
    row = tenant.reply(reply_id)
    assert (row["status"], row["last_error"]) == ("failed", "no_integration")


async def test_claims_take_turns_across_distributors(url: str, repo: Repository, keyring: Keyring) -> None:
    busy, quiet = await whatsapp_tenant(repo, url, keyring), await whatsapp_tenant(repo, url, keyring)
    for _ in range(6):
        await queue_reply(repo, url, busy, to=wa_id(), reply="ok")
    await queue_reply(repo, url, quiet, to=wa_id(), reply="ok")
    rows = await repo.fetch_all("claim_replies", worker_id=WORKER, batch=3, lease_seconds=60, per_distributor=2)
    owners = [str(r["distributor_id"]) for r in rows]
    assert quiet.distributor_id in owners and len(rows) == 3
    await repo.fetch_one("finish_replies", worker_id=WORKER, results=dumps(
        [{"id": str(r["reply_id"]), "outcome": "release"} for r in rows]))


def test_orderflow_deliver_sends_the_queued_replies(url: str, graph_api: GraphApiStandIn) -> None:
    keyring = Keyring.from_settings(load_settings())
    to = wa_id()

    async def queue() -> tuple[Tenant, str]:
        repository = Repository(url, min_size=1, max_size=2)
        await repository.open()
        try:
            tenant = await whatsapp_tenant(repository, url, keyring)
            return tenant, (await queue_reply(repository, url, tenant, to=to, reply="ok"))["reply_delivery_id"]
        finally:
            await repository.close()

    tenant, reply_id = asyncio.run(queue())
    result = CliRunner().invoke(app, ["deliver", "--until-idle", "--log-level", "WARNING"], env={
        "DATABASE_URL": url, "WHATSAPP_GRAPH_URL": graph_api.url, "ORDERFLOW_WHATSAPP_API_VERSION": graph_api.version})
    assert result.exit_code == 0, result.output
    assert "replies: sent=1" in result.output
    assert tenant.reply(reply_id)["status"] == "sent" and [m.to for m in graph_api.sent].count(to) == 1
