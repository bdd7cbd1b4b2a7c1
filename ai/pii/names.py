"""Person names from the words people put around them, without a named-entity model.

A name is one to four capitalised words ("Carmen Ruiz", "João da Silva", "O'Brien", "Ma. Guadalupe
Hernández de la Cruz") right after a cue: an introduction ("soy", "me llamo", "aqui é o", "this
is", "name on file is"), a sign-off at the end of a line ("Saludos, María", "Thanks, Kevin"), a dash
signature at the end of the message ("- Mike Johnson"), a greeting ("Hola Pedro,"), a title or an
honorific ("Sr. López", "don Chuy", "seu Zé!"), a contact phrase ("ask for Maria", "recibe: Juan",
"Owner: Dwayne"), a relation ("mi hijo Luis", "my son Kevin", "meu sócio Rafael"), data after a
colon ("mis datos: José Torres, CURP ..."), or before "here"/"aquí" or a receiving verb ("Carlos
here", "Jamal will sign for it").

Shop messages are full of capitalised brands and shop names ("Don Julio", "La Esperanza", "Rosie's
Diner", "Blue Door Cafe"), so a capitalised word is never enough on its own: the cue is required, a
candidate stops at a common word ("Hola", "Gracias", "Lunes", "Pedido" ...), and it is dropped when
it runs straight into a business word ("Cafe", "Tienda", "Bar" ...) or ends in a possessive "'s".
Greetings, honorifics and contact cues also come before the distributor's own name and brands
("Hola Valle", "Oi Sol"): the caller passes those words (`vocabulary_words`) and such names go.
A lower-case word is a name only after a cue and only when it is a known given name
(ai.pii.first_names): "soy pedro", "hey its dave", "carlos here"; "soy el encargado" is not.
Where the cue is strong (an introduction followed by where the writer is from, a sign-off or a dash
closing the message, a lower-case honorific, a relation closing its clause, the last line under a
list), a word no list of everyday words knows (ai.pii.common_words) is a name too: "soy eréndira de
...", "bjs lucineide", "seu zé", "mi cuñado beto". Grammar marks a few more: a known given name as
the subject of a past-tense verb ("Kevin left ...") or after "to" ("send it to Priya"), a name right
before a phone number ("Lupita 5512345678", which also makes the number a phone), a full name closing
the message ("lemons x2. Mike Turner") or after "from" at the end of a line ("PO from Priya Raman").
The word lists and cues are data: ai/lexicon/<lang>/pii.toml, read through ai.pii.cues.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import RecognizerResult

from ai.catalog import Catalog
from ai.pii.common_words import common_words, could_be_a_name
from ai.pii.cues import phrases, words
from ai.pii.first_names import first_names, is_first_name
from ai.pii.name_patterns import (
    COORDINATED,
    CUE_KEY,
    CUE_PATTERNS,
    ENTITY,
    FROM,
    LOWER_CUE,
    LOWER_SURNAME,
    UNKNOWN_NAME_CUES,
    WEAK_CUES,
)
from ai.pii.nlp import fold
from ai.pii.recognizers import BARE_SCORE, LIKELY_SCORE, PhoneNumberRecognizer, recognizer_result
from ai.pii.rule_recognizer import RuleRecognizer

PHONE_ENTITY = "PHONE_NUMBER"  # a number right after a name is a phone: "Lupita 5512345678"
# Capitalised codes, not names, left in capitals when a word in capitals is read as a name.
ACRONYMS = words("acronyms")
PARTICLES = frozenset(part for phrase in words("name_particles") for part in phrase.split())
# Capitalised words that are not names: a candidate stops before the first of these (folded).
STOP_WORDS = words("stop_words")
# Grocery nouns that start product lines ("- Jugo Del Valle", "Leche Lala"): never part of a name.
PRODUCT_WORDS = words("product_words")
# Words of shop and company names: a candidate that runs straight into one is a business, not a person.
BUSINESS_WORDS = words("business_words")


class PersonRecognizer(RuleRecognizer):
    """PERSON after an introduction, sign-off, signature, greeting, title, contact or relation cue."""

    def __init__(self, *, language: str) -> None:
        self.patterns = tuple(
            (name, re.compile(pattern, re.MULTILINE), score) for name, pattern, score in CUE_PATTERNS
        )
        first_names()  # read Faker's lists now, at start-up, not on the first message that needs them
        common_words()
        self.phones = PhoneNumberRecognizer(language=language)
        super().__init__(supported_entities=[ENTITY, PHONE_ENTITY], supported_language=language, name="PersonRecognizer")

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        text = unshout(text)
        has_phone = DIGIT_RUN.search(text) is not None
        for pattern_name, pattern, score in self.patterns:
            if (pattern_name == "before_phone" and not has_phone) or (
                pattern_name == "subject" and SUBJECT_VERB.search(text) is None
            ):
                continue
            start = max(0, len(text) - MESSAGE_END_WINDOW) if pattern_name in AT_MESSAGE_END else 0
            for match in pattern.finditer(text, start):
                if not self.cue_holds(pattern_name, text, match):
                    continue
                span = name_span(text, match, pattern_name)
                if pattern_name == "before_phone" and span is not None:
                    results.extend(self.phone_after_a_name(text, match))
                # a lower-case given name can be a brand too ("con victoria"): weak but after an introduction
                lower = match.groupdict().get("lower") is not None and pattern_name != "lower_introduction"
                cue = LOWER_CUE if lower else pattern_name
                while span is not None:  # "la Cláudia ou o Wellington": the names joined to it too
                    result = recognizer_result(self, ENTITY, span[0], span[1], score)
                    result.recognition_metadata[CUE_KEY] = cue
                    results.append(result)
                    joined = COORDINATED_NAME.match(text, span[1])
                    span = trim_name(text, joined.start("name"), joined.end("name")) if joined else None
                    cue = "coordinated"
        return results

    def phone_after_a_name(self, text: str, match: re.Match[str]) -> list[RecognizerResult]:
        """"Lupita 5512345678": a bare run of digits needs a phone word to count, and a name is one."""
        found = self.phones.best_span(text, match.start("phone"), match.end("phone"))
        if found is None:
            return []
        start, end, score = found
        if score >= LIKELY_SCORE:
            return []  # the phone recognizer reports it on its own
        return [recognizer_result(self, PHONE_ENTITY, start, end, LIKELY_SCORE)]

    def cue_holds(self, pattern_name: str, text: str, match: re.Match[str]) -> bool:
        """What a pattern's match must also satisfy beyond its regular expression."""
        if pattern_name == "dash_signature":
            shop = match.group("shop")
            return not is_list_bullet(text, match.start("dash")) and (
                shop is None or names_a_business(shop)
                or (is_title_cased(shop) and is_first_name(match.group("name").split()[0])))  # "- Marcus, Fat Cat Wings"
        if pattern_name == "honorific":
            return honorific_names_a_person(text, match)
        if pattern_name == "lower_honorific":  # not "2 botellas de don julio", "abarrotes doña mary"
            return fold(match.group("honorific")) not in BRAND_HONORIFICS and not after_goods_or_a_business(
                text, match.start())
        if pattern_name == "from_business":
            return names_a_business(match.group("business"))
        if pattern_name == "list_signature":
            return follows_a_list(text, match.start()) and words_may_be_names(match)
        if pattern_name == "end_signature":
            return words_may_be_names(match) and (len(match.group("name").split()) > 1 or is_first_name(match.group("name")))
        if pattern_name == "before_phone":
            return self.phones.score_number(match.group("phone").strip()) >= BARE_SCORE and words_may_be_names(match)
        if pattern_name in ("recipient", "placed"):
            return is_first_name(match.group("name"))
        if pattern_name == "sender":
            return words_may_be_names(match)
        if pattern_name == "subject":  # one capitalised word: a known given name ("Kevin left"; not "Coca llegó")
            name = match.group("name")
            return marks_a_subject(match.group("verb")) and (
                name is None or (len(name.split()) > 1 and words_may_be_names(match)) or is_first_name(name))
        return True


def words_may_be_names(match: re.Match[str]) -> bool:
    """Capitalised words that only a weak cue marks: each a given name or a word no list knows
    ("Mike Turner", "Fidencio"; not "Main Street", "Cualquier Cosa")."""
    name = match.groupdict().get("name")
    if name is None:
        return True
    return all(is_first_name(word) or could_be_a_name(word) or fold(word) in PARTICLES
               for word in re.findall(r"[\p{L}'’-]+", name))


def follows_a_list(text: str, start: int) -> bool:
    """The line before counts goods ("fries 5") or is a bullet ("• ketchup", "▪️ 1 caja")."""
    before = text[:start].rstrip()
    line = before[before.rfind("\n") + 1 :].strip()
    return bool(line) and (any(ch.isdigit() for ch in line) or not (line[0].isalnum() or line[0] in "¿¡\"'("))


def marks_a_subject(verb: str) -> bool:
    """A verb in the past or one only people do, right after the word: "left", "pasó", "trouxe"."""
    if fold(verb) in SUBJECT_VERBS:
        return True
    return any(verb.endswith(suffix) and len(verb) >= len(suffix) + 3 for suffix in PAST_SUFFIXES)


def is_title_cased(words: str) -> bool:
    """"Fat Cat Wings": every word capitalised, as a business signs itself."""
    found = re.findall(r"[\p{L}'’&]+", words)
    return bool(found) and all(word[0].isupper() for word in found)


def unshout(text: str) -> str:
    """Words in capitals, written as a name would be so that the cues apply: in a message all in
    capitals every word ("PREGUNTAR POR JAVIER" -> "Preguntar Por Javier"), otherwise each word of
    three capitals or more that is no acronym ("a nombre de MARÍA TORRES"). A character whose case
    mapping changes its length is left as it is: offsets must not move."""
    if any(ch.islower() for ch in text):
        return str(CAPITALS.sub(lambda m: capitalised(m.group()), text))
    if not any(ch.isupper() for ch in text):
        return text
    chars = []
    previous_is_letter = False
    for i, ch in enumerate(text):
        alone = not previous_is_letter and not text[i + 1 : i + 2].isalpha()  # "A", "Y", "E", "O": small words
        mapped = ch if not ch.isalpha() else (ch.lower() if previous_is_letter or alone else ch.upper())
        chars.append(mapped if len(mapped) == 1 else ch)
        previous_is_letter = ch.isalpha() or ch in "'’"
    return "".join(chars)


CAPITALS = re.compile(r"(?<![\p{L}\d])\p{Lu}{3,}(?![\p{L}\d])")  # a word of three capitals or more
LOWER_SURNAME_AFTER = re.compile(LOWER_SURNAME)
COORDINATED_NAME = re.compile(COORDINATED)
LOWER_NAME_END = re.compile(rf"[ \t]*(?:[,.;:!?]|\n|\Z)|[ \t]+{FROM}(?!\w)|[ \t]*[-–—:]?[ \t]*\+?\d{{3}}")
# Patterns that only match at the end of a message run over its last characters only (speed).
AT_MESSAGE_END = frozenset({"lower_signature", "list_signature", "end_signature", "last_line"})
MESSAGE_END_WINDOW = 200  # characters: a signature line and the line before it
DIGIT_RUN = re.compile(r"\d[\d \t().\-]{7,}\d")  # what a phone needs before "before_phone" is tried
CLAUSE_END_AFTER = re.compile(r"[ \t]*(?:[,.;:!?]|\n|\Z)")
MESSAGE_END = re.compile(r"[ \t]*[.!]*[ \t]*\Z")
BRAND_HONORIFICS = frozenset(fold(word) for word in words("brand_honorifics"))
SUBJECT_VERBS = frozenset(fold(verb) for verb in words("past_verbs"))
PAST_SUFFIXES = tuple(sorted(words("past_verb_suffixes")))
SUBJECT_VERB = re.compile(  # a verb "subject" needs, looked for before the pattern itself is tried (speed)
    rf"(?<![\p{{L}}\d])(?i:{phrases('past_verbs')})(?![\p{{L}}\d])|\p{{Ll}}{{3,}}(?:{phrases('past_verb_suffixes')})(?![\p{{L}}\d])"
)
LOWER_GIVEN_NAMES = re.compile(r"[ \t]+(\p{Ll}[\p{Ll}'’]+)(?![\p{L}\d])")


def capitalised(word: str) -> str:
    """"MARÍA" -> "María" in a message that is not all capitals; acronyms ("RFC", "CURP") stay."""
    if word in ACRONYMS:
        return word
    mapped = word[0] + word[1:].lower()
    return mapped if len(mapped) == len(word) else word


def name_span(text: str, match: re.Match[str], pattern_name: str = "") -> tuple[int, int] | None:
    """The name a cue pattern matched: a capitalised run trimmed, or a known lower-case given name."""
    groups = match.groupdict()
    surname = groups.get("surname")
    if surname is not None:
        if len(surname) < 3 or is_common_word(surname):
            return None
        return match.start("surname"), match.end("surname")
    if groups.get("name") is not None:
        return trim_name(text, match.start("name"), match.end("name"))
    lower = groups.get("lower")
    if lower is None:
        return None
    if not (is_first_name(lower) or (pattern_name in UNKNOWN_NAME_CUES and unknown_name_fits(text, match, pattern_name))):
        return None
    end = match.end("lower")
    # "juan carlos méndez": the given names that follow
    while (word := LOWER_GIVEN_NAMES.match(text, end)) is not None and is_first_name(word.group(1)):
        end = word.end()
    surname = LOWER_SURNAME_AFTER.match(text, end)  # "dante russo from russo's", "antônio carvalho do bar"
    if surname is not None and not is_common_word(surname.group(1)):
        end = surname.end(1)
    return match.start("lower"), end


def unknown_name_fits(text: str, match: re.Match[str], pattern_name: str) -> bool:
    """A lower-case word no list knows, where a name may stand: after an introduction it must end the
    clause or go on with where the writer is from ("soy eréndira de abarrotes ...")."""
    if not could_be_a_name(match.group("lower")):
        return False
    if pattern_name == "lower_signature":  # "bjs lucineide", not "thanks, got everything"
        return MESSAGE_END.match(text, match.end("lower")) is not None
    if pattern_name == "relation":  # "el que va a recibir es mi cuñado beto": the name ends the clause
        return CLAUSE_END_AFTER.match(text, match.end("lower")) is not None
    return pattern_name != "lower_introduction" or LOWER_NAME_END.match(text, match.end("lower")) is not None


def is_common_word(word: str) -> bool:
    folded = fold(word)
    return folded in STOP_WORDS or folded in PRODUCT_WORDS or folded in BUSINESS_WORDS or folded in PARTICLES


def honorific_names_a_person(text: str, match: re.Match[str]) -> bool:
    """"don Chuy", "Seu Antônio pediu": yes; "Abarrotes Doña Lupe", "Bar da Dona Nena": a shop's name.
    A capitalised "Don"/"Dona" opens brands too ("Don Julio 70"), so then the name must end a clause
    or be followed by a lower-case word, as a subject is by its verb."""
    if after_a_business_word(text, match.start()):
        return False
    if match.group("honorific")[0].islower():
        return True
    return re.match(r"[ \t]*(?:[,.!?;:]|\n|\Z|\p{Ll})", text[match.end("name") :]) is not None


def after_goods_or_a_business(text: str, start: int) -> bool:
    """"botellas de don julio", "Abarrotes Doña Lupe": the honorific opens a brand's or a shop's name."""
    before = re.findall(r"\p{L}+", text[max(0, start - 40) : start])
    while before and fold(before[-1]) in PARTICLES:
        before.pop()
    return bool(before) and fold(before[-1]) in PRODUCT_WORDS | BUSINESS_WORDS


def after_a_business_word(text: str, start: int) -> bool:
    """"Abarrotes Doña Lupe", "Bar da Dona Nena": the honorific opens a shop's name."""
    before = re.findall(r"\p{L}+", text[max(0, start - 40) : start])
    while before and fold(before[-1]) in PARTICLES:
        before.pop()
    return bool(before) and fold(before[-1]) in BUSINESS_WORDS


def names_a_business(words: str) -> bool:
    """"Bella Napoli Pizzeria", "Pepe's Tacos": a business word, or someone's place ("X's")."""
    return bool(re.search(r"\p{L}['’]s(?!\p{L})", words)) or any(
        fold(word) in BUSINESS_WORDS for word in re.findall(r"\p{L}+", words))


def weak_cue(result: RecognizerResult) -> bool:
    """Found after a cue that also precedes brands and the distributor's own name."""
    return (result.recognition_metadata or {}).get(CUE_KEY) in WEAK_CUES


def vocabulary_words(*texts: str) -> frozenset[str]:
    """Folded capitalised words of a distributor's name and its catalog: what a weak cue may not
    call a person ("Hola Valle", "don Julio"). The cost: "Hola José" is no name at a distributor
    that sells José Cuervo."""
    return frozenset(fold(word) for text in texts for word in re.findall(r"\p{L}+", text)
                     if len(word) > 2 and word[0].isupper())


def catalog_vocabulary(catalog: Catalog) -> frozenset[str]:
    return vocabulary_words(catalog.distributor_name, *(product.name for product in catalog.products))


def trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name part of a candidate: cut at the first stop word, None if it is a business name."""
    kept_end: int | None = None
    after_particle = False
    for word in re.finditer(r"\S+", text[start:end]):
        folded = fold(word.group())
        if folded in PARTICLES:
            after_particle = True
            continue
        if folded in BUSINESS_WORDS:
            if not after_particle:
                return None  # "Blue Door Cafe": the whole run is a shop name
            break  # "João Pereira do Bar do Zé": the name ends before "do"
        if folded in STOP_WORDS or folded in PRODUCT_WORDS:
            break
        kept_end = start + word.end()
        after_particle = False
    if kept_end is None or text[kept_end : kept_end + 2] in ("'s", "’s"):
        return None
    return start, kept_end


def is_list_bullet(text: str, dash: int) -> bool:
    """A dash opening a line right after another "- ..." line is a list item, not a signature."""
    line_start = text.rfind("\n", 0, dash) + 1
    if text[line_start:dash].strip():
        return False  # "... if there's a problem - Mike Johnson": inline, a signature
    previous_line = text[text.rfind("\n", 0, max(line_start - 1, 0)) + 1 : max(line_start - 1, 0)]
    return previous_line.lstrip().startswith(("-", "*", "•", "–", "—"))
