"""Split a message into order lines: count, pack word and product words of each.

Steps: scrub contact data and dates out of the text (offsets preserved), cut it into
sentences, tokenise, read numbers and sizes, drop address/contact/intro clauses, split at
commas, conjunctions, multipliers and at a new count, then read each segment's count and
pack word. A self-correction ("... digo, 6 botellas") replaces the line before it; an uncounted
parenthesis ("gloves x 6 (large)") qualifies the line before it; what the order is for ("é pra
um churrasco") is not a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from ai.lexicon import set_all, words_all
from ai.offline.dates import delivery_spans
from ai.offline.pack_units import DOZEN_UNIT, FORMAT_WORDS, MULTIPACKS, PACK_WORDS, pack_word_by_sound
from ai.offline.quantities import (
    AMOUNT_MEASURES,
    CODE,
    MEASURE,
    NUMBER,
    QUANTITY_MEASURES,
    SEP,
    WORD,
    XQTY,
    Token,
    read_measures,
    read_numbers,
)
from ai.offline.rejected import drop_rejected_counts
from ai.offline.runons import split_product_first
from ai.offline.sounded_numbers import numbers_by_sound
from ai.offline.vocabulary import (
    ABBREVIATIONS,
    ADDRESS_CUES,
    CLOSING_CUES,
    COMMA_ONLY_CORRECTIONS,
    CONJUNCTIONS,
    CONTACT_CUES,
    CORRECTION_CUES,
    COUNTED_CORRECTIONS,
    EACH_WORDS,
    FILLERS,
    INTRO_CUES,
    OF_WORDS,
    REMOVAL_CUES,
    WAIT_WORDS,
    WEAK_CORRECTION_CUES,
    WEAK_CORRECTIONS,
    first_words,
    starts_with,
)
from ai.text import STOPWORDS, fold


@dataclass(frozen=True, kw_only=True)
class ParsedLine:
    text: str  # the customer's words for this line ("3 cajas de coca 600")
    quantity: float | None  # the count as written, None when the line gives none
    unit: str | None  # canonical pack word ("caja", "case"), None when none was used
    phrase: str  # product words only ("coca 600")
    sentence: int = 0  # index of the sentence (see split_sentences) the line came from
    joined: bool = False  # split off the previous line at "y/and/e" without a count of its own
    measure: str | None = None  # unit of a leading measure: "lb" ("30 lb of brisket", the count), "l", "oz" ...
    corrects: bool = False  # follows a self-correction cue and names its product: it replaces an earlier line
    aside: str = ""  # words of an uncounted parenthesis after the line ("(large)"): product words if they help


@dataclass(frozen=True, kw_only=True)
class Sentence:
    index: int
    start: int
    end: int
    text: str  # scrubbed text of the sentence
    terminator: str = ""  # what ended it: "?", "!", ".", ":", newline ...


# A name, with the title before it ("don <PERSON>", "Mrs. <PERSON>"): blanked, it does not end a
# clause ("soy <PERSON> de ..."); a title left behind would read as a product word ("don" julio).
_TITLES = "|".join(sorted(words_all("fillers", "titles"), key=len, reverse=True))
_PERSON_PLACEHOLDER = re.compile(rf"(?:\b(?:{_TITLES})\.?\s+)?<PERSON>", re.IGNORECASE)
_PACK_OR_MEASURE = "|".join(sorted(
    (re.escape(w) for w in {**PACK_WORDS, **dict.fromkeys(words_all("fillers", "per_units"))}),
    key=len, reverse=True))
_SCRUB_PATTERNS = (
    re.compile(r"<(?!PERSON>)[A-Z_]+>"),  # other redaction placeholders end a clause
    re.compile(r"\S+@\S+"),
    re.compile(r"https?://\S+|www\.\S+"),
    re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=(?:[A-Za-z0-9]*[A-Za-z]){3})[A-Za-z0-9]{10,}\b"),  # RFC, CURP ...
    # a price, with what it is per ("$56 a case", "$3.50/lb", "$200 la caja"): never a line
    re.compile(r"(?:R\$|US\$|\$|€)\s?\d[\d.,]*(?:\s*(?:/\s*|(?:" + "|".join(words_all("fillers", "price_per")) + r")\s+)"
               rf"(?:{_PACK_OR_MEASURE})\b)?", re.IGNORECASE),
    # sending regards is not an order: "manda um abraço pro pessoal", "mándales saludos", "send my regards"
    re.compile(rf"\b(?:{'|'.join(words_all('clauses', 'regards_verbs'))})\s+"
               rf"(?:(?:{'|'.join(words_all('clauses', 'regards_determiners'))})\s+)?"
               rf"(?:{'|'.join(words_all('clauses', 'regards'))})\b", re.IGNORECASE),
    re.compile(r"\b\d{1,2}:\d{2}\s*(?:am|pm|hrs|h)?\b|\b\d{1,2}\s*(?:am|pm)\b", re.IGNORECASE),
)
# A US-style street address ("to 77 Oak Street, Suite 2", "4410 W Lake Ave"), in case PII redaction
# missed it: a house number, one to three words, a street suffix. Not a count of a pack word
# ("12 packs of street taco tortillas").
_STREET_ADDRESS = re.compile(
    rf"\b\d{{1,6}}\s+(?!(?:{'|'.join(sorted(map(re.escape, PACK_WORDS), key=len, reverse=True))}|of)\b)"
    rf"(?:[A-Za-z]+\.?\s+){{1,3}}(?:{'|'.join(words_all('clauses', 'street_types'))})\b"
    rf"(?:\.?,?\s*(?:{'|'.join((*words_all('clauses', 'street_units'), '#'))})\s*\w+)?",
    re.IGNORECASE,
)
_ADDRESS_STARTS = first_words(ADDRESS_CUES)
_CLAUSE_STARTS = (first_words(INTRO_CUES) | first_words(CONTACT_CUES) | first_words(CLOSING_CUES)
                  | first_words(REMOVAL_CUES))
_CORRECTION_STARTS = first_words(CORRECTION_CUES)
_ADDRESS_ABBREVIATIONS = set_all("fillers", "address_abbreviations")  # an address when followed by "."
_OF_WORDS = OF_WORDS
_SEPARATORS = frozenset({",", "/", "+", "&", "*", "-"})
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d \t().\-]{5,}\d")
KEYCAP_TEN = "\N{KEYCAP TEN}"
SIZE_IN_WORDS_FROM = 200  # a number word this big beside product words is a size ("de seiscientos")
MIN_SCRUBBED_DIGITS = 7  # a run of this many digits is a phone, card or tax id, never a count
_BOUNDARY = re.compile(r"\n+|[!?;…¡¿]+|\.{2,}|\.(?=\s|$)|:(?=\s|$)")
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:/\d+)?(?:x\d+)?[a-z\"]*|x\d+(?:[.,]\d+)?|#\d+|[a-z]+(?:['’][a-z]+)?|½|🔟"
    r"|[,/+&*]|(?:(?<=\s)|^)-(?=\s)"
)


def _blank(chars: list[str], start: int, end: int, mark: str = " ") -> None:
    for i in range(start, end):
        chars[i] = " "
    if end > start:
        chars[start] = mark


def scrub(text: str) -> str:
    """Blank out placeholders, emails, phones, ids, prices, times and dates; offsets are kept."""
    chars = list(text)
    for m in _PERSON_PLACEHOLDER.finditer(text):
        _blank(chars, m.start(), m.end())
    for pattern in _SCRUB_PATTERNS:
        for m in pattern.finditer(text):
            _blank(chars, m.start(), m.end(), ",")
    for m in _DIGIT_RUN.finditer(text):
        if sum(c.isdigit() for c in m.group(0)) >= MIN_SCRUBBED_DIGITS:
            _blank(chars, m.start(), m.end(), ",")
    for m in _STREET_ADDRESS.finditer(text):
        _blank(chars, m.start(), m.end(), ",")
    for start, end in delivery_spans(text):
        if text[end - 1 : end] == "." and end - 1 > start:
            end -= 1  # "by fri. also ...": the abbreviation's full stop still ends the sentence
        _blank(chars, start, end)
    return "".join(chars)


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of the scrubbed text: newlines, ! ? ; … : and full stops (not "Av." or "1.5")."""
    clean = scrub(text)
    folded = fold(clean)
    sentences: list[Sentence] = []
    start = 0
    for m in _BOUNDARY.finditer(folded):
        if m.group(0) == ".":
            before = folded[:m.start()].split()
            if before and before[-1].strip(",") in ABBREVIATIONS:
                continue
        if clean[start : m.start()].strip():
            sentences.append(
                Sentence(index=len(sentences), start=start, end=m.start(), text=clean[start : m.start()],
                         terminator=m.group(0))
            )
        elif sentences and "?" in m.group(0):
            last = sentences[-1]
            sentences[-1] = Sentence(index=last.index, start=last.start, end=last.end, text=last.text,
                                     terminator=last.terminator + m.group(0))
        start = m.end()
    if clean[start:].strip():
        sentences.append(Sentence(index=len(sentences), start=start, end=len(clean), text=clean[start:]))
    return sentences


def tokenize(sentence: Sentence, language: str) -> list[Token]:
    folded = fold(sentence.text)
    offset = sentence.start
    tokens: list[Token] = []
    for m in _TOKEN.finditer(folded):
        word = m.group(0)
        start, end = m.span()
        if word in _SEPARATORS:
            tokens.append(Token(text=word, start=offset + start, end=offset + end, kind=SEP))
            continue
        if word == KEYCAP_TEN:  # "🧊 gelo ➡️ 🔟 sacos": keycap digits fold to their digit, the ten has none
            word = "10"
        if "'" in word or "’" in word:
            word = word.replace("’", "").replace("'", "")
        tokens.append(Token(text=word, start=offset + start, end=offset + end, kind=WORD))
    return _packs_by_sound(read_measures(read_numbers(numbers_by_sound(tokens, language), language)), language)


def _packs_by_sound(tokens: list[Token], language: str) -> list[Token]:
    """ "4 kajas", "5 caxa": right after a count, a word that sounds like a pack word is that pack word."""
    for i in range(1, len(tokens)):
        token = tokens[i]
        if token.kind == NUMBER and tokens[i - 1].kind == NUMBER and PACK_WORDS.get(token.text, ("", ""))[0] in MULTIPACKS:
            # "3 six de corona": right after a count, a number word that is a multipack is that pack
            tokens[i] = Token(text=token.text, start=token.start, end=token.end, kind=WORD)
            continue
        if token.kind == WORD and tokens[i - 1].kind == NUMBER:
            found = pack_word_by_sound(token.text, language)
            if found is not None:
                tokens[i] = Token(text=found, start=token.start, end=token.end, kind=WORD)
    return tokens


def _cut_noise(tokens: list[Token], original: str) -> list[Token]:
    """Drop addresses (to the sentence end) and intros/contact/billing clauses (to the next comma)."""
    words = [t.text for t in tokens]
    for i, word in enumerate(words):
        cue = starts_with(words, i, ADDRESS_CUES) if word in _ADDRESS_STARTS else None
        if cue is None and word in _ADDRESS_ABBREVIATIONS:
            cue = 1 if original[tokens[i].end : tokens[i].end + 1] == "." else None
        if cue is not None:
            # the address runs to the sentence end, or to the next "<count> <pack word>"
            resume = next((k for k in range(i + 1, len(tokens) - 1)
                           if _is_count(tokens[k]) and tokens[k + 1].text in PACK_WORDS), len(tokens))
            return tokens[:i] + _cut_noise(tokens[resume:], original)
    out: list[Token] = []
    skipping = removing = False
    cue_left = 0  # tokens of the cue itself, never a clause end ("aqui e o ...")
    for i, token in enumerate(tokens):
        cue = removal = None
        if words[i] in _CLAUSE_STARTS:
            removal = starts_with(words, i, REMOVAL_CUES)
            cue = (starts_with(words, i, INTRO_CUES) or starts_with(words, i, CONTACT_CUES)
                   or starts_with(words, i, CLOSING_CUES) or removal)
        if cue_left == 0 and cue:
            skipping, cue_left, removing = True, cue, bool(removal)
        elif cue_left == 0 and (token.kind == SEP or token.kind == WORD and token.text in CONJUNCTIONS):
            skipping = False
        elif cue_left == 0 and skipping and not removing and _is_count(token) and _counts_pack(tokens, i):
            skipping = False  # "this is <PERSON> from ... can we get five cases of water": a run-on ends it
        cue_left = max(cue_left - 1, 0)
        if not skipping:
            out.append(token)
    return out


def _counts_pack(tokens: list[Token], i: int) -> bool:
    """The count at i is followed by a pack word, or a size and a pack word ("5 cases", "a 50 lb bag")."""
    nxt = tokens[i + 1 : i + 3]
    return bool(nxt) and (nxt[0].text in PACK_WORDS or (
        len(nxt) > 1 and nxt[0].kind == MEASURE and nxt[1].text in PACK_WORDS))


def _is_count(token: Token) -> bool:
    return token.kind == NUMBER and token.value is not None


def _is_content(token: Token) -> bool:
    if token.kind in {CODE, MEASURE}:
        return True
    return token.kind == WORD and token.text not in FILLERS and token.text not in STOPWORDS


@dataclass(frozen=True, kw_only=True)
class _Segment:
    tokens: list[Token]
    joined: bool
    corrects: bool


def _segments(tokens: list[Token]) -> Iterator[_Segment]:
    words = [t.text for t in tokens]
    current: list[Token] = []
    joined = corrects = False
    pending_correction = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        correction = starts_with(words, i, CORRECTION_CUES) if words[i] in _CORRECTION_STARTS else None
        if correction is None and words[i] in COUNTED_CORRECTIONS and token.kind == WORD:
            correction = _counted_correction(tokens, i)
        boundary_after = False
        if correction is not None and (i == 0 or tokens[i - 1].kind == SEP or not (
            words[i] in WEAK_CORRECTIONS or tuple(words[i : i + correction]) in WEAK_CORRECTION_CUES
        )):
            if current:
                yield _Segment(tokens=current, joined=joined, corrects=corrects)
            current, joined, corrects, pending_correction = [], False, False, True
            i += correction
            continue
        if _trailing_correction(current, tokens, i):
            corrects = True  # "..., que sean 3 mejor", "make it 3 actually": the cue after the bare count
            i += 1
            continue
        if token.kind == SEP or (token.kind == WORD and token.text in CONJUNCTIONS):
            if current:
                yield _Segment(tokens=current, joined=joined, corrects=corrects)
            current, corrects = [], False
            joined = token.kind == WORD
            i += 1
            continue
        if _is_count(token) and current and _price_after_line(current, tokens, i):
            # "dos bultos de papel a 468 verdad": a price, to the end of the clause
            current.pop()
            while i < len(tokens) and not (tokens[i].kind == SEP or tokens[i].text in CONJUNCTIONS):
                i += 1
            continue
        if _is_count(token) and current and _starts_new_count(current, tokens, i):
            yield _Segment(tokens=current, joined=joined, corrects=corrects)
            current, joined, corrects = [], False, False
        if token.kind == XQTY and any(_is_content(t) for t in current):
            boundary_after = True
        if not current and pending_correction:
            corrects, pending_correction = True, False
        current.append(token)
        if boundary_after:
            yield _Segment(tokens=current, joined=joined, corrects=corrects)
            current, joined, corrects = [], False, False
        i += 1
    if current:
        yield _Segment(tokens=current, joined=joined, corrects=corrects)


def _trailing_correction(current: list[Token], tokens: list[Token], i: int) -> bool:
    """A weak correction word ("mejor", "melhor", "actually") ending a clause that is only a count."""
    token = tokens[i]
    if token.kind != WORD or token.text not in WEAK_CORRECTIONS or not current:
        return False
    if i + 1 < len(tokens) and not (tokens[i + 1].kind == SEP or tokens[i + 1].text in CONJUNCTIONS):
        return False
    return any(_is_count(t) for t in current) and not any(_is_content(t) for t in current)


def _counted_correction(tokens: list[Token], i: int) -> int | None:
    """ "4 cx de óleo, não, pera, 3 cx", "sry 5 cs lids": a "no"/"sorry" that a count, a pack word or
    another correction cue follows (past commas and "wait" words) is a correction cue; its length."""
    after_comma = i > 0 and tokens[i - 1].kind == SEP
    if not after_comma and (i > 0 or tokens[i].text in COMMA_ONLY_CORRECTIONS):
        return None
    k = i + 1
    while k < len(tokens) and (tokens[k].kind == SEP or tokens[k].text in WAIT_WORDS):
        k += 1
    if k >= len(tokens):
        return None
    nxt = tokens[k]
    if _is_count(nxt) or nxt.kind == XQTY or nxt.text in PACK_WORDS or nxt.text in _CORRECTION_STARTS and (
        starts_with([t.text for t in tokens], k, CORRECTION_CUES) is not None
    ):
        # the following cue is read on its own; a count or a pack word starts the correcting line
        return k - i
    return None


def _carry_corrections(segments: list[_Segment]) -> list[_Segment]:
    """ "2 cajas de cuervo, no, botellas, 2 botellas de cuervo": a correction that is only a pack word,
    restated with a count right after, is that restatement."""
    out: list[_Segment] = []
    carry = False
    for k, segment in enumerate(segments):
        if carry:
            segment, carry = replace(segment, corrects=True), False
        nxt = segments[k + 1] if k + 1 < len(segments) else None
        bare = _strip_edges(segment.tokens)
        if (segment.corrects and nxt is not None and bare and all(t.text in PACK_WORDS for t in bare)
                and any(_is_count(t) or t.kind == XQTY for t in nxt.tokens)):
            carry = True
            continue
        out.append(segment)
    return out


_PRICE_PREPOSITIONS = set_all("fillers", "price_prepositions") | {"@"}


def _price_after_line(current: list[Token], tokens: list[Token], i: int) -> bool:
    """ "2 bultos de papel a 468", "3 cs lids at 45": a number after "a"/"at" that ends a counted line
    with product words, with no pack word or size after it, is the price asked or agreed."""
    if i == 0 or tokens[i - 1].text not in _PRICE_PREPOSITIONS or current[-1] is not tokens[i - 1]:
        return False
    counts = [k for k, t in enumerate(current) if t.kind in {NUMBER, XQTY}]
    if not counts or not any(_is_content(t) for t in current[counts[0] + 1 : -1]):
        return False
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return nxt is None or nxt.text not in PACK_WORDS and nxt.kind != MEASURE and nxt.text not in _OF_WORDS


def _starts_new_count(current: list[Token], tokens: list[Token], i: int) -> bool:
    """A count after a line that already has its count and product words starts a new line."""
    counts = [k for k, t in enumerate(current)
              if t.kind in {NUMBER, XQTY} or t.kind == MEASURE and t.unit in QUANTITY_MEASURES]
    if not counts or not any(_is_content(t) for t in current[counts[0] + 1 :]):
        return False
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None or nxt.kind != WORD or nxt.text in CONJUNCTIONS:
        return False
    first = current[counts[0]]
    if counts[0] == 0 and first.kind == NUMBER and not float(first.value or 0).is_integer() and (
        nxt.text in PACK_WORDS and (i + 2 >= len(tokens) or tokens[i + 2].kind == SEP
                                    or tokens[i + 2].text in CONJUNCTIONS)
    ):
        return False  # "16.9 water 6 cs": a decimal before the product is its size; the pack word's count counts
    return True


def _strip_edges(tokens: list[Token]) -> list[Token]:
    def noise(t: Token) -> bool:
        return t.kind == WORD and (t.text in FILLERS or t.text in STOPWORDS)

    start, end = 0, len(tokens)
    while start < end and noise(tokens[start]):
        start += 1
    while end > start and noise(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


def _count_index(tokens: list[Token]) -> int | None:
    """Which token is the line's count: a multiplier, a number before a pack word, a leading number."""
    for k, t in enumerate(tokens):
        if t.kind == XQTY:
            return k
    for k, t in enumerate(tokens):
        nxt = tokens[k + 1 : k + 3]
        sized_pack = len(nxt) > 1 and nxt[0].kind == MEASURE and nxt[1].text in PACK_WORDS  # "a 50 lb bag"
        if _is_count(t) and nxt and (nxt[0].text in PACK_WORDS or sized_pack):
            return k
    if tokens and _is_count(tokens[0]):
        return 0
    for k, t in enumerate(tokens[:-1]):
        if _is_count(t) and tokens[k + 1].text in _OF_WORDS:
            return k
    return None


@dataclass(frozen=True, kw_only=True)
class _Read:
    quantity: float | None
    unit: str | None
    phrase: list[Token]
    each: bool  # "2 cases each": the count is for every product named around it
    pack_only: bool = False  # the phrase is only the pack word ("3 cajas"): it names no product
    body: list[Token] = field(default_factory=list)  # the tokens of the line as the customer wrote it
    measure: str | None = None  # unit of a leading measure ("30 lb of brisket", "2 litros de leche")


def _firm_count(tokens: list[Token], index: int) -> bool:
    """A multiplier or a count before a pack word: a count that a leading weight does not replace."""
    nxt = tokens[index + 1] if index + 1 < len(tokens) else None
    return tokens[index].kind == XQTY or (nxt is not None and nxt.text in PACK_WORDS)


def _leading_measure(tokens: list[Token]) -> bool:
    """ "30 lb of brisket", "2 litros de leche": a measure, then product words (not "5 lb bag")."""
    if len(tokens) < 2 or tokens[0].kind != MEASURE or not tokens[0].value:
        return False
    return tokens[1].text not in PACK_WORDS and any(_is_content(t) for t in tokens[1:])


def _read_segment(tokens: list[Token]) -> _Read | None:
    """Count, canonical unit and product tokens of one segment, None when nothing is left."""
    tokens = _strip_edges(tokens)
    if not tokens:
        return None
    body = tokens
    index = _count_index(tokens)
    quantity: float | None = None
    unit: str | None = None
    dozens = False
    measure = tokens[0].unit if _leading_measure(tokens) else None
    if measure is not None and index is not None and _firm_count(tokens, index):
        measure = None  # "10 lb brisket x 3", "5 kg 2 cajas ...": the count is elsewhere, the weight is a size
    if measure in QUANTITY_MEASURES:
        quantity, unit = tokens[0].value, tokens[0].unit  # sold by weight: the weight is the amount
        tokens = tokens[1:]
    elif index is not None:
        quantity = tokens[index].value
        dozens = tokens[index].unit == DOZEN_UNIT
        before, after = tokens[:index], tokens[index + 1 :]
        if any(_is_content(t) and t.text not in PACK_WORDS for t in after) and tokens[index].kind != XQTY:
            body = tokens[index:]  # "pra confirmar o pedido de 6 fardos de água": the line starts at its count
            tokens = after
        else:
            tokens = before + after
    phrase: list[Token] = []
    for k, t in enumerate(tokens):
        pack = PACK_WORDS.get(t.text) if t.kind == WORD else None
        if pack is not None and pack[0] in FORMAT_WORDS and (phrase or index is None or k > 1):
            pack = None  # "coca lata x 3": the format word names the product, it is not the count's unit
        if pack is not None and unit is None:
            unit = pack[0]
            if phrase and phrase[-1].kind == MEASURE and quantity is not None and len(phrase) == 1:
                phrase.pop()  # "a 50 lb bag": the size describes the bag
            if t.text not in FORMAT_WORDS and pack[0] not in FORMAT_WORDS:
                continue
        if t.kind == MEASURE and k + 1 < len(tokens) and tokens[k + 1].text in PACK_WORDS and not phrase:
            continue
        phrase.append(t)
    if unit is None and dozens:
        unit = DOZEN_UNIT  # "30 dozen eggs", not "a dozen cases of water"
    each = quantity is not None and any(t.text in EACH_WORDS - {"uno", "una", "um", "c"} for t in phrase)
    if each:
        phrase = [t for t in phrase if t.text not in EACH_WORDS]
    phrase = _strip_edges(phrase)
    pack_only = False
    if not phrase and unit is not None and index is not None and not each:
        phrase = [t for t in tokens if t.text in PACK_WORDS][:1]
        pack_only = unit not in FORMAT_WORDS
    if quantity is None and not phrase:
        return None
    return _Read(quantity=quantity, unit=unit, phrase=phrase, each=each, pack_only=pack_only, body=body,
                 measure=measure)


def _original(text: str, tokens: list[Token]) -> str:
    return " ".join(_written(text, t) for t in tokens)


def _written(text: str, token: Token) -> str:
    """A token as the customer wrote it; a size in number words in digits ("dos litros" → "2 litros")."""
    words = text[token.start : token.end]
    if token.kind == MEASURE and token.value is not None and not words[:1].isdigit() and " " in words:
        return f"{token.value:g} {words.rsplit(None, 1)[1]}"
    if token.kind in {CODE, NUMBER} and (token.value or 0) >= SIZE_IN_WORDS_FROM and not words[:1].isdigit():
        return f"{token.value:g}"  # "coca de seiscientos", "copo de duzentos": a size said in words
    return words


def _apply_each(lines: list[ParsedLine], sentence: int, quantity: float, unit: str | None) -> None:
    """Give a distributive count ("send 2 cases each") to the uncounted lines just before it."""
    for k in range(len(lines) - 1, -1, -1):
        line = lines[k]
        if line.sentence != sentence or line.quantity is not None:
            break
        lines[k] = ParsedLine(text=line.text, quantity=quantity, unit=unit, phrase=line.phrase, sentence=sentence)


_PURPOSE_WORDS = set_all("fillers", "purpose_words")
_INDEFINITE_ARTICLES = set_all("fillers", "indefinite_articles")


def _purpose_clause(segment: list[Token], tokens: list[Token]) -> bool:
    """ "é pra um churrasco grande", "es para una fiesta", "2 cajas ... para un evento": what the order
    is for (a purpose word, an indefinite article, no pack word or size), not a line."""
    k = 0
    while k < len(segment) and segment[k].kind == WORD and (segment[k].text in FILLERS or segment[k].text == "es"):
        k += 1
    if k >= len(segment) - 1:
        return False
    if segment[k].text in _PURPOSE_WORDS:
        k += 1
    elif k > 0 or segment[0].text not in _INDEFINITE_ARTICLES:
        return False
    else:  # the segment starts at its article: the purpose word ended the line before
        before = _token_before(tokens, segment[0])
        if before is None or before.text not in _PURPOSE_WORDS:
            return False
    return (
        k < len(segment) - 1 and segment[k].text in _INDEFINITE_ARTICLES
        and not any(t.text in PACK_WORDS or t.kind == MEASURE for t in segment)
    )


def _token_before(tokens: list[Token], first: Token) -> Token | None:
    for k, token in enumerate(tokens):
        if token is first:
            return tokens[k - 1] if k else None
    return None


_PARENTHESIS = re.compile(r"\(([^()]*)\)")


def _asides(sentence: Sentence) -> list[tuple[int, int]]:
    """Spans (in the message) of the parentheses of a sentence."""
    return [(sentence.start + m.start(1), sentence.start + m.end(1)) for m in _PARENTHESIS.finditer(sentence.text)]


def _split_aside(tokens: list[Token], spans: list[tuple[int, int]]) -> tuple[list[Token], list[Token]]:
    """A segment's tokens outside and inside parentheses; a counted parenthesis ("coca (2 cajas)") is
    part of the line."""
    inside = [t for t in tokens if any(start <= t.start and t.end <= end for start, end in spans)]
    if not inside or any(t.kind in {NUMBER, XQTY} for t in inside):
        return tokens, []
    kept = {id(t) for t in inside}
    return [t for t in tokens if id(t) not in kept], inside


def parse_lines(
    text: str, language: str, sentences: Sequence[Sentence] | None = None, *, defer_corrections: bool = False
) -> list[ParsedLine]:
    """The order lines of a message, in order; lines may lack a count or product words.

    `sentences`: split_sentences(text) when the caller already has them. A self-correction replaces
    the line before it; with `defer_corrections`, one that names its product ("make the tomatoes 3")
    is kept with `corrects` set instead, for `ai.matching.lines.match_lines` to replace the earlier
    line of the same product.
    """
    lines: list[ParsedLine] = []
    for sentence in split_sentences(text) if sentences is None else sentences:
        tokens = split_product_first(drop_rejected_counts(_cut_noise(tokenize(sentence, language), text), language))
        each: tuple[float, str | None] | None = None  # a distributive count waiting for its products
        asides = _asides(sentence) if "(" in sentence.text else []
        for segment in _carry_corrections(list(_segments(tokens))):
            if _purpose_clause(segment.tokens, tokens):
                continue
            own, aside = _split_aside(segment.tokens, asides) if asides else (segment.tokens, [])
            if not own and lines and lines[-1].sentence == sentence.index:
                # "gloves x 6 (large)": an uncounted parenthesis qualifies the line before it
                lines[-1] = replace(lines[-1], aside=_original(text, _strip_edges(aside)))
                continue
            read = _read_segment(own or aside)
            if read is None:
                continue
            body = read.body
            quantity, unit = read.quantity, read.unit
            if read.each and read.quantity is not None:
                _apply_each(lines, sentence.index, read.quantity, read.unit)
                each = (read.quantity, read.unit)
            elif each is not None and quantity is None:
                quantity, unit = each
            line = ParsedLine(
                text=text[body[0].start : body[-1].end] if body else "",
                quantity=quantity,
                unit=unit,
                phrase=_original(text, read.phrase),
                sentence=sentence.index,
                joined=segment.joined and quantity is None,
                measure=read.measure,
                aside=_original(text, _strip_edges(aside)) if own else "",
            )
            if defer_corrections and segment.corrects and lines and line.phrase and not read.pack_only:
                # "make the tomatoes 3": names its product; which line it replaces is decided once
                # the products are known (see ai.matching.lines.match_lines)
                line = replace(line, corrects=True)
            elif segment.corrects and lines:
                replaced = lines.pop()
                line = ParsedLine(
                    text=line.text,
                    quantity=line.quantity if line.quantity is not None else replaced.quantity,
                    # "mejor que sean 5": a bare count keeps the pack word of the line it corrects
                    unit=line.unit if line.quantity is not None and (line.unit or line.phrase) else replaced.unit,
                    # "6 packs de skol, aliás, 8 packs": a count and a pack word keep the product corrected
                    phrase=line.phrase if line.phrase and not read.pack_only else replaced.phrase,
                    sentence=line.sentence,
                )
                lines.append(line)
                continue
            if not line.phrase or read.pack_only:
                # "3 cases" alone: the count of the product named just before without one
                previous = lines[-1] if lines else None
                if (previous is not None and previous.quantity is None and previous.measure not in AMOUNT_MEASURES
                        and previous.sentence >= line.sentence - 1):
                    lines.pop()
                    line = ParsedLine(text=f"{previous.text} {line.text}", quantity=line.quantity,
                                      unit=line.unit or previous.unit, phrase=previous.phrase, sentence=line.sentence)
                elif not line.phrase:
                    continue
            lines.append(line)
    return lines


__all__ = ["ParsedLine", "Sentence", "parse_lines", "scrub", "split_sentences", "tokenize"]
