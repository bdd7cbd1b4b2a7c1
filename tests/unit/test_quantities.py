"""Counts as customers write them: digits, decimals, fractions, number words, multipliers."""

from __future__ import annotations

import pytest

from ai.offline.lines import parse_lines
from ai.offline.pack_units import fit_quantity
from ai.offline.quantities import (
    CODE,
    MEASURE,
    NUMBER,
    XQTY,
    Token,
    digit_value,
    read_measures,
    read_numbers,
    strip_quantity,
)


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    position = 0
    for word in text.split():
        start = text.index(word, position)
        out.append(Token(text=word, start=start, end=start + len(word)))
        position = start + len(word)
    return out


def read(text: str, language: str) -> list[tuple[str, float | None]]:
    return [(t.kind, t.value) for t in read_measures(read_numbers(tokens(text), language))]


@pytest.mark.parametrize(
    ("text", "language", "kind", "value"),
    [
        ("3", "es", NUMBER, 3.0),
        ("1.5", "en", NUMBER, 1.5),
        ("2,5", "es", NUMBER, 2.5),
        ("1 1/2", "es", NUMBER, 1.5),
        ("1/2", "pt", NUMBER, 0.5),
        ("un", "es", NUMBER, 1.0),
        ("una", "es", NUMBER, 1.0),
        ("uma", "pt", NUMBER, 1.0),
        ("dos", "es", NUMBER, 2.0),
        ("duas", "pt", NUMBER, 2.0),
        ("doce", "es", NUMBER, 12.0),
        ("veinte", "es", NUMBER, 20.0),
        ("veinte y cinco", "es", NUMBER, 25.0),
        ("vinte e cinco", "pt", NUMBER, 25.0),
        ("twenty five", "en", NUMBER, 25.0),
        ("veinticinco", "es", NUMBER, 25.0),
        ("media docena", "es", NUMBER, 6.0),
        ("meia duzia", "pt", NUMBER, 6.0),
        ("una docena", "es", NUMBER, 12.0),
        ("dos docenas", "es", NUMBER, 24.0),
        ("a dozen", "en", NUMBER, 12.0),
        ("half a dozen", "en", NUMBER, 6.0),
        ("um par de", "pt", NUMBER, 2.0),
        ("un par de", "es", NUMBER, 2.0),
        ("a couple of", "en", NUMBER, 2.0),
        ("una y media", "es", NUMBER, 1.5),
        ("two and a half", "en", NUMBER, 2.5),
        ("x3", "es", XQTY, 3.0),
        ("x 5", "en", XQTY, 5.0),
        ("3x", "es", NUMBER, 3.0),
    ],
)
def test_number_forms(text: str, language: str, kind: str, value: float) -> None:
    assert read(text, language) == [(kind, value)]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("2 litros", [MEASURE]),  # a size, never a count
        ("16oz", [MEASURE]),
        ("50 lb", [MEASURE]),
        ("9x9", [CODE]),  # a name, never a count
        ("80/20", [CODE]),
        ("#10", [CODE]),
        ("1458", [CODE]),  # too big for a count: an address or a size
    ],
)
def test_sizes_and_codes_are_not_counts(text: str, kinds: list[str]) -> None:
    assert [kind for kind, _ in read(text, "en")] == kinds


def test_language_specific_words() -> None:
    assert read("dos", "pt") == [("word", None)]  # "dos" is "of the" in Portuguese
    assert read("once", "en") == [("word", None)]
    assert read("a case", "en")[0] == (NUMBER, 1.0)  # "a" counts only before a pack word
    assert read("a problem", "en")[0] == ("word", None)


def test_digit_value_rejects_codes() -> None:
    assert digit_value("3/8") is None  # a size in a name (3/8" fries), not half of something
    assert digit_value("09/28") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("3 cajas de coca 600", "coca 600"),
        ("2 de sprite 600", "de sprite 600"),
        ("coca 600 x 5", "coca 600"),
        ("x3 bacon", "bacon"),
        ("coca 600", "coca 600"),
    ],
)
def test_strip_quantity(line: str, expected: str) -> None:
    assert strip_quantity(line) == expected


@pytest.mark.parametrize(
    ("text", "language", "quantity", "unit", "phrase"),
    [
        ("3 cajas de coca 600", "es", 3.0, "caja", "coca 600"),
        ("2 de sprite 600", "es", 2.0, None, "sprite 600"),
        ("3 de feijão", "pt", 3.0, None, "feijão"),
        ("coca 600 x 5", "es", 5.0, None, "coca 600"),
        ("heinz ketchup x2", "en", 2.0, None, "heinz ketchup"),
        ("media docena de garrafones", "es", 6.0, "dozen", "garrafones"),  # a count of single items
        ("30 dozen eggs", "en", 360.0, "dozen", "eggs"),
        ("a dozen cases of bottled water", "en", 12.0, "case", "bottled water"),
        ("a 50 lb bag of flour", "en", 1.0, "bag", "flour"),
        ("10 cases of clamshells 9x9", "en", 10.0, "case", "clamshells 9x9"),
        ("cups 16oz x3", "en", 3.0, None, "cups 16oz"),
        ("5 fardos de guaraná 2 litros", "pt", 5.0, "fardo", "guaraná 2 litros"),
        ("4cs wings", "en", 4.0, "case", "wings"),
        ("2 cx de leite", "pt", 2.0, "caixa", "leite"),
        ("tortillas 3 cases", "en", 3.0, "case", "tortillas"),
        ("uma caixa de óleo", "pt", 1.0, "caixa", "óleo"),
        ("1 1/2 caja de huevo", "es", 1.5, "caja", "huevo"),
        # a leading weight is the amount, in its measure unit
        ("30 lb of brisket", "en", 30.0, "lb", "brisket"),
        ("10 lbs bacon", "en", 10.0, "lb", "bacon"),
        ("10lbs bacon", "en", 10.0, "lb", "bacon"),
        ("5 kg de queso", "es", 5.0, "kg", "queso"),
        ("2 kilos de carne", "es", 2.0, "kg", "carne"),
        ("20 libras de brisket", "es", 20.0, "lb", "brisket"),
        ("3 quilos de carne", "pt", 3.0, "kg", "carne"),
        ("dos kilos de tortilla", "es", 2.0, "kg", "tortilla"),
        ("1,5 kg de jamón", "es", 1.5, "kg", "jamón"),
        # ... but not when it is a size next to a real count
        ("10 lb brisket x 3", "en", 3.0, None, "10 lb brisket"),
        ("5 lb bag of parmesan x 2", "en", 2.0, "bag", "parmesan"),
        ("2 cases of 16 oz cups", "en", 2.0, "case", "16 oz cups"),
    ],
)
def test_line_quantities(text: str, language: str, quantity: float, unit: str | None, phrase: str) -> None:
    [line] = parse_lines(text, language)
    assert (line.quantity, line.unit, line.phrase) == (quantity, unit, phrase)


def test_trailing_size_is_not_a_count() -> None:
    [line] = parse_lines("heineken 600", "pt")
    assert line.quantity is None
    assert line.phrase == "heineken 600"


def test_measures_carry_amount_and_unit() -> None:
    tokens = read_measures(read_numbers([Token(text="30", start=0, end=2), Token(text="lbs", start=3, end=6)], "en"))
    assert [(t.kind, t.value, t.unit) for t in tokens] == [(MEASURE, 30.0, "lb")]
    [glued] = read_numbers([Token(text="2,5kg", start=0, end=5)], "es")
    assert (glued.kind, glued.value, glued.unit) == (MEASURE, 2.5, "kg")


@pytest.mark.parametrize("text", ["16 oz cups", "2 litros de leche", "600 ml coca"])
def test_sizes_are_not_counts(text: str) -> None:
    [line] = parse_lines(text, "es")
    assert line.quantity is None and line.measure is not None


@pytest.mark.parametrize(
    ("customer", "product", "certainty", "reason"),
    [("lb", "lb", 1.0, None), ("lb", "lbs", 1.0, None), ("kg", "kilo", 1.0, None), ("kg", "kg", 1.0, None),
     ("lb", "case", 0.5, "unit_mismatch"), ("kg", "lb", 0.5, "unit_mismatch"), ("kg", "caja", 0.5, "unit_mismatch")],
)
def test_weights_fit_only_their_own_unit(customer: str, product: str, certainty: float, reason: str | None) -> None:
    fit = fit_quantity(30.0, customer, product, 1)
    assert (fit.quantity, fit.certainty, fit.reason) == (30.0, certainty, reason)  # never converted


@pytest.mark.parametrize(
    ("quantity", "product", "pack", "expected", "reason"),
    [
        (360.0, "case", 180, 2.0, None),  # "30 dozen eggs", a 15-dozen case
        (24.0, "docena", 1, 2.0, None),  # sold by the dozen
        (6.0, "paquete", 1, 6.0, None),  # "media docena de pan": one item a package
        (6.0, "pieza", 1, 6.0, None),
        (24.0, "reja", 30, 24.0, "unit_mismatch"),  # "2 docenas de huevo" against a 30-egg tray: a person looks
    ],
)
def test_dozens_are_single_items(quantity: float, product: str, pack: int, expected: float, reason: str | None) -> None:
    fit = fit_quantity(quantity, "dozen", product, pack)
    assert (fit.quantity, fit.reason) == (expected, reason)


def test_dozens_of_a_pack_word_count_the_packs() -> None:
    [line] = parse_lines("a dozen cases of water", "en")
    assert (line.quantity, line.unit) == (12.0, "case")


def test_english_um_is_a_hesitation_not_one() -> None:
    from ai.offline.quantities import number_word

    assert number_word("um", "en") is None
    assert number_word("um", "pt") == 1.0
    assert number_word("um", "es") == 1.0
