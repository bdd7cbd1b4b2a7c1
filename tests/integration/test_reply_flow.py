"""An order placed over WhatsApp gets its confirmation back on WhatsApp, and the customer's button
comes back as a message: the real intake app, the real worker (offline analyzer), the real reply
sender, the Graph API stand-in on 127.0.0.1 as Meta. The service connects as service_role, as it
may in production (README: Deploying), so every grant the reply path needs is exercised.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.support.flow import import_eval_catalogs
from webhooks.inbound.app import create_app
from worker.admin.integration_tokens import store_access_token
from worker.core.encryption import Keyring
from worker.core.repository import Repository
from worker.core.settings import load_settings
from worker.demo.graph_api import GraphApiStandIn
from worker.runtime import run_worker

pytestmark = pytest.mark.usefixtures("verbose_logs")


@pytest.fixture
def url(fresh_db_url: str) -> str:
    return fresh_db_url


def as_service_role(url: str) -> str:
    params = conninfo_to_dict(url)
    params["options"] = "-c role=service_role"
    return make_conninfo(**params)


@pytest.fixture
async def repo(url: str) -> AsyncIterator[Repository]:
    repository = Repository(as_service_role(url), min_size=1, max_size=6)
    await repository.open()
    yield repository
    await repository.close()


@pytest.fixture
def graph_api() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(tokens={"flow-token"}) as stand_in:
        yield stand_in


def one(url: str, query: str, *params: object) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def payload(phone_number_id: str, message: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
             "contacts": [{"profile": {"name": "Tienda"}, "wa_id": message["from"]}], "messages": [message]}
    return {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}]}


async def post(repo: Repository, app_secret: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(repo, load_settings())),
                                 base_url="http://intake.test") as client:
        response = await client.post("/webhooks/whatsapp", content=body, headers={
            "content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"})
    assert response.status_code == 200 and response.json()["stored"] == 1


async def test_a_whatsapp_order_is_confirmed_on_whatsapp_and_the_button_tap_comes_back_as_its_title(
        url: str, repo: Repository, graph_api: GraphApiStandIn, eval_dir: Path) -> None:
    ids = await import_eval_catalogs(repo, eval_dir)
    phone_id, app_secret = str(uuid.uuid4().int)[:15], uuid.uuid4().hex
    integration_id = str(one(url, "insert into external_integrations (distributor_id, kind, name, external_account_id, "
                                  "app_secret) values (%s, 'whatsapp_cloud', 'wa', %s, %s) returning id",
                             ids["valle"], phone_id, app_secret))
    keyring = Keyring.from_settings(load_settings())
    await store_access_token(repo, keyring, distributor_id=ids["valle"], integration_id=integration_id,
                             token="flow-token")
    customer = "5215550001111"
    await post(repo, app_secret, payload(phone_id, {
        "from": customer, "id": "wamid.IN1", "timestamp": "1800000000", "type": "text",
        "text": {"body": "Buenas tardes! me manda 3 cajas de coca 600 y 2 de sprite 600 porfa"}}))

    # `orderflow worker --deliver --until-idle`: the worker, then the reply sender in the same process.
    settings = dataclasses.replace(load_settings(), openai_api_key=None, whatsapp_graph_url=graph_api.url,
                                   whatsapp_api_version=graph_api.version)
    stats = await run_worker(as_service_role(url), settings, until_idle=True, concurrency=2, deliver=True)
    assert stats.orders == 1

    order_id = str(one(url, "select id from orders where distributor_id = %s and status = 'created'", ids["valle"]))
    [message] = graph_api.sent
    assert (message.to, message.phone_number_id, message.type) == (customer, phone_id, "interactive")
    buttons = [b["reply"] for b in message.body["interactive"]["action"]["buttons"]]
    assert [b["id"] for b in buttons] == [f"confirm:{order_id}", f"change:{order_id}"]
    assert one(url, "select status::text from reply_deliveries where order_id = %s", order_id) == "sent"

    await post(repo, app_secret, payload(phone_id, {
        "from": customer, "id": "wamid.IN2", "timestamp": "1800000060", "type": "interactive",
        "context": {"from": "15550000000", "id": message.wamid},
        "interactive": {"type": "button_reply", "button_reply": {"id": buttons[0]["id"], "title": buttons[0]["title"]}}}))
    kind, body = (one(url, "select kind from messages where provider_message_id = 'wamid.IN2'"),
                  one(url, "select body from messages where provider_message_id = 'wamid.IN2'"))
    assert (kind, body) == ("interactive", "Sí, confirmar")
    assert one(url, "select order_id::text || ':' || caption from order_attachments where kind = 'button_reply' "
                    "and message_id = (select id from messages where provider_message_id = 'wamid.IN2')") == \
        f"{order_id}:confirm"

    # Another customer presenting the same button id links nothing.
    await post(repo, app_secret, payload(phone_id, {
        "from": "5215550009999", "id": "wamid.IN3", "timestamp": "1800000120", "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": buttons[0]["id"], "title": buttons[0]["title"]}}}))
    assert one(url, "select count(*) from order_attachments a join messages m on m.id = a.message_id "
                    "where m.provider_message_id = 'wamid.IN3'") == 0
