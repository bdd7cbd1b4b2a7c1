"""Replies in the customer's language."""

from __future__ import annotations

from ai.catalog import Catalog, Product
from ai.contract import DeliveryHint, Intent, Line, LineOp
from ai.offline.replies import compose_reply, format_money

CATALOG = Catalog(
    distributor="valle",
    products=(
        Product(sku="CC", name="Coca-Cola 600 ml (caja 24)", unit="caja", pack_size=24, price_cents=38400),
        Product(sku="SPR", name="Sprite 600 ml (caja 24)", unit="caja", pack_size=24, price_cents=33600),
    ),
    currency="MXN",
)


def line(sku: str | None, quantity: float, confidence: float = 1.0, text: str = "x") -> Line:
    return Line(op=LineOp.ADD, text=text, quantity=quantity, unit=None, sku=sku, confidence=confidence, evidence="test")


def test_order_confirmation_has_items_and_total() -> None:
    reply = compose_reply(intent=Intent.ORDER, lines=[line("CC", 3), line("SPR", 2)],
                          delivery=DeliveryHint(text="mañana", date="2026-11-24"), needs_review=False,
                          catalog=CATALOG, language="es")
    assert "3 × Coca-Cola 600 ml (caja 24): $1,152.00 MXN" in reply
    assert "Total: $1,824.00 MXN" in reply
    assert "24/11/2026" in reply


def test_review_asks_about_doubtful_lines() -> None:
    reply = compose_reply(intent=Intent.ORDER, lines=[line("CC", 3, 0.6, "3 cocas"), line(None, 2, 0.0, "2 pepsis")],
                          delivery=None, needs_review=True, catalog=CATALOG, language="en")
    assert "3 × Coca-Cola 600 ml (caja 24)" in reply and "3 cocas" in reply
    assert "2 pepsis" in reply
    assert "Total" not in reply


def test_acknowledgements_in_each_language() -> None:
    for language, word in (("es", "Lamentamos"), ("en", "Sorry"), ("pt", "Sentimos")):
        reply = compose_reply(intent=Intent.COMPLAINT, lines=[], delivery=None, needs_review=True,
                              catalog=CATALOG, language=language)
        assert word in reply
    assert compose_reply(intent=Intent.OTHER, lines=[], delivery=None, needs_review=False, catalog=CATALOG,
                         language="pt") == "Obrigado pela mensagem!"


def test_money_formats() -> None:
    assert format_money(115200, "MXN", "es") == "$1,152.00 MXN"
    assert format_money(115200, "BRL", "pt") == "R$ 1.152,00"
    assert format_money(650, "USD", "en") == "$6.50"
    assert format_money(100, "XYZ", "en") == "1.00 XYZ"
