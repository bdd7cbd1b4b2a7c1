"""Product-then-quantity run-ons: each product reads with the count (and pack word) after it.

A bare count after a product stays in its phrase ("cilantro 5"): the matcher takes it as the count
when the product matches as well without it (ai.matching.lines)."""

from __future__ import annotations

import pytest

from ai.offline.lines import parse_lines


def summary(text: str, language: str) -> list[tuple[float | None, str | None, str]]:
    return [(line.quantity, line.unit, line.phrase) for line in parse_lines(text, language)]


@pytest.mark.parametrize(
    "text,language,expected",
    [
        ("pepinos 3 cajas limones 2 bultos cilantro 5", "es",
         [(3.0, "caja", "pepinos"), (2.0, "bulto", "limones"), (None, None, "cilantro 5")]),
        ("bacon 2 cs sausage links 3 ham 1", "en",
         [(2.0, "case", "bacon"), (None, None, "sausage links 3"), (None, None, "ham 1")]),
        ("farinha 4 sacos fubá 2 sal 10 fardos", "pt",
         [(4.0, "saco", "farinha"), (None, None, "fubá 2"), (10.0, "fardo", "sal")]),
        ("hola, tortillas 3 queso 2 porfa", "es", [(None, None, "tortillas 3"), (None, None, "queso 2")]),
    ],
)
def test_product_first_run_ons(text: str, language: str, expected: list[tuple[float | None, str | None, str]]) -> None:
    assert summary(text, language) == expected


@pytest.mark.parametrize(
    "text,language,expected",
    [
        # a count before its product stays as it was, even after words the parser does not know
        ("encargo 8 paquetes de agua y 6 garrafones", "es", [(8.0, "paquete", "agua"), (6.0, "garrafon", "garrafones")]),
        ("3 bags shredded cheddar 2 mozz loaves", "en", [(3.0, "bag", "shredded cheddar"), (2.0, "loaf", "mozz")]),
        ("leite 5", "pt", [(None, None, "leite 5")]),  # one product: the matcher reads its trailing count
    ],
)
def test_other_shapes_are_left_alone(text: str, language: str, expected: list[tuple[float | None, str | None, str]]) -> None:
    assert summary(text, language) == expected


def test_the_analyzer_reads_a_run_on() -> None:
    from datetime import UTC, datetime

    from ai.analyzer import AnalysisRequest
    from ai.catalog import Catalog, Product
    from ai.offline.analyzer import OfflineAnalyzer

    catalog = Catalog(distributor="t", locale="en-US", products=(
        Product(sku="BAC", name="Bacon, 15 lb case", aliases=("bacon",), unit="case", price_cents=1),
        Product(sku="SAU", name="Sausage links, 10 lb case", aliases=("sausage links",), unit="case", price_cents=1),
        Product(sku="HAM", name="Sliced ham, 12 lb case", aliases=("ham",), unit="case", price_cents=1),
    ))
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(
        text="bacon 2 cs sausage links 3 ham 1", catalog=catalog, now=datetime(2026, 11, 2, tzinfo=UTC)))
    assert [(line.sku, line.quantity) for line in analysis.lines] == [("BAC", 2.0), ("SAU", 3.0), ("HAM", 1.0)]
