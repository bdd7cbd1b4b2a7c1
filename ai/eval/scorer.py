"""Score an analyzer (and optionally a PII detector) on labelled cases, overall and per language.

Cases are eval-style JSONL (`id`, `distributor`, `text`, `expect: {intent, items, pii}`).
Each case runs like production: PII detection first (when a detector is given), then the
analyzer on the redacted text with the distributor's catalog. Metrics:
- intent accuracy, order vs other (every intent but "order" counts as "other");
- lines: a predicted line is right only when SKU and quantity both match an expected item
  (lines are predicted only when the intent is "order"). A line without SKU (a product the catalog
  lacks, or one a person has to read) is an unmatched line: counted apart (`unmatched`) and left out
  of line precision and F1 ("unmatched lines not counted"); the expected item it stood for is a miss;
- an analysis that fails (AnalysisFailed) is a miss of every kind, counted in `failed`, never the end of
  the run;
- PII, per type: precision over detections, recall over expected spans; a detection counts
  when it overlaps an expected span of the same type.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from ai.analyzer import AnalysisFailed, AnalysisRequest, Analyzer
from ai.catalog import Catalog, load_catalog_file
from ai.contract import Intent
from ai.language import LANGUAGES, detect_language

ALL = "all"
QUANTITY_TOLERANCE = 1e-6
DEFAULT_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a fixed Monday: runs are reproducible
_CASE_LANGUAGE = re.compile(r"(?:^|-)(es|en|pt)(?:-|$)")
P = ParamSpec("P")
R = TypeVar("R")


class Finding(Protocol):
    """What ai.pii.detector.PiiFinding offers the eval: a category and a span of the original text."""

    @property
    def category(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class PiiDetectorLike(Protocol):
    def detect(self, text: str, language: str, *, not_names: Collection[str] = ()) -> Sequence[Finding]: ...


Redactor = Callable[[str, Sequence[Any]], str]


@dataclass(frozen=True, kw_only=True)
class Counts:
    """Line matching counts: a predicted line is a tp or an fp, an expected item a tp or an fn."""

    tp: int = 0
    fp: int = 0  # lines with a wrong SKU or quantity
    fn: int = 0
    unmatched: int = 0  # lines without a SKU: apart from wrong ones, not in precision or F1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(tp=self.tp + other.tp, fp=self.fp + other.fp, fn=self.fn + other.fn,
                      unmatched=self.unmatched + other.unmatched)

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "unmatched": self.unmatched,
                "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(frozen=True, kw_only=True)
class SpanCounts:
    """PII counts: precision over detections, recall over expected spans."""

    detected: int = 0
    detected_correct: int = 0
    expected: int = 0
    expected_found: int = 0

    @property
    def precision(self) -> float:
        return self.detected_correct / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.expected_found / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: SpanCounts) -> SpanCounts:
        return SpanCounts(detected=self.detected + other.detected,
                          detected_correct=self.detected_correct + other.detected_correct,
                          expected=self.expected + other.expected,
                          expected_found=self.expected_found + other.expected_found)

    def to_dict(self) -> dict[str, Any]:
        return {"detected": self.detected, "detected_correct": self.detected_correct, "expected": self.expected,
                "expected_found": self.expected_found, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass(frozen=True, kw_only=True)
class Accuracy:
    correct: int = 0
    total: int = 0

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else 1.0

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(correct=self.correct + other.correct, total=self.total + other.total)

    def to_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total, "accuracy": round(self.value, 4)}


@dataclass(frozen=True, kw_only=True)
class Miss:
    case_id: str
    kind: str  # "intent" | "lines" | "pii"
    expected: Any
    got: Any
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "kind": self.kind, "expected": self.expected, "got": self.got,
                "text": self.text}


@dataclass(frozen=True, kw_only=True)
class EvalReport:
    analyzer: str
    cases: int
    intent: dict[str, Accuracy]  # ALL and per language
    lines: dict[str, Counts]
    pii: dict[str, dict[str, SpanCounts]] | None  # scope (ALL or language) -> type (ALL or category)
    review_rate: dict[str, float]  # share of cases the analyzer sent to review
    input_tokens: int
    output_tokens: int
    latency_ms_mean: float
    misses: list[Miss] = field(default_factory=list)
    failed: int = 0  # analyses that failed (AnalysisFailed): each a miss, the run goes on

    def to_dict(self) -> dict[str, Any]:
        return {
            "analyzer": self.analyzer,
            "cases": self.cases,
            "intent": {k: v.to_dict() for k, v in self.intent.items()},
            "lines": {k: v.to_dict() for k, v in self.lines.items()},
            "pii": None if self.pii is None else {
                scope: {kind: c.to_dict() for kind, c in by_type.items()} for scope, by_type in self.pii.items()
            },
            "review_rate": {k: round(v, 4) for k, v in self.review_rate.items()},
            "usage": {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                      "latency_ms_mean": round(self.latency_ms_mean, 2)},
            "failed": self.failed,
            "misses": [m.to_dict() for m in self.misses],
        }


def load_cases(path: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            cases.append(json.loads(line))
    return cases


def load_catalogs(directory: Path) -> dict[str, Catalog]:
    """Every `catalog-<slug>.json` in the directory, by slug."""
    catalogs = (load_catalog_file(path) for path in sorted(directory.glob("catalog-*.json")))
    return {catalog.distributor: catalog for catalog in catalogs}


def _locale_language(catalog: Catalog) -> str:
    language = catalog.locale[:2].lower()
    return language if language in LANGUAGES else "es"


def case_language(case: dict[str, Any], default: str) -> str:
    """The language part of the case id ("dev-es-001" → "es"), else the detected language."""
    found = _CASE_LANGUAGE.search(str(case.get("id", "")))
    return found.group(1) if found else detect_language(str(case["text"]), default=default)


def _item_counter(items: Sequence[tuple[str | None, float]]) -> Counter[tuple[str | None, float]]:
    return Counter((sku, round(float(quantity), 6)) for sku, quantity in items)


def score_lines(expected: Sequence[tuple[str | None, float]], got: Sequence[tuple[str | None, float]]) -> Counts:
    """Lines against expected items; predicted lines without a SKU are `unmatched`, not wrong."""
    want = _item_counter(expected)
    have = _item_counter([(sku, quantity) for sku, quantity in got if sku is not None])
    tp = sum((want & have).values())
    return Counts(tp=tp, fp=sum(have.values()) - tp, fn=sum(want.values()) - tp,
                  unmatched=sum(1 for sku, _ in got if sku is None))


def _expected_spans(text: str, expected: Sequence[dict[str, str]]) -> list[tuple[str, int, int]]:
    spans: list[tuple[str, int, int]] = []
    for item in expected:
        start = text.find(item["text"])
        while start >= 0 and any(s == start and t == item["type"] for t, s, _ in spans):
            start = text.find(item["text"], start + 1)
        spans.append((item["type"], max(start, 0), max(start, 0) + len(item["text"]) if start >= 0 else 0))
    return spans


def span_found(kind: str, start: int, end: int, label_kind: str, label_start: int, label_end: int) -> bool:
    """The one PII matching rule of every eval (this scorer and ai.eval.pii): a finding finds a labelled
    span when it has the span's category and overlaps it."""
    return kind == label_kind and start < label_end and label_start < end


def score_pii(text: str, expected: Sequence[dict[str, str]], findings: Sequence[Finding]) -> dict[str, SpanCounts]:
    """Per category and ALL: a detection is right when it overlaps an expected span of its type."""
    spans = _expected_spans(text, expected)

    def overlaps(kind: str, start: int, end: int, other: tuple[str, int, int]) -> bool:
        return span_found(kind, start, end, *other)

    out: dict[str, SpanCounts] = {}
    for kind in sorted({t for t, _, _ in spans} | {f.category for f in findings}):
        mine = [f for f in findings if f.category == kind]
        wanted = [s for s in spans if s[0] == kind]
        out[kind] = SpanCounts(
            detected=len(mine),
            detected_correct=sum(1 for f in mine if any(overlaps(kind, f.start, f.end, s) for s in wanted)),
            expected=len(wanted),
            expected_found=sum(1 for s in wanted if any(overlaps(kind, f.start, f.end, s) for f in mine)),
        )
    total = SpanCounts()
    for counts in out.values():
        total = total + counts
    out[ALL] = total
    return out


def _default_analyzer() -> Analyzer:
    from ai.offline.analyzer import OfflineAnalyzer

    return OfflineAnalyzer()


def _default_redactor() -> Redactor:
    from ai.pii.detector import redact

    return redact


def _own_words(catalogs: dict[str, Catalog]) -> dict[str, frozenset[str]]:
    """Each distributor's name and brands, which a greeting or an honorific does not make a person."""
    from ai.pii.names import catalog_vocabulary

    return {slug: catalog_vocabulary(catalog) for slug, catalog in catalogs.items()}


async def run_eval_async(
    cases_path: Path,
    catalogs_dir: Path,
    *,
    analyzer: Analyzer | None = None,
    pii_detector: PiiDetectorLike | None = None,
    redactor: Redactor | None = None,
    now: datetime = DEFAULT_NOW,
) -> EvalReport:
    analyzer = analyzer or _default_analyzer()
    redact = (redactor or _default_redactor()) if pii_detector is not None else None
    catalogs = load_catalogs(catalogs_dir)
    own_words = _own_words(catalogs) if pii_detector is not None else {}
    intent: dict[str, Accuracy] = {}
    lines: dict[str, Counts] = {}
    pii: dict[str, dict[str, SpanCounts]] = {}
    reviewed: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses: list[Miss] = []
    input_tokens = output_tokens = failed = 0
    latency = 0.0
    cases = load_cases(cases_path)
    for case in cases:
        case_id, text = str(case["id"]), str(case["text"])
        catalog = catalogs[case["distributor"]]
        language = case_language(case, _locale_language(catalog))
        scopes = (ALL, language)
        analysed_text = text
        if pii_detector is not None and redact is not None:
            detected_language = detect_language(text, default=_locale_language(catalog))
            findings = list(pii_detector.detect(text, detected_language, not_names=own_words[case["distributor"]]))
            analysed_text = redact(text, findings)
            scores = score_pii(text, case["expect"].get("pii", []), findings)
            for scope in scopes:
                bucket = pii.setdefault(scope, {})
                for kind, counts in scores.items():
                    bucket[kind] = bucket.get(kind, SpanCounts()) + counts
            if scores[ALL].precision < 1.0 or scores[ALL].recall < 1.0:
                got_pii = [{"type": f.category, "text": text[f.start : f.end]} for f in findings]
                misses.append(Miss(case_id=case_id, kind="pii", expected=case["expect"].get("pii", []),
                                   got=got_pii, text=text))
        if "intent" not in case["expect"]:
            continue  # a PII-only case (a PII set's labels): nothing of the analysis to score
        request = AnalysisRequest(text=analysed_text, catalog=catalog, now=now)
        want_intent = "order" if case["expect"]["intent"] == "order" else "other"
        want_items = [(i["sku"], float(i["quantity"])) for i in case["expect"]["items"]]
        try:
            result = await analyzer.analyze(request)
        except AnalysisFailed as error:  # a miss (in the worker: a review), never the end of the run
            failed += 1
            if error.usage is not None:
                input_tokens += error.usage.input_tokens
                output_tokens += error.usage.output_tokens
            for scope in scopes:
                intent[scope] = intent.get(scope, Accuracy()) + Accuracy(correct=0, total=1)
                lines[scope] = lines.get(scope, Counts()) + score_lines(want_items, [])
                totals[scope] += 1
                reviewed[scope] += 1
            misses.append(Miss(case_id=case_id, kind="failed", expected=want_intent, got=str(error), text=text))
            continue
        analysis = result.analysis
        input_tokens += result.usage.input_tokens
        output_tokens += result.usage.output_tokens
        latency += result.latency_ms
        got_intent = "order" if analysis.intent == Intent.ORDER else "other"
        got_items = [(line.sku, line.quantity) for line in analysis.lines] if got_intent == "order" else []
        line_counts = score_lines(want_items, got_items)
        for scope in scopes:
            intent[scope] = intent.get(scope, Accuracy()) + Accuracy(correct=int(got_intent == want_intent), total=1)
            lines[scope] = lines.get(scope, Counts()) + line_counts
            totals[scope] += 1
            reviewed[scope] += int(analysis.needs_review)
        if got_intent != want_intent:
            misses.append(Miss(case_id=case_id, kind="intent", expected=want_intent,
                               got=analysis.intent.value, text=text))
        if line_counts.fp or line_counts.fn:
            misses.append(Miss(case_id=case_id, kind="lines", expected=want_items, got=got_items, text=text))
    ordered = [ALL, *(lang for lang in LANGUAGES if lang in totals), *sorted(set(totals) - {ALL, *LANGUAGES})]
    return EvalReport(
        analyzer=f"{analyzer.provider}/{analyzer.model}",
        cases=len(cases),
        intent={k: intent[k] for k in ordered if k in intent},
        lines={k: lines[k] for k in ordered if k in lines},
        pii={k: pii[k] for k in ordered if k in pii} if pii_detector is not None else None,
        review_rate={k: reviewed[k] / totals[k] for k in ordered if totals[k]},
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms_mean=latency / max(len(cases) - failed, 1),
        misses=misses,
        failed=failed,
    )


def _blocking(run_async: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """The synchronous twin of an async entry point: the same parameters, run in an event loop of its own."""

    @functools.wraps(run_async)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(run_async(*args, **kwargs))

    run.__name__ = run.__qualname__ = run_async.__name__.removesuffix("_async")
    run.__doc__ = f"Synchronous entry point (CLI); inside an event loop await `{run_async.__name__}` instead."
    return run


run_eval = _blocking(run_eval_async)


def format_report(report: EvalReport) -> str:
    """A plain-text table for the command line."""
    out = [f"analyzer {report.analyzer}: {report.cases} cases", ""]
    out.append(f"{'scope':<6} {'intent':>8} {'line P':>8} {'line R':>8} {'line F1':>8} {'wrong':>6} "
               f"{'unmatched':>9} {'review':>8}")
    for scope, accuracy in report.intent.items():
        counts = report.lines[scope]
        out.append(f"{scope:<6} {accuracy.value:>8.3f} {counts.precision:>8.3f} {counts.recall:>8.3f} "
                   f"{counts.f1:>8.3f} {counts.fp:>6} {counts.unmatched:>9} {report.review_rate.get(scope, 0.0):>8.3f}")
    out.append("(line P/F1 leave unmatched lines out: products the catalog lacks are a person's, not wrong SKUs)")
    if report.failed:
        out.append(f"{report.failed} analyses failed (each counted as a miss)")
    if report.pii is not None:
        out += ["", f"{'PII':<6} {'type':<14} {'P':>7} {'R':>7} {'F1':>7} {'found':>9}"]
        for scope, by_type in report.pii.items():
            for kind, c in by_type.items():
                out.append(f"{scope:<6} {kind:<14} {c.precision:>7.3f} {c.recall:>7.3f} {c.f1:>7.3f} "
                           f"{c.expected_found:>4}/{c.expected:<4}")
    out += ["", f"tokens in/out {report.input_tokens}/{report.output_tokens}, "
                f"mean latency {report.latency_ms_mean:.1f} ms"]
    if report.misses:
        out += ["", "misses:"]
        for miss in report.misses:
            out.append(f"  {miss.case_id} [{miss.kind}] expected {miss.expected} got {miss.got}")
    return "\n".join(out)


__all__ = [
    "ALL",
    "Accuracy",
    "Counts",
    "EvalReport",
    "Miss",
    "SpanCounts",
    "case_language",
    "format_report",
    "load_cases",
    "load_catalogs",
    "run_eval",
    "run_eval_async",
    "score_lines",
    "score_pii",
    "span_found",
]
