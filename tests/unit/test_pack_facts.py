"""Pack facts read from catalog rows, and counts or amounts converted into packs only when exact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ai.analyzer import AnalysisRequest
from ai.catalog import Catalog, Product
from ai.offline.analyzer import OfflineAnalyzer
from ai.offline.pack_units import PACK_CONVERSION, fit_product
from ai.pack_facts import PackFacts, convert, items_to_packs, pack_facts


@pytest.mark.parametrize(
    "name,unit,pack_size,facts",
    [
        ("Jugo de mango 500 ml (caja 18)", "caja", 18, PackFacts(items=18, item_amount=0.5, measure="l")),
        ("Pork shoulder, 20 lb case", "case", 1, PackFacts(items=1, item_amount=20.0, measure="lb")),
        ("Onion rings, 4 x 2.5 lb case", "case", 4, PackFacts(items=4, item_amount=2.5, measure="lb")),
        ("Quail eggs, 10 dozen case", "case", 1, PackFacts(items=120)),
        ("Napkins, 12 x 500 ct", "case", 1, PackFacts(items=6000)),
        ("Tortilla chips 1 kg (fardo 8)", "fardo", 8, PackFacts(items=8, item_amount=1.0, measure="kg")),
        ("Soy sauce, 1 gal (case 6)", "case", 6, PackFacts(items=6, item_amount=1.0, measure="gal")),
        ("Velas aromáticas (caixa com 30)", "caixa", 1, PackFacts(items=30)),
        ("Sal refinada 250 g (fardo 30)", "fardo", 30, PackFacts(items=30, item_amount=0.25, measure="kg")),
        ("Aluminum pans 9x13, 50 ct", "case", 50, PackFacts(items=50)),
        ("Gelatina sabor fresa", "pieza", 1, PackFacts(items=1)),
    ],
)
def test_pack_facts_from_the_name(name: str, unit: str, pack_size: int, facts: PackFacts) -> None:
    assert pack_facts(name=name, unit=unit, pack_size=pack_size) == facts


def test_pack_amount_and_dict() -> None:
    facts = pack_facts(name="Agua natural 600 ml (paquete 24)", unit="paquete", pack_size=24)
    assert facts.pack_amount == pytest.approx(14.4)
    assert facts.to_dict() == {"items": 24, "item_amount": 0.6, "measure": "l", "pack_amount": 14.4}


def test_convert_only_exact_and_in_the_same_family() -> None:
    case = PackFacts(items=1, item_amount=20.0, measure="lb")
    assert convert(60, "lbs", case) == 3.0
    assert convert(50, "lbs", case) is None  # 2.5 cases: no
    assert convert(40, "kg", case) is None  # another family: never converted
    bottles = PackFacts(items=12, item_amount=0.5, measure="l")
    assert convert(12, "litros", bottles) == 2.0
    assert convert(6000, "ml", bottles) == 1.0


def test_items_to_packs() -> None:
    facts = PackFacts(items=18)
    assert items_to_packs(54, facts) == 3.0
    assert items_to_packs(18, facts) is None  # one pack's worth may be a count of packs: left alone
    assert items_to_packs(40, facts) is None


def product(name: str, unit: str, pack_size: int) -> Product:
    return Product(sku="X-1", name=name, unit=unit, pack_size=pack_size, price_cents=100)


def test_fit_product_converts_or_sends_to_review() -> None:
    pork = product("Pork shoulder, 20 lb case", "case", 1)
    assert fit_product(60, "lb", pork).quantity == 3.0
    assert fit_product(50, "lb", pork).reason == PACK_CONVERSION
    assert fit_product(10, "lb", pork).reason == "unit_mismatch"  # less than a pack: as before
    juice = product("Jugo de mango 500 ml (caja 18)", "caja", 18)
    assert fit_product(36, None, juice).quantity == 2.0
    assert fit_product(40, None, juice).reason == PACK_CONVERSION
    assert fit_product(5, None, juice).quantity == 5.0  # five cajas
    assert fit_product(36, "botella", juice).quantity == 2.0
    assert fit_product(3, "caja", juice).quantity == 3.0


CATALOG = Catalog(
    distributor="t", locale="es-MX",
    products=(
        Product(sku="JUG-MAN", name="Jugo de mango 500 ml (caja 18)", aliases=("jugo de mango",), unit="caja",
                pack_size=18, price_cents=100),
        Product(sku="POR-20", name="Pork shoulder, 20 lb case", aliases=("pork shoulder",), unit="case",
                pack_size=1, price_cents=100),
        Product(sku="SAL-250", name="Sal refinada 250 g (fardo 30)", aliases=("sal",), unit="fardo",
                pack_size=30, price_cents=100),
    ),
)


@pytest.mark.parametrize(
    "text,sku,quantity",
    [
        ("mándame 54 jugos de mango", "JUG-MAN", 3.0),
        ("necesito 18 litros de jugo de mango", "JUG-MAN", 2.0),
        ("need 100 lb of pork shoulder", "POR-20", 5.0),
        ("ocupo 15 kilos de sal", "SAL-250", 2.0),
    ],
)
def test_the_analyzer_converts(text: str, sku: str, quantity: float) -> None:
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(text=text, catalog=CATALOG,
                                                              now=datetime(2026, 11, 2, tzinfo=UTC)))
    assert [(line.sku, line.quantity) for line in analysis.lines] == [(sku, quantity)]
    assert not analysis.needs_review


def test_an_amount_that_does_not_divide_is_kept_for_review() -> None:
    analysis = OfflineAnalyzer().analyze_text(AnalysisRequest(text="need 50 lb of pork shoulder", catalog=CATALOG,
                                                              now=datetime(2026, 11, 2, tzinfo=UTC)))
    assert [(line.sku, line.quantity) for line in analysis.lines] == [(None, 50.0)]
    assert analysis.needs_review and "pack_conversion:line:1" in analysis.review_reasons
