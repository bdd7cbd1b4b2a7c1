"""The reply after a message created, changed, cancelled or confirmed an order: a summary of the
order (lines, quantities, prices, total, delivery date) and, when the distributor asks customers
to confirm (order_confirmation = 'ask'), the question. Texts: ai/lexicon/<lang>/order_replies.toml.
"""

from __future__ import annotations

from collections.abc import Sequence

from ai.catalog import Catalog
from ai.lexicon import LANGUAGES, lexicon
from ai.offline.replies import format_money, format_number
from worker.conversation import Decision, OrderLine, Policy

TOPIC = "order_replies"
SUMMARY_ACTIONS = {"create": "created", "update": "updated"}


def summary(lines: Sequence[OrderLine], catalog: Catalog, language: str, delivery_date: str | None) -> list[str]:
    text = lexicon(language)[TOPIC]
    rows: list[str] = []
    total = 0
    for line in lines:
        product = catalog.by_sku(line.sku) if line.sku else None
        quantity = format_number(line.quantity, language)
        if product is None:
            rows.append(f"• {quantity} × {line.customer_text} (?)")
            continue
        amount = round(product.price_cents * line.quantity)
        total += amount
        rows.append(f"• {quantity} × {product.name}: {format_money(amount, catalog.currency, language)}")
    rows.append(f"{text['total']}: {format_money(total, catalog.currency, language)}")
    if delivery_date:
        rows.append(f"{text['delivery']}: {delivery_date}")
    return rows


def order_reply(decision: Decision, catalog: Catalog, language: str, policy: Policy) -> str | None:
    """The reply for what the message did to an order; None: keep the analyzer's reply."""
    language = language if language in LANGUAGES else "es"
    text = lexicon(language)[TOPIC]
    conversation = decision.conversation
    action = conversation["action"]
    if action == "cancel":
        return str(text["cancelled"])
    if action == "confirm":
        return str(text["confirmed"])
    if action == "none" and "nothing_to_cancel" in decision.review_reasons:
        return str(text["nothing_open"])
    if action not in SUMMARY_ACTIONS:
        return None
    rows = [str(text[SUMMARY_ACTIONS[action]]),
            *summary(decision.lines, catalog, language, conversation.get("delivery_date"))]
    if conversation.get("status") == "needs_review":
        rows.append(str(text["review"]))
    elif policy.confirmation == "ask":
        rows.append(str(text["ask_confirm"]))
    return "\n".join(rows)


__all__ = ["order_reply", "summary"]
