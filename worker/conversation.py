"""What one message does to the customer's orders: the decision a clerk makes, as pure functions.

Given the analysis (an order-level action, one operation per line), the customer's open order
(the most recent one neither confirmed for dispatch nor cancelled), their last order (history
included), the message's received_at and the distributor's policy, `decide` returns the
`conversation` part of the outcome that record_outcome_v2 applies as a revision:

- confirm / cancel apply to the open order, however long ago it was touched;
- "the usual" creates an order from the last order with the message's own changes applied;
- an explicit separate order ("aparte", "separate order") creates one, open order or not;
- a correction (set) or removal applies to the open order even after the follow-up window;
- plain lines join the open order within the follow-up window (since the last message that
  touched it, by received_at, unless a closer ended it) and start a new order otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ai.contract import Analysis, Intent, LineOp, OrderAction
from worker.outcome import LineDecision

REPEAT_METHOD = "repeat last order"  # match_method of lines copied from the last order (the learning loop skips them)
ORDER_LEVEL = ":line:"  # review reasons containing this belong to one line


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    line_no: int
    sku: str | None
    quantity: float
    customer_text: str
    unit: str | None = None
    confidence: float | None = None
    match_method: str | None = None
    review_reason: str | None = None

    def row(self) -> dict[str, Any]:
        return {"line_no": self.line_no, "sku": self.sku, "quantity": self.quantity, "customer_text": self.customer_text,
                "unit": self.unit, "confidence": self.confidence, "match_method": self.match_method,
                "review_reason": self.review_reason}


@dataclass(frozen=True, kw_only=True)
class OrderState:
    id: str
    status: str
    revision: int
    created_at: datetime
    last_message_at: datetime | None
    followups_closed_at: datetime | None
    lines: tuple[OrderLine, ...]
    opened_at: datetime | None = None  # received_at of the message that made it (created_at for imported ones)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrderState:
        lines = tuple(
            OrderLine(line_no=int(item["line_no"]), sku=item["sku"], quantity=float(item["quantity"]),
                      customer_text=item["customer_text"], unit=item["unit"],
                      confidence=None if item["confidence"] is None else float(item["confidence"]),
                      match_method=item["match_method"], review_reason=item["review_reason"])
            for item in row["lines"]
        )
        return cls(id=str(row["id"]), status=row["status"], revision=int(row["revision"]), created_at=row["created_at"],
                   last_message_at=row["last_message_at"], followups_closed_at=row["followups_closed_at"], lines=lines,
                   opened_at=row.get("opened_at"))


@dataclass(frozen=True, kw_only=True)
class Policy:
    followup_window_s: int = 7200
    confirmation: str = "auto"  # "auto" | "ask"
    cutoff: time | None = None  # local time after which the day's orders take no more changes; None: no cut-off
    timezone: str = "UTC"


def changeable(order: OrderState, received_at: datetime, policy: Policy) -> bool:
    """The order still takes changes at received_at: no cut-off, or its day's cut-off has not passed
    (an order opened after the cut-off belongs to the next day's)."""
    if policy.cutoff is None:
        return True
    zone = ZoneInfo(policy.timezone)
    opened = (order.opened_at or order.created_at).astimezone(zone)
    deadline = datetime.combine(opened.date(), policy.cutoff, tzinfo=zone)
    if opened >= deadline:
        deadline += timedelta(days=1)
    return received_at < deadline


@dataclass(frozen=True, kw_only=True)
class Decision:
    conversation: dict[str, Any]  # record_outcome_v2's "conversation"
    lines: tuple[OrderLine, ...]  # the order's lines after the message (for the reply)
    order_line_of: dict[int, int]  # analysis line_no -> order line_no (matching history)
    review_reasons: tuple[str, ...]  # message-level reasons the decision adds


def within_window(order: OrderState, received_at: datetime, policy: Policy) -> bool:
    """A plain follow-up joins `order`: it was not closed and was touched recently enough."""
    if order.followups_closed_at is not None and order.followups_closed_at <= received_at:
        return False
    touched = order.last_message_at or order.created_at
    return (received_at - touched).total_seconds() <= policy.followup_window_s


def _new_line(line_no: int, d: LineDecision) -> OrderLine:
    return OrderLine(line_no=line_no, sku=d.sku, quantity=d.quantity, customer_text=d.line.text, unit=d.line.unit,
                     confidence=d.line.confidence, match_method=d.line.evidence[:200], review_reason=d.review_reason)


def apply_ops(base: Sequence[OrderLine], decisions: Sequence[LineDecision]) -> tuple[list[OrderLine], dict[int, int], list[dict[str, Any]]]:
    """The lines after applying each decision's operation to `base`, the analysis -> order line map, and the change."""
    lines = list(base)
    mapping: dict[int, int] = {}
    change: list[dict[str, Any]] = []
    next_no = max((line.line_no for line in lines), default=0) + 1
    for d in decisions:
        op = d.line.op
        at = next((i for i, line in enumerate(lines) if d.sku is not None and line.sku == d.sku), None)
        if op == LineOp.REMOVE:
            if at is not None:
                change.append({"op": "remove", "sku": lines[at].sku, "quantity": lines[at].quantity})
                del lines[at]
            continue
        if at is None:
            lines.append(_new_line(next_no, d))
            mapping[d.line_no] = next_no
            change.append({"op": "add", "sku": d.sku, "quantity": d.quantity, "line_no": next_no})
            next_no += 1
            continue
        quantity = d.quantity if op == LineOp.SET else lines[at].quantity + d.quantity
        lines[at] = replace(lines[at], quantity=quantity)
        mapping[d.line_no] = lines[at].line_no
        change.append({"op": op.value, "sku": d.sku, "quantity": quantity, "line_no": lines[at].line_no})
    return lines, mapping, change


def _status(lines: Sequence[OrderLine], order_reasons: Sequence[str]) -> tuple[str, list[str]]:
    reasons = sorted({*order_reasons, *(f"{line.review_reason}{ORDER_LEVEL}{line.line_no}"
                                        for line in lines if line.review_reason)})
    return ("needs_review" if reasons else "created"), reasons


def _delivery(analysis: Analysis) -> dict[str, Any]:
    return {"delivery_date": analysis.delivery.date if analysis.delivery else None,
            "delivery_text": analysis.delivery.text if analysis.delivery else None}


def decide(
    analysis: Analysis,
    decisions: Sequence[LineDecision],
    *,
    open_order: OrderState | None,
    last_order: OrderState | None,
    received_at: datetime,
    policy: Policy,
    order_reasons: Sequence[str] = (),
) -> Decision:
    """What the message does to the customer's orders (see the module docstring)."""
    action = analysis.action
    if open_order is not None and not changeable(open_order, received_at, policy):
        open_order = None  # past the distributor's cut-off: this order takes no more changes
    none = Decision(conversation={"action": "none"}, lines=(), order_line_of={}, review_reasons=())

    def on_open(kind: str, **extra: Any) -> Decision:
        assert open_order is not None
        conversation = {"action": kind, "order_id": open_order.id, "expected_revision": open_order.revision,
                        "change": {"action": action.value}, **extra}
        return Decision(conversation=conversation, lines=open_order.lines, order_line_of={}, review_reasons=())

    def create(lines: Sequence[OrderLine], mapping: dict[int, int], change: list[dict[str, Any]]) -> Decision:
        if not lines:
            return replace(none, review_reasons=("order_without_lines",))
        status, reasons = _status(lines, order_reasons)
        conversation = {"action": "create", "status": status, "review_reasons": reasons, **_delivery(analysis),
                        "close": analysis.closes_order,
                        "lines": [line.row() for line in lines], "change": {"action": action.value, "lines": change}}
        return Decision(conversation=conversation, lines=tuple(lines), order_line_of=mapping, review_reasons=())

    if action == OrderAction.CONFIRM:
        return on_open("confirm") if open_order is not None else none
    if action == OrderAction.CANCEL:
        if open_order is None:
            return replace(none, review_reasons=("nothing_to_cancel",))
        return on_open("cancel")
    adds = [d for d in decisions if d.line.op != LineOp.REMOVE]
    if action == OrderAction.REPEAT_LAST:
        if last_order is None:
            return replace(create(*apply_ops([], adds)), review_reasons=("repeat_order_without_history",))
        base = [OrderLine(line_no=n, sku=line.sku, quantity=line.quantity, customer_text=line.customer_text,
                          unit=line.unit, confidence=1.0, match_method=REPEAT_METHOD, review_reason=None)
                for n, line in enumerate((line for line in last_order.lines if line.sku is not None), start=1)]
        return create(*apply_ops(base, decisions))
    if action == OrderAction.NEW:
        return create(*apply_ops([], [replace(d, line=d.line.model_copy(update={"op": LineOp.ADD})) for d in adds]))
    if not decisions:
        if analysis.closes_order and open_order is not None and within_window(open_order, received_at, policy):
            return on_open("close")
        return none
    corrects = any(d.line.op in {LineOp.SET, LineOp.REMOVE} for d in decisions)
    if open_order is not None and (corrects or within_window(open_order, received_at, policy)):
        lines, mapping, change = apply_ops(open_order.lines, decisions)
        if not change:
            return none
        if not lines:  # everything removed: the order is cancelled and keeps its lines
            return on_open("cancel")
        status, reasons = _status(lines, [r for r in order_reasons if ORDER_LEVEL not in r])
        conversation = {"action": "update", "order_id": open_order.id, "expected_revision": open_order.revision,
                        "status": status, "review_reasons": reasons, **_delivery(analysis),
                        "lines": [line.row() for line in lines], "close": analysis.closes_order,
                        "change": {"action": action.value, "lines": change}}
        return Decision(conversation=conversation, lines=tuple(lines), order_line_of=mapping, review_reasons=())
    if analysis.intent == Intent.ORDER_CHANGE and open_order is None:  # a change of no order: a person looks
        return replace(none, review_reasons=("order_change_without_order",))
    return create(*apply_ops([], [replace(d, line=d.line.model_copy(update={"op": LineOp.ADD})) for d in adds]))


__all__ = ["Decision", "OrderLine", "OrderState", "Policy", "apply_ops", "changeable", "decide", "within_window"]
