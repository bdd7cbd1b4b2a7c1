from __future__ import annotations

from importlib import resources

import pytest

from ai.lexicon import LANGUAGES, LexiconError, lexicon, words, words_all


def test_every_language_defines_every_topic_and_key() -> None:
    shapes = {lang: {topic: set(keys) for topic, keys in lexicon(lang).items()} for lang in LANGUAGES}
    reference = shapes[LANGUAGES[0]]
    for lang, shape in shapes.items():
        assert set(shape) == set(reference), f"{lang} topics differ"
        for topic, keys in shape.items():
            assert keys == reference[topic], f"{lang}/{topic}.toml keys differ: {keys ^ reference[topic]}"


def test_the_languages_are_the_contracts() -> None:
    folders = {e.name for e in resources.files("ai.lexicon").iterdir() if e.is_dir() and not e.name.startswith("_")}
    assert folders == set(LANGUAGES)


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(LexiconError):
        lexicon("fr")


def test_an_unknown_key_names_the_file() -> None:
    with pytest.raises(LexiconError, match="es/"):
        words("es", next(iter(lexicon("es"))) if lexicon("es") else "none", "no_such_key")


def test_words_all_keeps_each_word_once() -> None:
    for topic, keys in lexicon("es").items():
        for key, found in keys.items():
            if isinstance(found, list):
                merged = words_all(topic, key)
                assert len(merged) == len(set(merged))
