"""The HTTP intake against a real Postgres: WhatsApp Cloud API and generic channel webhooks.

Most tests call the ASGI app in-process (httpx.ASGITransport); one goes through a real
`orderflow serve` (uvicorn) on 127.0.0.1.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from webhooks.inbound.app import MAX_BODY, create_app
from webhooks.outbound.signing import generate_secret, signature_headers
from worker.core.encryption import default_keyring
from worker.core.repository import DatabaseUnavailable, Repository
from worker.core.settings import REPO_ROOT, load_settings

FIXTURES = REPO_ROOT / "tests" / "unit" / "fixtures" / "whatsapp"
FIXTURE_PHONE_ID = "106540352242922"
SERVER_START_TIMEOUT = 20.0  # seconds for `orderflow serve` to answer /healthz


pytestmark = pytest.mark.usefixtures("verbose_logs")


@pytest.fixture(scope="module")
def url(module_db_url: str) -> str:
    return module_db_url


@pytest.fixture
async def repo(url: str) -> AsyncIterator[Repository]:
    async with Repository(url, min_size=1, max_size=4) as repository:
        yield repository


@pytest.fixture
async def client(repo: Repository) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(repo, load_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as http:
        yield http


def one(url: str, query: str, *params: object) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


class WhatsApp:
    """A distributor with a WhatsApp Cloud integration of its own phone_number_id."""

    def __init__(self, url: str) -> None:
        slug = f"w-{uuid.uuid4().hex[:10]}"
        self.phone_id = str(uuid.uuid4().int)[:15]
        self.app_secret = uuid.uuid4().hex
        self.verify_token = uuid.uuid4().hex
        self.distributor_id = str(one(url, "insert into distributors (slug, name) values (%s, %s) returning id", slug, slug))
        self.integration_id = str(one(
            url, "insert into external_integrations (distributor_id, kind, name, external_account_id, verify_token, "
                 "app_secret) values (%s, 'whatsapp_cloud', 'wa', %s, %s, %s) returning id",
            self.distributor_id, self.phone_id, self.verify_token, self.app_secret))

    def payload(self, fixture: str = "text") -> dict[str, Any]:
        text = (FIXTURES / f"{fixture}.json").read_text(encoding="utf-8").replace(FIXTURE_PHONE_ID, self.phone_id)
        data: dict[str, Any] = json.loads(text)
        return data

    def sign(self, body: bytes, secret: str | None = None) -> dict[str, str]:
        digest = hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()
        return {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}

    def messages(self, url: str) -> int:
        return int(one(url, "select count(*) from messages where distributor_id = %s", self.distributor_id))


class Channel:
    """A distributor with a generic channel integration (Standard Webhooks signed)."""

    def __init__(self, url: str) -> None:
        slug = f"c-{uuid.uuid4().hex[:10]}"
        self.key = f"gw-{uuid.uuid4().hex}"
        self.secret = generate_secret()
        self.distributor_id = str(one(url, "insert into distributors (slug, name) values (%s, %s) returning id", slug, slug))
        one(url, "insert into external_integrations (distributor_id, kind, name, channel, external_account_id, "
                 "signing_secret) values (%s, 'channel', 'sms gateway', 'sms', %s, %s) returning id",
            self.distributor_id, self.key, f"{generate_secret()} {self.secret}")

    def signed(self, data: object, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(data).encode()
        headers = signature_headers([secret or self.secret], f"msg_{uuid.uuid4().hex}", int(time.time()), body)
        return body, {**headers, "content-type": "application/json"}


def dumps(data: object) -> bytes:
    return json.dumps(data).encode()


async def test_a_signed_whatsapp_message_is_queued_with_its_customer_and_conversation(
    url: str, repo: Repository, client: httpx.AsyncClient
) -> None:
    wa = WhatsApp(url)
    payload = wa.payload()
    body = dumps(payload)
    response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert response.status_code == 200
    assert response.json() == {"stored": 1, "duplicates": 0, "statuses": 0, "errors": 0}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select m.state::text, m.channel, m.kind, m.body, cu.name, c.integration_id::text, "
            "       cu.phone, m.raw_payload, c.handle, cu.phone_hash, cu.phone_encrypted, c.handle_encrypted, "
            "       m.raw_payload_encrypted "
            "from messages m join customers cu on cu.id = m.customer_id join conversations c on c.id = m.conversation_id "
            "where m.distributor_id = %s", (wa.distributor_id,)).fetchall()
    [row] = rows
    assert row[:6] == ("queued", "whatsapp", "text", "Hola, mandame 3 cajas de agua 500ml y 2 de coca 1.5L", "Marta Test",
                       wa.integration_id)
    # the phone, the handle and the raw payload are stored encrypted, and open with the distributor's key
    phone, raw_payload, handle, phone_hash, phone_encrypted, handle_encrypted, raw_encrypted = row[6:]
    assert (phone, raw_payload) == (None, None)
    key = await default_keyring().data_key(repo, wa.distributor_id)
    assert handle == key.handle_hash("whatsapp", "5491100000001")
    assert phone_hash == key.phone_hash("5491100000001")
    assert key.open(phone_encrypted, "customers.phone") == "5491100000001"
    assert key.open(handle_encrypted, "conversations.handle") == "5491100000001"
    stored_payload = json.loads(key.open(raw_encrypted, "messages.raw_payload"))
    assert stored_payload["id"] == payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert b"5491100000001" not in b"".join(bytes(v) for v in (phone_hash, phone_encrypted, handle_encrypted, raw_encrypted))


async def test_the_same_payload_twice_stores_one_message(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    first = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    again = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert (first.json()["stored"], again.json()["stored"], again.json()["duplicates"]) == (1, 0, 1)
    assert wa.messages(url) == 1


async def test_a_bad_signature_is_401_stores_nothing_and_is_audited(
    url: str, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    logger = logging.getLogger("orderflow.webhooks.intake")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="orderflow.webhooks.intake"):
            response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body, secret="not-the-secret"))
    finally:
        logger.removeHandler(caplog.handler)
    assert response.status_code == 401 and "Traceback" not in response.text
    assert wa.messages(url) == 0
    assert one(url, "select count(*) from security_audit_log where distributor_id = %s and "
                    "event_type = 'inbound_signature_failed' and details ->> 'reason' = 'bad_signature'",
               wa.distributor_id) == 1
    rejected = {id(r): r for r in caplog.records if getattr(r, "action", None) == "intake_rejected"}
    (record,) = rejected.values()
    assert (record.reason, record.status, record.integration_id) == ("bad_signature", 401, wa.integration_id)  # type: ignore[attr-defined]
    assert all("mandame" not in str(vars(r)) for r in caplog.records), "the body must never be logged"


async def test_repeated_bad_signatures_write_one_audit_row_per_interval(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    for _ in range(5):
        response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body, secret="guess"))
        assert response.status_code == 401
    assert one(url, "select count(*) from security_audit_log where distributor_id = %s", wa.distributor_id) == 1


async def test_a_missing_signature_is_401(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    response = await client.post("/webhooks/whatsapp", content=body, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (401, {"error": "missing_signature"})
    assert wa.messages(url) == 0


async def test_an_unknown_phone_number_id_answers_like_a_registered_one_with_a_bad_signature(
        url: str, client: httpx.AsyncClient) -> None:
    """Issue 14, finding 4: the answer was 404 for an unknown number and 401 for a registered one,
    so an unauthenticated POST told them apart (red before the fix)."""
    wa = WhatsApp(url)
    unknown = wa.payload()
    unknown["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999999999999999"
    answers = []
    for data in (unknown, wa.payload()):
        body = dumps(data)
        for headers in ({"content-type": "application/json", "x-hub-signature-256": "sha256=" + "0" * 64},
                        {"content-type": "application/json"}):
            response = await client.post("/webhooks/whatsapp", content=body, headers=headers)
            answers.append((response.status_code, response.json(), sorted(response.headers.keys())))
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert [a[:2] for a in answers[:2]] == [(401, {"error": "bad_signature"}), (401, {"error": "missing_signature"})]


async def test_a_signed_payload_nested_900_levels_is_400(url: str, client: httpx.AsyncClient) -> None:
    """Issue 14, finding 12: it answered 503 after the signature check (RecursionError), so Meta
    retried it forever (red before the fix)."""
    wa = WhatsApp(url)
    data = wa.payload()
    deep: Any = "x"
    for _ in range(900):
        deep = [deep]
    data["entry"][0]["changes"][0]["value"]["deep"] = deep
    body = dumps(data)
    response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert (response.status_code, response.json()) == (400, {"error": "malformed_payload"})
    assert wa.messages(url) == 0


@pytest.mark.parametrize("body", [b'{"object": "whatsapp_business_account", "entry": [', b"\xff\xfe", b"[1, 2]",
                                  b'{"object": "page", "entry": []}', b""])
async def test_malformed_json_or_not_a_whatsapp_payload_is_400(url: str, client: httpx.AsyncClient, body: bytes) -> None:
    wa = WhatsApp(url)
    response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert (response.status_code, response.json()) == (400, {"error": "malformed_payload"})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"])
async def test_a_wrong_content_type_is_415(url: str, client: httpx.AsyncClient, content_type: str) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    headers = {**wa.sign(body), "content-type": content_type}
    assert (await client.post("/webhooks/whatsapp", content=body, headers=headers)).status_code == 415
    assert wa.messages(url) == 0


async def test_an_oversized_body_is_413_declared_or_streamed(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = b" " * (MAX_BODY + 1)
    assert (await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted while reading
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    streamed = await client.post("/webhooks/whatsapp", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


async def test_get_verification_echoes_the_challenge_for_a_known_token_only(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    params = {"hub.mode": "subscribe", "hub.verify_token": wa.verify_token, "hub.challenge": "1158201444"}
    ok = await client.get("/webhooks/whatsapp", params=params)
    assert (ok.status_code, ok.text, ok.headers["content-type"].split(";")[0]) == (200, "1158201444", "text/plain")
    for wrong in ({**params, "hub.verify_token": "nope"}, {**params, "hub.mode": "unsubscribe"}, {}):
        assert (await client.get("/webhooks/whatsapp", params=wrong)).status_code == 403


@pytest.mark.parametrize(("fixture", "kind", "reason", "attachment"), [
    ("image", "image", "media:image", ("image", "1479537139650973", "image/jpeg", "Esto es lo que necesito", None)),
    ("location", "location", "location", ("location", None, None, "Almacén Test", -34.6037)),
])
async def test_media_and_location_messages_are_stored_for_review_with_an_attachment(
    url: str, client: httpx.AsyncClient, repo: Repository, fixture: str, kind: str, reason: str,
    attachment: tuple[object, ...]
) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload(fixture))
    assert (await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))).json()["stored"] == 1
    with psycopg.connect(url) as conn:
        message = conn.execute("select id, kind, needs_review, review_reasons from messages where distributor_id = %s",
                               (wa.distributor_id,)).fetchone()
        assert message is not None and message[1:] == (kind, True, [reason])
        rows = conn.execute("select kind, media_id, mime_type, caption, location, caption_encrypted, location_encrypted"
                            " from order_attachments where message_id = %s", (message[0],)).fetchall()
    # Issue 14, finding 6: caption and location arrive encrypted only (plaintext before the fix).
    key = await default_keyring().data_key(repo, str(wa.distributor_id))
    (kind_, media_id, mime_type, caption, location, caption_sealed, location_sealed), = rows
    assert (caption, location) == (None, None)
    opened_location = json.loads(key.open(location_sealed, "order_attachments.location")) if location_sealed else None
    assert (kind_, media_id, mime_type, key.open(caption_sealed, "order_attachments.caption") if caption_sealed else None,
            opened_location["latitude"] if opened_location else None) == attachment


async def test_statuses_are_recorded_and_not_enqueued(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload("statuses"))
    response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert response.json() == {"stored": 0, "duplicates": 0, "statuses": 2, "errors": 0}
    assert wa.messages(url) == 0
    assert one(url, "select array_agg(external_status order by external_status) from external_message_mappings "
                    "where distributor_id = %s", wa.distributor_id) == ["delivered", "failed"]


async def test_a_batch_with_one_bad_message_stores_the_good_ones(url: str, client: httpx.AsyncClient) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload("batch_with_bad_message"))
    response = await client.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert (response.status_code, response.json()) == (200, {"stored": 2, "duplicates": 0, "statuses": 0, "errors": 1})
    assert wa.messages(url) == 2


async def test_a_signed_channel_message_is_stored_on_its_channel(
    url: str, repo: Repository, client: httpx.AsyncClient
) -> None:
    ch = Channel(url)
    body, headers = ch.signed({"messages": [{"id": "gw-1", "from": "+5491155550000", "name": "Ana", "text": "2 cajas",
                                             "channel": "telegram"}, {"id": "gw-2", "text": "no sender"}]})
    response = await client.post(f"/webhooks/channel/{ch.key}", content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"stored": 1, "duplicates": 0, "statuses": 0, "errors": 1})
    with psycopg.connect(url) as conn:
        rows = conn.execute("select m.channel, m.provider_message_id, c.handle, cu.name from messages m "
                            "join conversations c on c.id = m.conversation_id join customers cu on cu.id = m.customer_id "
                            "where m.distributor_id = %s", (ch.distributor_id,)).fetchall()
    key = await default_keyring().data_key(repo, ch.distributor_id)
    assert rows == [("telegram", "gw-1", key.handle_hash("telegram", "+5491155550000"), "Ana")]


async def test_a_badly_signed_channel_message_is_401_and_audited(url: str, client: httpx.AsyncClient) -> None:
    ch = Channel(url)
    body, headers = ch.signed({"messages": [{"id": "gw-1", "from": "+54911", "text": "hola"}]}, secret=generate_secret())
    response = await client.post(f"/webhooks/channel/{ch.key}", content=body, headers=headers)
    assert (response.status_code, response.json()) == (401, {"error": "no_matching_signature"})
    assert one(url, "select count(*) from messages where distributor_id = %s", ch.distributor_id) == 0
    assert one(url, "select count(*) from security_audit_log where distributor_id = %s "
                    "and event_type = 'inbound_signature_failed'", ch.distributor_id) == 1


async def test_an_unknown_channel_key_is_404(url: str, client: httpx.AsyncClient) -> None:
    ch = Channel(url)
    body, headers = ch.signed({"messages": [{"id": "gw-1", "from": "+54911", "text": "hola"}]})
    assert (await client.post("/webhooks/channel/gw-unknown", content=body, headers=headers)).status_code == 404


@pytest.mark.parametrize(("method", "path", "status"), [
    ("PUT", "/webhooks/whatsapp", 405), ("DELETE", "/webhooks/whatsapp", 405), ("GET", "/webhooks/channel/x", 405),
    ("POST", "/healthz", 405), ("GET", "/nowhere", 404), ("GET", "/healthz", 200),
])
async def test_routes_answer_wrong_methods_and_paths_with_4xx(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status


class DownRepository(Repository):
    async def fetch_one(self, name: str, /, **params: Any) -> dict[str, Any] | None:
        raise DatabaseUnavailable("connection refused (simulated)")


async def test_a_lost_database_is_503_with_retry_after(url: str) -> None:
    wa = WhatsApp(url)
    body = dumps(wa.payload())
    transport = httpx.ASGITransport(app=create_app(DownRepository(url), load_settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as http:
        response = await http.post("/webhooks/whatsapp", content=body, headers=wa.sign(body))
    assert (response.status_code, response.headers["retry-after"]) == (503, "5")
    assert response.json() == {"error": "database_unavailable"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_orderflow_serve_stores_a_signed_message_over_real_http(url: str, tmp_path: Path) -> None:
    wa = WhatsApp(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url}
    server = subprocess.Popen([sys.executable, "-m", "worker", "serve", "--port", str(port)], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("wb"))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        data = copy.deepcopy(wa.payload())
        body = dumps(data)
        response = httpx.post(f"{base}/webhooks/whatsapp", content=body, headers=wa.sign(body))
        assert (response.status_code, response.json()["stored"]) == (200, 1)
        assert httpx.post(f"{base}/webhooks/whatsapp", content=body, headers={"content-type": "text/plain"}).status_code == 415
        assert wa.messages(url) == 1
    finally:
        server.terminate()
        server.wait(10)
    log_lines = (tmp_path / "serve.log").read_text().splitlines()
    actions = [json.loads(line).get("action") for line in log_lines if line.startswith("{")]
    assert "intake_stored" in actions and "intake_rejected" in actions
    assert not any("mandame" in line for line in log_lines)
