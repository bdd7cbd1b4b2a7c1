"""Standard Webhooks signing: fixed vectors, the PyPI reference library, rotation, tolerance, HTTP round trip."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.outbound import signing
from webhooks.outbound.signing import InvalidSecret, SignatureError
from worker.demo.recorder import Reply, WebhookReceiver

# A fixed secret: "whsec_" + base64 of the 32 bytes 0x00..0x1f.
KEY = bytes(range(32))
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
MSG_ID = "msg_2b9Xq1oQn7Yh3"
TIMESTAMP = 1763888400
BODY = b'{"type":"order.created","data":{"order_id":"ord_1","lines":2}}'
# Computed independently: hmac.new(KEY, b"msg_2b9Xq1oQn7Yh3.1763888400." + BODY, sha256), base64.
EXPECTED = "v1," + base64.b64encode(
    hmac.new(KEY, f"{MSG_ID}.{TIMESTAMP}.".encode() + BODY, hashlib.sha256).digest()
).decode()


def headers_for(secrets: list[str], *, msg_id: str = MSG_ID, timestamp: int = TIMESTAMP, body: bytes = BODY) -> dict[str, str]:
    return signing.signature_headers(secrets, msg_id, timestamp, body)


def test_fixed_vector() -> None:
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED
    # pinned, computed once with `openssl dgst -sha256 -mac HMAC -macopt hexkey:0001..1f -binary | base64`
    assert EXPECTED == "v1,Jf4ildIFFgPz1OrUZCWqsael1rh5UaiZEqZozHrwIbQ="


def test_matches_reference_library_sign() -> None:
    reference = Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(TIMESTAMP, tz=UTC), BODY.decode())
    assert reference == EXPECTED


def test_reference_library_verifies_our_headers() -> None:
    now = int(datetime.now(UTC).timestamp())
    body = json.dumps({"hello": "wörld"}, ensure_ascii=False).encode()
    headers = headers_for([SECRET], timestamp=now, body=body)
    assert Webhook(SECRET).verify(body, headers) == {"hello": "wörld"}
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER_SECRET).verify(body, headers)


def test_we_verify_reference_library_signatures() -> None:
    now = int(datetime.now(UTC).timestamp())
    signature = Webhook(SECRET).sign(MSG_ID, datetime.fromtimestamp(now, tz=UTC), BODY.decode())
    headers = {"webhook-id": MSG_ID, "webhook-timestamp": str(now), "webhook-signature": signature}
    signing.verify([SECRET], headers, BODY)


def test_headers_shape() -> None:
    headers = headers_for([SECRET])
    assert headers == {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": EXPECTED}


def test_round_trip_with_header_case_variants() -> None:
    headers = {k.title(): v for k, v in headers_for([SECRET]).items()}  # Webhook-Id ...
    signing.verify([SECRET], headers, BODY, now=TIMESTAMP)
    signing.verify([SECRET], httpx.Headers(headers), BODY, now=TIMESTAMP)


@given(body=st.binary(max_size=2000), msg_id=st.from_regex(r"[A-Za-z0-9_\-]{1,40}", fullmatch=True),
       timestamp=st.integers(min_value=0, max_value=10**11))
def test_round_trip_property(body: bytes, msg_id: str, timestamp: int) -> None:
    headers = headers_for([SECRET], msg_id=msg_id, timestamp=timestamp, body=body)
    signing.verify([SECRET], headers, body, now=timestamp)


def test_rotation_new_first_and_either_secret_verifies() -> None:
    headers = headers_for([OTHER_SECRET, SECRET])
    first, second = headers["webhook-signature"].split(" ")
    assert first == signing.sign(OTHER_SECRET, MSG_ID, TIMESTAMP, BODY)
    assert second == EXPECTED
    signing.verify([SECRET], headers, BODY, now=TIMESTAMP)  # receiver still on the old secret
    signing.verify([OTHER_SECRET], headers, BODY, now=TIMESTAMP)  # receiver already on the new one
    signing.verify([OTHER_SECRET, SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP)  # sender not rotated yet


def test_unknown_versions_and_junk_signatures_are_skipped() -> None:
    headers = headers_for([SECRET])
    headers["webhook-signature"] = "v1a,AAAA garbage v1,!!notbase64!! " + headers["webhook-signature"]
    signing.verify([SECRET], headers, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("offset", [301, 3600])
def test_old_timestamp_fails(offset: int) -> None:
    with pytest.raises(SignatureError) as info:
        signing.verify([SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP + offset)
    assert info.value.reason == "timestamp_too_old"


def test_future_timestamp_fails_and_tolerance_edges_pass() -> None:
    with pytest.raises(SignatureError) as info:
        signing.verify([SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP - 301)
    assert info.value.reason == "timestamp_too_new"
    signing.verify([SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP - 300)
    signing.verify([SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP + 300)


@pytest.mark.parametrize("value", ["", "abc", "1763888400.5", "-1", "1" * 13, " 1763888400", "１７６３"])
def test_bad_timestamp_header(value: str) -> None:
    headers = headers_for([SECRET]) | {"webhook-timestamp": value}
    with pytest.raises(SignatureError) as info:
        signing.verify([SECRET], headers, BODY, now=TIMESTAMP)
    assert info.value.reason in {"bad_timestamp", "missing_header"}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: (h, b.replace(b"ord_1", b"ord_2")),
        lambda h, b: (h | {"webhook-id": "msg_other"}, b),
        lambda h, b: (h | {"webhook-timestamp": str(TIMESTAMP + 1)}, b),
        lambda h, b: (h | {"webhook-signature": "v1," + base64.b64encode(b"\0" * 32).decode()}, b),
    ],
    ids=["body-appended", "body-changed", "id-changed", "timestamp-changed", "zero-signature"],
)
def test_tampering_fails(tamper: object) -> None:
    headers, body = tamper(headers_for([SECRET]), BODY)  # type: ignore[operator]
    with pytest.raises(SignatureError) as info:
        signing.verify([SECRET], headers, body, now=TIMESTAMP)
    assert info.value.reason == "no_matching_signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(missing: str) -> None:
    headers = headers_for([SECRET])
    del headers[missing]
    with pytest.raises(SignatureError) as info:
        signing.verify([SECRET], headers, BODY, now=TIMESTAMP)
    assert info.value.reason == "missing_header"


def test_wrong_secret_fails() -> None:
    with pytest.raises(SignatureError):
        signing.verify([OTHER_SECRET], headers_for([SECRET]), BODY, now=TIMESTAMP)


def test_generate_secret() -> None:
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(signing.decode_secret(secret)) == 32
    assert signing.generate_secret() != secret
    assert len(signing.decode_secret(signing.generate_secret(24))) == 24
    assert len(signing.decode_secret(signing.generate_secret(64))) == 64
    Webhook(secret)  # the reference library accepts it
    for size in (0, 23, 65):
        with pytest.raises(InvalidSecret):
            signing.generate_secret(size)


@pytest.mark.parametrize(
    "secret",
    [
        base64.b64encode(KEY).decode(),  # no prefix
        "whsk_" + base64.b64encode(KEY).decode(),  # wrong prefix
        "whsec_" + base64.b64encode(b"short").decode(),  # 5 bytes
        "whsec_" + base64.b64encode(bytes(23)).decode(),  # 23 bytes
        "whsec_" + base64.b64encode(bytes(65)).decode(),  # 65 bytes
        "whsec_not base64!!",
        "whsec_",
    ],
)
def test_bad_secrets_rejected(secret: str) -> None:
    with pytest.raises(InvalidSecret):
        signing.sign(secret, MSG_ID, TIMESTAMP, BODY)
    with pytest.raises(InvalidSecret):
        signing.verify([secret], headers_for([SECRET]), BODY, now=TIMESTAMP)


def test_secret_list_required() -> None:
    with pytest.raises(InvalidSecret):
        signing.signature_headers([], MSG_ID, TIMESTAMP, BODY)
    with pytest.raises(InvalidSecret):
        signing.verify(SECRET, headers_for([SECRET]), BODY, now=TIMESTAMP)  # a str, not a list


@pytest.mark.parametrize("msg_id", ["", "a b", "a,b", "a\r\nX-Injected: 1"])
def test_unsafe_message_ids_rejected(msg_id: str) -> None:
    with pytest.raises(ValueError):
        signing.sign(SECRET, msg_id, TIMESTAMP, BODY)


# ---- over HTTP: httpx -> the local receiver, verified there by the reference library ---------


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secrets=[SECRET]) as rx:
        yield rx


async def test_signed_delivery_verified_by_receiver(receiver: WebhookReceiver) -> None:
    receiver.push(503, Reply(status=429, headers={"retry-after": "7"}), Reply(status=204))
    now = int(datetime.now(UTC).timestamp())
    async with httpx.AsyncClient(timeout=5) as client:
        statuses = []
        for _ in range(3):
            headers = headers_for([OTHER_SECRET, SECRET], timestamp=now, body=BODY)
            response = await client.post(receiver.url + "hooks/orders", content=BODY,
                                         headers=headers | {"content-type": "application/json"})
            statuses.append((response.status_code, response.headers.get("retry-after")))
        bad = await client.post(receiver.url, content=BODY, headers=headers_for([OTHER_SECRET], timestamp=now))
    assert statuses == [(503, None), (429, "7"), (204, None)]
    assert bad.status_code == 200  # the default reply once the script is used up
    requests = await receiver.wait_for(4)
    assert [r.path for r in requests] == ["/hooks/orders"] * 3 + ["/"]
    assert requests[0].body == BODY and requests[0].headers["webhook-id"] == MSG_ID
    assert receiver.verified == 3 and receiver.failed == 1
    assert requests[3].verify_error is not None


async def test_receiver_handler_and_delay() -> None:
    seen: list[str] = []

    def handler(request: object) -> Reply:
        seen.append("called")
        return Reply(status=410)

    with WebhookReceiver(handler=handler, replies=[Reply(status=200, delay=0.5)]) as rx:
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(rx.url, content=b"{}", timeout=0.1)
            gone = await client.post(rx.url, content=b"{}", timeout=5)
        assert gone.status_code == 410
        assert seen == ["called"]
        assert [r.verified for r in rx.requests] == [None, None]  # no secrets: not checked


def test_receiver_sync_use() -> None:
    with WebhookReceiver(secrets=[SECRET], replies=[500]) as rx:
        now = int(datetime.now(UTC).timestamp())
        response = httpx.post(rx.url, content=BODY, headers=headers_for([SECRET], timestamp=now))
        assert response.status_code == 500
        assert rx.wait_for_sync(1)[0].verified is True
    with pytest.raises(RuntimeError):
        _ = rx.url
