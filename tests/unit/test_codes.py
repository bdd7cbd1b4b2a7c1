"""Product codes typed from a price list: any case, any separators, the count before or after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.analyzer import AnalysisRequest
from ai.catalog import Catalog, Product
from ai.matching.codes import blank_codes, find_codes
from ai.offline.analyzer import OfflineAnalyzer

CATALOG = Catalog(
    distributor="t", locale="es-MX",
    products=(
        Product(sku="AB-TOR-1K-12", name="Tortilla de harina 1 kg (caja 12)", aliases=("tortilla de harina",),
                unit="caja", pack_size=12, price_cents=1),
        Product(sku="AB-SAL-250", name="Salsa verde 250 ml", aliases=("salsa verde",), unit="botella",
                price_cents=1),
        Product(sku="ZX9", name="Queso fresco", aliases=("queso",), unit="kg", price_cents=1),
        Product(sku="PAN", name="Pan dulce", aliases=("pan",), unit="pieza", price_cents=1),
    ),
)


def codes(text: str) -> list[tuple[str, float | None, str]]:
    return [(c.sku, c.quantity, text[c.start : c.end]) for c in find_codes(text, CATALOG)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("AB-TOR-1K-12 x 4", [("AB-TOR-1K-12", 4.0, "AB-TOR-1K-12 x 4")]),
        ("abtor1k12 - 4, ab sal 250 - 9", [("AB-TOR-1K-12", 4.0, "abtor1k12 - 4"), ("AB-SAL-250", 9.0, "ab sal 250 - 9")]),
        ("pedido: 4 ab-tor-1k-12, 9 AB_SAL_250", [("AB-TOR-1K-12", 4.0, "4 ab-tor-1k-12"), ("AB-SAL-250", 9.0, "9 AB_SAL_250")]),
        ("ab.sal.250 12 un", [("AB-SAL-250", 12.0, "ab.sal.250 12 un")]),
        ("AB-SAL-250: 3\nAB-TOR-1K-12: 1", [("AB-SAL-250", 3.0, "AB-SAL-250: 3"), ("AB-TOR-1K-12", 1.0, "AB-TOR-1K-12: 1")]),
        ("¿el AB-SAL-250 cuánto cuesta?", [("AB-SAL-250", None, "AB-SAL-250")]),
    ],
)
def test_codes_in_any_form(text: str, expected: list[tuple[str, float | None, str]]) -> None:
    assert codes(text) == expected


def test_short_or_letter_only_codes_are_words_not_codes() -> None:
    assert codes("3 zx9 y 2 pan") == []  # "ZX9" is too short, "PAN" has no digit: the matcher reads them


def test_blanking_keeps_offsets() -> None:
    text = "AB-SAL-250 x 3 y tortillas"
    blanked = blank_codes(text, find_codes(text, CATALOG))
    assert len(blanked) == len(text) and blanked.endswith(" y tortillas") and "AB" not in blanked


def analyze(text: str) -> list[tuple[str | None, float]]:
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(text=text, catalog=CATALOG,
                                                              now=datetime(2026, 11, 2, tzinfo=UTC)))
    return [(line.sku, line.quantity) for line in analysis.lines]


def test_the_analyzer_reads_codes_beside_ordinary_lines() -> None:
    assert analyze("AB-TOR-1K-12 x 4\n2 salsas verdes") == [("AB-TOR-1K-12", 4.0), ("AB-SAL-250", 2.0)]


def test_a_code_in_a_price_question_is_no_order() -> None:
    assert analyze("¿el AB-SAL-250 sigue a 30 pesos?") == []
