"""The PII detector's words, read from ai/lexicon/<lang>/pii.toml and shaped for its patterns.

Every recognizer runs for every language (a customer mixes them), so each list is the union of all
languages' lists (`ai.lexicon.words_all`). `phrases` turns a list into a regular-expression
alternation: each phrase escaped, longest first, so "muchas gracias" is tried before "gracias".
`words` gives a set for membership tests; the lists of words are written folded (lower case, no
accents) in the lexicon where the code compares folded words.
"""

from __future__ import annotations

from functools import cache

import regex as re

from ai.lexicon import LANGUAGES, table, words_all

TOPIC = "pii"


@cache
def words(key: str) -> frozenset[str]:
    """Every language's list under `key`, as a set."""
    return frozenset(words_all(TOPIC, key))


@cache
def phrases(key: str, *, spaces: str = " ") -> str:
    """Every language's list under `key` as an alternation, longest phrase first (no group).

    `spaces`: what a space inside a phrase matches ("[ \\t]+" where a phrase may be spaced out)."""
    listed = sorted(words_all(TOPIC, key), key=lambda phrase: (-len(phrase), phrase))
    if not listed:
        return r"(?!)"  # an empty list matches nothing
    return "|".join(re.escape(phrase).replace(r"\ ", spaces) for phrase in listed)


@cache
def guarded_phrases(key: str, guards_key: str) -> str:
    """`phrases(key)`, where a phrase listed in the table `guards_key` must not follow its words:
    "name" after "business " or "company " is no contact cue."""
    guards: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for phrase, before in table(lang, TOPIC, guards_key).items():
            guards.setdefault(phrase, []).extend(str(word) for word in before)
    listed = sorted(words_all(TOPIC, key), key=lambda phrase: (-len(phrase), phrase))
    alternatives = []
    for phrase in listed:
        before = guards.get(phrase)
        guard = "(?<!" + "|".join(re.escape(word + " ") for word in before) + ")" if before else ""
        alternatives.append(guard + re.escape(phrase).replace(r"\ ", " "))
    return "|".join(alternatives)


def frames(key: str) -> tuple[tuple[str, str], ...]:
    """Phrases around a name, written "before * after" ("let * know"), as escaped (before, after) pairs."""
    found = []
    for frame in words_all(TOPIC, key):
        before, star, after = frame.partition("*")
        if not star or not before.strip() or not after.strip():
            raise ValueError(f"lexicon {TOPIC}.{key}: {frame!r} is not 'before * after'")
        found.append((re.escape(before.strip()), re.escape(after.strip())))
    return tuple(found)
