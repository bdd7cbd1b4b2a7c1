"""The generic channel body: schema, per-item errors, signature check before parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhooks.inbound.channel import MAX_MESSAGES, ChannelPayload, parse_channel_payload, verify_and_parse
from webhooks.inbound.envelope import MalformedPayload
from webhooks.outbound import signing

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = signing.generate_secret()


def item(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "gw-0001",
        "from": "+5491155550000",
        "name": "Ana Test",
        "text": "2 cajas de agua 500",
        "timestamp": "2026-11-23T09:00:00-03:00",
        "channel": "sms",
    }
    base.update(overrides)
    return base


def test_full_message() -> None:
    parsed = parse_channel_payload({"messages": [item()]}, received_at=RECEIVED)
    assert parsed.errors == ()
    (message,) = parsed.messages
    assert message.channel == "sms"
    assert message.phone_number_id is None
    assert message.provider_message_id == "gw-0001"
    assert message.from_handle == "+5491155550000"
    assert message.profile_name == "Ana Test"
    assert message.text == "2 cajas de agua 500"
    assert message.timestamp == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert message.timestamp.tzinfo == UTC
    assert message.kind == "text" and not message.needs_review
    assert message.raw == item()


def test_minimal_message_defaults() -> None:
    minimal = {"id": "t-9", "from": "@ana_test", "text": "hola"}
    (message,) = parse_channel_payload({"messages": [minimal]}, received_at=RECEIVED).messages
    assert message.channel == "sms"
    assert message.profile_name is None
    assert message.timestamp == RECEIVED


def test_received_at_defaults_to_now() -> None:
    before = datetime.now(UTC)
    (message,) = parse_channel_payload({"messages": [{"id": "a", "from": "b", "text": "c"}]}).messages
    assert before - timedelta(seconds=1) <= message.timestamp <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize("channel", ["sms", "telegram", "web", "email", "other"])
def test_channels(channel: str) -> None:
    (message,) = parse_channel_payload({"messages": [item(channel=channel)]}).messages
    assert message.channel == channel


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (item(id=""), "id"),
        (item(id=123), "id"),
        ({k: v for k, v in item().items() if k != "from"}, "from"),
        (item(text=""), "text"),
        (item(text="   "), "text"),
        (item(text="x" * 10_001), "text"),
        (item(timestamp="2026-11-23T09:00:00"), "timestamp"),  # no zone
        (item(timestamp="yesterday"), "timestamp"),
        (item(channel="carrier-pigeon"), "channel"),
        (item(extra_field=1), "extra_field"),
        ("just text", "message is not an object"),
    ],
)
def test_bad_items_become_errors_and_good_ones_stay(bad: object, field: str) -> None:
    parsed = parse_channel_payload({"messages": [item(id="good-1"), bad, item(id="good-2")]})
    assert [m.provider_message_id for m in parsed.messages] == ["good-1", "good-2"]
    (error,) = parsed.errors
    assert error.index == 1 and error.path == "messages[1]"
    assert field in error.reason
    assert error.raw == bad


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "messages",
        {},
        {"messages": []},
        {"messages": "hi"},
        {"messages": [item()] * (MAX_MESSAGES + 1)},
        {"messages": [item()], "extra": True},
        {"message": [item()]},
    ],
)
def test_wholly_malformed_raises(data: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_channel_payload(data)


def test_limits_accept_one_and_hundred() -> None:
    many = {"messages": [item(id=f"m-{i}") for i in range(MAX_MESSAGES)]}
    assert len(parse_channel_payload(many).messages) == MAX_MESSAGES


def test_all_items_bad_is_not_malformed() -> None:
    parsed = parse_channel_payload({"messages": [1, 2]})
    assert parsed == ChannelPayload(messages=(), errors=parsed.errors)
    assert [e.index for e in parsed.errors] == [0, 1]


# ---- signed bodies ---------------------------------------------------------------------------


def signed(body: bytes, *, secret: str = SECRET, timestamp: int = 1763888400) -> dict[str, str]:
    return signing.signature_headers([secret], "msg_channel_1", timestamp, body)


def test_verify_and_parse() -> None:
    body = json.dumps({"messages": [item()]}).encode()
    parsed = verify_and_parse([SECRET], signed(body), body, now=1763888400, received_at=RECEIVED)
    assert [m.provider_message_id for m in parsed.messages] == ["gw-0001"]


def test_verify_and_parse_rejects_bad_signature_before_parsing() -> None:
    body = b"not even json"
    with pytest.raises(signing.SignatureError):
        verify_and_parse([SECRET], signed(body, secret=signing.generate_secret()), body, now=1763888400)


def test_verify_and_parse_signed_garbage_is_malformed() -> None:
    body = b"not even json"
    with pytest.raises(MalformedPayload):
        verify_and_parse([SECRET], signed(body), body, now=1763888400)


def test_verify_and_parse_with_rotated_secrets() -> None:
    new = signing.generate_secret()
    body = json.dumps({"messages": [item()]}).encode()
    verify_and_parse([new, SECRET], signed(body), body, now=1763888400)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["messages", "id", "from", "text", "name", "timestamp", "channel", "x"]), c, max_size=6),
    max_leaves=25,
))
def test_arbitrary_json_only_parses_or_raises_malformed(data: object) -> None:
    try:
        result = parse_channel_payload(data, received_at=RECEIVED)
    except MalformedPayload:
        return
    assert isinstance(result, ChannelPayload)


def test_timestamp_in_other_zone_is_converted_to_utc() -> None:
    stamp = datetime(2026, 11, 23, 18, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))).isoformat()
    (message,) = parse_channel_payload({"messages": [item(timestamp=stamp)]}).messages
    assert message.timestamp == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
