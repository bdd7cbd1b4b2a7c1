"""Find and redact personal data in customer messages before any analyzer sees them.

`PiiDetector` runs a Presidio AnalyzerEngine that needs no model download: spaCy's blank
tokenizers (`ai.pii.nlp`) feed Presidio's context enhancer, and the entities come from checked
pattern recognizers (`ai.pii.recognizers`: phones, e-mail, cards, RFC/CURP/CPF/CNPJ/SSN/EIN;
`ai.pii.payment`: bank accounts and card security codes; `ai.pii.spelled`: phones and e-mails written out
in words) and cue-based ones (`ai.pii.names`, `ai.pii.addresses`). bench/pii_nlp_compare.py measures this set-up against
spaCy NER models and shows why it is the default.

Every recognizer is registered for every language: shop owners mix Spanish, English and
Portuguese, and a phone number or a CPF looks the same in any of them. `language` only picks the
tokenizer and stop words. Findings are stored as spans, never as text (`PiiFinding.text_in`).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from ai.pii.addresses import AddressRecognizer
from ai.pii.names import PersonRecognizer, weak_cue
from ai.pii.nlp import TokenizerNlpEngine, fold, spacy_ner_engine
from ai.pii.payment import payment_recognizers
from ai.pii.recognizers import structured_recognizers
from ai.pii.spelled import spelled_recognizers

CATEGORIES = ("PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "ADDRESS", "NATIONAL_ID", "CREDIT_CARD", "BANK_ACCOUNT")
# Presidio entity type -> category; national IDs keep their country-specific entity type.
CATEGORY_OF_ENTITY: Mapping[str, str] = {
    "PERSON": "PERSON",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "ADDRESS": "ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "CARD_CVV": "CREDIT_CARD",
    "BANK_ACCOUNT": "BANK_ACCOUNT",
    "US_EIN": "NATIONAL_ID",
    "MX_RFC": "NATIONAL_ID",
    "MX_CURP": "NATIONAL_ID",
    "BR_CPF": "NATIONAL_ID",
    "BR_CNPJ": "NATIONAL_ID",
    "US_SSN": "NATIONAL_ID",
}
DEFAULT_LANGUAGES = ("es", "en", "pt")
# Recognizers score a checked, well-formed match >= 0.55 on its own; a bare or unchecked one scores
# 0.2-0.4 and only passes with a context word (+CONTEXT_BOOST). See ai.pii.recognizers.
DEFAULT_SCORE_THRESHOLD = 0.5
CONTEXT_BOOST = 0.35  # Presidio's default context_similarity_factor
CONTEXT_BEFORE_WORDS = 5  # non-stop words before a match searched for context words
CONTEXT_AFTER_WORDS = 3  # ... and after it: "555-0147 is my number", "55 4321 8765 es mi cel"
SCORE_DECIMALS = 3  # pii_detection_results.score is numeric(4, 3)
NER_SCORE = 0.85  # what Presidio's SpacyRecognizer reports for a spaCy entity (no probabilities)


@dataclass(frozen=True, kw_only=True)
class PiiFinding:
    category: str  # one of CATEGORIES
    entity_type: str  # Presidio entity: "MX_RFC", "BR_CPF", "PHONE_NUMBER", "PERSON" ...
    start: int
    end: int
    score: float
    recognizer: str

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown PII category {self.category!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"empty or negative span {self.start}..{self.end}")

    def text_in(self, text: str) -> str:
        """The personal data itself, from the message it was found in (never stored)."""
        return text[self.start : self.end]


class PiiDetector:
    """A Presidio AnalyzerEngine built once (about a second), then fast per message."""

    def __init__(
        self,
        *,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        ner_models: Mapping[str, str] | None = None,
        name_cues: bool = True,
    ) -> None:
        """`ner_models` ({language: installed spaCy package or unpacked path}) adds spaCy NER for
        PERSON, and `name_cues=False` drops the cue-based names: both only for the comparison in
        bench/pii_nlp_compare.py. The default needs nothing beyond pyproject's dependencies."""
        if not languages:
            raise ValueError("PiiDetector needs at least one language")
        self.languages = languages
        self.score_threshold = score_threshold
        registry = RecognizerRegistry(supported_languages=list(languages))
        for language in languages:
            for recognizer in build_recognizers(language, name_cues=name_cues):
                registry.add_recognizer(recognizer)
            if ner_models:
                registry.add_recognizer(SpacyRecognizer(supported_language=language, supported_entities=["PERSON"],
                                                        ner_strength=NER_SCORE))
        context_words = {word for recognizer in registry.recognizers for word in recognizer.context or ()}
        nlp_engine: NlpEngine = (
            spacy_ner_engine(ner_models) if ner_models else TokenizerNlpEngine(languages, context_words)
        )
        if not nlp_engine.is_loaded():
            nlp_engine.load()
        self._engine = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp_engine,
            supported_languages=list(languages),
            default_score_threshold=score_threshold,
            context_aware_enhancer=LemmaContextAwareEnhancer(
                context_similarity_factor=CONTEXT_BOOST,
                context_prefix_count=CONTEXT_BEFORE_WORDS,
                context_suffix_count=CONTEXT_AFTER_WORDS,
                context_matching_mode="whole_word",  # "tel" must not match "hotel" or "pastel"
            ),
        )
        self._entities = sorted({entity for r in registry.recognizers for entity in r.supported_entities})

    @property
    def analyzer(self) -> AnalyzerEngine:
        """The underlying Presidio engine (for measurements; use `detect` to find PII)."""
        return self._engine

    def language_for(self, language: str) -> str:
        """"es-MX" -> "es"; a language the detector was not built for -> its first language."""
        base = language.split("-")[0].split("_")[0].lower()
        return base if base in self.languages else self.languages[0]

    def detect(self, text: str, language: str, *, not_names: Collection[str] = ()) -> list[PiiFinding]:
        """Non-overlapping findings in `text`, sorted by start.

        `not_names`: folded words of the distributor's name and brands (`ai.pii.names.vocabulary_words`);
        a name found only by a weak cue ("Hola Valle", "don Julio") made of them alone is not a person."""
        if not text.strip():
            return []
        lang = self.language_for(language)
        results = self._engine.analyze(
            text=text, language=lang, entities=self._entities, score_threshold=self.score_threshold
        )
        if not_names:
            own = frozenset(not_names)
            results = [r for r in results if not (r.entity_type == "PERSON" and weak_cue(r)
                                                   and own.issuperset(fold(text[r.start : r.end]).split()))]
        return [to_finding(result) for result in non_overlapping(results)]


def build_recognizers(language: str, *, name_cues: bool = True) -> list[EntityRecognizer]:
    recognizers = (structured_recognizers(language) + payment_recognizers(language) + spelled_recognizers(language)
                   + [AddressRecognizer(language=language)])
    return recognizers + [PersonRecognizer(language=language)] if name_cues else recognizers


def non_overlapping(results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """Keep the best of overlapping results (highest score, then longest, then first), by start."""
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start))
    kept: list[RecognizerResult] = []
    for result in ranked:
        if result.entity_type in CATEGORY_OF_ENTITY and all(
            result.end <= other.start or other.end <= result.start for other in kept
        ):
            kept.append(result)
    return sorted(kept, key=lambda r: r.start)


def to_finding(result: RecognizerResult) -> PiiFinding:
    metadata = result.recognition_metadata or {}
    return PiiFinding(
        category=CATEGORY_OF_ENTITY[result.entity_type],
        entity_type=result.entity_type,
        start=result.start,
        end=result.end,
        score=round(float(result.score), SCORE_DECIMALS),
        recognizer=str(metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "unknown")),
    )


def placeholder(category: str) -> str:
    return f"<{category}>"


def redact(text: str, findings: Sequence[PiiFinding]) -> str:
    """`text` with each finding replaced by its category placeholder ("<PHONE_NUMBER>" ...).

    Overlapping findings are merged into the first one's placeholder; the rest of the text is
    left exactly as it was (quantities, SKUs and spacing included)."""
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.end <= cursor:
            continue  # inside a span already replaced
        if finding.start >= cursor:
            pieces.append(text[cursor : finding.start])
            pieces.append(placeholder(finding.category))
        cursor = max(cursor, finding.end)
    pieces.append(text[cursor:])
    return "".join(pieces)


_detector: PiiDetector | None = None
_detector_lock = threading.Lock()


def get_detector() -> PiiDetector:
    """The process-wide detector, built on first use (once, even when threads race for it)."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                _detector = PiiDetector()
    return _detector
