"""The analyzer's lexicon topics (text, language, numbers, packs, fillers, clauses, intent, dates): one
meaning per word across languages, patterns that compile, words folded as the tokenizer makes them."""

from __future__ import annotations

import re

import pytest

from ai.lexicon import LANGUAGES, lexicon, table, value, words
from ai.text import fold

ANALYZER_TOPICS = ("text", "language", "numbers", "packs", "fillers", "clauses", "intent", "dates")


def test_a_pack_form_has_one_canonical_unit_in_every_language() -> None:
    seen: dict[str, tuple[str, str, str]] = {}
    for lang in LANGUAGES:
        for key in ("containers", "singles"):
            for canonical, forms in table(lang, "packs", key).items():
                for form in (canonical, *forms):
                    meaning = (canonical, key)
                    earlier = seen.setdefault(fold(form), (*meaning, lang))
                    assert earlier[:2] == meaning, f"{form!r}: {earlier} in {earlier[2]}, {meaning} in {lang}"


@pytest.mark.parametrize("topic,key", [("text", "measure_units"), ("text", "lone_measures"), ("dates", "months"),
                                       ("dates", "weekdays"), ("packs", "single_family")])
def test_merged_tables_agree_where_languages_share_a_word(topic: str, key: str) -> None:
    seen: dict[str, object] = {}
    for lang in LANGUAGES:
        for word, meaning in table(lang, topic, key).items():
            assert seen.setdefault(word, meaning) == meaning, f"{lang}/{topic}.toml {key}: {word!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_intent_and_date_patterns_compile(lang: str) -> None:
    for found in lexicon(lang)["intent"].values():
        for pattern in found:
            re.compile(pattern)
    for pattern, days in value(lang, "dates", "relative"):
        re.compile(pattern)
        assert days in (0, 1, 2)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("topic,key", [("fillers", "fillers"), ("text", "stopwords"), ("numbers", "dozen"),
                                       ("clauses", "correction"), ("clauses", "contact"), ("language", "markers")])
def test_words_are_folded_as_the_tokenizer_makes_them(lang: str, topic: str, key: str) -> None:
    for word in words(lang, topic, key):
        assert word == fold(word).replace("'", ""), f"{lang}/{topic}.toml {key}: {word!r} is not folded"


def test_number_words_read_in_their_language_only() -> None:
    from ai.offline.quantities import number_word

    assert number_word("once", "es") == 11 and number_word("once", "en") is None
    assert number_word("um", "pt") == 1 and number_word("um", "en") is None
    for lang in LANGUAGES:
        for word, number in table(lang, "numbers", "words").items():
            if word not in words(lang, "numbers", "not_numbers"):
                assert number_word(word, lang) == number
