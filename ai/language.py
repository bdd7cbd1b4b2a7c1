"""Which of es/en/pt a short informal message is written in.

Counts words that belong to one language only (function words, greetings, order verbs,
pack words) plus a few letters (ñ ¿ ¡ for Spanish, ã õ ç for Portuguese). Words the
languages share ("de", "para", "manda", "por favor") say nothing. With no evidence, or a
tie that includes the default, the default wins (the customer's or distributor's language).
"""

from __future__ import annotations

import re
from typing import Literal

from ai.lexicon import value, words
from ai.text import fold

Lang = Literal["es", "en", "pt"]
LANGUAGES: tuple[Lang, ...] = ("es", "en", "pt")
LETTER_WEIGHT = 2.0  # one ñ/¿/ã/ç counts as two marker words

# Words and letters only one language uses (lexicon language.toml).
_MARKERS: dict[Lang, frozenset[str]] = {lang: frozenset(words(lang, "language", "markers")) for lang in LANGUAGES}
_LETTERS: dict[Lang, re.Pattern[str]] = {lang: re.compile(str(value(lang, "language", "letters"))) for lang in LANGUAGES}
_WORD = re.compile(r"[a-z]+")


def language_scores(text: str) -> dict[Lang, float]:
    words = _WORD.findall(fold(text))
    scores: dict[Lang, float] = {}
    for lang in LANGUAGES:
        score = sum(1.0 for w in words if w in _MARKERS[lang])
        scores[lang] = score + LETTER_WEIGHT * len(_LETTERS[lang].findall(text))
    return scores


def detect_language(text: str, default: str = "es") -> Lang:
    """The language of `text`, or `default` when the text does not say."""
    fallback: Lang = default if default in LANGUAGES else "es"
    scores = language_scores(text)
    best = max(scores.values())
    if best <= 0:
        return fallback
    leaders = [lang for lang in LANGUAGES if scores[lang] == best]
    if fallback in leaders or len(leaders) > 1:
        return fallback if fallback in leaders else leaders[0]
    return leaders[0]


__all__ = ["LANGUAGES", "detect_language", "language_scores"]
