"""Phone numbers and e-mail addresses written out in words, as voice-to-text and wary customers write them.

- "mi cel es cinco cinco uno dos tres cuatro cinco seis siete ocho", "five five five, oh one four
  seven": a run of digit words (ai/lexicon/<lang>/pii.toml `digit_words`, every language), digits
  allowed among them, turned into digits and checked as a phone number would be
  (`ai.pii.recognizers.PhoneNumberRecognizer.score_number`). Fewer than three digit words is left to
  the digit recognizer; a short run (a local number) needs a phone context word.
- "ana.lopez arroba gmail punto com", "ana @ gmail.com", "ana(at)gmail(dot)com": an address with its
  "@" and dots written out or spaced, its domain checked against the bundled public-suffix list.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from ai.lexicon import LANGUAGES, table
from ai.pii.cues import TOPIC, phrases, words
from ai.pii.nlp import fold
from ai.pii.recognizers import (
    BARE_SCORE,
    LIKELY_SCORE,
    OFFLINE_SUFFIXES,
    PHONE_CONTEXT,
    PHONE_NATIONAL_DIGITS,
    REJECT,
    UNCHECKED_SCORE,
    PhoneNumberRecognizer,
    recognizer_result,
)
from ai.pii.rule_recognizer import RuleRecognizer

MIN_DIGIT_WORDS = 3  # "55 1234 cinco" is a typo, "cinco cinco uno dos ..." is spelled out
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 13
WRITTEN_EMAIL_SCORE = 0.6


def digit_words() -> dict[str, str]:
    """{folded digit word: digit} of every language."""
    found: dict[str, str] = {}
    for lang in LANGUAGES:
        found.update({fold(word): str(digit) for word, digit in table(lang, TOPIC, "digit_words").items()})
    return found


def spelled_words() -> set[str]:
    """The digit words as written, accents included ("três")."""
    return {str(word) for lang in LANGUAGES for word in table(lang, TOPIC, "digit_words")}


TOKEN = re.compile(r"\p{L}+|\d+")
SEPARATOR = re.compile(r"[ \t,.\-–/]*")
AT = rf"(?:[ \t]*@[ \t]*|[ \t]*[(\[][ \t]*(?i:{phrases('email_at_words')})[ \t]*[)\]][ \t]*|[ \t]+(?i:{phrases('email_at_words')})[ \t]+)"
DOT = rf"(?:\.|[ \t]*[(\[][ \t]*(?i:{phrases('email_dot_words')})[ \t]*[)\]][ \t]*|[ \t]+(?i:{phrases('email_dot_words')})[ \t]+)"
LABEL = r"[\p{L}\d](?:[\p{L}\d-]{0,61}[\p{L}\d])?"
AT_ANYWHERE = re.compile(rf"@|(?<!\w)(?i:{phrases('email_at_words')})(?!\w)")  # cheap test before the full pattern
WRITTEN_EMAIL = re.compile(
    rf"(?<![\w.@])(?P<local>[\p{{L}}\d][\p{{L}}\d._%+-]{{0,63}}){AT}(?P<domain>{LABEL}(?:{DOT}{LABEL}){{1,4}})(?![\w@])"
)


class SpelledPhoneRecognizer(RuleRecognizer):
    """PHONE_NUMBER said digit by digit in words."""

    def __init__(self, *, language: str) -> None:
        self.digits = digit_words()
        self.any_digit_word = re.compile(
            r"(?<![\p{L}\d])(?i:" + "|".join(sorted(map(re.escape, self.digits.keys() | spelled_words()), key=len, reverse=True))
            + r")(?![\p{L}\d])")
        self.phones = PhoneNumberRecognizer(language=language)
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=language,
                         name="SpelledPhoneRecognizer", context=PHONE_CONTEXT)

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if len(self.any_digit_word.findall(text)) < MIN_DIGIT_WORDS:
            return results  # most messages: no three digit words at all
        for start, end, number, spelled in self._runs(text):
            if spelled < MIN_DIGIT_WORDS or not MIN_PHONE_DIGITS <= len(number) <= MAX_PHONE_DIGITS:
                continue
            score = self.phones.score_number(number)
            if score >= BARE_SCORE:
                score = LIKELY_SCORE  # said digit by digit is how people give a phone, never a quantity
            if score == REJECT and len(number) < min(PHONE_NATIONAL_DIGITS):
                score = UNCHECKED_SCORE  # "five five five, oh one four seven": a local number, with "call" ...
            if score > REJECT:
                results.append(recognizer_result(self, "PHONE_NUMBER", start, end, score))
        return results

    def _runs(self, text: str) -> list[tuple[int, int, str, int]]:
        """(start, end, digits, how many were words) of each run of digit words and digit groups."""
        runs: list[tuple[int, int, str, int]] = []
        start = end = -1
        number, spelled = "", 0
        for token in TOKEN.finditer(text):
            value = token.group() if token.group().isdigit() else self.digits.get(fold(token.group()))
            joined = start >= 0 and SEPARATOR.fullmatch(text, end, token.start()) is not None
            if value is None or not joined:
                if start >= 0:
                    runs.append((start, end, number, spelled))
                start, number, spelled = -1, "", 0
            if value is not None:
                if start < 0:
                    start = token.start()
                number += value
                spelled += not token.group().isdigit()
                end = token.end()
        if start >= 0:
            runs.append((start, end, number, spelled))
        return runs


class WrittenEmailRecognizer(RuleRecognizer):
    """EMAIL_ADDRESS with its "@" or dots written out or spaced ("ana arroba gmail punto com")."""

    def __init__(self, *, language: str) -> None:
        super().__init__(supported_entities=["EMAIL_ADDRESS"], supported_language=language,
                         name="WrittenEmailRecognizer", context=sorted(words("email_context")))

    def find(self, text: str) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        if AT_ANYWHERE.search(text) is None:
            return results
        for match in WRITTEN_EMAIL.finditer(text):
            if "@" in match.group() and not re.search(r"\s", match.group()):
                continue  # an ordinary address: the e-mail recognizer's
            at_word = "@" not in match.group() and not re.search(r"[(\[]", match.group())
            if at_word and "." in match.group("domain") and not re.search(r"\s", match.group("domain")):
                continue  # "2 cases at Costco.com": a word "at" needs its dots written out too
            domain = re.sub(DOT, ".", match.group("domain"))
            if OFFLINE_SUFFIXES(domain).suffix and OFFLINE_SUFFIXES(domain).domain:
                results.append(recognizer_result(self, "EMAIL_ADDRESS", match.start(), match.end(), WRITTEN_EMAIL_SCORE))
        return results


def spelled_recognizers(language: str) -> list[EntityRecognizer]:
    return [SpelledPhoneRecognizer(language=language), WrittenEmailRecognizer(language=language)]
