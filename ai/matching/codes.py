"""Codes typed from a price list: "CC-600-24 x 7", "cc60024 - 4", "3 MOD-355-24", "nw chk wing 40 - 4".

A product code matches whatever its case and separators ("SOL-GELO-5K", "sol gelo 5k", "SOLGELO5K"),
and an exact code wins over every other reading of those words. Its count is the number straight
after it with a multiplier or dash ("x 7", "- 7", ": 10"), or the number straight before it ("3 MOD-
355-24"), or a bare number straight after it ("dj-bla-750 6 un"). `find_codes` returns each code with
its count and the span they cover; the analyzer blanks those spans before reading the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ai.catalog import Catalog
from ai.lexicon import set_all
from ai.offline.quantities import MAX_COUNT

MAX_CODE_PARTS = 6  # words a code may be typed as ("nw chk wing 40")
MIN_CODE_CHARS = 4  # shorter codes are too likely to be ordinary words
_WORD = re.compile(r"[A-Za-z0-9]+")
_JOIN = re.compile(r"^[ \t\-_./]*$")  # what may stand between the parts of one code
_AFTER_MARKED = re.compile(r"^[ \t]*(?:[x×*:=\-–]|->|→)[ \t]*(\d{1,4})(?!\d|[.,/]\d)")
_AFTER_BARE = re.compile(r"^[ \t]+(\d{1,4})(?!\d|[.,/]\d)(?:[ \t]*([A-Za-z]+))?")
_BEFORE = re.compile(r"(?:^|[\s,;/(])(\d{1,4})[ \t]*(?:[x×*][ \t]*)?$")


@dataclass(frozen=True, kw_only=True)
class CodeLine:
    sku: str
    quantity: float | None  # None: the code came without a count
    start: int  # span of the code and its count in the text
    end: int


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@lru_cache(maxsize=64)
def _index(skus: tuple[str, ...]) -> tuple[dict[str, str], frozenset[str]]:
    """normalised code -> sku, for codes that mix letters and digits and are long enough; and every
    prefix of those codes (a word that starts none of them is passed over at once)."""
    found: dict[str, str] = {}
    for sku in skus:
        key = _key(sku)
        if len(key) >= MIN_CODE_CHARS and any(c.isdigit() for c in key) and any(c.isalpha() for c in key):
            found.setdefault(key, sku)
    return found, frozenset(key[:n] for key in found for n in range(1, len(key) + 1))


def _count_after(text: str, end: int) -> tuple[float, int] | None:
    marked = _AFTER_MARKED.match(text[end:])
    if marked:
        return float(marked.group(1)), end + marked.end()
    bare = _AFTER_BARE.match(text[end:])
    if bare and (bare.group(2) is None or bare.group(2).lower() in _count_words()):
        return float(bare.group(1)), end + bare.end()
    return None


@lru_cache(maxsize=1)
def _count_words() -> frozenset[str]:
    """Words that may follow a count: pack words of every language ("7 un", "6 cx", "3 cs")."""
    from ai.offline.pack_units import PACK_WORDS

    return frozenset(PACK_WORDS) | set_all("packs", "count_abbreviations")


def find_codes(text: str, catalog: Catalog) -> list[CodeLine]:
    """Every catalog code typed in `text`, in order, with its count."""
    if not any(ch.isdigit() for ch in text):
        return []  # every code has a digit
    index, prefixes = _index(tuple(p.sku for p in catalog.products))
    if not index:
        return []
    words = list(_WORD.finditer(text))
    found: list[CodeLine] = []
    taken = 0  # text before this offset belongs to an earlier code line
    i = 0
    while i < len(words):
        match = None
        key = ""
        for n in range(MAX_CODE_PARTS):
            if i + n >= len(words):
                break
            if n and not _JOIN.match(text[words[i + n - 1].end() : words[i + n].start()]):
                break
            key += words[i + n].group(0).lower()
            if key not in prefixes:
                break
            if key in index and words[i].start() >= taken:
                match = (index[key], n + 1)
        if match is None:
            i += 1
            continue
        sku, parts = match
        start, end = words[i].start(), words[i + parts - 1].end()
        quantity: float | None = None
        after = _count_after(text, end)
        before = _BEFORE.search(text[taken:start])
        if after is not None and _AFTER_MARKED.match(text[end:]):
            quantity, end = after
        elif before is not None:
            quantity, start = float(before.group(1)), taken + before.start(1)
        elif after is not None:
            quantity, end = after
        if quantity is not None and not 0 < quantity <= MAX_COUNT:
            quantity = None
        found.append(CodeLine(sku=sku, quantity=quantity, start=start, end=end))
        taken = end
        i += parts
        while i < len(words) and words[i].start() < end:
            i += 1
    return found


def blank_codes(text: str, codes: list[CodeLine]) -> str:
    """`text` with each code line replaced by a separator and spaces (offsets kept)."""
    chars = list(text)
    for code in codes:
        chars[code.start : code.end] = "," + " " * (code.end - code.start - 1)
    return "".join(chars)


__all__ = ["CodeLine", "blank_codes", "find_codes"]
