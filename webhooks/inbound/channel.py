"""The generic channel intake body (SMS gateways, Telegram bridges, web forms ...).

The sender signs the body with Standard Webhooks headers using the integration's secret
(`webhooks.outbound.signing`), and posts:

    {"messages": [{"id": "gw-123", "from": "+5491155550000", "name": "Ana", "text": "2 cajas ...",
                   "timestamp": "2026-11-23T09:00:00Z", "channel": "sms"}]}

1..100 messages per body. Each message is validated on its own: a bad one becomes a
`PayloadError` and the rest are stored. A body that is not this shape at all (not JSON, not
an object, unknown top-level keys, no messages list or the wrong number of them) raises
`MalformedPayload`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from webhooks.inbound.envelope import InboundMessage, MalformedPayload, PayloadError, decode_json
from webhooks.outbound import signing

MIN_MESSAGES = 1
MAX_MESSAGES = 100  # per body
MAX_ID_LENGTH = 200  # characters
MAX_HANDLE_LENGTH = 200  # characters
MAX_NAME_LENGTH = 200  # characters
MAX_TEXT_LENGTH = 10_000  # characters; long SMS are concatenated by the gateway

ChannelName = Literal["sms", "telegram", "web", "email", "messenger", "instagram", "whatsapp", "other"]


class ChannelMessage(BaseModel):
    """One message as the sender posts it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH, description="The provider's message id (dedup key)")
    sender: str = Field(alias="from", min_length=1, max_length=MAX_HANDLE_LENGTH, description="Phone or handle")
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH, description="Sender's display name")
    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)
    timestamp: AwareDatetime | None = Field(default=None, description="ISO 8601 with a zone; default: received")
    channel: ChannelName = "sms"


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: list[Any] = Field(min_length=MIN_MESSAGES, max_length=MAX_MESSAGES)


@dataclass(frozen=True, kw_only=True)
class ChannelPayload:
    messages: tuple[InboundMessage, ...]
    errors: tuple[PayloadError, ...] = field(default=())


def _first_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        location = ".".join(str(part) for part in error["loc"]) or "(item)"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)


def _inbound(message: ChannelMessage, raw: dict[str, Any], received_at: datetime) -> InboundMessage:
    timestamp = message.timestamp if message.timestamp is not None else received_at
    return InboundMessage(
        channel=message.channel,
        phone_number_id=None,
        provider_message_id=message.id,
        from_handle=message.sender,
        profile_name=message.name or None,
        timestamp=timestamp.astimezone(UTC),
        kind="text",
        text=message.text,
        raw=raw,
    )


def parse_channel_payload(data: object, *, received_at: datetime | None = None) -> ChannelPayload:
    """Read a generic channel body (already JSON-decoded); see the module docstring.

    `received_at` stands in for messages without a timestamp (default: now, UTC).
    """
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as exc:
        raise MalformedPayload(f"not a channel payload: {_first_error(exc)}") from exc
    now = received_at if received_at is not None else datetime.now(UTC)
    messages: list[InboundMessage] = []
    errors: list[PayloadError] = []
    for index, item in enumerate(envelope.messages):
        path = f"messages[{index}]"
        if not isinstance(item, dict):
            errors.append(PayloadError(index=index, reason="message is not an object", path=path, raw=item))
            continue
        try:
            message = ChannelMessage.model_validate(item)
        except ValidationError as exc:
            errors.append(PayloadError(index=index, reason=_first_error(exc), path=path, raw=item))
            continue
        messages.append(_inbound(message, item, now))
    return ChannelPayload(messages=tuple(messages), errors=tuple(errors))


def verify_and_parse(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    received_at: datetime | None = None,
) -> ChannelPayload:
    """Check the Standard Webhooks signature on the raw body, then decode and parse it.

    Raises signing.SignatureError (answer 401) or MalformedPayload (answer 400). The caller
    should also deduplicate on the webhook-id header: a replay within the timestamp
    tolerance carries a valid signature.
    """
    signing.verify(secrets, headers, body, now=now)
    return parse_channel_payload(decode_json(body), received_at=received_at)


__all__ = [
    "MAX_MESSAGES",
    "ChannelMessage",
    "ChannelName",
    "ChannelPayload",
    "MalformedPayload",
    "parse_channel_payload",
    "verify_and_parse",
]
