"""Join the conversation's decision to a message's outcome: the orders the worker read, the
`conversation` part record_outcome_v2 applies, matches pointing at order lines, and the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ai.analyzer import RecentOrderLine
from ai.catalog import Catalog
from ai.contract import Analysis, Intent, OrderAction
from ai.routing import NO_MATCHED_LINES
from worker.conversation import ORDER_LEVEL, OrderState, Policy, decide
from worker.order_reply import order_reply
from worker.outcome import decide_lines

ORDER_INTENTS = frozenset({Intent.ORDER, Intent.ORDER_CHANGE, Intent.ORDER_CANCEL})
LINE_ACTIONS = frozenset({OrderAction.CHANGE, OrderAction.NEW, OrderAction.REPEAT_LAST})


@dataclass(frozen=True, kw_only=True)
class Orders:
    """What the worker read of the customer's orders before the analysis."""

    recent: tuple[tuple[RecentOrderLine, ...], ...] = ()
    open: OrderState | None = None
    last: OrderState | None = None

    def open_lines(self) -> tuple[RecentOrderLine, ...]:
        return _lines(self.open)

    def last_lines(self) -> tuple[RecentOrderLine, ...]:
        return _lines(self.last)


def _lines(order: OrderState | None) -> tuple[RecentOrderLine, ...]:
    if order is None:
        return ()
    return tuple(RecentOrderLine(sku=line.sku, quantity=line.quantity) for line in order.lines if line.sku is not None)


def with_conversation(
    outcome: dict[str, Any],
    analysis: Analysis,
    *,
    catalog: Catalog,
    open_order: OrderState | None,
    last_order: OrderState | None,
    received_at: datetime,
    policy: Policy,
) -> dict[str, Any]:
    """The outcome with its `conversation` (what the message does to the customer's orders)."""
    takes_lines = analysis.intent in ORDER_INTENTS or analysis.action in LINE_ACTIONS
    # the final routing (worker/outcome.py, ai/routing.py) found no order: lines none of which is a product, and
    # no order verb in the message, whatever the analyzer said; a would-be new order then makes none
    no_order = outcome.get("order") is None and NO_MATCHED_LINES in outcome["review_reasons"]
    if no_order and analysis.action in {OrderAction.NONE, OrderAction.NEW}:
        takes_lines = False
    decisions = decide_lines(analysis.lines, catalog) if takes_lines else []
    order_reasons = [r for r in analysis.review_reasons if ORDER_LEVEL not in r and r != NO_MATCHED_LINES]
    decision = decide(analysis, decisions, open_order=open_order, last_order=last_order, received_at=received_at,
                      policy=policy, order_reasons=order_reasons)
    conversation = decision.conversation
    reasons = set(outcome["review_reasons"]) | set(decision.review_reasons)
    if conversation["action"] in {"create", "update"}:
        reasons |= set(conversation["review_reasons"])
    if conversation["action"] in {"create", "update", "cancel", "confirm"}:
        reasons.discard("order_without_lines")
    needs_review = (analysis.needs_review or bool(decision.review_reasons) or conversation.get("status") == "needs_review"
                    or no_order)  # the model's "order" of nothing: a person reads the message
    matches = [{**m, "order_line_no": decision.order_line_of.get(int(m["line_no"]))} for m in outcome["matches"]]
    reply = order_reply(decision, catalog, analysis.language, policy)
    out = {key: value for key, value in outcome.items() if key != "order"}
    out.update(conversation=conversation, matches=matches, needs_review=needs_review,
               review_reasons=sorted(reasons) if needs_review else [],
               reply=reply if reply is not None else outcome["reply"])
    if out.get("analysis"):
        out["analysis"] = {**out["analysis"], "needs_review": needs_review}
    return out


__all__ = ["Orders", "with_conversation"]
