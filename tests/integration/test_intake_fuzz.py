"""Hostile input to the HTTP intake: arbitrary bodies, headers, content types, methods and paths.

Properties, over a real Postgres: the intake answers only 2xx or 4xx (never 5xx: the database
is up), stores nothing from a request that is not correctly signed, and for a correctly signed
payload stores exactly what the pure parsers read from it. ORDERFLOW_FUZZ_EXAMPLES sets the
examples per test (default 120; the proof runs push it to thousands).

Hypothesis cannot drive coroutines, so the tests are sync and run the ASGI app on an event
loop of their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import _create_from_template, _drop
from webhooks.inbound.app import create_app
from webhooks.inbound.channel import parse_channel_payload
from webhooks.inbound.envelope import MalformedPayload, decode_json
from webhooks.inbound.whatsapp import parse_payload
from webhooks.outbound.signing import generate_secret, signature_headers
from worker.core.repository import Repository

EXAMPLES = int(os.environ.get("ORDERFLOW_FUZZ_EXAMPLES", "1000"))  # per test: 3,000 requests in all
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PHONE_ID = "fuzz-phone-1"
CHANNEL_KEY = "fuzz-channel-key"
APP_SECRET = "fuzz-app-secret-0123456789abcdef"
CHANNEL_SECRET = generate_secret()


@dataclass(frozen=True, kw_only=True)
class Harness:
    loop: asyncio.AbstractEventLoop
    client: httpx.AsyncClient
    db: psycopg.Connection[Any]
    whatsapp_distributor: str
    channel_distributor: str

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, content=body, headers=headers))

    def messages(self, distributor_id: str) -> int:
        row = self.db.execute("select count(*) from messages where distributor_id = %s", (distributor_id,)).fetchone()
        return int(row[0]) if row else 0


@pytest.fixture(scope="module")
def harness(admin_url: str, template_db: str) -> Iterator[Harness]:
    name = f"orderflow_fz_{uuid.uuid4().hex[:10]}"
    url = _create_from_template(admin_url, template_db, name)
    db = psycopg.connect(url, autocommit=True)
    ids = []
    for kind, account, secret_column, secret in (("whatsapp_cloud", PHONE_ID, "app_secret", APP_SECRET),
                                                 ("channel", CHANNEL_KEY, "signing_secret", CHANNEL_SECRET)):
        slug = f"fz-{uuid.uuid4().hex[:10]}"
        row = db.execute("insert into distributors (slug, name) values (%s, %s) returning id", (slug, slug)).fetchone()
        assert row is not None
        ids.append(str(row[0]))
        db.execute(f"insert into external_integrations (distributor_id, kind, name, external_account_id, verify_token, "
                   f"{secret_column}) values (%s, %s, 'fuzz', %s, 'fuzz-token', %s)", (row[0], kind, account, secret))
        # the fuzz is about parsing and signatures, not the inbound rate limit (tested in test_rate_limits.py)
        db.execute("insert into api_rate_limits (distributor_id, scope, requests_per_minute, burst) "
                   "values (%s, 'inbound', 10000000, 100000)", (row[0],))
    loop = asyncio.new_event_loop()
    repo = Repository(url, min_size=1, max_size=2)
    loop.run_until_complete(repo.open())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(repo)), base_url="http://intake.test")
    try:
        yield Harness(loop=loop, client=client, db=db, whatsapp_distributor=ids[0], channel_distributor=ids[1])
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(repo.close())
        loop.close()
        db.close()
        _drop(admin_url, name)


# ---- strategies ---------------------------------------------------------------------------

text = st.text(alphabet=st.characters(exclude_categories=[]), max_size=24)  # NUL and lone surrogates too
scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` about four times in five: enough valid requests reach the database, enough hostile ones don't."""
    return st.sampled_from([True] * 4 + [False]).flatmap(lambda pick: common if pick else rare)


json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                           max_leaves=12)
timestamps = st.sampled_from(["1763888400", "0", "99999999999999", "-1", "", "soon"]) | st.integers() | text
kinds = st.sampled_from(["text", "image", "audio", "document", "video", "sticker", "location", "interactive", "button",
                         "order", "reaction", "unsupported"]) | text
fresh_ids = st.builds(uuid.uuid4).map(str)  # not Hypothesis-chosen: unique, so most good messages are new
good_ids = fresh_ids.map(lambda u: f"wamid.{u}")
good_text_message = st.fixed_dictionaries({  # the common case: must be stored, whatever its text
    "from": st.sampled_from(["5491100000001", "5491100000002"]), "id": good_ids, "timestamp": st.just("1763888400"),
    "type": st.just("text"), "text": st.fixed_dictionaries({"body": text.filter(bool)})})
good_media_message = st.fixed_dictionaries({
    "from": st.just("5491100000001"), "id": good_ids, "timestamp": st.just("1763888400"), "type": st.just("image"),
    "image": st.fixed_dictionaries({"id": text.filter(bool), "mime_type": text}, optional={"caption": text})})
wild_message = st.fixed_dictionaries(
    {"from": st.sampled_from(["5491100000001", ""]) | text, "id": good_ids | text, "timestamp": timestamps, "type": kinds},
    optional={"text": st.fixed_dictionaries({"body": text}) | json_values,
              "image": st.fixed_dictionaries({"id": text, "mime_type": text}, optional={"caption": text}) | json_values,
              "location": st.fixed_dictionaries({"latitude": st.floats() | text, "longitude": st.floats() | text}),
              "interactive": json_values, "button": json_values, "order": json_values, "context": json_values},
)
wa_message = mostly(good_text_message | good_media_message, wild_message | json_values)
wa_status = st.fixed_dictionaries({"id": text, "status": st.sampled_from(["sent", "delivered", "read", "failed"]) | text,
                                   "timestamp": timestamps, "recipient_id": text})
wa_value = st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({"phone_number_id": mostly(st.just(PHONE_ID), st.just("unknown-phone") | text)})},
    optional={"contacts": json_values, "messages": st.lists(wa_message, min_size=1, max_size=3),
              "statuses": st.lists(wa_status | json_values, max_size=2)},
)
wa_change = st.fixed_dictionaries({"field": st.sampled_from(["messages"] * 4 + ["account_update"]), "value": wa_value})
wa_payload = st.fixed_dictionaries({
    "object": st.sampled_from(["whatsapp_business_account"] * 9 + ["page"]),
    "entry": st.lists(st.fixed_dictionaries({"changes": st.lists(mostly(wa_change, json_values), min_size=1, max_size=2)}),
                      min_size=1, max_size=2),
})
channel_message = st.fixed_dictionaries(
    {"id": st.uuids().map(str) | text, "from": st.sampled_from(["+5491155550000"]) | text, "text": text},
    optional={"name": text | st.none(), "timestamp": st.sampled_from(["2026-11-23T09:00:00Z", "2026-11-23"]) | text,
              "channel": st.sampled_from(["sms", "telegram", "web", "fax"]) | text},
)
good_channel_message = st.fixed_dictionaries(
    {"id": fresh_ids, "from": st.just("+5491155550000"), "text": text.filter(str.strip)},
    optional={"name": text, "channel": st.sampled_from(["sms", "telegram", "web"])})
channel_payload = st.fixed_dictionaries(
    {"messages": st.lists(good_channel_message | channel_message | json_values, min_size=1, max_size=4)})


def encoded(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return strategy.map(lambda data: json.dumps(data).encode())  # NaN, Infinity and escaped surrogates included


bodies_for_whatsapp = mostly(encoded(wa_payload), encoded(json_values) | st.binary(max_size=600))
bodies_for_channel = mostly(encoded(channel_payload), encoded(json_values) | encoded(channel_message) | st.binary(max_size=600))
content_types = mostly(st.sampled_from(["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]),
                       st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x", ""])
                       | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=30))
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60)
ANSWERS = {200, 400, 401, 404, 405, 413, 415}


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def expected_whatsapp_messages(body: bytes) -> int | None:
    """How many messages of the known number the parser reads from `body`; None: no 200 expected."""
    try:
        parsed = parse_payload(decode_json(body))
    except MalformedPayload:
        return None
    if PHONE_ID not in {change.phone_number_id for change in parsed.changes}:
        return None
    return sum(len(change.messages) for change in parsed.changes if change.phone_number_id == PHONE_ID)


@FUZZ
@given(body=bodies_for_whatsapp, content_type=content_types, signing=mostly(st.just("valid"), st.sampled_from(["wrong", "junk", "none"])),
       junk=header_text)
def test_whatsapp_intake_stores_only_signed_well_formed_messages(
    harness: Harness, body: bytes, content_type: str, signing: str, junk: str
) -> None:
    headers = {"content-type": content_type}
    if signing == "valid":
        headers["x-hub-signature-256"] = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    elif signing == "wrong":
        headers["x-hub-signature-256"] = "sha256=" + hmac.new(b"other", body, hashlib.sha256).hexdigest()
    elif signing == "junk":
        headers["x-hub-signature-256"] = junk
    before = harness.messages(harness.whatsapp_distributor)
    response = harness.request("POST", "/webhooks/whatsapp", body, headers)
    stored = harness.messages(harness.whatsapp_distributor) - before
    event(f"status {response.status_code}, stored {min(stored, 1)}+")
    assert response.status_code in ANSWERS, response.text
    expected = expected_whatsapp_messages(body)
    if signing == "valid" and is_json(content_type) and expected is not None:
        summary = response.json()
        assert response.status_code == 200 and summary["stored"] + summary["duplicates"] == expected
        assert stored == summary["stored"]
    else:
        assert stored == 0
        if response.status_code == 200:  # a body naming no business number at all: nothing to store
            assert response.json()["stored"] == 0


@FUZZ
@given(body=bodies_for_channel, content_type=content_types,
       signing=mostly(st.just("valid"), st.sampled_from(["wrong_secret", "stale", "junk", "none"])), junk=header_text,
       known_key=mostly(st.just(True), st.just(False)), key=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e,
                                                                     exclude_characters="/?#%"), min_size=1, max_size=30))
def test_channel_intake_stores_only_signed_well_formed_messages(
    harness: Harness, body: bytes, content_type: str, signing: str, junk: str, known_key: bool, key: str
) -> None:
    now = int(time.time())
    headers: dict[str, str] = {"content-type": content_type}
    if signing in ("valid", "stale"):
        headers |= signature_headers([CHANNEL_SECRET], "msg_fuzz", now - 3600 if signing == "stale" else now, body)
    elif signing == "wrong_secret":
        headers |= signature_headers([generate_secret()], "msg_fuzz", now, body)
    elif signing == "junk":
        headers |= {"webhook-id": junk, "webhook-timestamp": junk, "webhook-signature": junk}
    path = f"/webhooks/channel/{CHANNEL_KEY if known_key else key}"
    before = harness.messages(harness.channel_distributor)
    response = harness.request("POST", path, body, headers)
    stored = harness.messages(harness.channel_distributor) - before
    event(f"status {response.status_code}, stored {min(stored, 1)}+")
    assert response.status_code in ANSWERS, response.text
    well_formed = True
    try:
        parsed = parse_channel_payload(decode_json(body))
    except MalformedPayload:
        well_formed = False
    if signing == "valid" and known_key and is_json(content_type) and well_formed:
        summary = response.json()
        assert response.status_code == 200 and summary["stored"] + summary["duplicates"] == len(parsed.messages)
        assert stored == summary["stored"]
    else:
        assert stored == 0 and response.status_code != 200


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
       path=st.sampled_from(["/webhooks/whatsapp", f"/webhooks/channel/{CHANNEL_KEY}", "/healthz", "/", "/webhooks/"])
       | st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters="?#"),
                 max_size=40).map(lambda p: "/" + p.lstrip("/")),  # "//host" would be an authority
       query=st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"]) | header_text,
                             header_text, max_size=4),
       headers=st.dictionaries(st.sampled_from(["content-type", "content-length", "x-hub-signature-256", "webhook-id",
                                                "webhook-timestamp", "webhook-signature"]),
                               header_text, max_size=4),
       body=st.binary(max_size=200))
def test_any_method_path_query_and_headers_get_a_4xx_or_2xx(
    harness: Harness, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> None:
    if "content-length" in headers:
        headers.pop("content-length")  # a lying content-length is the server's (uvicorn's) job, not the app's
    before = harness.messages(harness.whatsapp_distributor) + harness.messages(harness.channel_distributor)
    response = harness.loop.run_until_complete(
        harness.client.request(method, path, params=query, content=body if method != "GET" else b"", headers=headers))
    event(f"status {response.status_code}")
    assert response.status_code in ANSWERS | {403}, response.text
    assert harness.messages(harness.whatsapp_distributor) + harness.messages(harness.channel_distributor) == before
    if response.status_code == 200 and method == "GET" and path == "/webhooks/whatsapp":
        assert query.get("hub.verify_token") == "fuzz-token"
