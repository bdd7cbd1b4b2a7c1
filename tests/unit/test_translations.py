"""Mixed languages: a product word of another language finds the catalog's word for the same thing."""

from __future__ import annotations

import pytest

from ai.catalog import Catalog, Product
from ai.matching.matcher import Matcher

CATALOG = Catalog(distributor="t", locale="pt-BR", products=(
    Product(sku="FRA", name="Frango inteiro congelado", aliases=("frango",), unit="kg", price_cents=1),
    Product(sku="MAN", name="Manteiga com sal 200 g (caixa 24)", aliases=("manteiga",), unit="caixa", price_cents=1),
    Product(sku="SAL", name="Sal refinado 1 kg (fardo 10)", aliases=("sal",), unit="fardo", price_cents=1),
))


@pytest.mark.parametrize("phrase,sku", [("pollo", "FRA"), ("chicken", "FRA"), ("mantequilla", "MAN"), ("butter", "MAN")])
def test_another_language_finds_the_catalog_word(phrase: str, sku: str) -> None:
    found = Matcher(CATALOG).candidates(phrase, limit=1)
    assert found and found[0].sku == sku and found[0].score >= 0.75


def test_a_word_the_catalog_uses_keeps_its_own_meaning() -> None:
    found = Matcher(CATALOG).candidates("sal", limit=1)
    assert found[0].sku == "SAL" and found[0].score == 1.0
