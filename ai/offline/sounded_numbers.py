"""Number words typed by ear: "sinco cajas" (cinco), "trez fardos" (três), "sies de coca" (seis).

A word that no lexicon knows, right before a pack word (or an "of" word, where a count may stand), and that sounds like one number
word of the message's language (ai.matching.phonetic.sound_key) while spelled close enough to it
(SOUNDED_NUMBER_FLOOR), is that number word; the number reader (ai.offline.quantities.read_numbers)
then reads it as usual. Only the message's language: Portuguese "seis" and English "says" must not meet.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz

from ai.lexicon import LANGUAGES, table
from ai.matching.phonetic import sound_key
from ai.offline.pack_units import PACK_WORDS, pack_word_by_sound
from ai.offline.quantities import MAX_COUNT, NUMBER_WORDS, SEP, WORD, Token
from ai.offline.vocabulary import CONJUNCTIONS, FILLERS, OF_WORDS
from ai.text import STOPWORDS, fold

SOUNDED_NUMBER_MIN = 3  # letters a number word typed by ear needs ("to" is never "two")
SOUNDED_CACHE_SIZE = 8192  # words whose reading stays computed
SOUNDED_NUMBER_FLOOR = 0.5  # plain similarity to the number word it sounds like ("sies" / "seis")


@lru_cache(maxsize=8)
def _number_sounds(language: str) -> dict[str, tuple[tuple[str, str, float], ...]]:
    """Sound key -> the number words of `language` with that sound: (word, key with its final vowel, value)."""
    found: dict[str, list[tuple[str, str, float]]] = {}
    for written, number in table(language, "numbers", "words").items():
        word = fold(written)
        if len(word) >= SOUNDED_NUMBER_MIN and word.isalpha() and float(number) <= MAX_COUNT:
            found.setdefault(sound_key(word), []).append((word, sound_key(word, keep_final=True), float(number)))
    return {key: tuple(words) for key, words in found.items()}


def _closest(word: str, found: tuple[tuple[str, str, float], ...]) -> str | None:
    """The number word spelled closest to `word` ("doiz": "dois", not "dez"); None on a tie of two values."""
    if not found:
        return None
    scored = sorted(((fuzz.ratio(word, w), w, number) for w, _, number in found), reverse=True)
    best = scored[0]
    if any(score == best[0] and number != best[2] for score, _, number in scored[1:]):
        return None
    return best[1] if best[0] >= SOUNDED_NUMBER_FLOOR * 100 else None


def _known(word: str) -> bool:
    return (word in FILLERS or word in STOPWORDS or word in OF_WORDS or word in CONJUNCTIONS or word in PACK_WORDS
            or any(word in numbers for numbers in NUMBER_WORDS.values()))


@lru_cache(maxsize=SOUNDED_CACHE_SIZE)
def number_by_sound(word: str, language: str) -> str | None:
    """The number word of `language` that `word` is typed by ear for, or None."""
    if len(word) < SOUNDED_NUMBER_MIN or not word.isalpha() or language not in LANGUAGES or _known(word):
        return None
    sounding = _number_sounds(language).get(sound_key(word), ())
    # "trez" is "tres", not "treze": the final vowel decides between words that differ by it only
    return _closest(word, tuple(w for w in sounding if w[1] == sound_key(word, keep_final=True)) or sounding)


def numbers_by_sound(tokens: list[Token], language: str) -> list[Token]:
    """`tokens` with each word before a pack word (or an "of" word) that sounds like a number word as that word."""
    out = list(tokens)
    for i in range(len(tokens) - 1):
        token, nxt = tokens[i], tokens[i + 1]
        if token.kind != WORD or nxt.kind != WORD:
            continue
        found = number_by_sound(token.text, language)
        if found is None:
            continue
        opens = i == 0 or tokens[i - 1].kind == SEP or tokens[i - 1].text in CONJUNCTIONS or tokens[i - 1].text in FILLERS
        if nxt.text in PACK_WORDS or (opens and nxt.text in OF_WORDS) or pack_word_by_sound(nxt.text, language):
            # "sies de coca" only where a count may stand: "y miel de abeja" stays honey
            out[i] = Token(text=found, start=token.start, end=token.end, kind=WORD)
    return out


__all__ = ["number_by_sound", "numbers_by_sound"]
