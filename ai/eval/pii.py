"""Score a PII detector against labelled messages (the eval's cases-*.jsonl shape).

A case is `{"id", "distributor", "text", "expect": {"pii": [{"type", "text"}, ...]}}`. A labelled
span is found when a finding of the same category overlaps it (ai.eval.scorer.span_found: the one rule
the eval report uses too); a finding that overlaps no
labelled span of its category is a false positive. A message's language is its distributor's
catalog locale ("es-MX" -> "es"), read from `catalog-<slug>.json` beside the cases.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ai.catalog import load_catalog_file
from ai.eval.scorer import span_found
from ai.pii.detector import CATEGORIES, PiiFinding
from ai.pii.names import catalog_vocabulary

CATALOG_GLOB = "catalog-*.json"
FALLBACK_LANGUAGE = "es"  # for a distributor without a catalog file


@dataclass(frozen=True, kw_only=True)
class LabelledSpan:
    category: str
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class LabelledCase:
    id: str
    distributor: str
    text: str
    spans: tuple[LabelledSpan, ...]


@dataclass(kw_only=True)
class TypeCounts:
    found: int = 0  # labelled spans overlapped by a finding of their category
    missed: int = 0
    spurious: int = 0  # findings overlapping no labelled span of their category

    @property
    def recall(self) -> float:
        labelled = self.found + self.missed
        return self.found / labelled if labelled else 1.0

    @property
    def precision(self) -> float:
        reported = self.found + self.spurious
        return self.found / reported if reported else 1.0


@dataclass(kw_only=True)
class Scorecard:
    by_category: dict[str, TypeCounts] = field(default_factory=lambda: {c: TypeCounts() for c in CATEGORIES})
    misses: list[str] = field(default_factory=list)  # "<case id> <category> '<text>'"
    false_positives: list[str] = field(default_factory=list)

    @property
    def total(self) -> TypeCounts:
        counts = self.by_category.values()
        return TypeCounts(found=sum(c.found for c in counts), missed=sum(c.missed for c in counts),
                          spurious=sum(c.spurious for c in counts))


class Detector(Protocol):
    def detect(self, text: str, language: str, *, not_names: Collection[str] = ()) -> list[PiiFinding]: ...


def load_cases(path: Path) -> list[LabelledCase]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        text = raw["text"]
        spans = []
        for label in raw["expect"]["pii"]:
            start = text.find(label["text"])
            if start < 0:
                raise ValueError(f"{raw['id']}: labelled text {label['text']!r} not in the message")
            spans.append(LabelledSpan(category=label["type"], start=start, end=start + len(label["text"])))
        cases.append(LabelledCase(id=raw["id"], distributor=raw["distributor"], text=text, spans=tuple(spans)))
    return cases


def distributor_languages(eval_dir: Path) -> dict[str, str]:
    """{distributor slug: language} from the catalogs' locales."""
    languages = {}
    for catalog in sorted(eval_dir.glob(CATALOG_GLOB)):
        distributor = json.loads(catalog.read_text(encoding="utf-8"))["distributor"]
        languages[distributor["slug"]] = distributor["locale"].split("-")[0]
    return languages


def distributor_vocabularies(eval_dir: Path) -> dict[str, frozenset[str]]:
    """{distributor slug: its name and brand words} from the catalogs, as the worker builds them."""
    catalogs = (load_catalog_file(path) for path in sorted(eval_dir.glob(CATALOG_GLOB)))
    return {catalog.distributor: catalog_vocabulary(catalog) for catalog in catalogs}


def overlaps(finding: PiiFinding, span: LabelledSpan) -> bool:
    return span_found(finding.category, finding.start, finding.end, span.category, span.start, span.end)


def score(
    detector: Detector,
    cases: Iterable[LabelledCase],
    languages: Mapping[str, str],
    own_words: Mapping[str, Collection[str]] | None = None,
) -> Scorecard:
    """`own_words`: {distributor: its name and brand words}, as the worker passes them (`not_names`)."""
    card = Scorecard()
    for case in cases:
        findings = detector.detect(case.text, languages.get(case.distributor, FALLBACK_LANGUAGE),
                                   not_names=(own_words or {}).get(case.distributor, ()))
        score_case(card, case, findings)
    return card


def score_case(card: Scorecard, case: LabelledCase, findings: Sequence[PiiFinding]) -> None:
    for span in case.spans:
        counts = card.by_category[span.category]
        if any(overlaps(f, span) for f in findings):
            counts.found += 1
        else:
            counts.missed += 1
            card.misses.append(f"{case.id} {span.category} {case.text[span.start : span.end]!r}")
    for finding in findings:
        if not any(overlaps(finding, span) for span in case.spans):
            card.by_category[finding.category].spurious += 1
            card.false_positives.append(f"{case.id} {finding.category} {finding.text_in(case.text)!r}")
