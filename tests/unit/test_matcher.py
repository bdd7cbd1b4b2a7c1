"""Catalog matching: exact, fuzzy, unknown products and learned aliases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ai.catalog import Catalog, Product
from ai.matching.matcher import MIN_BEST_SCORE, Matcher


def product(sku: str, name: str, *aliases: str, unit: str = "caja", pack: int = 24) -> Product:
    return Product(sku=sku, name=name, aliases=aliases, unit=unit, pack_size=pack, price_cents=1000)


CATALOG = Catalog(
    distributor="test",
    products=(
        product("CC-600", "Coca-Cola 600 ml (caja 24)", "coca 600", "coca de 600"),
        product("CC-2L", "Coca-Cola 2 L (paquete 8)", "coca 2 litros", "coca grande", unit="paquete", pack=8),
        product("CC-LATA", "Coca-Cola lata 355 ml (paquete 12)", "coca lata", "latas de coca", unit="paquete", pack=12),
        product("CCZ-600", "Coca-Cola Sin Azúcar 600 ml (caja 24)", "coca sin azucar", "coca zero 600"),
        product("SPR-600", "Sprite 600 ml (caja 24)", "sprite 600"),
        product("COR", "Cerveza Corona 355 ml (cartón 24)", "corona", "coronitas", unit="cartón"),
        product("LAL-ENT", "Leche Lala Entera 1 L (caja 12)", "leche lala", "leche entera", pack=12),
        product("LAL-DES", "Leche Lala Deslactosada 1 L (caja 12)", "leche deslactosada", pack=12),
        product("MOZZ", "Mozzarella, low moisture, 6 lb loaf", "mozzarella", unit="loaf", pack=1),
        product("OIL", "Fry oil, canola blend, 35 lb jug", "fryer oil", "oil", unit="jug", pack=1),
        product("FOIL", "Aluminum foil 18\" x 500 ft roll", "foil", unit="roll", pack=1),
        product("TAK", "Takis Fuego 70 g (caja 40)", "takis", pack=40),
        product("GARR", "Garrafón de agua 20 L", "garrafon", "garrafones", unit="pieza", pack=1),
    ),
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(CATALOG)


@pytest.mark.parametrize(
    ("phrase", "sku"),
    [
        ("coca 600", "CC-600"),
        ("Coca de 600", "CC-600"),
        ("coca lata", "CC-LATA"),
        ("latas de coca", "CC-LATA"),
        ("coca sin azúcar", "CCZ-600"),
        ("garrafones", "GARR"),
        ("coronitas", "COR"),
        ("leche deslactosada", "LAL-DES"),
        ("foil", "FOIL"),
        ("oil", "OIL"),
    ],
)
def test_exact_alias(matcher: Matcher, phrase: str, sku: str) -> None:
    best = matcher.best(phrase)
    assert best is not None and best.sku == sku
    assert best.score == 1.0
    assert best.method.endswith("_exact")


@pytest.mark.parametrize(
    ("phrase", "sku"),
    [
        ("sprit 600", "SPR-600"),  # typo
        ("sprite", "SPR-600"),  # size left out
        ("mozz", "MOZZ"),  # abbreviation
        ("mozarella", "MOZZ"),  # typo
        ("tkis", "TAK"),  # short typo
        ("coronas", "COR"),  # plural
        ("cocacola 600", "CC-600"),  # glued words
        ("lala deslactosada 1 litro", "LAL-DES"),
    ],
)
def test_fuzzy_match(matcher: Matcher, phrase: str, sku: str) -> None:
    best = matcher.best(phrase)
    assert best is not None and best.sku == sku
    assert MIN_BEST_SCORE <= best.score <= 1.0


@pytest.mark.parametrize("phrase", ["pepsi", "tequila reposado", "pickles", "factura", "Rosie's Diner"])
def test_unknown_product_gets_no_confident_match(matcher: Matcher, phrase: str) -> None:
    assert matcher.best(phrase) is None
    assert all(c.score < MIN_BEST_SCORE for c in matcher.candidates(phrase))


def test_unknown_words_lower_the_score(matcher: Matcher) -> None:
    plain = matcher.best("corona")
    odd = matcher.best("corona de tamarindo extra")
    assert plain is not None
    assert odd is None or odd.score < plain.score - 0.3


def test_ambiguous_phrase_has_close_candidates(matcher: Matcher) -> None:
    found = matcher.candidates("leche", limit=3)
    assert [c.sku for c in found[:2]] == ["LAL-ENT", "LAL-DES"] or [c.sku for c in found[:2]] == ["LAL-DES", "LAL-ENT"]
    assert found[0].score - found[1].score < 0.1
    assert found[0].score < 1.0


def test_short_words_are_not_fuzzy_matched(matcher: Matcher) -> None:
    found = matcher.candidates("foil", limit=5)
    assert [c.sku for c in found][:1] == ["FOIL"]
    assert all(c.sku != "OIL" or c.score < 0.5 for c in found)


def test_generic_descriptors_match_only_as_written(matcher: Matcher) -> None:
    # "chicles" → "chicl" is one edit from "chica" (alias "agua chica"): a descriptor is not a typo target
    catalog = replace(CATALOG, products=(*CATALOG.products, product("CIEL", "Agua Ciel 600 ml", "agua chica", "ciel")))
    small = Matcher(catalog)
    assert small.best("chicles") is None
    assert small.best("agua chica") is not None and small.best("agua chica").sku == "CIEL"  # type: ignore[union-attr]
    assert small.best("ciel") is not None  # the brand itself still matches


def test_pack_words_alone_match_nothing(matcher: Matcher) -> None:
    assert matcher.candidates("3 cajas") == []


def test_whole_line_text_is_accepted(matcher: Matcher) -> None:
    """The worker logs candidates for a line's full text: counts and multipliers are ignored."""
    for text in ("3 cajas de coca 600", "coca 600 x 5", "x3 coca 600"):
        best = matcher.best(text)
        assert best is not None and (best.sku, best.score) == ("CC-600", 1.0)


def test_candidates_are_sorted_and_limited(matcher: Matcher) -> None:
    found = matcher.candidates("coca", limit=3)
    assert len(found) == 3
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert all(0.0 <= c.score <= 1.0 for c in found)


def test_learned_alias_wins_first() -> None:
    learned = replace(CATALOG, learned_aliases=(("coca", "CC-LATA"), ("la de siempre", "SPR-600")))
    matcher = Matcher(learned)
    found = matcher.candidates("coca")
    assert (found[0].sku, found[0].score, found[0].method) == ("CC-LATA", 1.0, "learned")
    best = matcher.best("la de siempre")
    assert best is not None and (best.sku, best.method) == ("SPR-600", "learned")


def test_learned_alias_for_unknown_sku_is_ignored() -> None:
    matcher = Matcher(replace(CATALOG, learned_aliases=(("las moradas", "NOPE"),)))
    assert matcher.best("las moradas") is None


def test_empty_phrase(matcher: Matcher) -> None:
    assert matcher.candidates("") == []
    assert matcher.best("  ") is None
