"""The analysis contract: what every analyzer returns for one message.

Routing decisions (order or not, review or not) live in these fields, never in prose.
The models are strict (no extra keys, every field required) so the same classes bind
OpenAI structured outputs and validate the offline analyzer's results.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Intent(StrEnum):
    ORDER = "order"  # a new order, or lines added to one
    ORDER_CHANGE = "order_change"  # change quantities/items of an existing order
    ORDER_CANCEL = "order_cancel"
    QUESTION = "question"
    COMPLAINT = "complaint"
    OTHER = "other"  # thanks, greetings, anything else


class LineOp(StrEnum):
    """What a line does to the order it applies to."""

    ADD = "add"  # a new line, or more of a product already there
    SET = "set"  # the product's quantity becomes this one ("mejor 6 de agua")
    REMOVE = "remove"  # the product leaves the order ("sin el jabón")


class OrderAction(StrEnum):
    """What the message does at the order level."""

    NEW = "new"  # explicitly another order ("aparte, para el otro local ...")
    CHANGE = "change"  # follow-up, correction or removal on the customer's open order
    CANCEL = "cancel"  # cancel the most recent open order
    CONFIRM = "confirm"  # the customer confirms their most recent open order ("sí", "ok", the button)
    REPEAT_LAST = "repeat_last"  # "lo de siempre": the last order again, with the message's own changes
    NONE = "none"  # no order-level action (a plain order joins an open order within the window)


Language = Literal["es", "en", "pt"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(_Strict):
    """One line the customer asked for."""

    op: LineOp = Field(description="add: a new line or more of it; set: its quantity becomes this; remove: drop it")
    text: str = Field(description="The customer's own words for this line")
    quantity: float = Field(description="Quantity in the catalog unit of the matched product")
    unit: str | None = Field(description="Pack word the customer used (caja, case, fardo ...), if any")
    sku: str | None = Field(description="Matched catalog SKU, or null when no product fits")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure the match and quantity are, 0..1")
    evidence: str = Field(description="Why this SKU: alias, fuzzy score, candidate rank ...")


class DeliveryHint(_Strict):
    text: str = Field(description="The date words as written: 'mañana', 'para el lunes', 'pra sexta'")
    date: str | None = Field(description="ISO date (YYYY-MM-DD) in the distributor's timezone, if resolvable")


class Analysis(_Strict):
    intent: Intent
    action: OrderAction = Field(description="What the message does to the customer's orders (see the prompt)")
    closes_order: bool = Field(description="The customer said the order is complete ('ya con eso', 'that's all')")
    language: Language
    lines: list[Line]
    delivery: DeliveryHint | None
    needs_review: bool
    review_reasons: list[str] = Field(description="Machine-readable reasons, e.g. 'low_confidence:line 2'")
    reply: str = Field(description="A short reply to the customer, in the customer's language")


__all__ = ["Analysis", "DeliveryHint", "Intent", "Language", "Line", "LineOp", "OrderAction"]
