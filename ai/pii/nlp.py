"""The NLP engines Presidio runs before the PII recognizers, none of which downloads anything.

Presidio's default engine loads `en_core_web_lg` and downloads it when it is missing, which fails
offline. The default here is `TokenizerNlpEngine`: spaCy's blank pipelines (`spacy.blank("es")` ...,
rule-based tokenizers and stop-word lists that ship inside the spaCy wheel), so Presidio's
context enhancer gets tokens and lemmas, but there is no named-entity model: names and addresses
come from the cue-based recognizers in `ai.pii.names` and `ai.pii.addresses`.

A lemma here is the lower-cased token with its accents removed ("Número" -> "numero"), so one
context list written without accents matches "número", "numero" and "NÚMERO" alike.

spaCy keeps every new token string it sees in its vocabulary for the life of the process (phone
numbers, e-mails, typos: about 0.4 kB each, unbounded in a long-running worker). spaCy's
`memory_zone()` frees them, but then rebuilds every lexeme on every call (0.2 ms a message, 20x
the tokenizing itself), so instead a pipeline whose string store passes MAX_VOCAB_STRINGS is
replaced by a fresh blank one (about 20 ms, once per tens of thousands of messages).

`spacy_ner_engine` builds Presidio's own `SpacyNlpEngine` from spaCy NER models that are already
installed (a package name) or unpacked (a path); it refuses to download. Only
`bench/pii_nlp_compare.py` uses it, to measure what a model would add.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import spacy
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

MAX_VOCAB_STRINGS = 50_000  # about 20 MB of spaCy strings per language before a fresh pipeline
BLANK_FALLBACK_LANGUAGE = "xx"  # spaCy's multi-language tokenizer, for a code spaCy does not know
ENGINE_NAME = "tokenizer"  # reported by Presidio in its logs


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents: the lemma form context words are written in."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def blank_pipeline(language: str) -> Language:
    """spaCy's rule-based tokenizer for `language`: no model, nothing to download."""
    try:
        return spacy.blank(language)
    except ImportError:  # spaCy raises ImportError for an unknown language code
        return spacy.blank(BLANK_FALLBACK_LANGUAGE)


class TokenizerNlpEngine(NlpEngine):
    """Tokens, folded lemmas, stop words and punctuation from blank spaCy pipelines; no entities."""

    engine_name = ENGINE_NAME
    is_available = True

    def __init__(self, languages: Iterable[str], context_words: Iterable[str] = ()) -> None:
        """`context_words`: never stop words here, whatever spaCy's lists say (English lists "call")."""
        self.languages = tuple(languages)
        self.context_words = frozenset(fold(word) for word in context_words)
        if not self.languages:
            raise ValueError("TokenizerNlpEngine needs at least one language")
        self.nlp: dict[str, Language] | None = None

    def load(self) -> None:
        self.nlp = {language: blank_pipeline(language) for language in self.languages}

    def is_loaded(self) -> bool:
        return self.nlp is not None

    def _pipeline(self, language: str) -> Language:
        if self.nlp is None:
            raise ValueError("TokenizerNlpEngine is not loaded: call load() first")
        try:
            return self.nlp[language]
        except KeyError:
            raise ValueError(f"language {language!r} not in {sorted(self.nlp)}") from None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        pipeline = self._pipeline(language)
        artifacts = self._artifacts(pipeline(text), language)
        self._bound_vocabulary(language, pipeline)
        return artifacts

    def _bound_vocabulary(self, language: str, pipeline: Language) -> None:
        """Swap in a fresh pipeline once this one has learnt too many strings (Docs keep theirs)."""
        if self.nlp is not None and len(pipeline.vocab.strings) > MAX_VOCAB_STRINGS:
            self.nlp[language] = blank_pipeline(language)

    def process_batch(
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        as_tuples: bool = False,
        **kwargs: object,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        if as_tuples:
            raise ValueError("TokenizerNlpEngine.process_batch does not take (text, context) tuples")
        for doc in self._pipeline(language).pipe(str(text) for text in texts):
            yield doc.text, self._artifacts(doc, language)

    def is_stopword(self, word: str, language: str) -> bool:
        if fold(word) in self.context_words:
            return False
        return word.lower() in self._pipeline(language).Defaults.stop_words

    def is_punct(self, word: str, language: str) -> bool:
        return bool(word) and all(unicodedata.category(ch).startswith("P") for ch in word)

    def get_supported_entities(self) -> list[str]:
        return []  # no NER: entities come from pattern recognizers

    def get_supported_languages(self) -> list[str]:
        return list(self.languages)

    def _artifacts(self, doc: Doc, language: str) -> NlpArtifacts:
        return NlpArtifacts(
            entities=[],
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[fold(token.text) for token in doc],
            nlp_engine=self,
            language=language,
            scores=[],
        )


def spacy_ner_engine(models: Mapping[str, str]) -> SpacyNlpEngine:
    """Presidio's spaCy engine over installed/unpacked NER models ({language: package or path}).

    Raises `LookupError` for a model that is neither an installed package nor a directory,
    instead of letting Presidio download it.
    """
    for language, model in models.items():
        if not (spacy.util.is_package(model) or Path(model).is_dir()):
            raise LookupError(f"spaCy model {model!r} for {language!r} is not installed (no download offline)")
    engine = SpacyNlpEngine(models=[{"lang_code": lang, "model_name": model} for lang, model in models.items()])
    engine.load()
    return engine
