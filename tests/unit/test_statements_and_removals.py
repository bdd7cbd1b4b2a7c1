"""Questions and statements with quantities are no orders; removals drop their product; lines that match
nothing, with no order verb, are no order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.analyzer import AnalysisRequest
from ai.catalog import Catalog, Product
from ai.contract import Intent
from ai.offline.analyzer import OfflineAnalyzer

CATALOG = Catalog(
    distributor="t", locale="es-MX",
    products=(
        Product(sku="PAP", name="Papas fritas 1 kg (caja 10)", aliases=("papas", "papas fritas", "fries"), unit="caja",
                pack_size=10, price_cents=1),
        Product(sku="LIM", name="Limones (costal 20 kg)", aliases=("limones", "limes", "limão"), unit="costal",
                price_cents=1),
        Product(sku="TOR", name="Tortillas de maíz (paquete 30)", aliases=("tortillas",), unit="paquete",
                pack_size=30, price_cents=1),
        Product(sku="SAL", name="Salsa roja 1 gal (case 4)", aliases=("salsa", "salsa roja", "molho"), unit="case",
                pack_size=4, price_cents=1),
    ),
)


def analyze(text: str) -> tuple[Intent, list[tuple[str | None, float]]]:
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(text=text, catalog=CATALOG,
                                                              now=datetime(2026, 11, 2, tzinfo=UTC)))
    return analysis.intent, [(line.sku, line.quantity) for line in analysis.lines]


@pytest.mark.parametrize(
    "text",
    [
        "¿van a tener 30 cajas de papas para el puente?",  # will it be in stock
        "will you have 12 cases of salsa next month?",
        "vocês vão ter 10 caixas de molho semana que vem?",
        "aquí se van como 6 cajas de papas por semana",  # how much they use
        "we go through about 4 cases of salsa a week, any discount?",
        "¿sí llegan hoy los 3 paquetes de tortillas que pedí ayer?",  # an order already placed
        "is yesterday's order with 2 cases of salsa still coming?",
        "o pedido de ontem com 5 caixas de molho sai hoje?",
        "Factura 4471 pagada, CUIT 30-71234567-9",  # numbers that match nothing
    ],
)
def test_no_order(text: str) -> None:
    intent, lines = analyze(text)
    assert intent not in (Intent.ORDER,) and lines == []


@pytest.mark.parametrize(
    "text,lines",
    [
        ("mándame 3 cajas de papas y sin las tortillas que te pedí", [("PAP", 3.0)]),
        ("send 2 cases of salsa and take off the fries", [("SAL", 2.0)]),
        ("manda 2 caixas de molho e tira as tortillas", [("SAL", 2.0)]),
        ("forget the tortillas, send 4 cases of fries instead", [("PAP", 4.0)]),
    ],
)
def test_an_order_that_also_removes(text: str, lines: list[tuple[str, float]]) -> None:
    assert analyze(text) == (Intent.ORDER, lines)


def test_removing_alone_is_a_change_and_cancelling_the_order_a_cancel() -> None:
    assert analyze("quítame las tortillas del pedido de mañana") == (Intent.ORDER_CHANGE, [])
    assert analyze("cancela las 3 cajas de papas de mañana") == (Intent.ORDER_CHANGE, [])
    assert analyze("cancela el pedido de mañana por favor")[0] == Intent.ORDER_CANCEL


def test_a_standing_order_with_an_order_verb_is_an_order() -> None:
    assert analyze("mándame 6 cajas de papas cada semana") == (Intent.ORDER, [("PAP", 6.0)])
