"""Text folding and tokens shared by the line parser, the matcher and the cue detectors.

`fold` lowercases and strips accents one character for one character, so offsets in the
folded text are offsets in the customer's text. `stem` is a deliberately crude plural and
diminutive folding for es/pt/en that is applied the same way to catalog aliases and to
what customers write, so it only has to be consistent, not linguistically right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from ai.lexicon import set_all, table_all, words_all

# Measures: a number followed by one of these is a size ("600 ml", "50 lb"), not a count (lexicon text.toml).
MEASURE_UNITS: Mapping[str, str] = table_all("text", "measure_units")
LONE_MEASURES: Mapping[str, str] = table_all("text", "lone_measures")

# Words that carry no product meaning anywhere in a product phrase (articles, prepositions).
STOPWORDS = set_all("text", "stopwords")
_DIMINUTIVES = tuple(sorted(words_all("text", "diminutive_suffixes"), key=len, reverse=True))

FOLD_TABLE_SIZE = 65_536  # distinct non-ASCII characters whose folding is remembered

_WORD = re.compile(r"[a-z0-9#]+(?:['’][a-z]+)?(?:[./,x-][0-9]+)*\"?")
_GLUED_MEASURE = re.compile(r"^(\d+(?:[.,]\d+)?)([a-z\"]+)$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if not base or unicodedata.category(char) in {"Mn", "Me", "Cf"}:
        return " "  # a mark alone: the keycap and emoji selector of "3️⃣" leave the digit
    return base.lower() if len(base) == 1 else char.lower()[:1] or " "


class _FoldTable(dict[int, str]):
    """Code point -> folded character for str.translate, filled on first sight (bounded)."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < FOLD_TABLE_SIZE:
            self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable((code, chr(code).lower()) for code in range(128))


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping exactly one character per input character."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


def is_number(token: str) -> bool:
    return bool(_NUMBER.match(token))


@lru_cache(maxsize=20_000)
def stem(token: str) -> str:
    """Fold plurals: cajas→caja, garrafones→garrafon, fries→fry, tomatoes→tomato, case(s)→cas."""
    if len(token) <= 3 or not token.isalpha():
        return token
    word = token
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def undiminish(token: str) -> str:
    """The word under a diminutive: coronita→corona, aguita→agua, latinha→lata, copinho→copo."""
    if len(token) < 6 or not token.isalpha():
        return token
    for suffix in _DIMINUTIVES:
        for vowel in ("a", "o", ""):
            if token.endswith(suffix + vowel):
                root = token[: len(token) - len(suffix) - len(vowel)]
                root = root[:-2] + "c" if root.endswith("qu") else root
                return root + (vowel or "a") if len(root) >= 3 else token
    return token


def raw_tokens(folded: str) -> list[str]:
    """Words and numbers of folded text ("coca-cola" → coca, cola; "frank's" → franks)."""
    out: list[str] = []
    for match in _WORD.finditer(folded.replace("-", " ")):
        token = match.group(0).replace("'", "").replace("’", "").lstrip("#")
        if token:
            out.append(token)
    return out


def measure_tokens(tokens: list[str]) -> list[str]:
    """Merge sizes into one token: ["600","ml"]→"600", ["2","litros"]→"2l", "16oz"→"16oz", "litro"→"1l"."""
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        glued = _GLUED_MEASURE.match(token)
        if is_number(token) and nxt is not None and nxt in MEASURE_UNITS:
            out.append(token.replace(",", ".") + MEASURE_UNITS[nxt])
            index += 2
            continue
        if glued and glued.group(2) in MEASURE_UNITS:
            out.append(glued.group(1).replace(",", ".") + MEASURE_UNITS[glued.group(2)])
        elif token in LONE_MEASURES:
            out.append(LONE_MEASURES[token])
        else:
            out.append(token)
        index += 1
    return out


__all__ = [
    "MEASURE_UNITS",
    "STOPWORDS",
    "fold",
    "is_number",
    "measure_tokens",
    "raw_tokens",
    "stem",
    "undiminish",
]
