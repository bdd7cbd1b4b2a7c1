"""Size and variant qualifiers the customer names must agree with the product, never the nearest one.

"sprite de 2 litros" when the catalog sells Sprite only in 600 ml, "4 oz patties" against 6 oz ones,
"skol litrão" against cans of 350 ml, "medium gloves" against large ones: the words name a product the
catalog lacks, so the line is no match (review, unmatched) rather than the nearest size. A size agrees
when it is the product's item size or its whole pack ("a 50 lb bag", "6 x 5 lb" read as "30 lb case");
a size word (small, mediano, grande ...; lexicon packs.toml size_words) agrees when the product names
no other one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ai.catalog import Product
from ai.lexicon import set_all
from ai.pack_facts import measure_family
from ai.text import fold, measure_tokens, raw_tokens

SIZE_TOLERANCE = 0.01  # relative: 0.6 l and 600 ml are one size
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")


@lru_cache(maxsize=1)
def _size_words() -> frozenset[str]:
    return set_all("packs", "size_words")


def _sizes(text: str) -> list[tuple[str, float]]:
    """(family, amount) of each size written in `text`: "2 litros" -> ("l", 2.0), "4oz" -> ("oz", 4.0)."""
    out: list[tuple[str, float]] = []
    for token in measure_tokens(raw_tokens(fold(text))):
        found = _SIZE.match(token)
        family = measure_family(found.group(2)) if found else None
        if found and family is not None:
            out.append((family[0], float(found.group(1)) * family[1]))
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= SIZE_TOLERANCE * max(a, b)


@lru_cache(maxsize=8192)
def _product_words(name: str, aliases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(raw_tokens(fold(" ".join((name, *aliases)))))


def _format_families(words: frozenset[str] | set[str]) -> frozenset[str]:
    """The format families ("lata"/"can", "botella"/"bottle") that these words name."""
    from ai.offline.pack_units import FORMAT_WORDS, PACK_WORDS, single_family

    out: set[str] = set()
    for word in words:
        found = PACK_WORDS.get(word)
        if found is not None and found[0] in FORMAT_WORDS:
            out.add(min(single_family(found[0])))
    return frozenset(out)


@lru_cache(maxsize=64)
def _catalog_formats(products: tuple[Product, ...]) -> frozenset[str]:
    """The formats some product of the catalog names: only those tell products apart."""
    return _format_families(set().union(*(_product_words(p.name, (*p.aliases, p.unit)) for p in products)))


def conflicts(phrase: str, product: Product, catalog_products: tuple[Product, ...] = (), unit: str | None = None) -> bool:
    """The phrase names a size, a size word or a format ("lata", "can") that this product is not; a format
    that is the line's unit ("36 garrafinhas de água": bottles counted) is a count, not a variant."""
    facts = product.pack
    if facts.measure is not None and facts.item_amount is not None:
        allowed = [facts.item_amount, facts.pack_amount or facts.item_amount]
        for family, amount in _sizes(phrase):
            if family == facts.measure and not any(_close(amount, a) for a in allowed):
                return True
    phrase_words = set(raw_tokens(fold(phrase)))
    formats = _format_families(phrase_words) - _format_families({unit} if unit else set())
    if formats and catalog_products:
        own = _format_families(_product_words(product.name, (*product.aliases, product.unit)))
        if formats & _catalog_formats(catalog_products) - own:
            return True
    words = phrase_words & _size_words()
    if words:
        named = _product_words(product.name, product.aliases) & _size_words()
        if named and not words & named:
            return True
    return False


__all__ = ["conflicts"]
