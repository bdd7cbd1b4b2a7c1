"""Numbers as customers write them: digits, decimals, fractions, number words and multipliers.

Works on folded tokens (see ai.text.fold) that carry their span in the original text.
`read_numbers` merges "media docena", "veinte y cinco", "1 1/2", "x 3", "two dozen" into one
token with a value; `read_measures` then turns "2 litros", "16oz", "50 lb" into size tokens
so that a size is never mistaken for a count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ai.lexicon import LANGUAGES, set_all, table, words
from ai.offline.pack_units import DOZEN_UNIT, PACK_WORDS
from ai.offline.vocabulary import CONJUNCTIONS, FILLERS, OF_WORDS
from ai.text import MEASURE_UNITS

# Kinds of token
WORD = "word"
NUMBER = "number"  # a count candidate: "3", "tres", "media docena", "2,5"
XQTY = "xqty"  # an explicit multiplier: "x3", "x 3", "*3"
MEASURE = "measure"  # a size: "600 ml", "2l", "16oz"
CODE = "code"  # a number that is part of a name: "80/20", "9x9", "#10", "1458"
SEP = "sep"  # "," "/" "+" "&" and friends

MAX_COUNT = 500  # counts above this are sizes, codes or addresses ("coca 600", "1458 W Fulton")
# ... unless they are round, open their clause and come before product words ("3000 16oz cups",
# "y 2000 vasitos"): counts of items, for the pack conversion (ai.offline.pack_units.fit_product).
MAX_ITEM_COUNT = 100_000
ITEM_COUNT_STEP = 100
# Measures that are an amount to sell when they lead a line ("30 lb of brisket", "5 kg de queso"):
# weights. Volumes and the rest ("2 litros", "16 oz") usually name a product's size.
QUANTITY_MEASURES = frozenset({"lb", "kg", "g"})
# Leading measures that may be the amount asked for ("2 litros de leche"), never just a size ("16 oz").
AMOUNT_MEASURES = QUANTITY_MEASURES | {"l", "gal"}
DOZEN = 12
CLAUSE_OPENERS = (FILLERS | CONJUNCTIONS) - OF_WORDS  # words that may stand before a clause's count

# Number words per language, and the words of number phrases (lexicon numbers.toml).
NUMBER_WORDS: dict[str, dict[str, float]] = {
    lang: {word: float(value) for word, value in table(lang, "numbers", "words").items()} for lang in LANGUAGES
}
# Number words of another language that are something else in this one ("once", "dos", English "um").
_NOT_NUMBERS: dict[str, frozenset[str]] = {lang: frozenset(words(lang, "numbers", "not_numbers")) for lang in LANGUAGES}
ARTICLES_ONE = set_all("numbers", "articles_one")  # English "a case of": 1 only before a pack word or size
_INDEFINITE = set_all("numbers", "indefinite")  # "un par", "uma dúzia"
DOZEN_WORDS = set_all("numbers", "dozen")
HALF_WORDS = set_all("numbers", "half")
PAIR_WORDS = set_all("numbers", "pair")
AND_WORDS = set_all("numbers", "and")
_TENS = frozenset({20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0})
# the first words of every number phrase that does not start with a number
_PHRASE_STARTS = HALF_WORDS | ARTICLES_ONE | DOZEN_WORDS | PAIR_WORDS | _INDEFINITE

_DIGITS = re.compile(r"^\d+(?:[.,]\d{1,2})?$")
_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_XQTY = re.compile(r"^[x*](\d+(?:[.,]\d+)?)$")
_PREFIX_X = re.compile(r"^(\d+(?:[.,]\d+)?)x$")
_GLUED = re.compile(r"^(\d+(?:[.,]\d+)?)([a-z\"]+)$")
_PACK_ALTERNATION = "|".join(sorted((re.escape(w) for w in PACK_WORDS), key=len, reverse=True))
_MEASURE_ALTERNATION = "|".join(sorted((re.escape(w) for w in MEASURE_UNITS), key=len, reverse=True))
_STRIP_LEAD = re.compile(
    rf"^\s*(?:x\s*)?\d+(?:[.,]\d+)?\s*x?\s+(?!(?:{_MEASURE_ALTERNATION})\b)"
    rf"(?:(?:{_PACK_ALTERNATION})\s+(?:de|d|of|do|da)\s+)?",
    re.IGNORECASE,
)
_STRIP_TAIL = re.compile(r"\s+(?:x\s*\d+(?:[.,]\d+)?|\d+\s*x)\s*$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Token:
    text: str  # folded form ("cajas", "3", "2l")
    start: int  # span in the original text
    end: int
    kind: str = WORD
    value: float | None = None  # for NUMBER and XQTY, and the amount of a MEASURE
    unit: str = ""  # for MEASURE: canonical measure unit ("lb", "kg", "l"; "" for millilitres); "dozen" for a
    # NUMBER counted in dozens


def _number_table(language: str) -> dict[str, float]:
    """Every language's number words that are numbers in `language` (its own value first); for a
    language without a lexicon, the words that no language reads as something else."""
    excluded = _NOT_NUMBERS.get(language) or frozenset().union(*_NOT_NUMBERS.values())
    found: dict[str, float] = {}
    for table_ in (NUMBER_WORDS.get(language, {}), *NUMBER_WORDS.values()):
        for word, value in table_.items():
            if word not in excluded:
                found.setdefault(word, value)
    return found


# number_word precomputed: per language, and for any other language (""): word -> value
_NUMBER_TABLES: dict[str, dict[str, float]] = {language: _number_table(language) for language in NUMBER_WORDS}
_OTHER_NUMBER_TABLE = _number_table("")


def number_word(word: str, language: str) -> float | None:
    return _NUMBER_TABLES.get(language, _OTHER_NUMBER_TABLE).get(word)


def digit_value(text: str) -> float | None:
    if _DIGITS.match(text):
        return float(text.replace(",", "."))
    fraction = _FRACTION.match(text)
    if fraction:
        top, bottom = int(fraction.group(1)), int(fraction.group(2))
        if 0 < top < bottom <= 4:
            return top / bottom
    if text == "½":
        return 0.5
    return None


def _value(token: Token, language: str) -> float | None:
    if token.kind != WORD:
        return token.value if token.kind == NUMBER else None
    return digit_value(token.text) if token.text[:1].isdigit() else number_word(token.text, language)


def _retyped(token: Token, kind: str, value: float | None) -> Token:
    """dataclasses.replace(token, kind=kind, value=value), without its overhead."""
    return Token(text=token.text, start=token.start, end=token.end, kind=kind, value=value)


def _merge(tokens: list[Token], start: int, count: int, value: float, kind: str = NUMBER) -> Token:
    first, last = tokens[start], tokens[start + count - 1]
    text = f"{value:g}"
    return Token(text=text, start=first.start, end=last.end, kind=kind, value=value)


def _words(tokens: list[Token], index: int, size: int) -> list[str]:
    return [t.text for t in tokens[index : index + size]]


def _match_phrase(tokens: list[Token], i: int, language: str) -> tuple[int, float] | None:
    """Multi-token number phrases starting at i: (tokens consumed, value)."""
    here = _value(tokens[i], language)
    if here is None and tokens[i].text not in _PHRASE_STARTS:
        return None  # what the checks below need from a word that is not a number
    w = _words(tokens, i, 4) + ["", "", "", ""]
    if w[0] in HALF_WORDS and w[1] in DOZEN_WORDS:
        return 2, DOZEN / 2
    if w[0] == "half" and w[1] in ARTICLES_ONE and w[2] in DOZEN_WORDS:
        return 3, DOZEN / 2
    if w[0] in ARTICLES_ONE and w[1] == "half" and w[2] in DOZEN_WORDS:
        return 3, DOZEN / 2
    if w[0] in HALF_WORDS and w[1] in PACK_WORDS:
        return 1, 0.5
    if w[0] == "half" and w[1] in ARTICLES_ONE and w[2] in PACK_WORDS:
        return 2, 0.5
    if w[0] in ARTICLES_ONE | _INDEFINITE and w[1] in PAIR_WORDS:
        return (3 if w[2] in {"de", "of"} else 2), 2.0
    if w[0] == "couple" and w[1] == "of":
        return 2, 2.0
    if w[0] in PAIR_WORDS and w[1] in PACK_WORDS and (i == 0 or tokens[i - 1].kind != NUMBER):
        return 1, 2.0  # "need couple cases of water": the article left out
    if (here is not None or w[0] in ARTICLES_ONE) and w[1] in DOZEN_WORDS:
        return 2, (here or 1.0) * DOZEN
    if w[0] in DOZEN_WORDS and (i == 0 or tokens[i - 1].kind != NUMBER):
        return 1, float(DOZEN)
    if here is None:
        return None
    if here in _TENS and w[1] in AND_WORDS | {"-"}:
        unit = number_word(w[2], language)
        if unit is not None and 1 <= unit <= 9:
            return 3, here + unit
    if here in _TENS:
        unit = number_word(w[1], language)
        if unit is not None and 1 <= unit <= 9:
            return 2, here + unit
    if w[1] in AND_WORDS and w[2] in HALF_WORDS:
        return 3, here + 0.5
    if w[1] == "and" and w[2] in ARTICLES_ONE and w[3] == "half":
        return 4, here + 0.5
    if here >= 1 and float(here).is_integer():
        nxt = digit_value(w[1]) if w[1] else None
        if nxt is not None and 0 < nxt < 1 and "/" in w[1]:
            return 2, here + nxt
    return None


def read_numbers(tokens: list[Token], language: str) -> list[Token]:
    """Merge number words and phrases into NUMBER/XQTY tokens; mark name-numbers as CODE."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.kind != WORD:
            out.append(token)
            i += 1
            continue
        phrase = _match_phrase(tokens, i, language)
        if phrase is not None:
            size, value = phrase
            merged = _merge(tokens, i, size, value)
            if any(t.text in DOZEN_WORDS for t in tokens[i : i + size]):
                merged = replace(merged, unit=DOZEN_UNIT)  # "30 dozen": a count of single items
            out.append(merged)
            i += size
            continue
        xqty = _XQTY.match(token.text)
        if xqty:
            out.append(_retyped(token, XQTY, float(xqty.group(1).replace(",", "."))))
        elif token.text in {"x", "*"} and i + 1 < len(tokens) and digit_value(tokens[i + 1].text) is not None:
            value = digit_value(tokens[i + 1].text) or 0.0
            out.append(_merge(tokens, i, 2, value, XQTY))
            i += 2
            continue
        elif _PREFIX_X.match(token.text):
            out.append(_retyped(token, NUMBER, float(token.text[:-1].replace(",", "."))))
        elif token.text[:1].isdigit() or token.text.startswith("#"):
            digits = digit_value(token.text)
            glued = _GLUED.match(token.text)
            if digits is not None:
                out.append(_retyped(token, NUMBER, digits))
            elif glued and glued.group(2) in MEASURE_UNITS:
                unit = MEASURE_UNITS[glued.group(2)]
                out.append(Token(text=glued.group(1).replace(",", ".") + unit, start=token.start, end=token.end,
                                 kind=MEASURE, value=digit_value(glued.group(1)), unit=unit))
            elif glued and glued.group(2) in PACK_WORDS and digit_value(glued.group(1)) is not None:
                cut = token.start + len(glued.group(1))  # "4cs" → "4" + "cs"
                number = glued.group(1)
                out.append(Token(text=number, start=token.start, end=cut, kind=NUMBER, value=digit_value(number)))
                out.append(Token(text=glued.group(2), start=cut, end=token.end))
            else:
                out.append(_retyped(token, CODE, token.value))
        elif token.text in ARTICLES_ONE and _article_counts(tokens, i):
            out.append(_retyped(token, NUMBER, 1.0))
        else:
            word_value = number_word(token.text, language)
            out.append(_retyped(token, NUMBER, word_value) if word_value is not None else token)
        i += 1
    return out


def _article_counts(tokens: list[Token], i: int) -> bool:
    """English "a"/"an" is a count of 1 only before a pack word or a size ("a case", "a 50 lb bag")."""
    nxt = [t.text for t in tokens[i + 1 : i + 3]] + ["", ""]
    if nxt[0] in PACK_WORDS:
        return True
    glued = _GLUED.match(nxt[0])
    if glued and glued.group(2) in MEASURE_UNITS:
        return True
    return bool(_DIGITS.match(nxt[0])) and nxt[1] in MEASURE_UNITS


def read_measures(tokens: list[Token]) -> list[Token]:
    """NUMBER followed by a measure word becomes one MEASURE token ("2 litros" → "2l")."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == NUMBER and nxt is not None and nxt.kind == WORD and nxt.text in MEASURE_UNITS:
            unit = MEASURE_UNITS[nxt.text]
            size = f"{token.value or 0:g}" + unit
            out.append(Token(text=size, start=token.start, end=nxt.end, kind=MEASURE, value=token.value, unit=unit))
            i += 2
            continue
        if token.kind == NUMBER and token.value is not None and token.value > MAX_COUNT and not _item_count(tokens, i):
            out.append(_retyped(token, CODE, token.value))
        else:
            out.append(token)
        i += 1
    return out


def _item_count(tokens: list[Token], i: int) -> bool:
    """A count above MAX_COUNT of items: round, at the start of its clause (after a filler or a
    conjunction at most), followed by product words, maybe past a size ("3000 16oz cups")."""
    value = tokens[i].value or 0.0
    if value > MAX_ITEM_COUNT or value % ITEM_COUNT_STEP:
        return False
    before = tokens[i - 1] if i > 0 else None
    if before is not None and before.kind != SEP and before.text not in CLAUSE_OPENERS:
        return False
    k = i + 1
    if k < len(tokens) and tokens[k].text[:1].isdigit() and tokens[k].kind != NUMBER:
        k += 1  # a size written as one word: "16oz"
    nxt = tokens[k] if k < len(tokens) else None
    return nxt is not None and nxt.kind == WORD and nxt.text.isalpha() and nxt.text not in PACK_WORDS \
        and nxt.text not in MEASURE_UNITS and nxt.text not in CLAUSE_OPENERS


def strip_quantity(text: str) -> str:
    """Drop a leading count ("3 cajas de ", "x3 ") and a trailing multiplier (" x 5") from a line."""
    stripped = _STRIP_TAIL.sub("", text)
    stripped = _STRIP_LEAD.sub("", stripped, count=1)
    return stripped.strip() or text.strip()


__all__ = [
    "AMOUNT_MEASURES",
    "CODE",
    "MAX_COUNT",
    "MEASURE",
    "NUMBER",
    "NUMBER_WORDS",
    "QUANTITY_MEASURES",
    "SEP",
    "WORD",
    "XQTY",
    "Token",
    "digit_value",
    "number_word",
    "read_measures",
    "read_numbers",
    "strip_quantity",
]
