"""Given names, folded, for telling a lower-case name ("soy pedro", "hey its dave") from a word.

A capitalised word after a cue is taken as a name (ai.pii.names); a lower-case one only when it is
a known given name. The list is Faker's (MIT), which ships the names people are given in Mexico,
Spain, Colombia, Argentina, Brazil, Portugal, the US and the UK: about 2,300 of them, read from the
installed package (no download), first words only ("Andrés Felipe" -> "andres").
"""

from __future__ import annotations

import importlib
from functools import cache

from ai.pii.common_words import is_common_word
from ai.pii.cues import words
from ai.pii.nlp import fold

LOCALES = tuple(sorted(words("given_name_locales")))  # Faker locales of the platform's markets
NAME_LISTS = ("first_names", "first_names_male", "first_names_female")
# Given names that are also everyday words where a lower-case name would stand ("its bill", "soy
# mar de ..."): never taken as a name when written in lower case.
COMMON_WORDS = words("given_names_common_words")


@cache
def first_names() -> frozenset[str]:
    """Folded given names of the platform's markets, without the common words above."""
    names: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in NAME_LISTS:
            listed = getattr(provider, attribute, ())
            names.update(fold(name.split()[0]) for name in listed if name.strip())
    # "Jen", "Beto", "Juninho": short forms Faker lacks, unless they are everyday words too ("al", "chico")
    names.update(fold(name) for name in words("nicknames") if not is_common_word(name))
    return frozenset(names - COMMON_WORDS)


def is_first_name(word: str) -> bool:
    return fold(word) in first_names()
