"""Short words typed by ear match by their spelled key (ai.matching.phonetic.spelled_key): "lymes" is limes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai.catalog import load_catalog_file
from ai.eval.datasets import eval_dir
from ai.matching.phonetic import spelled_key
from ai.offline.analyzer import OfflineAnalyzer


def test_spelled_keys_keep_the_vowels() -> None:
    assert spelled_key("lym") == spelled_key("lim") and spelled_key("kola") == spelled_key("cola")
    assert spelled_key("son") != spelled_key("sin")


@pytest.mark.parametrize(("slug", "phrase", "sku"), [
    ("northwind", "lymes", "NW-LIM-200"),
    ("valle", "takys", "TAK-FUE-40"),
])
def test_a_short_word_typed_by_ear_finds_its_product(slug: str, phrase: str, sku: str) -> None:
    matcher = OfflineAnalyzer().matcher(load_catalog_file(Path(eval_dir()) / f"catalog-{slug}.json"))
    found = matcher.best(phrase)
    assert found is not None and found.sku == sku
