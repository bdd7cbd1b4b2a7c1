"""WhatsApp Cloud API inbound webhooks: subscription handshake, signature check, payload parsing.

Meta's reference: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
A notification is {"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id": ...}, "contacts": [...], "messages":
[...], "statuses": [...]}}]}]}. Only "messages" changes are read; other fields (template
status, account updates ...) are skipped.

`parse_payload` never raises for a bad message inside a valid batch: the message becomes a
`PayloadError` and the others are returned, so one odd message cannot make Meta redeliver
(and us re-store) the whole batch. Only a body that is not this shape at all raises
`MalformedPayload`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

from webhooks.inbound.envelope import (
    MEDIA_KINDS,
    REVIEW_KINDS,
    InboundMessage,
    Kind,
    Location,
    MalformedPayload,
    MediaRef,
    OrderItem,
    PayloadError,
)
from worker.core.errors import OrderflowError

CHANNEL = "whatsapp"
OBJECT_TYPE = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="
MAX_CHALLENGE_LENGTH = 256  # characters; Meta sends a short integer string
MAX_TIMESTAMP = 253402300799  # unix seconds of 9999-12-31T23:59:59Z
MAX_QUANTITY = 1_000_000  # per order line; anything larger is not a real order
MAX_NUMBER = 10**30  # larger JSON numbers are refused before they are turned into text

T = TypeVar("T")
StatusValue = Literal["sent", "delivered", "read", "failed"]
STATUS_VALUES: frozenset[str] = frozenset({"sent", "delivered", "read", "failed"})
KNOWN_KINDS: frozenset[str] = frozenset({"text", "interactive", "button", "order", "location"}) | MEDIA_KINDS


class InvalidItem(OrderflowError, ValueError):
    """Internal: one message or status cannot be read (becomes a PayloadError)."""


@dataclass(frozen=True, kw_only=True)
class StatusUpdate:
    """Delivery status of a message we sent (sent / delivered / read / failed)."""

    phone_number_id: str
    provider_message_id: str
    status: StatusValue
    recipient_id: str
    timestamp: datetime
    errors: tuple[str, ...] = ()  # "131047: Re-engagement message", ...
    raw: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Change:
    """One `entry[].changes[]` item of field "messages": everything for one business number."""

    phone_number_id: str
    display_phone_number: str | None
    contacts: Mapping[str, str]  # wa_id -> profile name
    messages: tuple[InboundMessage, ...]
    statuses: tuple[StatusUpdate, ...]


@dataclass(frozen=True, kw_only=True)
class ParsedPayload:
    changes: tuple[Change, ...]
    errors: tuple[PayloadError, ...] = field(default=())

    @property
    def messages(self) -> tuple[InboundMessage, ...]:
        return tuple(message for change in self.changes for message in change.messages)

    @property
    def statuses(self) -> tuple[StatusUpdate, ...]:
        return tuple(status for change in self.changes for status in change.statuses)


def verify_subscription(params: Mapping[str, str], verify_token: str) -> str | None:
    """The GET handshake: return hub.challenge to echo back, or None to answer 403."""
    if not verify_token:
        return None  # an unconfigured token must not match an empty one
    token = params.get("hub.verify_token") or ""
    challenge = params.get("hub.challenge") or ""
    token_ok = hmac.compare_digest(token.encode("utf-8", "replace"), verify_token.encode("utf-8", "replace"))
    if params.get("hub.mode") != "subscribe" or not token_ok:
        return None
    if not challenge or len(challenge) > MAX_CHALLENGE_LENGTH or not (challenge.isascii() and challenge.isalnum()):
        return None  # echoed as the response body: keep it to plain tokens
    return challenge


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Check X-Hub-Signature-256 ("sha256=<hex HMAC-SHA256 of the raw body with the app secret>")."""
    if not app_secret:
        raise ValueError("WhatsApp app secret is not configured")
    if header is None or not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX):].strip().lower()
    if not given.isascii():
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))


def _obj(value: object, what: str) -> dict[str, Any]:  # every read of untrusted JSON goes through these
    if not isinstance(value, dict):
        raise InvalidItem(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidItem(f"{what} is not a list")
    return value


def _str(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidItem(f"{what}.{key} is missing or not a string")
    return value


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _timestamp(value: object) -> datetime:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        raise InvalidItem("timestamp is not unix seconds")
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise InvalidItem("timestamp out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _number(value: object, what: str) -> Decimal:
    if isinstance(value, bool):
        raise InvalidItem(f"{what} is not a number")
    if isinstance(value, int | float) and abs(value) < MAX_NUMBER:
        text = repr(value)
    elif isinstance(value, str) and len(value) <= 32:
        text = value.strip()
    else:
        raise InvalidItem(f"{what} is not a number")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidItem(f"{what} is not a number") from exc
    if not number.is_finite():
        raise InvalidItem(f"{what} is not finite")
    return number


def _coordinate(value: object, limit: float, what: str) -> float:
    number = float(_number(value, what))
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise InvalidItem(f"{what} out of range")
    return number

Fields = dict[str, Any]  # keyword arguments for InboundMessage beyond the common ones


def _text(message: dict[str, Any]) -> Fields:
    return {"text": _str(_obj(message.get("text"), "text"), "body", "text")}


def _interactive(message: dict[str, Any]) -> Fields:
    interactive = _obj(message.get("interactive"), "interactive")
    subtype = interactive.get("type")
    if subtype in ("button_reply", "list_reply"):
        reply = _obj(interactive.get(subtype), subtype)
        title = _str(reply, "title", subtype)
        description = _opt_str(reply, "description")
        text = f"{title}\n{description}" if description else title
        return {"text": text, "reply_id": _opt_str(reply, "id")}
    return {"text": None, "needs_review": True, "review_reasons": (f"interactive_type:{subtype}",)}


def _button(message: dict[str, Any]) -> Fields:
    button = _obj(message.get("button"), "button")
    return {"text": _str(button, "text", "button"), "reply_id": _opt_str(button, "payload")}


def _order_item(item: object, index: int) -> OrderItem:
    data = _obj(item, f"order.product_items[{index}]")
    quantity = _number(data.get("quantity"), "quantity")
    if quantity != quantity.to_integral_value() or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidItem(f"order.product_items[{index}].quantity must be a whole number 1..{MAX_QUANTITY}")
    price = data.get("item_price")
    return OrderItem(
        product_retailer_id=_str(data, "product_retailer_id", f"order.product_items[{index}]"),
        quantity=int(quantity),
        item_price=None if price is None else _number(price, "item_price"),
        currency=_opt_str(data, "currency"),
    )


def _order(message: dict[str, Any]) -> Fields:
    order = _obj(message.get("order"), "order")
    items = tuple(_order_item(item, i) for i, item in enumerate(_list(order.get("product_items"), "product_items")))
    if not items:
        raise InvalidItem("order has no product_items")
    lines = "\n".join(f"{item.quantity} x {item.product_retailer_id}" for item in items)
    note = _opt_str(order, "text")
    return {"text": f"{lines}\n\n{note}" if note else lines, "order_items": items}


def _media(kind: str) -> Callable[[dict[str, Any]], Fields]:
    def read(message: dict[str, Any]) -> Fields:
        data = _obj(message.get(kind), kind)
        caption = _opt_str(data, "caption")
        ref = MediaRef(
            media_id=_str(data, "id", kind),
            mime_type=_opt_str(data, "mime_type"),
            caption=caption,
            filename=_opt_str(data, "filename"),
        )
        return {"text": caption, "media": (ref,), "review_reasons": (f"media:{kind}",)}

    return read


def _location(message: dict[str, Any]) -> Fields:
    data = _obj(message.get("location"), "location")
    location = Location(
        latitude=_coordinate(data.get("latitude"), 90.0, "latitude"),
        longitude=_coordinate(data.get("longitude"), 180.0, "longitude"),
        name=_opt_str(data, "name"),
        address=_opt_str(data, "address"),
    )
    text = ", ".join(part for part in (location.name, location.address) if part) or None
    return {"text": text, "location": location, "review_reasons": ("location",)}


_READERS: dict[str, Callable[[dict[str, Any]], Fields]] = {
    "text": _text,
    "interactive": _interactive,
    "button": _button,
    "order": _order,
    "location": _location,
    **{kind: _media(kind) for kind in MEDIA_KINDS},
}


def _message(item: object, phone_number_id: str, contacts: Mapping[str, str]) -> InboundMessage:
    message = _obj(item, "message")
    sender = _str(message, "from", "message")
    raw_type = message.get("type")
    kind: Kind = raw_type if isinstance(raw_type, str) and raw_type in KNOWN_KINDS else "unknown"  # type: ignore[assignment]
    if kind == "unknown":
        fields: Fields = {"text": None, "review_reasons": (f"unknown_type:{str(raw_type)[:40]}",)}
    else:
        fields = _READERS[kind](message)
    context = message.get("context")
    fields.setdefault("needs_review", kind in REVIEW_KINDS)
    return InboundMessage(
        channel=CHANNEL,
        phone_number_id=phone_number_id,
        provider_message_id=_str(message, "id", "message"),
        from_handle=sender,
        profile_name=contacts.get(sender),
        timestamp=_timestamp(message.get("timestamp")),
        kind=kind,
        reply_to=_opt_str(context, "id") if isinstance(context, dict) else None,
        raw=message,
        **fields,
    )


def _status_errors(status: dict[str, Any]) -> tuple[str, ...]:
    errors: list[str] = []
    for error in _list(status.get("errors"), "status.errors"):
        if isinstance(error, dict):
            code = error.get("code")
            title = error.get("title") or error.get("message") or ""
            errors.append(f"{code}: {title}" if code is not None else str(title))
    return tuple(errors)


def _status(item: object, phone_number_id: str) -> StatusUpdate:
    status = _obj(item, "status")
    value = _str(status, "status", "status")
    if value not in STATUS_VALUES:
        raise InvalidItem(f"unknown status {value[:40]!r}")
    return StatusUpdate(
        phone_number_id=phone_number_id,
        provider_message_id=_str(status, "id", "status"),
        status=value,  # type: ignore[arg-type]  # checked against STATUS_VALUES above
        recipient_id=_str(status, "recipient_id", "status"),
        timestamp=_timestamp(status.get("timestamp")),
        errors=_status_errors(status),
        raw=status,
    )


def _contacts(value: dict[str, Any]) -> dict[str, str]:
    contacts: dict[str, str] = {}
    raw = value.get("contacts")
    for contact in raw if isinstance(raw, list) else []:  # names are cosmetic: skip odd entries
        if isinstance(contact, dict) and isinstance(contact.get("wa_id"), str):
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(name, str) and name:
                contacts[contact["wa_id"]] = name
    return contacts


def _collect(items: object, read: Callable[[object], T], path: str, errors: list[PayloadError]) -> tuple[T, ...]:
    """Read each item of a list; an item that cannot be read becomes a PayloadError."""
    if items is None:
        return ()
    if not isinstance(items, list):
        errors.append(PayloadError(index=0, reason="not a list", path=path, raw=items))
        return ()
    good: list[T] = []
    for index, item in enumerate(items):
        try:
            good.append(read(item))
        except InvalidItem as exc:
            errors.append(PayloadError(index=index, reason=str(exc), path=f"{path}[{index}]", raw=item))
    return tuple(good)


def _change(change: dict[str, Any], path: str, errors: list[PayloadError]) -> Change:
    value = _obj(change.get("value"), "value")
    metadata = _obj(value.get("metadata"), "value.metadata")
    phone_number_id = _str(metadata, "phone_number_id", "value.metadata")
    contacts = _contacts(value)
    messages = _collect(value.get("messages"), lambda item: _message(item, phone_number_id, contacts),
                        f"{path}.value.messages", errors)
    statuses = _collect(value.get("statuses"), lambda item: _status(item, phone_number_id),
                        f"{path}.value.statuses", errors)
    display = _opt_str(metadata, "display_phone_number")
    return Change(phone_number_id=phone_number_id, display_phone_number=display, contacts=contacts,
                  messages=messages, statuses=statuses)


def parse_payload(data: object) -> ParsedPayload:
    """Read one webhook notification (already JSON-decoded). See the module docstring."""
    if not isinstance(data, dict):
        raise MalformedPayload("payload is not a JSON object")
    if data.get("object") != OBJECT_TYPE:
        raise MalformedPayload(f"payload object is not {OBJECT_TYPE!r}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayload("payload has no entry list")
    changes: list[Change] = []
    errors: list[PayloadError] = []
    for entry_index, entry in enumerate(entries):
        entry_path = f"entry[{entry_index}]"
        raw_changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(raw_changes, list):
            errors.append(PayloadError(index=entry_index, reason="entry has no changes list", path=entry_path, raw=entry))
            continue
        for change_index, change in enumerate(raw_changes):
            path = f"{entry_path}.changes[{change_index}]"
            if not isinstance(change, dict):
                errors.append(PayloadError(index=change_index, reason="change is not an object", path=path, raw=change))
                continue
            if change.get("field") != MESSAGES_FIELD:
                continue  # template status, account updates ...: not ours to read
            try:
                changes.append(_change(change, path, errors))
            except InvalidItem as exc:
                errors.append(PayloadError(index=change_index, reason=str(exc), path=path, raw=change))
    return ParsedPayload(changes=tuple(changes), errors=tuple(errors))


__all__ = [
    "CHANNEL", "SIGNATURE_HEADER", "Change", "MalformedPayload", "ParsedPayload", "PayloadError",
    "StatusUpdate", "parse_payload", "verify_signature", "verify_subscription",
]
