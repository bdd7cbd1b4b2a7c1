"""Phonetic keys for misspellings typed by ear: "koka" for coca, "webo" for huevo, "chikn brest" for chicken
breast, "lymes" for limes, "raineken" for heineken.

Two keys per word, after the sound rules of every language (lexicon phonetic.toml): `sound_key` levels
every vowel to one and collapses doubled letters ("koka" and "coca" -> "kaka"), for the Spanish and
Portuguese way of spelling by ear; `skeleton_key` keeps the first letter and the consonants ("chckn" and
"chicken" -> "xkn"), for English vowels dropped. A key is only a way to find candidates: the matcher still
asks for a floor of plain similarity (PHONETIC_FLOOR) so that "chicles" never becomes "agua chica".
"""

from __future__ import annotations

import re
from functools import lru_cache

from ai.lexicon import LANGUAGES, value

VOWELS = re.compile(r"[aeiou]+")
DOUBLES = re.compile(r"(.)\1+")
MIN_SKELETON = 3  # consonants a skeleton key needs to say anything


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    seen: dict[tuple[str, str], None] = {}
    for lang in LANGUAGES:
        for pattern, replacement in value(lang, "phonetic", "rules"):
            seen.setdefault((str(pattern), str(replacement)), None)
    return tuple((re.compile(p), r) for p, r in seen)


@lru_cache(maxsize=20_000)
def _sounded(word: str) -> str:
    for pattern, replacement in _rules():
        word = pattern.sub(replacement, word)
    return DOUBLES.sub(r"\1", word)


def spelled_key(word: str) -> str:
    """The word after the sound rules only, vowels kept: "lym" / "lim", "kola" / "cola" -> one key. Equal keys
    are the same word typed by ear, however short ("son" / "sin" differ)."""
    return _sounded(word)


def sound_key(word: str, *, keep_final: bool = False) -> str:
    """Vowels levelled, a final one dropped: "koka" / "coca" -> "kak", "leiti" / "leite" -> "lat";
    `keep_final` keeps it, where a final vowel tells words apart ("tres" / "treze")."""
    levelled = DOUBLES.sub(r"\1", VOWELS.sub("a", _sounded(word)))
    return levelled[:-1] if not keep_final and len(levelled) > 2 and levelled.endswith("a") else levelled


def skeleton_key(word: str) -> str | None:
    """First letter and consonants: "chckn" / "chicken" -> "xkn"; None when too short to tell."""
    sounded = _sounded(word)
    key = sounded[:1] + VOWELS.sub("", sounded[1:])
    return key if len(key) >= MIN_SKELETON else None


__all__ = ["skeleton_key", "sound_key", "spelled_key"]
