"""Pack words ("caja", "fardo", "case", "caixa" ...) and whether a customer's pack fits a product's unit.

Customers count in containers; the catalog sells each product in one unit. Containers are
used loosely ("2 cajas de takis" for a product sold per caja, "3 bags" for a bag), so any
container word fits any container unit. Counting single items ("6 botellas", "24 latas")
against a product sold per container is a real mismatch that a person should see.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from ai.catalog import Product
from ai.lexicon import LANGUAGES, set_all, table, table_all
from ai.matching.phonetic import skeleton_key, sound_key
from ai.pack_facts import convert, items_to_packs, measure_family
from ai.text import MEASURE_UNITS, fold

DOZEN_UNIT = "dozen"  # the unit of a count given in dozens ("30 dozen eggs"): already a count of single items
_DOZEN_PRODUCT_UNITS = set_all("packs", "dozen_units")
SOUNDED_PACK_MIN = 4  # letters a pack word typed by ear needs ("cx" is read as written, never by sound)
SOUNDED_PACK_FLOOR = 0.8  # ... and spelled at least this close to it ("oleo" is no "rolo", "casa" no "case")
PACK_CONVERSION = "pack_conversion"  # review reason: an amount that does not convert exactly into packs
ITEMS_TO_PACKS_CERTAINTY = 0.9  # "96 cocas" read as 4 cajas of 24: exact, but the customer counted items
CONTAINER = "container"  # caja, case, fardo, pack ...: what wholesale is counted in
SINGLE = "single"  # botella, lata, pieza ...: one retail item

# "1000 cups" against a case of 1000 is that one case; "24 cocas" against a caja of 24 stays 24 (cajas, likely).
ONE_PACK_OF_ITEMS = 100


def _pack_words() -> dict[str, tuple[str, str]]:
    """surface form (folded) -> (canonical unit, kind), from every language's packs.toml."""
    found: dict[str, tuple[str, str]] = {}
    for lang in LANGUAGES:
        for key, kind in (("containers", CONTAINER), ("singles", SINGLE)):
            for canonical, forms in table(lang, "packs", key).items():
                for form in (canonical, *forms):
                    found.setdefault(fold(form), (canonical, kind))
    return found


PACK_WORDS: dict[str, tuple[str, str]] = _pack_words()

# Pack words that also tell products apart ("coca lata" vs "coca 600", "heineken garrafa"):
# the parser keeps them in the product phrase too, the matcher never penalises them.
FORMAT_WORDS = set_all("packs", "format_words")

# Packs of a fixed number of items ("six": 6): canonical unit -> items.
MULTIPACKS: dict[str, int] = {unit: int(items) for unit, items in table_all("packs", "multipacks").items()}

# Catalog units in the same family as a single-item customer word.
_SINGLE_FAMILY: dict[str, frozenset[str]] = {
    word: frozenset(family) for word, family in table_all("packs", "single_family").items()
}


@dataclass(frozen=True, kw_only=True)
class UnitFit:
    quantity: float  # in the product's unit
    certainty: float  # 0..1: 1 when the customer's pack is the product's unit family
    reason: str | None  # machine-readable review reason, None when it fits


@lru_cache(maxsize=8)
def _pack_sounds(language: str) -> dict[str, str]:
    """Phonetic key -> a pack word of `language` with that sound (forms of at least SOUNDED_PACK_MIN letters);
    a key that two different units share ("paquete", "pacote") says nothing and is left out. One language
    only: Spanish "jugos" must not sound like English "jugs"."""
    forms: dict[str, dict[str, str]] = {}  # key -> {canonical unit: form}
    for key_name in ("containers", "singles"):
        for canonical, written in table(language, "packs", key_name).items():
            for form in (fold(canonical), *(fold(w) for w in written)):
                if len(form) >= SOUNDED_PACK_MIN and form.isalpha():
                    for key in {sound_key(form), skeleton_key(form)}:
                        if key:
                            forms.setdefault(key, {}).setdefault(canonical, form)
    return {key: next(iter(units.values())) for key, units in forms.items() if len(units) == 1}


def pack_word_by_sound(word: str, language: str) -> str | None:
    """ "kajas" -> "cajas", "caxa" -> "caixa", "cartnes" -> "cartones": a pack word of the message's language
    typed by ear, or None."""
    if len(word) < SOUNDED_PACK_MIN or not word.isalpha() or word in PACK_WORDS or language not in LANGUAGES:
        return None
    sounds = _pack_sounds(language)
    found = sounds.get(sound_key(word))
    if found is None:
        skeleton = skeleton_key(word)
        found = sounds.get(skeleton) if skeleton else None
    if found is None or fuzz.ratio(word, found) < SOUNDED_PACK_FLOOR * 100:
        return None  # "oleo" sounds like "rolo" but is spelled too far from it
    return found


def single_family(canonical: str) -> frozenset[str]:
    """The single-item units that count as `canonical` ("lata" -> {"lata", "can"})."""
    return _SINGLE_FAMILY.get(canonical, frozenset({canonical}))


def product_unit_kind(unit: str) -> str:
    found = PACK_WORDS.get(fold(unit))
    return found[1] if found else SINGLE


def _fit_dozens(quantity: float, product_unit: str, pack_size: int) -> UnitFit:
    """ "30 dozen eggs" (360 eggs): 2 of a 15-dozen case, 30 of a product sold by the dozen."""
    if fold(product_unit).rstrip(".") in _DOZEN_PRODUCT_UNITS:
        return UnitFit(quantity=quantity / 12, certainty=1.0, reason=None)
    if product_unit_kind(product_unit) != CONTAINER or pack_size <= 1:
        return UnitFit(quantity=quantity, certainty=1.0, reason=None)
    if quantity >= pack_size and quantity % pack_size == 0:
        return UnitFit(quantity=quantity / pack_size, certainty=0.9, reason=None)
    return UnitFit(quantity=quantity, certainty=0.5, reason="unit_mismatch")


def fit_quantity(quantity: float, customer_unit: str | None, product_unit: str, pack_size: int) -> UnitFit:
    """Convert a customer's count to the product's unit when that is unambiguous."""
    if customer_unit is None:
        return UnitFit(quantity=quantity, certainty=1.0, reason=None)
    if customer_unit == DOZEN_UNIT:
        return _fit_dozens(quantity, product_unit, pack_size)
    measure = MEASURE_UNITS.get(customer_unit)
    if measure is not None and customer_unit not in PACK_WORDS:
        # "30 lb of brisket": right for a product sold per lb; never converted to another unit
        if MEASURE_UNITS.get(fold(product_unit).rstrip(".")) == measure:
            return UnitFit(quantity=quantity, certainty=1.0, reason=None)
        return UnitFit(quantity=quantity, certainty=0.5, reason="unit_mismatch")
    found = PACK_WORDS.get(fold(customer_unit))
    if found is None:
        return UnitFit(quantity=quantity, certainty=0.9, reason=None)
    canonical, kind = found
    product_kind = product_unit_kind(product_unit)
    product_canonical = PACK_WORDS.get(fold(product_unit), (fold(product_unit), SINGLE))[0]
    if kind == CONTAINER:
        if product_kind == CONTAINER or pack_size <= 1 and product_canonical == canonical:
            return UnitFit(quantity=quantity, certainty=1.0, reason=None)
        return UnitFit(quantity=quantity, certainty=0.6, reason="unit_mismatch")
    # a single-item word
    if product_kind == SINGLE and product_canonical in _SINGLE_FAMILY.get(canonical, frozenset({canonical})):
        return UnitFit(quantity=quantity, certainty=1.0, reason=None)
    if product_kind == SINGLE:
        return UnitFit(quantity=quantity, certainty=0.9, reason=None)
    if pack_size > 1 and quantity >= pack_size and quantity % pack_size == 0:
        return UnitFit(quantity=quantity / pack_size, certainty=0.8, reason=None)
    if pack_size <= 1:
        return UnitFit(quantity=quantity, certainty=0.9, reason=None)
    return UnitFit(quantity=quantity, certainty=0.5, reason="unit_mismatch")


def fit_product(quantity: float, customer_unit: str | None, product: Product, *, counted: bool = True) -> UnitFit:
    """`fit_quantity` with what the product's name says about its pack (ai.pack_facts).

    "120 lb of wings" against a 40 lb case is 3 cases, "96 cocas" against a caja of 24 is 4 cajas and
    "36 latinhas" against a pack of 12 is 3 packs; an amount of at least one pack that does not divide
    exactly, or is in another family of measures, is no conversion: PACK_CONVERSION, for a person.
    """
    facts = product.pack
    if customer_unit in MULTIPACKS and counted and facts.items > 1 and facts.items != MULTIPACKS[customer_unit]:
        # "8 six de coronitas" against a carton of 24: 48 beers, 2 cartons
        items = quantity * MULTIPACKS[customer_unit]
        packs = 1.0 if items == facts.items else items_to_packs(items, facts)
        if packs is None:
            return UnitFit(quantity=quantity, certainty=0.0, reason=PACK_CONVERSION)
        return UnitFit(quantity=packs, certainty=ITEMS_TO_PACKS_CERTAINTY, reason=None)
    measure = MEASURE_UNITS.get(customer_unit) if customer_unit is not None else None
    if measure is not None and customer_unit not in PACK_WORDS:
        if MEASURE_UNITS.get(fold(product.unit).rstrip(".")) != measure and facts.pack_amount is not None:
            family = measure_family(customer_unit or "")
            if family is not None and family[0] == facts.measure and quantity * family[1] >= facts.pack_amount:
                packs = convert(quantity, customer_unit or "", facts)
                if packs is None:
                    return UnitFit(quantity=quantity, certainty=0.0, reason=PACK_CONVERSION)
                return UnitFit(quantity=packs, certainty=1.0, reason=None)
    elif counted and (customer_unit is None or PACK_WORDS.get(customer_unit, ("", ""))[1] == SINGLE) \
            and product_unit_kind(product.unit) == CONTAINER and facts.items > 1 and (
                quantity > facts.items or quantity == facts.items >= ONE_PACK_OF_ITEMS):
        packs = 1.0 if quantity == facts.items else items_to_packs(quantity, facts)
        if packs is None:
            return UnitFit(quantity=quantity, certainty=0.0, reason=PACK_CONVERSION)
        return UnitFit(quantity=packs, certainty=ITEMS_TO_PACKS_CERTAINTY, reason=None)
    return fit_quantity(quantity, customer_unit, product.unit, product.pack_size)


__all__ = [
    "CONTAINER",
    "DOZEN_UNIT",
    "FORMAT_WORDS",
    "MULTIPACKS",
    "PACK_CONVERSION",
    "PACK_WORDS",
    "SINGLE",
    "UnitFit",
    "fit_product",
    "fit_quantity",
    "pack_word_by_sound",
    "single_family",
]
