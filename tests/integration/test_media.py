"""Voice notes and photos: fetched from the Graph API stand-in on 127.0.0.1, kept encrypted, and with an
OpenAI key transcribed (audio transcription API) or sent with the analysis (vision), through the real
openai SDK with respx answering at the HTTP layer; offline, or over a hard budget, they go to review
with the media kept. Retention clears the media with the body.
"""

from __future__ import annotations

import asyncio
import base64
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
import respx

from ai.analyzer import Analyzer
from ai.offline.analyzer import OfflineAnalyzer
from ai.openai.analyzer import OpenAIAnalyzer, OpenAIConfig
from tests.support.flow import import_eval_catalogs
from webhooks.inbound.app import create_app
from worker.admin.integration_tokens import store_access_token
from worker.core.encryption import Keyring
from worker.core.repository import Repository
from worker.core.settings import Settings, load_settings
from worker.demo.graph_api import GraphApiStandIn
from worker.media import CONTENT_COLUMN
from worker.runtime import build_worker

OGG = b"OggS\x00\x02" + bytes(range(200))  # the bytes of a voice note, as far as the type check reads
JPEG = b"\xff\xd8\xff\xe0" + bytes(300)
TRANSCRIPT = "Hola, soy Juan Pérez, me manda 3 cajas de coca 600 porfa"
OPENAI = "https://api.openai.com/v1"

pytestmark = pytest.mark.usefixtures("verbose_logs")


@pytest.fixture
def url(fresh_db_url: str) -> str:
    return fresh_db_url


@pytest.fixture
async def repo(url: str) -> AsyncIterator[Repository]:
    repository = Repository(url, min_size=1, max_size=6)
    await repository.open()
    yield repository
    await repository.close()


@pytest.fixture
def graph_api() -> Iterator[GraphApiStandIn]:
    with GraphApiStandIn(tokens={"media-token"}) as stand_in:
        yield stand_in


@pytest.fixture
def openai_api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()  # the Graph API stand-in is a real server
        yield router


def one(url: str, query: str, *params: object) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


class Shop:
    """The eval catalog's 'valle' distributor with a WhatsApp number whose token is stored."""

    def __init__(self, url: str, distributor_id: str) -> None:
        self.url, self.distributor_id = url, distributor_id
        self.phone_id, self.app_secret = str(uuid.uuid4().int)[:15], uuid.uuid4().hex
        self.integration_id = str(one(url, "insert into external_integrations (distributor_id, kind, name, "
                                           "external_account_id, app_secret) values (%s, 'whatsapp_cloud', 'wa', %s, %s) "
                                           "returning id", distributor_id, self.phone_id, self.app_secret))

    async def post(self, repo: Repository, message: dict[str, Any]) -> str:
        value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "1555", "phone_number_id": self.phone_id},
                 "contacts": [{"profile": {"name": "Tienda"}, "wa_id": message["from"]}], "messages": [message]}
        body = json.dumps({"object": "whatsapp_business_account",
                           "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}]}).encode()
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(repo, load_settings())),
                                     base_url="http://intake.test") as client:
            response = await client.post("/webhooks/whatsapp", content=body, headers={
                "content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"})
        assert response.status_code == 200 and response.json()["stored"] == 1
        return str(one(self.url, "select id from messages where provider_message_id = %s", message["id"]))


@pytest.fixture
async def shop(url: str, repo: Repository, eval_dir: Path) -> Shop:
    ids = await import_eval_catalogs(repo, eval_dir)
    found = Shop(url, ids["valle"])
    one(url, "insert into ai_model_prices (provider, model, effective_from, input_per_mtok_micro_usd, "
             "cached_input_per_mtok_micro_usd, output_per_mtok_micro_usd) values "
             "('openai', 'gpt-4o-mini', '2024-07-18', 150000, 75000, 600000) on conflict do nothing returning id")
    await store_access_token(repo, Keyring.from_settings(load_settings()), distributor_id=found.distributor_id,
                             integration_id=found.integration_id, token="media-token")
    return found


def voice_note(media_id: str) -> dict[str, Any]:
    return {"from": "5215550002222", "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1800000000", "type": "audio",
            "audio": {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}}


def photo(media_id: str, caption: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"id": media_id, "mime_type": "image/jpeg"}
    if caption:
        image["caption"] = caption
    return {"from": "5215550003333", "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1800000000", "type": "image",
            "image": image}


def analysis(sku: str = "CC-600-24", quantity: int = 3) -> httpx.Response:
    content = {"intent": "order", "action": "none", "closes_order": False, "language": "es", "delivery": None, "needs_review": False, "review_reasons": [],
               "lines": [{"op": "add", "text": f"{quantity} cajas de coca 600", "quantity": quantity, "unit": "caja", "sku": sku,
                          "confidence": 0.95, "evidence": "candidate 1"}],
               "reply": "¡Listo! Tu pedido: 3 cajas de Coca-Cola 600."}
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1800000000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": json.dumps(content), "refusal": None}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 100, "total_tokens": 1300}})


def settings_for(graph_api: GraphApiStandIn, *, key: str | None) -> Settings:
    return dataclasses.replace(load_settings(), openai_api_key=key, whatsapp_graph_url=graph_api.url,
                               whatsapp_api_version=graph_api.version)


async def work(repo: Repository, settings: Settings, analyzer: Analyzer) -> None:
    await build_worker(repo, settings, analyzer=analyzer, concurrency=1, worker_id="w").run(
        asyncio.Event(), until_idle=True)


def openai_analyzer() -> OpenAIAnalyzer:
    return OpenAIAnalyzer(OpenAIConfig(api_key="sk-test", max_attempts=1), http_client=httpx.AsyncClient())


async def test_a_voice_note_with_an_openai_key_is_transcribed_and_becomes_an_order(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn, openai_api: respx.MockRouter) -> None:
    graph_api.add_media("voice-1", OGG, "audio/ogg")
    transcribe = openai_api.post(f"{OPENAI}/audio/transcriptions").mock(return_value=httpx.Response(200, json={
        "text": TRANSCRIPT, "usage": {"type": "tokens", "input_tokens": 500, "output_tokens": 20, "total_tokens": 520}}))
    chat = openai_api.post(f"{OPENAI}/chat/completions").mock(return_value=analysis())
    message_id = await shop.post(repo, voice_note("voice-1"))

    await work(repo, settings_for(graph_api, key="sk-test"), openai_analyzer())

    assert transcribe.call_count == 1 and b"gpt-4o-mini-transcribe" in transcribe.calls[0].request.content
    prompt = json.loads(chat.calls[0].request.content)["messages"][1]["content"]
    assert "3 cajas de coca 600" in prompt and "Juan" not in prompt and "Pérez" not in prompt  # redacted transcript
    assert one(url, "select status::text from orders where ai_source_message_id = %s", message_id) == "created"
    assert one(url, "select needs_review from messages where id = %s", message_id) is False
    assert "<PERSON>" in one(url, "select body_redacted from messages where id = %s", message_id)
    usage = one(url, "select array_agg(model || ':' || cost_micro_usd order by cost_micro_usd desc) "
                     "from ai_usage_metrics where message_id = %s", message_id)
    assert usage == ["gpt-4o-mini-transcribe:1600", "gpt-4o-mini:240"]  # 500 x $3/M + 20 x $5/M; 1200 x $0.15/M + 100 x $0.6/M
    assert one(url, "select ai_cost_micro_usd from distributor_usage where distributor_id = %s", shop.distributor_id) == 1840
    assert one(url, "select transcript from message_media where message_id = %s", message_id) == TRANSCRIPT


async def test_a_photo_is_analysed_with_its_caption_and_the_image(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn, openai_api: respx.MockRouter) -> None:
    graph_api.add_media("photo-1", JPEG, "image/jpeg")
    chat = openai_api.post(f"{OPENAI}/chat/completions").mock(return_value=analysis())
    message_id = await shop.post(repo, photo("photo-1", caption="lo de la lista porfa"))

    await work(repo, settings_for(graph_api, key="sk-test"), openai_analyzer())

    content = json.loads(chat.calls[0].request.content)["messages"][1]["content"]
    assert [part["type"] for part in content] == ["text", "image_url"]
    assert "lo de la lista porfa" in content[0]["text"]
    assert content[1]["image_url"]["url"] == "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    assert one(url, "select status::text from orders where ai_source_message_id = %s", message_id) == "created"


async def test_offline_a_voice_note_goes_to_review_with_the_media_kept_encrypted(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn) -> None:
    graph_api.add_media("voice-2", OGG, "audio/ogg")
    message_id = await shop.post(repo, voice_note("voice-2"))

    await work(repo, settings_for(graph_api, key=None), OfflineAnalyzer())

    assert one(url, "select review_reasons from messages where id = %s", message_id) == ["media:audio"]
    sealed = one(url, "select content_encrypted from message_media where message_id = %s and state = 'fetched'", message_id)
    key = await Keyring.from_settings(load_settings()).data_key(repo, shop.distributor_id)
    assert base64.b64decode(key.open(bytes(sealed), CONTENT_COLUMN)) == OGG
    assert OGG not in bytes(sealed)


async def test_a_file_whose_bytes_are_not_its_type_is_refused_and_sent_to_review(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn, openai_api: respx.MockRouter) -> None:
    graph_api.add_media("photo-2", b"MZ\x90\x00 an executable", "image/jpeg")
    chat = openai_api.post(f"{OPENAI}/chat/completions").mock(return_value=analysis())
    message_id = await shop.post(repo, photo("photo-2"))

    await work(repo, settings_for(graph_api, key="sk-test"), openai_analyzer())

    assert chat.call_count == 0
    assert one(url, "select state || ':' || error from message_media where message_id = %s", message_id) == \
        "refused:the bytes are not image/jpeg"
    assert "media_refused:image" in one(url, "select review_reasons from messages where id = %s", message_id)


async def test_over_a_hard_budget_media_is_kept_but_not_sent_to_openai(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn, openai_api: respx.MockRouter) -> None:
    one(url, "insert into ai_budgets (distributor_id, monthly_budget_micro_usd, mode) values (%s, 1, 'hard') returning id",
        shop.distributor_id)
    one(url, "insert into distributor_usage (distributor_id, period, ai_cost_micro_usd) "
             "select id, date_trunc('month', now() at time zone timezone)::date, 5 from distributors where id = %s "
             "returning distributor_id", shop.distributor_id)
    graph_api.add_media("voice-3", OGG, "audio/ogg")
    transcribe = openai_api.post(f"{OPENAI}/audio/transcriptions").mock(return_value=httpx.Response(500))
    message_id = await shop.post(repo, voice_note("voice-3"))

    await work(repo, settings_for(graph_api, key="sk-test"), openai_analyzer())

    assert transcribe.call_count == 0
    assert set(one(url, "select review_reasons from messages where id = %s", message_id)) >= {"media:audio"}
    assert one(url, "select state from message_media where message_id = %s", message_id) == "fetched"


async def test_retention_clears_the_media_with_the_message_body(
        url: str, repo: Repository, shop: Shop, graph_api: GraphApiStandIn) -> None:
    graph_api.add_media("voice-4", OGG, "audio/ogg")
    message_id = await shop.post(repo, voice_note("voice-4"))
    await work(repo, settings_for(graph_api, key=None), OfflineAnalyzer())
    assert one(url, "select content_encrypted is not null from message_media where message_id = %s", message_id)

    one(url, "update messages set body = null, body_redacted = null, raw_payload_encrypted = null where id = %s "
             "returning id", message_id)
    assert one(url, "select state || ':' || (content_encrypted is null)::text || ':' || (transcript is null)::text "
                    "from message_media where message_id = %s", message_id) == "cleared:true:true"
