"""The inbound message record shared by every channel parser (WhatsApp, generic channels).

A parser turns one provider payload into `InboundMessage`s (one per customer message) plus
`PayloadError`s for the individual items it could not read, so a batch with one bad item
still stores the good ones. A body that is not the expected shape at all raises
`MalformedPayload`. Nothing here touches the network or the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from worker.core.errors import OrderflowError

MAX_DEPTH = 64  # nesting of arrays and objects a payload may have (WhatsApp's is under 10)

Kind = Literal[
    "text", "interactive", "button", "order", "image", "audio", "document", "location", "video", "sticker", "unknown"
]
MEDIA_KINDS: frozenset[str] = frozenset({"image", "audio", "document", "video", "sticker"})
REVIEW_KINDS: frozenset[str] = MEDIA_KINDS | {"location", "unknown"}  # kinds a person must look at


class MalformedPayload(OrderflowError):
    """The body is not the provider's shape at all; nothing in it can be stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class PayloadError:
    """One item of an otherwise valid batch that could not be read."""

    index: int  # position of the item in its list (messages[], statuses[], changes[])
    reason: str
    path: str = ""  # where in the payload, e.g. "entry[0].changes[0].value.messages[2]"
    raw: object = None  # the offending item, for logging and dead-letter storage


@dataclass(frozen=True, kw_only=True)
class OrderItem:
    """One line of a WhatsApp catalog order (`order.product_items[]`)."""

    product_retailer_id: str
    quantity: int
    item_price: Decimal | None
    currency: str | None


@dataclass(frozen=True, kw_only=True)
class MediaRef:
    """A media attachment by provider id; the bytes are fetched later, if ever."""

    media_id: str
    mime_type: str | None
    caption: str | None = None
    filename: str | None = None  # documents only


@dataclass(frozen=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    """One message from a customer, whatever channel it came in on."""

    channel: str  # "whatsapp", "sms", "telegram", ...
    phone_number_id: str | None  # WhatsApp business number it arrived on; None for generic channels
    provider_message_id: str  # the provider's id (WhatsApp wamid...), the deduplication key
    from_handle: str  # the sender: WhatsApp wa_id / phone number / channel handle
    profile_name: str | None
    timestamp: datetime  # UTC
    kind: Kind
    text: str | None  # what a person or the analyzer reads; None when there is nothing to read
    reply_id: str | None = None  # interactive reply id / quick-reply button payload
    reply_to: str | None = None  # provider id of the message this one answers (WhatsApp context.id)
    order_items: tuple[OrderItem, ...] = ()
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    needs_review: bool = False
    review_reasons: tuple[str, ...] = ()  # machine-readable, e.g. "media:image", "unknown_type:reaction"
    raw: dict[str, Any]  # the provider's item exactly as received


def decode_json(body: bytes) -> object:
    """Decode a request body as JSON; anything undecodable, or nested deeper than MAX_DEPTH, is a
    `MalformedPayload` (a deep document would otherwise reach recursive code later and fail there)."""
    try:
        document = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integers over the digit limit
        raise MalformedPayload(f"body is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise MalformedPayload("body is nested too deeply") from exc
    if depth_exceeds(document, MAX_DEPTH):
        raise MalformedPayload(f"body is nested deeper than {MAX_DEPTH} levels")
    return document


def depth_exceeds(document: object, limit: int) -> bool:
    """Whether arrays and objects nest deeper than `limit` (iterative: no recursion on deep input)."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


__all__ = [
    "MAX_DEPTH",
    "MEDIA_KINDS",
    "REVIEW_KINDS",
    "InboundMessage",
    "Kind",
    "Location",
    "MalformedPayload",
    "MediaRef",
    "OrderItem",
    "PayloadError",
    "decode_json",
    "depth_exceeds",
]
