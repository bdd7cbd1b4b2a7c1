"""Presidio recognizers for PII with a fixed shape: phone numbers, e-mail, cards and national IDs.

Each one finds candidates with a regular expression and then checks them (phonenumbers, Luhn,
python-stdnum check digits, the bundled public-suffix list), so that quantities, prices, dates
and SKUs ("coca 600", "$1,250.00", "15/11/2025", "CC-600-24") never come out as PII.

Scores follow one policy: a candidate that passes its check and is written the way people write
it (grouped, punctuated) scores at or above the detector's threshold on its own; a bare digit run
that passes (could be an order number) or a grouped number that fails its check (a mistyped card,
a CPF with a wrong digit) scores below it and is only reported when a context word ("tarjeta",
"cpf", "cel" ...) stands within five words before it or three after: Presidio's context enhancer
adds 0.35 (its default, `ai.pii.detector.CONTEXT_BOOST`) to the score. Context words are folded (lower case, no accents),
as are the lemmas of `ai.pii.nlp.TokenizerNlpEngine`.
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers
import regex as re
import tldextract
from phonenumbers import NumberParseException
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import EmailRecognizer
from stdnum import luhn
from stdnum.br import cnpj, cpf
from stdnum.mx import curp, rfc
from stdnum.us import ein

from ai.pii.cues import words
from ai.pii.nlp import fold
from ai.pii.rule_recognizer import RuleRecognizer

# Score levels (the detector's default threshold is 0.5; context adds 0.35).
CHECKED_SCORE = 0.95  # check digits pass and the number is written in its official format
LIKELY_SCORE = 0.75  # passes a check that random digit runs pass easily (phones, RFC date)
BARE_SCORE = 0.4  # passes, but is a bare digit run: needs a context word
UNCHECKED_SCORE = 0.2  # grouped like the real thing but fails its check: needs a context word
REJECT = 0.0

PHONE_REGIONS = ("MX", "BR", "US")  # the markets the platform serves; "+<code>" numbers parse anywhere
PHONE_NATIONAL_DIGITS = range(10, 14)  # area code + subscriber, optionally with country code
PHONE_LOCAL_DIGITS = range(7, 10)  # subscriber only ("555-0147", "4321 8765", "98765-4321")
TRUNK_PREFIXES = ("0", "1")  # national dialling prefixes written as a group of their own (BR, US)
BR_MOBILE_DIGITS = 11  # two-digit area code, then 9 and eight digits
MX_LEGACY_PREFIXES = ("521", "044", "045")  # "+52 1 55 ...", "044 55 ...": dropped in 2019, still typed
# A run of digit groups: "(11) 98765-4321", "55 4321 8765", "+52 1 81 2345 6789", "312.555.0177".
# Not glued to a word, a price, a decimal, a date or a SKU; groups are possessive (no backtracking).
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+$/.,#*-])(?:\+[ \t]?)?(?:\(\s?\d++\s?\)|\d++)"
    r"(?:[ \t]?[.\-]?[ \t]?(?:\(\s?\d++\s?\)|\d++)){0,7}+(?![\w/]|[.,]\d)"
)
PHONE_GROUP = re.compile(r"\d+")
# Nouns for numbers that are not phones; within this many words before a number, they make it need
# a phone word to count.
NUMBER_NOUNS = words("number_nouns")
NUMBER_NOUN_WINDOW = 5
DOTTED_LONG_GROUP = re.compile(r"\d{5,}\.\d|\d\.\d{5,}")  # dotted phones run 3.3.4 or 2.4.4
CPF_SHAPE = re.compile(r"\d{3}\.\d{3}\.\d{3}-\d{2}")  # formatted CPF: never a phone number
PHONE_CONTEXT = sorted(words("phone_context"))

CARD_DIGITS = range(13, 20)
CARD_PATTERNS = [
    # 4-4-4-4(-3): Visa, Mastercard (2/5), Discover/Maestro (6), JCB (3); spaces or dashes or none
    Pattern("card_grouped", r"(?<![\w.,/-])[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\w-]|[.,]\d)", 0.5),
    Pattern("card_amex", r"(?<![\w.,/-])3[47]\d{2}[ -]?\d{6}[ -]?\d{5}(?![\w-]|[.,]\d)", 0.5),
]
CARD_CONTEXT = sorted(words("card_context"))

RFC_PATTERN = Pattern("mx_rfc", r"(?<![\w&])[A-ZÑ&]{3,4}[ -]?\d{6}[ -]?[A-Z\d]{3}(?!\w)", 0.5)
RFC_CONTEXT = sorted(words("rfc_context"))
CURP_PATTERN = Pattern("mx_curp", r"(?<!\w)[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{5}[A-Z\d]\d(?!\w)", 0.5)
CURP_CONTEXT = sorted(words("curp_context"))
CPF_PATTERNS = [
    Pattern("br_cpf", r"(?<![\w./-])\d{3}\.?\d{3}\.?\d{3}[-.]?\d{2}(?![\w]|[./-]\d)", 0.5),
]
CPF_CONTEXT = sorted(words("cpf_context"))
CNPJ_PATTERNS = [
    # digits, or the alphanumeric CNPJ issued from July 2026 (python-stdnum validates both)
    Pattern("br_cnpj", r"(?<![\w./-])[\dA-Z]{2}\.?[\dA-Z]{3}\.?[\dA-Z]{3}/?[\dA-Z]{4}-?\d{2}(?![\w]|[./-]\d)", 0.5),
]
CNPJ_CONTEXT = sorted(words("cnpj_context"))

SSN_PATTERNS = [
    # 3-2-4 with the same separator twice ("412-58-3907", "523 71 4408"), or a bare run of 9
    Pattern("us_ssn", r"(?<![\w./,-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|[./,-]\d)", 0.5),
    Pattern("us_ssn_bare", r"(?<![\w./,-])\d{9}(?![\w]|[./,-]\d)", 0.5),
]
SSN_CONTEXT = sorted(words("ssn_context"))
SSN_INVALID_AREAS = ("000", "666")  # and 9xx: never issued
# US employer numbers, 2-7 with a dash ("36-4178253"); python-stdnum checks the IRS campus prefix.
EIN_PATTERNS = [Pattern("us_ein", r"(?<![\w./,-])\d{2}-\d{7}(?![\w]|[./,-]\d)", 0.5)]
EIN_CONTEXT = sorted(words("ein_context"))

# The public-suffix list bundled with tldextract: no fetch, no cache directory.
OFFLINE_SUFFIXES = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def recognizer_result(recognizer: EntityRecognizer, entity: str, start: int, end: int, score: float) -> RecognizerResult:
    """A RecognizerResult tagged the way the AnalyzerEngine and its context enhancer expect."""
    name: str = recognizer.to_dict()["name"]  # presidio leaves the `name` attribute untyped
    return RecognizerResult(
        entity_type=entity, start=start, end=end, score=score,
        analysis_explanation=AnalysisExplanation(recognizer=name, original_score=score),
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: name,
                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id},
    )


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def is_grouped(text: str) -> bool:
    """Written with separators ("4152 3131 ...", "123.456.789-09"), not as one run of digits."""
    return any(not ch.isalnum() for ch in text.strip())


class CheckedPatternRecognizer(PatternRecognizer):
    """A PatternRecognizer whose every match is rescored by `score_match`; 0 drops it.

    Presidio's own validate_result can only set a match to 1.0 or drop it; scoring keeps the
    "fails the check, but a context word says what it is" case.
    """

    def score_match(self, matched: str) -> float:
        raise NotImplementedError

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        kept: list[RecognizerResult] = []
        for result in super().analyze(text, entities, nlp_artifacts, regex_flags):
            score = self.score_match(text[result.start : result.end])
            if score > REJECT:
                result.score = score
                if result.analysis_explanation is not None:
                    result.analysis_explanation.score = score
                kept.append(result)
        return kept


class CardNumberRecognizer(CheckedPatternRecognizer):
    """Payment card numbers. Luhn-valid and grouped: reported. Bare 13-19 digits (a barcode, an
    order number) or grouped but failing Luhn (a mistyped card is still a card): context needed."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="CREDIT_CARD", name="CardNumberRecognizer", supported_language=language,
                         patterns=list(CARD_PATTERNS), context=CARD_CONTEXT)

    def score_match(self, matched: str) -> float:
        digits = digits_of(matched)
        if len(digits) not in CARD_DIGITS:
            return REJECT
        if luhn.is_valid(digits):
            return LIKELY_SCORE if is_grouped(matched) else BARE_SCORE
        return UNCHECKED_SCORE if is_grouped(matched) else REJECT


class MxRfcRecognizer(CheckedPatternRecognizer):
    """Mexican tax ID (RFC), 12 characters for companies and 13 for people. Many real RFCs carry a
    wrong check digit, so a valid birth/incorporation date is enough; a right check digit is more."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="MX_RFC", name="MxRfcRecognizer", supported_language=language,
                         patterns=[RFC_PATTERN], context=RFC_CONTEXT)

    def score_match(self, matched: str) -> float:
        number = matched.upper()
        if rfc.is_valid(number, validate_check_digits=True):
            return CHECKED_SCORE
        return LIKELY_SCORE if rfc.is_valid(number) else REJECT


class MxCurpRecognizer(CheckedPatternRecognizer):
    """Mexican population registry code (CURP): 18 characters with a check digit."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="MX_CURP", name="MxCurpRecognizer", supported_language=language,
                         patterns=[CURP_PATTERN], context=CURP_CONTEXT)

    def score_match(self, matched: str) -> float:
        return CHECKED_SCORE if curp.is_valid(matched.upper()) else UNCHECKED_SCORE


class BrCpfRecognizer(CheckedPatternRecognizer):
    """Brazilian individual taxpayer number (CPF), 11 digits with two check digits."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="BR_CPF", name="BrCpfRecognizer", supported_language=language,
                         patterns=list(CPF_PATTERNS), context=CPF_CONTEXT)

    def score_match(self, matched: str) -> float:
        grouped = is_grouped(matched)
        if cpf.is_valid(matched):
            return CHECKED_SCORE if grouped else BARE_SCORE
        return UNCHECKED_SCORE if grouped else REJECT


class BrCnpjRecognizer(CheckedPatternRecognizer):
    """Brazilian company taxpayer number (CNPJ), 14 characters with two check digits."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="BR_CNPJ", name="BrCnpjRecognizer", supported_language=language,
                         patterns=list(CNPJ_PATTERNS), context=CNPJ_CONTEXT)

    def score_match(self, matched: str) -> float:
        if not any(ch.isdigit() for ch in matched[:2]) and not is_grouped(matched):
            return REJECT  # a bare alphanumeric run is a word or a SKU, not a CNPJ
        grouped = is_grouped(matched)
        if cnpj.is_valid(matched.upper()):
            return CHECKED_SCORE if grouped else BARE_SCORE
        return UNCHECKED_SCORE if grouped and "/" in matched else REJECT


class UsSsnRecognizer(CheckedPatternRecognizer):
    """US Social Security numbers: no check digit, only ranges never issued (area 000, 666, 9xx,
    group 00, serial 0000). Written 3-2-4 with dashes it is hardly anything else; with spaces or as
    a bare run of nine digits it could be a count or an order number, so a context word is needed."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="US_SSN", name="UsSsnRecognizer", supported_language=language,
                         patterns=list(SSN_PATTERNS), context=SSN_CONTEXT)

    def score_match(self, matched: str) -> float:
        digits = digits_of(matched)
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        if area in SSN_INVALID_AREAS or area.startswith("9") or group == "00" or serial == "0000":
            return REJECT
        if len(set(digits)) == 1:
            return REJECT  # "111-11-1111": a placeholder
        if "-" in matched:
            return LIKELY_SCORE
        return BARE_SCORE if " " in matched else UNCHECKED_SCORE


class UsEinRecognizer(CheckedPatternRecognizer):
    """US employer identification numbers: no check digit, a known prefix; a part or lot number can look
    the same, so a context word ("EIN", "tax", "employer") is needed."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entity="US_EIN", name="UsEinRecognizer", supported_language=language,
                         patterns=list(EIN_PATTERNS), context=EIN_CONTEXT)

    def score_match(self, matched: str) -> float:
        return BARE_SCORE if ein.is_valid(matched) else REJECT


class OfflineEmailRecognizer(CheckedPatternRecognizer, EmailRecognizer):
    """Presidio's e-mail pattern, with the domain checked against the bundled suffix list.

    Presidio's own EmailRecognizer calls `tldextract.extract`, which downloads the public-suffix
    list on first use: offline that hangs until a timeout.
    """

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_language=language, name="OfflineEmailRecognizer",
                         context=sorted(words("email_context")))

    def validate_result(self, pattern_text: str) -> bool | None:
        """No verdict here (None): `score_match` checks the suffix offline, Presidio's check would fetch the list."""
        return None

    def score_match(self, matched: str) -> float:
        """A known suffix: an address for sure (1.0). An unknown one ("ana@gmail.con", a typo, or
        "usuario@servidor.local") counts beside a context word only ("correo ana@gmail.con")."""
        known = OFFLINE_SUFFIXES(matched.rsplit("@", 1)[-1]).suffix
        return EntityRecognizer.MAX_SCORE if known else BARE_SCORE


class PhoneNumberRecognizer(RuleRecognizer):
    """Mexican, Brazilian and North-American phone numbers, checked with phonenumbers.

    A candidate run of digit groups is narrowed to the longest sub-run of whole groups that is a
    valid number ("3 55 4321 8765" -> "55 4321 8765"), so a quantity next to a number does not hide it.
    """

    def __init__(self, *, language: str, regions: Sequence[str] = PHONE_REGIONS) -> None:
        self.regions = tuple(regions)
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=language,
                         name="PhoneNumberRecognizer", context=PHONE_CONTEXT)

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for candidate in PHONE_CANDIDATE.finditer(text):
            found = self.best_span(text, candidate.start(), candidate.end())
            if found is not None:
                start, end, score = found
                if names_another_number(text, start):
                    score = min(score, BARE_SCORE)
                results.append(recognizer_result(self, "PHONE_NUMBER", start, end, score))
        return results

    def best_span(self, text: str, start: int, end: int) -> tuple[int, int, float] | None:
        if DOTTED_LONG_GROUP.search(text, start, end):
            return None  # "23793.38128 60000.000003": a payment slip's digit line, not a phone
        groups = [(m.start(), m.end()) for m in PHONE_GROUP.finditer(text, start, end)]
        if sum(b - a for a, b in groups) < min(PHONE_LOCAL_DIGITS):
            return None
        for size in range(len(groups), 0, -1):  # longest first, then leftmost
            for first in range(len(groups) - size + 1):
                span_start, span_end = groups[first][0], groups[first + size - 1][1]
                if first == 0 and text[start] == "+":
                    span_start = start
                elif is_stray_digit(text[span_start:span_end].split()[0]):
                    continue  # "3 55 4321 8765": a quantity, not a trunk prefix
                if text[span_start - 1 : span_start] == "(":
                    span_start -= 1
                written = text[span_start:span_end]
                if text[span_end : span_end + 1] == ")" and written.count("(") > written.count(")"):
                    span_end += 1  # "(11) 98765-4321" keeps its own parenthesis, "(cell 312-555-0139)" does not
                score = self.score_number(text[span_start:span_end])
                if score > REJECT:
                    return span_start, span_end, score
        return None

    def score_number(self, written: str) -> float:
        digits = digits_of(written)
        if CPF_SHAPE.fullmatch(written):
            return REJECT
        if written.startswith("+"):
            return LIKELY_SCORE if self._valid("+" + self._drop_legacy_mx(digits), None) else REJECT
        if len(digits) in PHONE_NATIONAL_DIGITS:
            dialled = self._drop_legacy_mx(digits)
            valid = any(self._valid(written, region) for region in self.regions) or (
                len(dialled) > 10 and self._valid("+" + dialled, None)  # country code without "+"
            ) or (dialled != digits and self._valid(dialled[-10:], "MX"))
            if not valid:
                return REJECT
            if not is_grouped(written) and self._br_mobile(digits):
                return LIKELY_SCORE  # "11987654321": area code, then 9 and eight digits: nothing else looks so
            if not is_grouped(written) or max(map(len, PHONE_GROUP.findall(written))) <= 2:
                return BARE_SCORE  # "5543218765" or "55 43 21 87 65": also how quantity lists look
            return LIKELY_SCORE
        if len(digits) in PHONE_LOCAL_DIGITS and is_grouped(written) and len(written.split()) <= 2:
            return UNCHECKED_SCORE  # a subscriber number without area code: needs "tel", "cel" ...
        return REJECT

    @staticmethod
    def _drop_legacy_mx(digits: str) -> str:
        """"5215512345678" -> "525512345678"; "0445512345678" -> "5512345678"."""
        if len(digits) == 13 and digits.startswith(MX_LEGACY_PREFIXES[0]):
            return "52" + digits[3:]
        if len(digits) == 13 and digits.startswith(MX_LEGACY_PREFIXES[1:]):
            return digits[3:]
        return digits

    @staticmethod
    def _br_mobile(digits: str) -> bool:
        if len(digits) != BR_MOBILE_DIGITS or digits[2] != "9":
            return False
        try:
            parsed = phonenumbers.parse(digits, "BR")
        except NumberParseException:
            return False
        return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE

    @staticmethod
    def _valid(number: str, region: str | None) -> bool:
        try:
            return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, region)))
        except NumberParseException:
            return False


def names_another_number(text: str, start: int) -> bool:
    """"Lot # on the bacon was 0423-117-8891", "folio 4432-118-9090": the words before the number
    name what it is, and it is not a phone (unless a phone word is there too)."""
    before = [fold(w) for w in re.findall(r"[\p{L}]+", text[max(0, start - 60) : start])][-NUMBER_NOUN_WINDOW:]
    return any(w in NUMBER_NOUNS for w in before) and not any(w in PHONE_CONTEXT for w in before)


def is_stray_digit(first_group: str) -> bool:
    """A one-digit group that is not a trunk prefix ("1 312 ...", "0 11 ...") opens no number."""
    digits = digits_of(first_group)
    return len(digits) == 1 and digits not in TRUNK_PREFIXES


def structured_recognizers(language: str) -> list[EntityRecognizer]:
    """One instance of each structured recognizer for `language` (Presidio binds one language each)."""
    return [
        PhoneNumberRecognizer(language=language),
        OfflineEmailRecognizer(language=language),
        CardNumberRecognizer(language=language),
        MxRfcRecognizer(language=language),
        MxCurpRecognizer(language=language),
        BrCpfRecognizer(language=language),
        BrCnpjRecognizer(language=language),
        UsSsnRecognizer(language=language),
        UsEinRecognizer(language=language),
    ]
