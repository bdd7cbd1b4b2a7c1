"""A count the customer rejects ("1 sack of onions not 2", "2 caixas de leite não 3", "6 en vez de 4"):
the kept count is the one before the negation cue (ai/offline/rejected.py), while a correction that
starts a message or follows a comma ("no, 3 de arroz", "não, pera, 6") still puts the new count after it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ai.analyzer import AnalysisRequest, RecentOrderLine
from ai.catalog import Catalog, load_catalog_file
from ai.contract import Analysis, Intent
from ai.eval.datasets import eval_dir
from ai.offline.analyzer import OfflineAnalyzer
from ai.offline.lines import parse_lines
from ai.offline.rejected import rejection_cues

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SLUGS = {"es": "valle", "en": "northwind", "pt": "sol"}


@pytest.fixture(scope="module")
def analyzer() -> OfflineAnalyzer:
    return OfflineAnalyzer()


def read(analyzer: OfflineAnalyzer, lang: str, text: str, open_order: tuple[tuple[str, float], ...] = ()) -> Analysis:
    catalog: Catalog = load_catalog_file(Path(eval_dir()) / f"catalog-{SLUGS[lang]}.json")
    order = tuple(RecentOrderLine(sku=sku, quantity=quantity) for sku, quantity in open_order)
    return analyzer.analyze_text(AnalysisRequest(text=text, catalog=catalog, now=NOW, open_order=order,
                                                 open_order_recent=True))


def items(analysis: Analysis) -> list[tuple[str, str | None, float]]:
    return [(line.op.value, line.sku, line.quantity) for line in analysis.lines]


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "3 cajas de coca no 2", [(3.0, "coca")]),
    ("es", "mándame 2 fardos de arroz y no 3", [(2.0, "arroz")]),
    ("es", "4 cajas de takis, no 5, y 2 de gansitos", [(4.0, "takis"), (2.0, "gansitos")]),
    ("es", "quiero 6 en vez de 4 cajas de sprite", [(6.0, "sprite")]),
    ("en", "1 sack of onions not 2", [(1.0, "onions")]),
    ("en", "2 cases of cups, not 3, and 4 cases of lids", [(2.0, "cups"), (4.0, "lids")]),
    ("en", "make it 6 cases of fries instead of 4", [(6.0, "fries")]),
    ("pt", "2 caixas de leite não 3", [(2.0, "leite")]),
    ("pt", "manda 5 fardos de arroz e não 4 fardos", [(5.0, "arroz")]),
    ("pt", "3 caixas de heineken em vez de 2 e 1 saco de carvão", [(3.0, "heineken"), (1.0, "carvão")]),
    ("es", "ponme 5 cajas de sprite en vez de las 3", [(5.0, "sprite")]),
    ("en", "4 cases of wings instead of the 3", [(4.0, "wings")]),
    ("pt", "manda 3 caixas de leite em vez das 2", [(3.0, "leite")]),
])
def test_the_count_before_the_negation_is_kept(lang: str, text: str, expected: list[tuple[float, str]]) -> None:
    assert [(line.quantity, line.phrase) for line in parse_lines(text, lang)] == expected


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "no, 3 de arroz", [(3.0, "arroz")]),
    ("es", "3 cajas de fanta, no, 4", [(4.0, "fanta")]),
    ("pt", "manda 5 cx de leite, não, pera, 6 cx de leite", [(6.0, "leite")]),
    ("pt", "3 caixas de heineken, não, melhor 5", [(5.0, "heineken")]),
])
def test_a_correction_still_takes_the_count_after_it(lang: str, text: str, expected: list[tuple[float, str]]) -> None:
    assert [(line.quantity, line.phrase) for line in parse_lines(text, lang)] == expected


def test_portuguese_no_is_no_negation() -> None:
    assert ("no",) not in rejection_cues("pt") and ("no",) in rejection_cues("es") and ("not",) in rejection_cues("en")


@pytest.mark.parametrize(("lang", "text", "open_order", "expected"), [
    ("es", "mándame 2 fardos de arroz no 3", (), [("add", "ARR-1K-10", 2.0)]),
    ("es", "mejor 2 fardos de arroz y no 3", (("ARR-1K-10", 3.0),), [("set", "ARR-1K-10", 2.0)]),
    ("es", "4 cajas de takis y no 5", (("TAK-FUE-40", 5.0), ("MAR-GAN-10", 1.0)), [("set", "TAK-FUE-40", 4.0)]),
    ("en", "1 sack of onions not 2", (), [("add", "NW-ONI-YEL-50", 1.0)]),
    ("en", "1 sack of onions not 2", (("NW-ONI-YEL-50", 2.0),), [("set", "NW-ONI-YEL-50", 1.0)]),
    ("en", "make it 6 cases of fries instead of 4", (("NW-FRY-38-6", 4.0),), [("set", "NW-FRY-38-6", 6.0)]),
    ("pt", "2 caixas de leite não 3", (), [("add", "SOL-LEITE-1L-12", 2.0)]),
    ("pt", "2 caixas de leite não 3", (("SOL-LEITE-1L-12", 3.0),), [("set", "SOL-LEITE-1L-12", 2.0)]),
    ("pt", "4 fardos de café e não 2", (("SOL-CAFE-500-10", 2.0),), [("set", "SOL-CAFE-500-10", 4.0)]),
])
def test_the_analyzer_orders_the_kept_count(analyzer: OfflineAnalyzer, lang: str, text: str,
                                            open_order: tuple[tuple[str, float], ...],
                                            expected: list[tuple[str, str, float]]) -> None:
    analysis = read(analyzer, lang, text, open_order)
    assert items(analysis) == expected and analysis.needs_review is False


@pytest.mark.parametrize(("lang", "text", "open_order", "expected"), [
    ("es", "no, 3 de arroz", (("ARR-1K-10", 2.0),), [("set", "ARR-1K-10", 3.0)]),
    ("pt", "não, 3 caixas de leite", (("SOL-LEITE-1L-12", 2.0),), [("set", "SOL-LEITE-1L-12", 3.0)]),
    ("en", "no, 3 sacks of onions", (("NW-ONI-YEL-50", 1.0),), [("set", "NW-ONI-YEL-50", 3.0)]),
])
def test_a_correction_at_the_start_sets_the_count_after_it(analyzer: OfflineAnalyzer, lang: str, text: str,
                                                           open_order: tuple[tuple[str, float], ...],
                                                           expected: list[tuple[str, str, float]]) -> None:
    assert items(read(analyzer, lang, text, open_order)) == expected


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "2 cajas de takis, 3 mejor, y 2 de gansitos", [("add", "TAK-FUE-40", 3.0), ("add", "MAR-GAN-10", 2.0)]),
    ("pt", "manda 2 caixas de leite, 3 melhor", [("add", "SOL-LEITE-1L-12", 3.0)]),
    ("en", "2 cases fries, 3 actually", [("add", "NW-FRY-38-6", 3.0)]),
    ("en", "2 cases fries, make it 3 actually", [("add", "NW-FRY-38-6", 3.0)]),
])
def test_a_correction_word_after_a_bare_count_corrects(analyzer: OfflineAnalyzer, lang: str, text: str,
                                                       expected: list[tuple[str, str, float]]) -> None:
    analysis = read(analyzer, lang, text)
    assert items(analysis) == expected and analysis.needs_review is False


@pytest.mark.parametrize(("lang", "text", "sku", "quantity"), [
    ("es", "mándame 3 fardos de arroz en lugar de 2", "ARR-1K-10", 3.0),
    ("en", "make the wings 4 instead of 3", "NW-CHK-WING-40", 4.0),
    ("pt", "3 caixas de leite em vez de 2", "SOL-LEITE-1L-12", 3.0),
])
def test_instead_of_a_count_is_an_order_without_an_open_one(analyzer: OfflineAnalyzer, lang: str, text: str,
                                                            sku: str, quantity: float) -> None:
    analysis = read(analyzer, lang, text)
    assert analysis.intent == Intent.ORDER and items(analysis) == [("add", sku, quantity)]
    assert items(read(analyzer, lang, text, ((sku, 1.0),))) == [("set", sku, quantity)]
