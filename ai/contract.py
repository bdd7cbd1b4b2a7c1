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


Language = Literal["es", "en", "pt"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Line(_Strict):
    """One line the customer asked for."""

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
    language: Language
    lines: list[Line]
    delivery: DeliveryHint | None
    needs_review: bool
    review_reasons: list[str] = Field(description="Machine-readable reasons, e.g. 'low_confidence:line 2'")
    reply: str = Field(description="A short reply to the customer, in the customer's language")


__all__ = ["Analysis", "DeliveryHint", "Intent", "Language", "Line"]
