"""Language knowledge as data: ai/lexicon/<lang>/<topic>.toml, one folder per language (spaCy's lang/).

Code holds mechanisms; every word list, cue table, number word, pack word, date word and reply text lives
in these files. Each language folder defines the same topics and, inside each topic, the same keys (a test
checks it), so adding a language is adding a folder plus its tests.

    words("es", "conversation", "cancel")      -> tuple of the Spanish cancel cues
    words_all("conversation", "cancel")        -> the cues of every language (a message's language is a guess)
    table("en", "numbers", "units")            -> a mapping, for tables such as number words
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, get_args

from ai.contract import Language

LANGUAGES: tuple[str, ...] = get_args(Language)


class LexiconError(KeyError):
    """A topic or key that a language's lexicon does not define."""


@cache
def lexicon(lang: str) -> Mapping[str, Mapping[str, Any]]:
    """Every topic of one language: {topic: {key: value}}, read once from ai/lexicon/<lang>/*.toml."""
    if lang not in LANGUAGES:
        raise LexiconError(f"unsupported language {lang!r}; supported: {LANGUAGES}")
    folder = resources.files("ai.lexicon").joinpath(lang)
    topics: dict[str, Mapping[str, Any]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            topics[entry.name.removesuffix(".toml")] = MappingProxyType(tomllib.loads(entry.read_text("utf-8")))
    return MappingProxyType(topics)


def value(lang: str, topic: str, key: str) -> Any:
    try:
        return lexicon(lang)[topic][key]
    except KeyError:
        raise LexiconError(f"lexicon {lang}/{topic}.toml defines no {key!r}") from None


def words(lang: str, topic: str, key: str) -> tuple[str, ...]:
    """A word or phrase list of one language."""
    found = value(lang, topic, key)
    if not isinstance(found, list):
        raise LexiconError(f"lexicon {lang}/{topic}.toml: {key!r} is not a list")
    return tuple(str(item) for item in found)


@cache
def words_all(topic: str, key: str) -> tuple[str, ...]:
    """The list of every language, in LANGUAGES order, without repeats."""
    seen: dict[str, None] = {}
    for lang in LANGUAGES:
        for item in words(lang, topic, key):
            seen.setdefault(item, None)
    return tuple(seen)


def table(lang: str, topic: str, key: str) -> Mapping[str, Any]:
    """A table (TOML inline table or [section]) of one language."""
    found = value(lang, topic, key)
    if not isinstance(found, Mapping):
        raise LexiconError(f"lexicon {lang}/{topic}.toml: {key!r} is not a table")
    return MappingProxyType(dict(found))


@cache
def table_all(topic: str, key: str) -> Mapping[str, Any]:
    """The tables of every language merged, in LANGUAGES order (a later language never overrides an entry)."""
    merged: dict[str, Any] = {}
    for lang in LANGUAGES:
        for name, item in table(lang, topic, key).items():
            merged.setdefault(name, item)
    return MappingProxyType(merged)


@cache
def set_all(topic: str, key: str) -> frozenset[str]:
    """The words of every language as one set (membership tests)."""
    return frozenset(words_all(topic, key))


__all__ = ["LANGUAGES", "LexiconError", "lexicon", "set_all", "table", "table_all", "value", "words", "words_all"]
