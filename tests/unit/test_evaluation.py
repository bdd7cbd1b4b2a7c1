"""The eval report: shape, metrics and PII scoring."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ai.analyzer import AnalysisRequest, AnalysisResult, Usage
from ai.contract import Analysis, Intent, OrderAction
from ai.eval.scorer import ALL, Counts, format_report, run_eval, run_eval_async, score_lines, score_pii


@dataclass(frozen=True, kw_only=True)
class FakeFinding:
    category: str
    start: int
    end: int


class RegexDetector:
    """Finds emails and long digit runs only: enough to exercise the PII metrics."""

    PATTERNS = (("EMAIL_ADDRESS", re.compile(r"\S+@\S+\.\w+")), ("PHONE_NUMBER", re.compile(r"\(?\d[\d ()-]{8,}\d")))

    def __init__(self) -> None:
        self.not_names: list[frozenset[str]] = []

    def detect(self, text: str, language: str, *, not_names: frozenset[str] = frozenset()) -> list[FakeFinding]:
        self.not_names.append(not_names)
        return [FakeFinding(category=kind, start=m.start(), end=m.end())
                for kind, pattern in self.PATTERNS for m in pattern.finditer(text)]


def redact(text: str, findings: Sequence[FakeFinding]) -> str:
    for finding in sorted(findings, key=lambda f: f.start, reverse=True):
        text = text[: finding.start] + f"<{finding.category}>" + text[finding.end :]
    return text


class SilentAnalyzer:
    """Answers "other" to everything."""

    provider = "test"
    model = "silent"
    prompt_version = "0"
    paid = False
    reads_orders = False

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        self.seen.append(request.text)
        analysis = Analysis(intent=Intent.OTHER, action=OrderAction.NONE, closes_order=False, language="es", lines=[], delivery=None, needs_review=False,
                            review_reasons=[], reply="ok")
        return AnalysisResult(analysis=analysis, usage=Usage(provider="test", model="silent", input_tokens=1),
                              latency_ms=0.5, prompt_version="0")


def test_report_shape_without_pii(eval_dir: Path) -> None:
    report = run_eval(eval_dir / "cases-dev.jsonl", eval_dir)
    data = report.to_dict()
    json.dumps(data)
    assert set(data) == {"analyzer", "cases", "intent", "lines", "pii", "review_rate", "usage", "misses", "failed"}
    assert data["pii"] is None
    assert list(data["intent"]) == [ALL, "es", "en", "pt"]
    assert set(data["lines"][ALL]) == {"tp", "fp", "fn", "unmatched", "precision", "recall", "f1"}
    assert data["intent"][ALL]["total"] == 40
    table = format_report(report)
    assert "intent" in table and "line F1" in table and "PII" not in table


async def test_pii_metrics_and_redacted_analysis(eval_dir: Path) -> None:
    silent, detector = SilentAnalyzer(), RegexDetector()
    report = await run_eval_async(eval_dir / "cases-dev.jsonl", eval_dir, analyzer=silent,
                                  pii_detector=detector, redactor=redact)
    assert {"valle", "sol", "northwind"} <= set().union(*detector.not_names)  # each distributor's own name
    assert report.pii is not None
    emails = report.pii[ALL]["EMAIL_ADDRESS"]
    assert (emails.expected, emails.expected_found, emails.precision) == (2, 2, 1.0)
    assert report.pii[ALL]["PERSON"].recall == 0.0  # the fake finds no names
    assert set(report.pii) == {ALL, "es", "en", "pt"}
    assert any("<EMAIL_ADDRESS>" in text for text in silent.seen)  # the analyzer saw redacted text
    assert not any("compras.esperanza@gmail.com" in text for text in silent.seen)
    # everything is "other": accuracy is the share of "other" cases, and every order is a miss
    assert 0 < report.intent[ALL].value < 1
    assert report.lines[ALL].tp == 0 and report.lines[ALL].fn > 0
    assert {m.kind for m in report.misses} == {"intent", "lines", "pii"}
    json.dumps(report.to_dict())
    assert "PERSON" in format_report(report)


def test_score_lines_needs_sku_and_quantity() -> None:
    counts = score_lines([("A", 3), ("B", 2)], [("A", 3.0), ("B", 1), (None, 2)])
    assert counts == Counts(tp=1, fp=1, fn=1, unmatched=1)  # the line without SKU is apart, not wrong
    assert (counts.precision, counts.recall) == (1 / 2, 1 / 2)
    assert score_lines([], []).f1 == 1.0


def test_score_pii_overlap_and_type() -> None:
    text = "llámame al 55 4321 8765, soy Ana"
    expected = [{"type": "PHONE_NUMBER", "text": "55 4321 8765"}, {"type": "PERSON", "text": "Ana"}]
    start = text.index("4321")
    findings = [FakeFinding(category="PHONE_NUMBER", start=start, end=start + 4),  # partial overlap counts
                FakeFinding(category="ADDRESS", start=text.index("Ana"), end=len(text))]  # wrong type
    scores = score_pii(text, expected, findings)
    assert (scores["PHONE_NUMBER"].precision, scores["PHONE_NUMBER"].recall) == (1.0, 1.0)
    assert (scores["PERSON"].recall, scores["ADDRESS"].precision) == (0.0, 0.0)
    assert (scores[ALL].detected, scores[ALL].detected_correct, scores[ALL].expected) == (2, 1, 2)


class _Failing:
    provider, model, prompt_version, paid = "test", "failing", "t", False

    def __init__(self) -> None:
        self.calls = 0

    async def analyze(self, request: object) -> object:
        from ai.analyzer import AnalysisFailed

        self.calls += 1
        if self.calls % 2:
            raise AnalysisFailed("model timed out", retryable=True)
        from ai.offline.analyzer import OfflineAnalyzer

        return await OfflineAnalyzer().analyze(request)  # type: ignore[arg-type]


async def test_a_failed_analysis_is_a_miss_not_the_end(eval_dir: Path) -> None:
    analyzer = _Failing()
    report = await run_eval_async(eval_dir / "cases-dev.jsonl", eval_dir, analyzer=analyzer)  # type: ignore[arg-type]
    assert report.cases == analyzer.calls == 40
    assert report.failed == 20
    assert sum(1 for m in report.misses if m.kind == "failed") == 20
    assert report.intent[ALL].total == 40 and report.intent[ALL].correct <= 20
    assert "20 analyses failed" in format_report(report)
