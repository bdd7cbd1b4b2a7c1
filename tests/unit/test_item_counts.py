"""Counts of items above MAX_COUNT ("3000 16oz cups", "y 2000 vasitos"): round, opening their clause and
before product words they are counts, converted to packs; elsewhere they stay sizes, codes or addresses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ai.analyzer import AnalysisRequest
from ai.catalog import load_catalog_file
from ai.eval.datasets import eval_dir
from ai.offline.analyzer import OfflineAnalyzer
from ai.offline.lines import parse_lines

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SLUGS = {"es": "valle", "en": "northwind", "pt": "sol"}


@pytest.fixture(scope="module")
def analyzer() -> OfflineAnalyzer:
    return OfflineAnalyzer()


def lines(analyzer: OfflineAnalyzer, lang: str, text: str) -> list[tuple[str | None, float]]:
    catalog = load_catalog_file(Path(eval_dir()) / f"catalog-{SLUGS[lang]}.json")
    analysis = analyzer.analyze_text(AnalysisRequest(text=text, catalog=catalog, now=NOW))
    return [(line.sku, line.quantity) for line in analysis.lines]


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("en", "order: 3000 16oz cups + 2000 lids", [("NW-CUP-16-1000", 3.0), ("NW-LID-16-1000", 2.0)]),
    ("en", "need 1000 cups and 400 limes", [("NW-CUP-16-1000", 1.0), ("NW-LIM-200", 2.0)]),
    ("es", "ocupo 2 cajas de coca y 3000 vasos desechables", [("CC-600-24", 2.0), ("VAS-UNI-1000", 3.0)]),
    ("pt", "manda 5000 copos descartáveis e 2 caixas de leite", [("SOL-COPO-200-2500", 2.0),
                                                                 ("SOL-LEITE-1L-12", 2.0)]),
])
def test_a_large_round_count_of_items_is_packs(analyzer: OfflineAnalyzer, lang: str, text: str,
                                              expected: list[tuple[str, float]]) -> None:
    assert lines(analyzer, lang, text) == expected


@pytest.mark.parametrize(("lang", "text"), [
    ("es", "3 cajas de coca 600"),
    ("es", "2 cajas de coca de 600"),
    ("en", "2 cases of cups to 1458 Fulton"),
    ("pt", "10 caixas de heineken 600"),
])
def test_a_large_number_after_product_words_is_no_count(lang: str, text: str) -> None:
    assert [line.quantity for line in parse_lines(text, lang)] == [float(text.split()[0])]


def test_an_amount_before_its_product_is_no_product_first_run_on() -> None:
    found = parse_lines("necesito 36 litros de aceite y 200 vasitos del 8", "es")
    assert [(line.quantity, line.phrase) for line in found] == [(None, "36 litros de aceite"), (200.0, "vasitos del 8")]


def test_a_count_of_items_that_is_no_whole_pack_goes_to_a_person(analyzer: OfflineAnalyzer) -> None:
    catalog = load_catalog_file(Path(eval_dir()) / "catalog-northwind.json")
    analysis = analyzer.analyze_text(AnalysisRequest(text="need 1500 cups", catalog=catalog, now=NOW))
    assert analysis.needs_review and all(line.quantity != 1500.0 or line.sku is None for line in analysis.lines)


@pytest.mark.parametrize(("text", "expected"), [
    ("jefe ocupo 8 six de coronitas y una caja de coquitas de 600", [("COR-355-24", 2.0), ("CC-600-24", 1.0)]),
    ("me mandas 4 six de corona", [("COR-355-24", 1.0)]),
    ("4 six de modelo", [("MOD-355-24", 1.0)]),
])
def test_a_count_of_multipacks_is_items_converted_to_packs(analyzer: OfflineAnalyzer, text: str,
                                                           expected: list[tuple[str, float]]) -> None:
    assert lines(analyzer, "es", text) == expected


@pytest.mark.parametrize("text", ["me mandas 3 six de corona", "3 six de corona", "need 2500 lids"])
def test_a_count_that_makes_no_whole_pack_goes_to_a_person(analyzer: OfflineAnalyzer, text: str) -> None:
    catalog = load_catalog_file(Path(eval_dir()) / f"catalog-{'northwind' if 'lids' in text else 'valle'}.json")
    analysis = analyzer.analyze_text(AnalysisRequest(text=text, catalog=catalog, now=NOW))
    assert analysis.needs_review and all(line.sku is None for line in analysis.lines)


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("en", "couple cases of water", [("NW-WAT-16-24", 2.0)]),
    ("es", "mándame par cajas de sprite", [("SPR-600-24", 2.0)]),
])
def test_a_pair_word_before_a_pack_word_is_two(analyzer: OfflineAnalyzer, lang: str, text: str,
                                               expected: list[tuple[str, float]]) -> None:
    assert lines(analyzer, lang, text) == expected
