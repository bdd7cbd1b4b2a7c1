"""Misspellings typed by ear find their product through a phonetic key, with a floor of plain similarity."""

from __future__ import annotations

import pytest

from ai.catalog import Catalog, Product
from ai.matching.matcher import Matcher
from ai.matching.phonetic import skeleton_key, sound_key
from ai.text import fold, stem


@pytest.mark.parametrize(
    "typed,meant",
    [("kafe", "cafe"), ("sebolla", "cebolla"), ("tortiyas", "tortillas"), ("kezo", "queso"),
     ("asucar", "azucar"), ("galiñas", "galinhas"), ("rosa", "rossa")],
)
def test_same_sound(typed: str, meant: str) -> None:
    assert sound_key(stem(fold(typed))) == sound_key(stem(fold(meant)))


@pytest.mark.parametrize("typed,meant", [("pckls", "pickles"), ("sausge", "sausage"), ("ptatoes", "potatoes")])
def test_same_skeleton(typed: str, meant: str) -> None:
    assert skeleton_key(stem(typed)) == skeleton_key(stem(meant))


def test_short_words_have_no_skeleton() -> None:
    assert skeleton_key("oil") is None


CATALOG = Catalog(distributor="t", products=(
    Product(sku="QUE", name="Queso fresco 1 kg", aliases=("queso fresco",), unit="pieza", price_cents=1),
    Product(sku="CEB", name="Cebolla blanca (costal 20 kg)", aliases=("cebolla",), unit="costal", price_cents=1),
    Product(sku="PIC", name="Dill pickles, 1 gal", aliases=("pickles",), unit="jar", price_cents=1),
    Product(sku="CHI", name="Chicles Trident (caja 20)", aliases=("chicles",), unit="caja", price_cents=1),
    Product(sku="AGC", name="Agua chica 600 ml", aliases=("agua chica",), unit="caja", price_cents=1),
))


@pytest.mark.parametrize("phrase,sku", [("kezo", "QUE"), ("sebollas", "CEB"), ("pckls", "PIC")])
def test_the_matcher_finds_them(phrase: str, sku: str) -> None:
    found = Matcher(CATALOG).candidates(phrase, limit=1)
    assert found and found[0].sku == sku and found[0].score >= 0.5


def test_the_floor_keeps_other_words_apart() -> None:
    found = Matcher(CATALOG).candidates("chicles", limit=1)
    assert found[0].sku == "CHI"
    assert all(c.sku != "AGC" for c in Matcher(CATALOG).candidates("chiclets", limit=3) if c.score >= 0.5)


@pytest.mark.parametrize("typed,language,pack", [
    ("kajas", "es", "cajas"), ("caxa", "pt", "caixa"), ("cartnes", "es", "cartones"), ("frdos", "pt", "fardos"),
    ("oleo", "pt", None), ("casa", "es", None), ("coca", "es", None), ("jugos", "es", None), ("saks", "en", "sacks"),
])
def test_pack_words_typed_by_ear(typed: str, language: str, pack: str | None) -> None:
    from ai.offline.pack_units import pack_word_by_sound

    found = pack_word_by_sound(typed, language)
    assert (found is None) if pack is None else (found is not None and found[:4] == pack[:4])


def test_a_pack_word_by_ear_only_after_a_count() -> None:
    from ai.offline.lines import parse_lines

    assert [(x.quantity, x.unit) for x in parse_lines("mandame 4 kajas de coca", "es")] == [(4.0, "caja")]
    assert [x.unit for x in parse_lines("kajas de coca", "es")] == [None]
