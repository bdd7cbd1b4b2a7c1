"""Street addresses in Mexican, Brazilian and US formats, from their shape (no model, no gazetteer).

An address is a core and an optional tail:
- core, es/pt: a street type, a capitalised street name and a house number
  ("Av. Insurgentes Sur 1234", "Calle 5 de Mayo #23", "Rua Augusta 1500", "Av. Paulista, 1578");
- core, en: a house number, an optional direction, capitalised words and a street suffix
  ("1458 W Fulton St", "220 N Michigan Ave"), or a numbered route ("9801 Highway 290 E");
- core after a delivery cue, without a street type ("entregar en Insurgentes Sur 1234"), or with one
  and a name in lower case ("entregar na rua xv de novembro 1020", not "en la calle de atrás 2 cajas");
- tail: interior/suite, colonia/bairro, postal code, city and state pieces, each after a comma,
  dash or space (", Col. Del Valle", " - Bela Vista, São Paulo - SP", ", Chicago, IL 60607").
A tail piece that starts with a common word (", Gracias", " - Manda 2 caixas") ends the address.
Otherwise street names must be capitalised, so "la calle de atrás" or "2 cases dr pepper" never match.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import RecognizerResult

from ai.pii.cues import phrases, words
from ai.pii.names import BUSINESS_WORDS, PRODUCT_WORDS, STOP_WORDS
from ai.pii.nlp import fold
from ai.pii.recognizers import recognizer_result
from ai.pii.rule_recognizer import RuleRecognizer

ENTITY = "ADDRESS"
STREET_SCORE = 0.8  # street type or suffix, name and number
CUED_SCORE = 0.65  # "entregar en", "deliver to", "endereço:" + name and number
AREA_SCORE = 0.55  # a colonia or a postal code on its own
MAX_TAIL_PIECES = 6

CAP_WORD = r"(?:\p{Lu}\p{Ll}{0,3}\.|\p{Lu}[\p{L}'’]*(?![\p{L}\d]))"  # "Insurgentes", "São", "Gral."
ORDINALS = phrases("ordinal_suffixes")
EN_ORDINALS = "|".join(suffix for suffix in ORDINALS.split("|") if suffix.isascii())  # "5th": not "5º"
STREET_WORD = rf"(?:{CAP_WORD}|\d{{1,3}}(?:{ORDINALS})?(?![\p{{L}}\d]))"  # "5 de Mayo", "5th"
LINK = rf"(?:{phrases('street_name_links')})"
STREET_NAME = rf"(?:{LINK}[ \t]+)?{STREET_WORD}(?:[ \t]+(?:{LINK}[ \t]+)?{STREET_WORD}){{0,5}}"
PLACE_WORD = rf"(?![A-Z]{{2}}[ \t]+\d{{5}}){CAP_WORD}"  # not the "IL" of "IL 60201"
PLACE = rf"{PLACE_WORD}(?:[ \t]+(?:{LINK}[ \t]+)?{PLACE_WORD}){{0,3}}"  # "São Paulo", "Del Valle"
NUMBER_MARK = rf"(?i:{phrases('house_number_marks')})"  # "nº", "núm."
HOUSE_NUMBER = (
    rf"(?:(?:{NUMBER_MARK}\.?[ \t]*|#[ \t]*)?\d{{1,5}}"
    rf"(?:[ \t]?-?[A-Za-z](?![\p{{L}}\d]))?(?!\d)|(?i:{phrases('no_number')}))"
)
ES_PT_TYPES = phrases("street_types")
STREET_TYPE = (
    rf"(?:(?i:{ES_PT_TYPES})(?:\.[ \t]*|[ \t]+)|(?:{phrases('dotted_street_types')})\.[ \t]*"
    rf"|(?:{phrases('slashed_street_types')})/[ \t]*)"
)
# After a delivery cue and a street type, a street name typed in lower case ("entregar na rua xv de
# novembro 1020"): words, not numbers, so "entrega na rua 3 caixas" is no address.
LOWER_STREET_NAME = r"\p{L}[\p{L}'’.]*(?:[ \t]+\p{L}[\p{L}'’.]*){0,5}"
EN_WORD = rf"(?:{CAP_WORD}|\d{{1,3}}(?:{EN_ORDINALS})(?![\p{{L}}\d]))"
EN_DIRECTION = rf"(?:{phrases('directions')})\.?"
EN_SUFFIXES = phrases("street_suffixes")
EN_ROUTES = phrases("route_words")  # numbered, capitalised: "9801 Highway 290 E"
ROUTE_PREFIXES = phrases("route_prefixes", spaces=r"[ \t]+")
DELIVERY_CUES = phrases("delivery_cues")
INTERIOR = (
    rf"(?i:{phrases('interior_words')})\.?[ \t]*#?[ \t]*[\w-]{{1,6}}(?![\p{{L}}\d])|#[ \t]*\d{{1,5}}[A-Za-z]?(?![\p{{L}}\d])"
)
AREA_ABBREVIATIONS = "|".join(rf"{a.capitalize()}\.?|{a}\." for a in sorted(words("area_abbreviations")))  # "Col. Roma"
AREA = rf"(?:{AREA_ABBREVIATIONS}|(?i:{phrases('area_words')}))\.?[ \t]+{PLACE}"
POSTAL_CUES = phrases("postal_cues", spaces=r"[ \t]?")
POSTAL = (
    rf"(?i:{POSTAL_CUES}|{phrases('zip_cues')})[ \t]*:?[ \t]*\d{{5}}(?:-?\d{{3,4}})?(?!\d)|\d{{5}}-\d{{3}}(?!\d)"
)
STATE_ZIP = r"[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?(?!\d)"
TAIL_PIECE = (
    rf"(?:[ \t]*[,\-–—][ \t]*|[ \t]+)(?:{INTERIOR}|{AREA}|{POSTAL}|{STATE_ZIP})"
    rf"|[ \t]*[,\-–—/][ \t]*{PLACE}(?:,?[ \t]+{STATE_ZIP})?"  # ", Evanston IL 60201"
)
TAIL = rf"(?P<tail>{TAIL_PIECE}){{0,{MAX_TAIL_PIECES}}}"

# Typed in lower case with no delivery cue ("calle aldama 318 colonia san juan de dios", "r. sete de
# setembro 845", "2240 n milwaukee ave unit b chicago il 60647"): the street type or suffix and the
# house number frame it; its words are then checked (`lower_street_words`), since in lower case the
# name could be any words.
LOWER_ES_PT_TYPES = phrases("lower_street_types")
LOWER_NAME_WORD = r"(?:\p{Ll}[\p{Ll}'’.]*|\d{1,2})"
LOWER_AREA = (
    rf"(?:{phrases('lower_area_words')})[ \t]+\p{{Ll}}+"
    rf"(?:[ \t]+(?:(?:{phrases('place_links')})[ \t]+)?\p{{Ll}}+){{0,3}}"
)
LOWER_TAIL = rf"(?P<tail>(?:[ \t]*,?[ \t]*(?:{INTERIOR}|{LOWER_AREA}|{phrases('rear_words')}|{POSTAL})){{0,3}})"
EN_LOWER_SUFFIXES = phrases("lower_street_suffixes")
UNIT_WORDS = phrases("unit_words")
EN_LOWER_TAIL = (
    rf"(?P<tail>(?:[ \t]*,?[ \t]*(?:{UNIT_WORDS})\.?[ \t]*[\w-]{{1,6}}(?![\w]))?"
    r"(?:[ \t]*,?[ \t]*\p{Ll}+(?:[ \t]+\p{Ll}+)?,?[ \t]+(?:\p{Ll}{2}[ \t]+)?\d{5}(?:-\d{4})?(?!\d))?)"
)

# (pattern name, regex with the address core in group "core" and its pieces in "tail", score)
ADDRESS_PATTERNS = (
    ("street_es_pt", rf"(?<![\p{{L}}\d])(?P<core>{STREET_TYPE}{STREET_NAME}[ \t]*,?[ \t]*{HOUSE_NUMBER}){TAIL}",
     STREET_SCORE),
    ("street_en", rf"(?<![\p{{L}}\d#\-/.,$])(?P<core>\d{{1,6}}[A-Za-z]?[ \t]+(?:{EN_DIRECTION}[ \t]+)?"
     rf"(?:{EN_WORD}[ \t]+){{1,4}}(?i:{EN_SUFFIXES})\.?(?![\p{{L}}\d])){TAIL}", STREET_SCORE),
    ("highway_en", rf"(?<![\p{{L}}\d#\-/.,$])(?P<core>\d{{3,6}}[ \t]+(?:{EN_DIRECTION}[ \t]+)?"
     rf"(?:(?:{ROUTE_PREFIXES})[ \t]*)?"
     rf"(?:{EN_ROUTES})[ \t]*\d{{1,4}}[A-Z]?(?:[ \t]+{EN_DIRECTION})?(?![\p{{L}}\d])){TAIL}", STREET_SCORE),
    ("delivery_cue", rf"(?<!\w)(?i:{DELIVERY_CUES})[ \t]*:?[ \t]+(?:(?i:{phrases('articles')})[ \t]+)?"
     rf"(?P<core>{STREET_NAME}[ \t]*,?[ \t]*{HOUSE_NUMBER}){TAIL}", CUED_SCORE),
    ("cued_lower_street", rf"(?<!\w)(?i:{DELIVERY_CUES})[ \t]*:?[ \t]+(?:(?i:{phrases('articles')})[ \t]+)?"
     rf"(?P<core>(?i:{ES_PT_TYPES})\.?[ \t]+{LOWER_STREET_NAME}[ \t]*,?[ \t]*{HOUSE_NUMBER}){TAIL}", CUED_SCORE),
    ("lower_street_es_pt", rf"(?<![\p{{L}}\d])(?P<core>(?:(?:{LOWER_ES_PT_TYPES})\.?|(?:{phrases('lower_dotted_street_types')})\.)[ \t]+"
     rf"(?P<street>{LOWER_NAME_WORD}(?:[ \t]+{LOWER_NAME_WORD}){{0,5}})[ \t]*,?[ \t]*(?:{NUMBER_MARK}\.?[ \t]*|#[ \t]*)?"
     rf"\d{{1,5}}(?:[ \t]?-?[a-z](?![\p{{L}}\d]))?(?![\d:])){LOWER_TAIL}", CUED_SCORE),
    ("lower_street_en", rf"(?<![\p{{L}}\d#\-/.,$])(?P<core>\d{{2,6}}[ \t]+(?P<street>(?:(?:{phrases('lower_directions')})\.?[ \t]+)?"
     rf"(?:\p{{Ll}}[\p{{Ll}}'’.]*[ \t]+){{1,4}})(?:{EN_LOWER_SUFFIXES})\.?(?![\p{{L}}\d]))"
     rf"(?=[ \t]*(?:[,.;]|\n|\Z)|[ \t]+(?:{UNIT_WORDS}|\p{{Ll}}+(?:[ \t]+\p{{Ll}}+)?,?[ \t]+(?:\p{{Ll}}{{2}}[ \t]+)?\d{{5}})"
     rf"|(?<=(?:{phrases('open_street_suffixes')})\.?)[ \t])"
     rf"{EN_LOWER_TAIL}", CUED_SCORE),
    ("area", rf"(?<![\p{{L}}\d])(?P<core>{AREA}|(?i:{POSTAL_CUES})[ \t]*:?[ \t]*\d{{5}}(?:-?\d{{3}})?(?!\d)){TAIL}",
     AREA_SCORE),
)


class AddressRecognizer(RuleRecognizer):
    """ADDRESS: street + number cores with their colonia/city/postal-code tails."""

    def __init__(self, *, language: str) -> None:
        self.patterns = tuple(
            (name, re.compile(pattern, re.MULTILINE), score) for name, pattern, score in ADDRESS_PATTERNS
        )
        super().__init__(supported_entities=[ENTITY], supported_language=language, name="AddressRecognizer",
                         context=sorted(words("address_context")))

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for name, pattern, score in self.patterns:
            for match in pattern.finditer(text):
                if name == "delivery_cue" and names_a_place(match.group("core")):
                    continue
                if name in LOWER_CASE_PATTERNS and counts_goods(text, match.end("core")):
                    continue
                if name.startswith("lower_street") and not lower_street_words(match.group("street")):
                    continue
                start, end = match.start("core"), address_end(match)
                if name.startswith("lower_street"):
                    end = without_trailing_stop_words(text, start, end)
                results.append(recognizer_result(self, ENTITY, start, end, score))
        return results


def names_a_place(core: str) -> bool:
    """"Sucursal Centro 2", "Bodega 3": a branch or a dock of the shop, not a street."""
    words = re.findall(r"[\p{L}]+", core)
    return not words or fold(words[0]) in BUSINESS_WORDS or fold(words[0]) in STOP_WORDS


def counts_goods(text: str, number_end: int) -> bool:
    """"la calle de atrás 2 cajas": the number is a quantity of goods, not a house number."""
    following = re.match(r"[ \t]*(\p{L}+)", text[number_end:])
    return following is not None and fold(following.group(1)) in PRODUCT_WORDS


def without_trailing_stop_words(text: str, start: int, end: int) -> int:
    """"colonia san juan de dios porque": a lower-case tail runs into the sentence; cut it back."""
    words = list(re.finditer(r"\S+", text[start:end]))
    while len(words) > 1 and fold(words[-1].group().strip(",.")) in TAIL_STOP_WORDS:
        words.pop()
    return start + words[-1].end() if words else end


def lower_street_words(street: str) -> bool:
    """A street name typed in lower case: no goods, no verbs ("la calle tenemos 20"), no stop words
    but the small words of street names ("5 de mayo", "sete de setembro")."""
    for word in re.findall(r"\p{L}+", street):
        folded = fold(word)
        if folded in PRODUCT_WORDS or folded.endswith("mos") or (
            folded in STOP_WORDS and folded not in STREET_LINKS and folded not in MONTHS
        ):
            return False
    return True


MONTHS = words("months")  # "calle 5 de mayo", "rua sete de setembro"
TAIL_STOP_WORDS = STOP_WORDS | words("clause_words")
LOWER_CASE_PATTERNS = frozenset({"cued_lower_street", "lower_street_es_pt", "lower_street_en"})
STREET_LINKS = words("street_links")


def address_end(match: re.Match[str]) -> int:
    """The end of the core and of the tail pieces before the first one starting with a common word."""
    end = int(match.end("core"))
    for piece, piece_end in zip(match.captures("tail"), match.ends("tail"), strict=True):
        words = re.findall(r"[\p{L}]+", piece)
        if words and fold(words[0]) in STOP_WORDS:
            break
        end = piece_end
    return end
