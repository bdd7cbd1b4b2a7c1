"""Recognizers for payment data beside cards: bank accounts (BANK_ACCOUNT) and card security codes.

BANK_ACCOUNT covers the ways customers send account details to be refunded or to prove a payment:
- a Mexican CLABE: 18 digits whose last is a check digit (weights 3, 7, 1, modulo 10);
- an IBAN: country, two check digits (ISO 7064 mod 97) and the account, grouped by four or not;
- a US ABA routing number: 9 digits with a 3-7-1 checksum; a bare 9-digit run is also an order
  number or an SSN, so it needs a context word ("routing", "ACH", "wire");
- an account number after an account cue ("account 3841920577", "cuenta 0123456789", "conta
  104577-8"), and a Brazilian branch after its cue ("agência 2231"): no check digit in common;
- a PIX random key: a version-4 UUID.
Check digits are validated where they exist (python-stdnum for IBAN and ABA); a candidate that fails
scores below the threshold and is only reported beside a context word, as in `ai.pii.recognizers`.
A card's security code is reported as CREDIT_CARD data ("cvv 123").
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from stdnum import iban
from stdnum.us import rtn

from ai.pii.cues import phrases, words
from ai.pii.recognizers import (
    BARE_SCORE,
    CHECKED_SCORE,
    LIKELY_SCORE,
    REJECT,
    UNCHECKED_SCORE,
    recognizer_result,
)
from ai.pii.rule_recognizer import RuleRecognizer

ENTITY = "BANK_ACCOUNT"
CVV_ENTITY = "CARD_CVV"
CUED_SCORE = 0.7  # a number right after an account, branch or security-code cue
CLABE_WEIGHTS = (3, 7, 1)
CLABE_DIGITS = 18
ACCOUNT_MIN_DIGITS = 6  # "cuenta 1250" is a bill; account numbers run 6-20 digits
CHECKED_ACCOUNT_MIN_DIGITS = 4  # "conta 10457-8": the dash and check digit say what it is
IBAN_MIN_LENGTH = 15  # Norway's, the shortest

NOT_GLUED_BEFORE = r"(?<![\w.,/+-])"
NOT_GLUED_AFTER = r"(?![\w]|[.,/-]\d)"
CLABE = re.compile(rf"{NOT_GLUED_BEFORE}\d{{3}}[ -]?\d{{3}}[ -]?\d{{11}}[ -]?\d{NOT_GLUED_AFTER}")
ROUTING = re.compile(rf"{NOT_GLUED_BEFORE}\d{{9}}{NOT_GLUED_AFTER}")
IBAN_CANDIDATE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z\d]{1,4}){3,9}(?![\w])")
IBAN_GROUP = re.compile(r"[ ]?[A-Z\d]{1,4}")
UUID = re.compile(r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])")
UUID_V4 = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}")
NUMBER_MARKS = r"(?:[ \t]*(?:#|:|(?i:no|n[º°o]|nr|num)\.?))*[ \t]*"
# The number after a cue: digits, possibly grouped, possibly "-<check digit>"; not a price, date or quantity.
ACCOUNT_NUMBER = r"(?P<number>\d[\d \-.]{2,24}\d(?:-[\dXx])?|\d{4,}-[\dXx])(?![\w]|[.,/]\d|[ \t]*%)"
ACCOUNT = re.compile(
    rf"(?<!\w)(?i:{phrases('account_cues')})(?:[ \t]*[,:]?[ \t]+(?i:{phrases('account_fillers')})(?!\w)){{0,3}}"
    rf"{NUMBER_MARKS}{ACCOUNT_NUMBER}"
)
BRANCH = re.compile(rf"(?<!\w)(?i:{phrases('branch_cues')})\.?{NUMBER_MARKS}(?P<number>\d{{4}}(?:-[\dXx])?)(?![\w]|[.,/]\d)")
CVV = re.compile(
    rf"(?<!\w)(?i:{phrases('cvv_cues')})(?:[ \t]+(?i:{phrases('copulas')}))?{NUMBER_MARKS}(?:[=][ \t]*)?"
    r"(?P<number>\d{3,4})(?![\w]|[.,/]\d)"
)


def clabe_check_digit(first17: str) -> int:
    total = sum(int(digit) * CLABE_WEIGHTS[i % 3] % 10 for i, digit in enumerate(first17))
    return (10 - total % 10) % 10


def is_clabe(digits: str) -> bool:
    return len(digits) == CLABE_DIGITS and digits.isdigit() and clabe_check_digit(digits[:17]) == int(digits[17])


class BankNumberRecognizer(RuleRecognizer):
    """CLABE, IBAN, ABA routing numbers and PIX random keys: numbers with a shape and a check."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entities=[ENTITY], supported_language=language, name="BankNumberRecognizer",
                         context=sorted(words("bank_context") | words("routing_context")))

    def find(self, text: str) -> list[RecognizerResult]:
        found: list[tuple[int, int, float]] = []
        for match in CLABE.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            found.append((match.start(), match.end(), LIKELY_SCORE if is_clabe(digits) else UNCHECKED_SCORE))
        for match in ROUTING.finditer(text):
            if rtn.is_valid(match.group()):
                found.append((match.start(), match.end(), BARE_SCORE))
        for match in IBAN_CANDIDATE.finditer(text):
            span = iban_span(text, match)
            if span is not None:
                found.append(span)
        for match in UUID.finditer(text):
            found.append((match.start(), match.end(), LIKELY_SCORE if UUID_V4.fullmatch(match.group()) else UNCHECKED_SCORE))
        results = [recognizer_result(self, ENTITY, start, end, score) for start, end, score in found if score > REJECT]
        return results


def iban_span(text: str, match: re.Match[str]) -> tuple[int, int, float] | None:
    """The longest run of the candidate's groups that is a valid IBAN ("... 814 P2 OK" -> "... 814 P2");
    none valid: the whole candidate, unchecked (a mistyped IBAN beside "iban" is still one)."""
    ends = [m.end() for m in IBAN_GROUP.finditer(text, match.start() + 4, match.end())]
    for end in reversed(ends):
        if iban.is_valid(text[match.start() : end]):
            return match.start(), end, CHECKED_SCORE
    compact = match.group().replace(" ", "")
    return (match.start(), match.end(), UNCHECKED_SCORE) if len(compact) >= IBAN_MIN_LENGTH else None


class CuedAccountRecognizer(RuleRecognizer):
    """Account and branch numbers after their cues ("account 3841920577", "agência 2231 conta 104577-8"),
    and card security codes after theirs ("cvv 123"): the cue says what the number is."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entities=[ENTITY, CVV_ENTITY], supported_language=language,
                         name="CuedAccountRecognizer")

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for match in ACCOUNT.finditer(text):
            number = match.group("number")
            digits = re.sub(r"\D", "", number)
            checked = re.search(r"-[\dXx]$", number) is not None
            if len(digits) >= ACCOUNT_MIN_DIGITS or (checked and len(digits) >= CHECKED_ACCOUNT_MIN_DIGITS + 1):
                results.append(recognizer_result(self, ENTITY, match.start("number"), match.end("number"), CUED_SCORE))
        for match in BRANCH.finditer(text):
            results.append(recognizer_result(self, ENTITY, match.start("number"), match.end("number"), CUED_SCORE))
        for match in CVV.finditer(text):
            results.append(recognizer_result(self, CVV_ENTITY, match.start("number"), match.end("number"), CUED_SCORE))
        return results


def payment_recognizers(language: str) -> list[EntityRecognizer]:
    return [BankNumberRecognizer(language=language), CuedAccountRecognizer(language=language)]
