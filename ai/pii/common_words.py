"""Everyday words, folded, for telling an unknown name ("keoni", "rosineide", "Fidencio") from a word.

A word that is no listed given name (ai.pii.first_names) can still be a name where a cue or the
grammar says so ("this is keoni from ...", "bjs lucineide"), but only if it is no everyday word:
"soy nuevo", "- thanks", "Todo llegó". The everyday words are those of every language the platform
serves, from what the installed packages already ship (no download):
- Faker's lorem word lists (the locales in ai/lexicon/<lang>/pii.toml `common_word_locales`), about a
  thousand frequent words each;
- spaCy's stop-word lists (spacy/lang/<code>/stop_words.py);
- every word of the PII lexicon's own lists (cues, stop words, goods, businesses, fillers, ...).
"""

from __future__ import annotations

import importlib
from functools import cache

from ai.lexicon import LANGUAGES, lexicon
from ai.pii.cues import TOPIC, words
from ai.pii.nlp import fold

MIN_NAME_LENGTH = 2  # "zé", "bia"; shorter is an initial or a typo


@cache
def common_words() -> frozenset[str]:
    found: set[str] = set()
    for locale in words("common_word_locales"):
        provider = importlib.import_module(f"faker.providers.lorem.{locale}").Provider
        found.update(fold(word) for word in provider.word_list)
    for lang in LANGUAGES:
        found.update(fold(word) for word in importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS)
        for key, listed in lexicon(lang)[TOPIC].items():
            if isinstance(listed, list) and key not in NOT_WORD_LISTS:
                found.update(fold(part) for phrase in listed for part in str(phrase).split())
    return frozenset(found)


# Lists in the lexicon that hold no everyday words: locales, codes, and given names themselves.
NOT_WORD_LISTS = frozenset({"given_name_locales", "common_word_locales", "given_names_common_words", "nicknames", "acronyms",
                            "titles", "inflection_suffixes", "dotted_street_types", "slashed_street_types", "directions", "route_words"})


def is_common_word(word: str) -> bool:
    return fold(word) in common_words()


def could_be_a_name(word: str) -> bool:
    """A word no list knows and not shaped like a verb form ("changing", "entregando"): a name where a
    cue or the grammar marks one."""
    folded = fold(word)
    return (len(word) >= MIN_NAME_LENGTH and word.isalpha() and folded not in common_words()
            and not any(folded.endswith(suffix) and len(folded) > len(suffix) + 2 for suffix in INFLECTIONS))


INFLECTIONS = tuple(sorted(fold(suffix) for suffix in words("inflection_suffixes")))
