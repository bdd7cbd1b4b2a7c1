"""What a product's pack holds, read from the catalog row: items per pack and the weight or volume of each.

Catalog names state their packs in many ways: "Coca-Cola 600 ml (caja 24)", "Chicken breast, 40 lb
case", "Large eggs, 15 dozen case", "French fries, 6 x 5 lb case", "Whole milk, 1 gal (case 4)".
`pack_facts(name=, unit=, pack_size=)` is a pure function of the row: the analyzer converts a customer's
"96 cocas", "120 lb of wings" or "36 litros" into packs with it, and the catalog import stores its
result in products.pack_facts (a jsonb column) so that staff and other analyzers see the same facts.

Measures are kept in their own family only: millilitres and litres (l), grams and kilograms (kg),
pounds (lb), ounces (oz), gallons (gal). Nothing converts between families (a pound is never turned
into kilograms): a customer's amount in another family is no conversion but a review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ai.lexicon import set_all, table_all
from ai.text import fold

# canonical measure of MEASURE_UNITS -> (family, factor to the family's unit); "" is millilitres
_FAMILIES: dict[str, tuple[str, float]] = {
    "": ("l", 0.001), "l": ("l", 1.0), "g": ("kg", 0.001), "kg": ("kg", 1.0),
    "lb": ("lb", 1.0), "oz": ("oz", 1.0), "gal": ("gal", 1.0),
}
COUNT_UNITS = frozenset({"ct"})  # "40 ct case": a count of items, not a size
DOZEN = 12


@dataclass(frozen=True, kw_only=True)
class PackFacts:
    """One catalog unit of a product: `items` retail items, each `item_amount` of `measure` (if stated)."""

    items: int  # retail items in one catalog unit (24 for "caja 24", 180 for "15 dozen", 1 when sold singly)
    item_amount: float | None = None  # size of one item in `measure`: 0.6 (l) for "600 ml", 5 (lb) for "6 x 5 lb"
    measure: str | None = None  # "l", "kg", "lb", "oz" or "gal"

    @property
    def pack_amount(self) -> float | None:
        """Weight or volume of one catalog unit: 40 (lb) for "40 lb case", 12 (l) for "1 L (caja 12)"."""
        return None if self.item_amount is None else round(self.items * self.item_amount, 6)

    def to_dict(self) -> dict[str, Any]:
        return {"items": self.items, "item_amount": self.item_amount, "measure": self.measure,
                "pack_amount": self.pack_amount}


def measure_family(word: str) -> tuple[str, float] | None:
    """ "litros" -> ("l", 1.0), "ml" -> ("l", 0.001), "lbs" -> ("lb", 1.0); None for a non-measure."""
    canonical = _measure_units().get(fold(word))
    return None if canonical is None else _FAMILIES.get(canonical)


@lru_cache(maxsize=1)
def _measure_units() -> dict[str, str]:
    return dict(table_all("text", "measure_units"))


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    units = sorted(_measure_units(), key=len, reverse=True)
    unit_alt = "|".join(re.escape(u) for u in units)
    packs = sorted({fold(w) for w in (*table_all("packs", "containers"), *_pack_forms())}, key=len, reverse=True)
    pack_alt = "|".join(re.escape(p) for p in packs)
    dozen_alt = "|".join(re.escape(w) for w in sorted(set_all("numbers", "dozen"), key=len, reverse=True))
    number = r"(\d+(?:[.,]\d+)?)"
    times = re.compile(rf"(\d+)\s*[x×*]\s*{number}\s*({unit_alt})(?![a-z])")
    measure = re.compile(rf"{number}\s*({unit_alt})(?![a-z])(?:\s+({pack_alt})\b)?")
    linking = "|".join(re.escape(w) for w in sorted(set_all("text", "stopwords"), key=len, reverse=True))
    packed = re.compile(rf"\b(?:{pack_alt})\s+(?:(?:{linking})\s+)?(\d+)\b|(\d+)\s*(?:{dozen_alt})\b")
    return times, measure, packed


@lru_cache(maxsize=1)
def _pack_forms() -> frozenset[str]:
    forms: set[str] = set()
    for canonical, written in table_all("packs", "containers").items():
        forms.update((canonical, *written))
    return frozenset(fold(f) for f in forms)


@lru_cache(maxsize=4096)
def pack_facts(*, name: str, unit: str, pack_size: int) -> PackFacts:
    """The pack facts of one catalog row (pure; cached)."""
    folded = fold(name).replace("×", "x")
    times, measure, packed = _patterns()
    items_named: int | None = None
    item_amount: float | None = None
    family: str | None = None
    multiplied = times.search(folded)
    if multiplied:
        count, amount, word = int(multiplied.group(1)), float(multiplied.group(2).replace(",", ".")), multiplied.group(3)
        canonical = _measure_units()[word]
        if canonical in COUNT_UNITS:
            items_named = int(count * amount)
        elif canonical in _FAMILIES:
            items_named, (family, factor) = count, _FAMILIES[canonical]
            item_amount = amount * factor
    if items_named is None:
        found = packed.search(folded)
        if found and found.group(1):
            items_named = int(found.group(1))
        elif found and found.group(2):
            items_named = int(found.group(2)) * DOZEN
    if family is None:
        for m in measure.finditer(folded):
            canonical = _measure_units()[m.group(2)]
            amount = float(m.group(1).replace(",", "."))
            if canonical in COUNT_UNITS and items_named is None:
                items_named = int(amount)
                continue
            if canonical not in _FAMILIES or family is not None:
                continue
            family, factor = _FAMILIES[canonical]
            item_amount = amount * factor
            if m.group(3) and (pack_size or 1) > 1:  # "25 lb case" of 25 items: the amount is the pack's
                item_amount /= pack_size
    items = pack_size if pack_size and pack_size > 1 else (items_named or 1)
    return PackFacts(items=max(1, int(items)), item_amount=_round(item_amount), measure=family if item_amount else None)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def convert(amount: float, word: str, facts: PackFacts) -> float | None:
    """ "120" "lb" against a 40 lb case -> 3.0; None when the families differ or it does not divide."""
    found = measure_family(word)
    if found is None or facts.pack_amount is None or found[0] != facts.measure:
        return None
    packs = amount * found[1] / facts.pack_amount
    return float(round(packs)) if round(packs) >= 1 and abs(packs - round(packs)) < 1e-6 else None


def items_to_packs(count: float, facts: PackFacts) -> float | None:
    """96 single items of a caja of 24 -> 4.0; None unless it is more than one pack and divides exactly."""
    if facts.items <= 1 or count <= facts.items or not float(count).is_integer():
        return None
    return float(count // facts.items) if int(count) % facts.items == 0 else None


__all__ = ["PackFacts", "convert", "items_to_packs", "measure_family", "pack_facts"]
