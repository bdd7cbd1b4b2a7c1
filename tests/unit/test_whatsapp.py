"""WhatsApp Cloud API inbound: handshake, X-Hub-Signature-256, and parsing Meta's payload shapes."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhooks.inbound.envelope import (
    InboundMessage,
    Location,
    MalformedPayload,
    MediaRef,
    OrderItem,
    decode_json,
)
from webhooks.inbound.whatsapp import ParsedPayload, parse_payload, verify_signature, verify_subscription

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
PHONE_NUMBER_ID = "106540352242922"
SENDER = "5491100000001"
WHEN = datetime.fromtimestamp(1763888400, tz=UTC)
APP_SECRET = "0123456789abcdef0123456789abcdef"  # fake


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def only_message(name: str) -> InboundMessage:
    parsed = parse_payload(load(name))
    assert parsed.errors == ()
    assert len(parsed.messages) == 1
    message = parsed.messages[0]
    assert message.channel == "whatsapp"
    assert message.phone_number_id == PHONE_NUMBER_ID
    assert message.from_handle == SENDER
    assert message.profile_name == "Marta Test"
    assert message.timestamp == WHEN
    assert message.provider_message_id.startswith("wamid.")
    return message


def with_message(message: dict[str, Any]) -> dict[str, Any]:
    data = load("text")
    data["entry"][0]["changes"][0]["value"]["messages"] = [message]
    return data


# ---- subscription handshake ---------------------------------------------------------------


def test_verify_subscription_ok() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "s3cret-token", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "s3cret-token") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "s3cret-token", "hub.challenge": "1"},
        {"hub.verify_token": "s3cret-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-token"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-token", "hub.challenge": "<script>alert(1)</script>"},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-token", "hub.challenge": "9" * 300},
        {"hub.mode": "subscribe", "hub.verify_token": "s3cret-tokën", "hub.challenge": "1"},
    ],
)
def test_verify_subscription_refused(params: dict[str, str]) -> None:
    assert verify_subscription(params, "s3cret-token") is None


def test_verify_subscription_unconfigured_token_never_matches() -> None:
    assert verify_subscription({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "") is None


# ---- X-Hub-Signature-256 --------------------------------------------------------------------


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signature_good() -> None:
    body = (FIXTURES / "text.json").read_bytes()
    assert verify_signature(APP_SECRET, body, meta_signature(body))
    assert verify_signature(APP_SECRET, body, meta_signature(body).upper().replace("SHA256=", "sha256="))


def test_signature_fixed_vector() -> None:
    # printf '%s' '{"object":"whatsapp_business_account","entry":[]}' | openssl dgst -sha256 -hmac 0123...ef
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    expected = "eefab58106e73358686845848feb95c56372e7391b3dc050b6a31c8c5f347ece"
    assert verify_signature(APP_SECRET, body, f"sha256={expected}")
    assert not verify_signature(APP_SECRET, body + b"\n", f"sha256={expected}")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=deadbeef",
        "sha1=" + hmac.new(APP_SECRET.encode(), b"{}", hashlib.sha1).hexdigest(),
        hmac.new(APP_SECRET.encode(), b"{}", hashlib.sha256).hexdigest(),  # no prefix
        "sha256=" + hmac.new(b"other-secret", b"{}", hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(APP_SECRET.encode(), b"{} ", hashlib.sha256).hexdigest(),  # other body
        "sha256=ünïcödé",
    ],
)
def test_signature_bad(header: str | None) -> None:
    assert not verify_signature(APP_SECRET, b"{}", header)


def test_signature_requires_a_configured_secret() -> None:
    with pytest.raises(ValueError):
        verify_signature("", b"{}", "sha256=" + hmac.new(b"", b"{}", hashlib.sha256).hexdigest())


# ---- each message kind --------------------------------------------------------------------


def test_text() -> None:
    message = only_message("text")
    assert message.kind == "text"
    assert message.text == "Hola, mandame 3 cajas de agua 500ml y 2 de coca 1.5L"
    assert not message.needs_review
    assert message.raw["type"] == "text"
    assert message.reply_to is None


def test_interactive_button_reply() -> None:
    message = only_message("interactive_button_reply")
    assert (message.kind, message.text, message.reply_id) == ("interactive", "Confirmar pedido", "confirm-order-81")
    assert message.reply_to is not None and message.reply_to.startswith("wamid.")
    assert not message.needs_review


def test_interactive_list_reply() -> None:
    message = only_message("interactive_list_reply")
    assert message.kind == "interactive"
    assert message.text == "Martes\nEntrega entre 8 y 12 hs"
    assert message.reply_id == "delivery-tuesday"


def test_button() -> None:
    message = only_message("button")
    assert (message.kind, message.text, message.reply_id) == ("button", "Repetir pedido", "REPEAT_LAST_ORDER")
    assert not message.needs_review


def test_order() -> None:
    message = only_message("order")
    assert message.kind == "order"
    assert message.order_items == (
        OrderItem(product_retailer_id="AGUA-500-X12", quantity=2, item_price=Decimal("4350.5"), currency="ARS"),
        OrderItem(product_retailer_id="COCA-15-X6", quantity=1, item_price=Decimal("7200"), currency="ARS"),
    )
    assert message.text == "2 x AGUA-500-X12\n1 x COCA-15-X6\n\nPara el jueves por favor"
    assert not message.needs_review


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("image", MediaRef(media_id="1479537139650973", mime_type="image/jpeg", caption="Esto es lo que necesito")),
        ("audio", MediaRef(media_id="2847016391843361", mime_type="audio/ogg; codecs=opus")),
        (
            "document",
            MediaRef(media_id="3902711523487219", mime_type="application/pdf", caption="Pedido semanal",
                     filename="pedido-semana-47.pdf"),
        ),
    ],
)
def test_media(name: str, media: MediaRef) -> None:
    message = only_message(name)
    assert message.kind == name
    assert message.media == (media,)
    assert message.text == media.caption
    assert message.needs_review
    assert message.review_reasons == (f"media:{name}",)


@pytest.mark.parametrize("kind", ["video", "sticker"])
def test_video_and_sticker(kind: str) -> None:
    data = with_message({"from": SENDER, "id": "wamid.X1", "timestamp": "1763888400", "type": kind,
                         kind: {"mime_type": "video/mp4" if kind == "video" else "image/webp", "id": "55501"}})
    (message,) = parse_payload(data).messages
    assert message.kind == kind and message.needs_review and message.media[0].media_id == "55501"


def test_location() -> None:
    message = only_message("location")
    assert message.kind == "location"
    assert message.location == Location(
        latitude=-34.6037, longitude=-58.3816, name="Almacén Test", address="Av. Ejemplo 123, Buenos Aires"
    )
    assert message.text == "Almacén Test, Av. Ejemplo 123, Buenos Aires"
    assert message.needs_review


@pytest.mark.parametrize(("name", "raw_type"), [("unsupported", "unsupported"), ("contacts_message", "contacts")])
def test_unknown_kinds_need_review(name: str, raw_type: str) -> None:
    message = only_message(name)
    assert message.kind == "unknown"
    assert message.text is None
    assert message.needs_review
    assert message.review_reasons == (f"unknown_type:{raw_type}",)


def test_statuses() -> None:
    parsed = parse_payload(load("statuses"))
    assert parsed.errors == () and parsed.messages == ()
    delivered, failed = parsed.statuses
    assert (delivered.status, delivered.recipient_id, delivered.errors) == ("delivered", "5491100000001", ())
    assert delivered.phone_number_id == PHONE_NUMBER_ID
    assert delivered.timestamp == datetime.fromtimestamp(1763888460, tz=UTC)
    assert failed.status == "failed"
    assert failed.errors == ("131047: Re-engagement message",)


def test_contacts_map() -> None:
    (change,) = parse_payload(load("batch_with_bad_message")).changes
    assert change.contacts == {"5491100000001": "Marta Test", "5491100000002": "Jorge Test"}
    assert change.display_phone_number == "15550783881"


# ---- batches with bad items, and payloads that are not WhatsApp's shape ----------------------


def test_batch_with_one_malformed_message_keeps_the_good_ones() -> None:
    parsed = parse_payload(load("batch_with_bad_message"))
    assert [m.text for m in parsed.messages] == ["2 bidones de 20 litros", "y 1 pack de vasos"]
    (error,) = parsed.errors
    assert error.index == 1
    assert error.path == "entry[0].changes[0].value.messages[1]"
    assert "id" in error.reason
    assert isinstance(error.raw, dict) and error.raw["text"] == {"body": "sin id"}


@pytest.mark.parametrize(
    ("mutate", "reason_part"),
    [
        (lambda m: m.pop("from"), "from"),
        (lambda m: m.update(timestamp="yesterday"), "timestamp"),
        (lambda m: m.update(timestamp="99999999999999"), "timestamp"),
        (lambda m: m.update(text="hi"), "text"),
        (lambda m: m.update(text={"body": 5}), "body"),
        (lambda m: m.update(type="order", order={"product_items": []}), "product_items"),
        (lambda m: m.update(type="order", order={"product_items": [{"product_retailer_id": "A", "quantity": 1.5}]}),
         "quantity"),
        (lambda m: m.update(type="order", order={"product_items": [{"product_retailer_id": "A", "quantity": True}]}),
         "quantity"),
        (lambda m: m.update(type="order", order={"product_items": [{"product_retailer_id": "A", "quantity": 10**5000}]}),
         "quantity"),
        (lambda m: m.update(type="order", order={"product_items": [{"product_retailer_id": "A", "quantity": "1e9999"}]}),
         "quantity"),
        (lambda m: m.update(type="location", location={"latitude": 95, "longitude": 0}), "latitude"),
        (lambda m: m.update(type="location", location={"latitude": float("nan"), "longitude": 0}), "latitude"),
        (lambda m: m.update(type="image", image={"mime_type": "image/png"}), "id"),
    ],
)
def test_malformed_single_messages_become_errors(mutate: Any, reason_part: str) -> None:
    good = load("text")["entry"][0]["changes"][0]["value"]["messages"][0]
    bad = copy.deepcopy(good)
    mutate(bad)
    data = load("text")
    data["entry"][0]["changes"][0]["value"]["messages"] = [bad, good]
    parsed = parse_payload(data)
    assert len(parsed.messages) == 1
    (error,) = parsed.errors
    assert error.index == 0 and reason_part in error.reason


def test_bad_status_and_bad_change_are_errors_too() -> None:
    data = load("statuses")
    data["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "teleported"
    data["entry"][0]["changes"].append({"field": "messages", "value": {"metadata": {}}})
    data["entry"].append("not an entry")
    parsed = parse_payload(data)
    assert [s.status for s in parsed.statuses] == ["failed"]
    assert sorted(e.path for e in parsed.errors) == [
        "entry[0].changes[0].value.statuses[0]", "entry[0].changes[1]", "entry[1]"
    ]


def test_statuses_not_a_list_keeps_the_messages() -> None:
    data = load("text")
    data["entry"][0]["changes"][0]["value"]["statuses"] = {"id": "x"}
    parsed = parse_payload(data)
    assert len(parsed.messages) == 1
    assert [e.path for e in parsed.errors] == ["entry[0].changes[0].value.statuses"]


def test_other_fields_are_skipped() -> None:
    data = load("text")
    data["entry"][0]["changes"][0]["field"] = "message_template_status_update"
    assert parse_payload(data) == ParsedPayload(changes=())


def test_empty_entry_list_is_valid() -> None:
    assert parse_payload({"object": "whatsapp_business_account", "entry": []}) == ParsedPayload(changes=())


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "whatsapp",
        42,
        {},
        {"entry": []},
        {"object": "page", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": {"changes": []}},
    ],
)
def test_not_whatsapp_shape_raises(data: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_payload(data)


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", b"[" * 100_000, b"1" * 5000])
def test_decode_json_errors_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        decode_json(body)


# ---- property: arbitrary JSON never escapes as another exception -------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
keys = st.sampled_from(
    ["object", "entry", "changes", "field", "value", "metadata", "phone_number_id", "messages", "statuses",
     "contacts", "from", "id", "timestamp", "type", "text", "body", "interactive", "button_reply", "list_reply",
     "title", "order", "product_items", "quantity", "item_price", "product_retailer_id", "location", "latitude",
     "longitude", "image", "status", "recipient_id", "errors", "wa_id", "profile", "name", "context"]
)
shaped_values = st.recursive(
    json_scalars | st.sampled_from(["whatsapp_business_account", "messages", "text", "order", "1763888400",
                                    "interactive", "button_reply", "location", "image", "read", "failed"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=60,
)


def _check(data: object) -> None:
    try:
        result = parse_payload(data)
    except MalformedPayload:
        return
    assert isinstance(result, ParsedPayload)


@given(json_values)
def test_arbitrary_json_only_parses_or_raises_malformed(data: object) -> None:
    _check(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"object": st.just("whatsapp_business_account"), "entry": st.lists(shaped_values)}))
def test_whatsapp_shaped_noise_only_parses_or_raises_malformed(data: object) -> None:
    _check(data)


@settings(max_examples=200)
@given(st.data())
def test_mutated_fixtures_only_parse_or_raise_malformed(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(p.stem for p in FIXTURES.glob("*.json"))))
    payload = load(name)
    message_list = payload["entry"][0]["changes"][0]["value"].get("messages") or [{}]
    target = message_list[0]
    key = data.draw(keys)
    target[key] = data.draw(shaped_values)
    _check(payload)
