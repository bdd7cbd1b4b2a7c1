"""The base of our own Presidio recognizers: rules in code, nothing to load, duplicates dropped.

Presidio's LocalRecognizer asks each subclass for `load` and `analyze`; ours load nothing at
analysis time (their tables are read when they are built) and all answer the same way: the
results their rules find in the text, with Presidio's duplicate removal (same entity and span:
the higher score wins). A subclass writes `find`.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts


class RuleRecognizer(LocalRecognizer):
    """A recognizer whose `find` yields its results from the text alone."""

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return EntityRecognizer.remove_duplicates(self.find(text))

    def find(self, text: str) -> list[RecognizerResult]:
        """The results in `text`, duplicates allowed."""
        raise NotImplementedError


__all__ = ["RuleRecognizer"]
