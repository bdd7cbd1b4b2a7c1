"""A size, size word or format the customer names must agree with the product: never the nearest size."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.analyzer import AnalysisRequest
from ai.catalog import Catalog, Product
from ai.matching.variants import conflicts
from ai.offline.analyzer import OfflineAnalyzer

PRODUCTS = (
    Product(sku="PEP-600", name="Pepsi 600 ml (caja 24)", aliases=("pepsi",), unit="caja", pack_size=24,
            price_cents=1),
    Product(sku="TE-LATA", name="Té helado lata 355 ml (paquete 12)", aliases=("te helado",), unit="paquete",
            pack_size=12, price_cents=1),
    Product(sku="APR-L", name="Aprons, large (case 100)", aliases=("aprons",), unit="case", pack_size=100,
            price_cents=1),
    Product(sku="QUE-5", name="Queso manchego 5 kg", aliases=("queso manchego",), unit="pieza", price_cents=1),
)
CATALOG = Catalog(distributor="t", locale="es-MX", products=PRODUCTS)


@pytest.mark.parametrize(
    "phrase,sku,conflict",
    [
        ("pepsi de 2 litros", "PEP-600", True),
        ("pepsi de 600", "PEP-600", False),  # a bare number is no size here
        ("pepsi 600 ml", "PEP-600", False),
        ("pepsi 0.6 l", "PEP-600", False),
        ("medium aprons", "APR-L", True),
        ("large aprons", "APR-L", False),
        ("queso manchego de 5 kilos", "QUE-5", False),
        ("queso manchego 1 kg", "QUE-5", True),
        ("pepsi lata", "PEP-600", True),  # the catalog tells cans apart (té helado lata); Pepsi is no can
        ("te helado lata", "TE-LATA", False),
    ],
)
def test_conflicts(phrase: str, sku: str, conflict: bool) -> None:
    product = next(p for p in PRODUCTS if p.sku == sku)
    assert conflicts(phrase, product, PRODUCTS) is conflict


def test_a_format_that_is_the_unit_is_a_count() -> None:
    assert not conflicts("latas de pepsi", PRODUCTS[0], PRODUCTS, unit="lata")


def analyze(text: str) -> list[tuple[str | None, float]]:
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(text=text, catalog=CATALOG,
                                                              now=datetime(2026, 11, 2, tzinfo=UTC)))
    return [(line.sku, line.quantity) for line in analysis.lines]


def test_the_nearest_size_is_no_match() -> None:
    assert analyze("mándame 3 cajas de pepsi de 600 y 2 de pepsi de 2 litros") == [("PEP-600", 3.0), (None, 2.0)]
