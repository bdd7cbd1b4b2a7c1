"""worker/conversation.py: what a message does to the customer's orders (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ai.catalog import Catalog, Product
from ai.contract import Analysis, Intent, Line, LineOp, OrderAction
from worker.conversation import OrderLine, OrderState, Policy, apply_ops, changeable, decide, within_window
from worker.outcome import decide_lines

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CATALOG = Catalog(distributor="d", products=(
    Product(sku="AGUA", name="Agua", aliases=("agua",), unit="caja", price_cents=100),
    Product(sku="JABON", name="Jabón", aliases=("jabon",), unit="caja", price_cents=200),
))
POLICY = Policy(followup_window_s=7200)


def line(sku: str | None, quantity: float, op: LineOp = LineOp.ADD) -> Line:
    return Line(op=op, text=f"{quantity} {sku}", quantity=quantity, unit=None, sku=sku, confidence=0.95, evidence="t")


def analysis(action: OrderAction, *lines: Line, intent: Intent = Intent.ORDER, closes: bool = False) -> Analysis:
    return Analysis(intent=intent, action=action, closes_order=closes, language="es", lines=list(lines), delivery=None,
                    needs_review=False, review_reasons=[], reply="")


def open_order(*items: tuple[str, float], touched: datetime = T0, closed: datetime | None = None) -> OrderState:
    return OrderState(id="o1", status="created", revision=3, created_at=touched, last_message_at=touched,
                      followups_closed_at=closed,
                      lines=tuple(OrderLine(line_no=n, sku=s, quantity=q, customer_text=s) for n, (s, q) in
                                  enumerate(items, start=1)))


def run(a: Analysis, *, open_: OrderState | None = None, last: OrderState | None = None,
        at: datetime = T0 + timedelta(minutes=5)) -> dict[str, object]:
    return decide(a, decide_lines(a.lines, CATALOG), open_order=open_, last_order=last, received_at=at,
                  policy=POLICY).conversation


def items(conversation: dict[str, object]) -> dict[str, float]:
    return {row["sku"]: row["quantity"] for row in conversation["lines"]}  # type: ignore[attr-defined, index]


def test_a_plain_line_within_the_window_joins_the_open_order() -> None:
    conversation = run(analysis(OrderAction.NONE, line("JABON", 1)), open_=open_order(("AGUA", 5)))
    assert (conversation["action"], conversation["expected_revision"], items(conversation)) == (
        "update", 3, {"AGUA": 5, "JABON": 1})


def test_a_plain_line_after_the_window_starts_a_new_order() -> None:
    conversation = run(analysis(OrderAction.NONE, line("JABON", 1)), open_=open_order(("AGUA", 5)),
                       at=T0 + timedelta(hours=3))
    assert (conversation["action"], items(conversation)) == ("create", {"JABON": 1})


def test_a_correction_applies_to_the_open_order_even_after_the_window() -> None:
    conversation = run(analysis(OrderAction.CHANGE, line("AGUA", 6, LineOp.SET)), open_=open_order(("AGUA", 5)),
                       at=T0 + timedelta(hours=5))
    assert (conversation["action"], items(conversation)) == ("update", {"AGUA": 6})


def test_a_closed_order_takes_no_plain_follow_up() -> None:
    closed = open_order(("AGUA", 5), closed=T0 + timedelta(minutes=1))
    assert not within_window(closed, T0 + timedelta(minutes=5), POLICY)
    assert run(analysis(OrderAction.NONE, line("JABON", 1)), open_=closed)["action"] == "create"


def test_removing_every_line_cancels_the_order_which_keeps_its_lines() -> None:
    conversation = run(analysis(OrderAction.CHANGE, line("AGUA", 0, LineOp.REMOVE)), open_=open_order(("AGUA", 5)))
    assert (conversation["action"], conversation["order_id"]) == ("cancel", "o1")


def test_cancel_and_confirm_without_an_open_order_do_nothing() -> None:
    assert run(analysis(OrderAction.CANCEL, intent=Intent.ORDER_CANCEL))["action"] == "none"
    assert run(analysis(OrderAction.CONFIRM, intent=Intent.OTHER))["action"] == "none"


def test_the_usual_copies_the_last_order_and_applies_the_changes() -> None:
    last = open_order(("AGUA", 5), ("JABON", 2))
    conversation = run(analysis(OrderAction.REPEAT_LAST, line("AGUA", 8, LineOp.SET), line("JABON", 0, LineOp.REMOVE)),
                       last=last)
    assert (conversation["action"], items(conversation)) == ("create", {"AGUA": 8})


def test_add_of_a_product_already_there_adds_to_its_quantity() -> None:
    lines, mapping, change = apply_ops([OrderLine(line_no=1, sku="AGUA", quantity=5, customer_text="agua")],
                                       decide_lines([line("AGUA", 2)], CATALOG))
    assert ([(x.sku, x.quantity) for x in lines], mapping, change[0]["op"]) == ([("AGUA", 7)], {1: 1}, "add")


def test_an_unmatched_line_puts_the_updated_order_in_review() -> None:
    conversation = run(analysis(OrderAction.NONE, line(None, 2)), open_=open_order(("AGUA", 5)))
    assert conversation["status"] == "needs_review" and conversation["review_reasons"] == ["unmatched:line:2"]


def test_a_change_of_no_order_goes_to_review() -> None:
    decision = decide(analysis(OrderAction.CHANGE, line("AGUA", 6, LineOp.SET), intent=Intent.ORDER_CHANGE),
                      decide_lines([line("AGUA", 6, LineOp.SET)], CATALOG), open_order=None, last_order=None,
                      received_at=T0, policy=POLICY)
    assert decision.conversation["action"] == "none" and decision.review_reasons == ("order_change_without_order",)


def test_past_the_cut_off_the_order_takes_no_more_changes() -> None:
    from datetime import time

    policy = Policy(followup_window_s=7200, cutoff=time(12, 0), timezone="America/Mexico_City")  # T0 is 9:00 there
    order_ = open_order(("AGUA", 5))
    assert changeable(order_, T0 + timedelta(hours=2), policy)
    assert not changeable(order_, T0 + timedelta(hours=3, minutes=1), policy)
    late = decide(analysis(OrderAction.CHANGE, line("AGUA", 6, LineOp.SET)), decide_lines([line("AGUA", 6, LineOp.SET)], CATALOG),
                  open_order=order_, last_order=None, received_at=T0 + timedelta(hours=4), policy=policy)
    assert late.conversation["action"] == "create"  # a new order, for the next delivery
