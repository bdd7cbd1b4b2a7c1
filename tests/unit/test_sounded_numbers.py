"""Number words typed by ear (ai/offline/sounded_numbers.py): "sinco cajas", "trez caixas", "fiv cases"."""

from __future__ import annotations

import pytest

from ai.offline.lines import parse_lines
from ai.offline.sounded_numbers import number_by_sound


@pytest.mark.parametrize(("lang", "word", "expected"), [
    ("es", "sinco", "cinco"), ("es", "sies", "seis"), ("es", "onse", "once"), ("es", "trez", "tres"),
    ("pt", "trez", "tres"), ("pt", "doiz", "dois"), ("pt", "sinco", "cinco"),
    ("en", "fiv", "five"), ("en", "tree", "three"),
])
def test_a_number_word_typed_by_ear_is_found(lang: str, word: str, expected: str) -> None:
    assert number_by_sound(word, lang) == expected


@pytest.mark.parametrize(("lang", "word"), [
    ("en", "to"), ("en", "for"), ("es", "miel"), ("es", "coca"), ("pt", "leite"), ("es", "tres"),
])
def test_other_words_are_no_number(lang: str, word: str) -> None:
    assert number_by_sound(word, lang) is None


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "sinco cajas de doritos nacho y 3 de takis", [(5.0, "doritos nacho"), (3.0, "takis")]),
    ("es", "2 de arroz, sies de coca", [(2.0, "arroz"), (6.0, "coca")]),
    ("pt", "manda trez caixas de leite e doiz fardos de arroz", [(3.0, "leite"), (2.0, "arroz")]),
    ("en", "fiv cases of limes and tree cases of avocados", [(5.0, "limes"), (3.0, "avocados")]),
])
def test_a_line_counts_with_a_number_typed_by_ear(lang: str, text: str, expected: list[tuple[float, str]]) -> None:
    assert [(line.quantity, line.phrase) for line in parse_lines(text, lang)] == expected


def test_a_product_word_before_de_is_no_number() -> None:
    assert [(line.quantity, line.phrase) for line in parse_lines("2 cajas de coca y miel de abeja", "es")] == [
        (2.0, "coca"), (None, "miel de abeja")]
