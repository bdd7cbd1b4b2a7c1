"""`orderflow eval`: the accuracy report of the configured analyzer on labelled cases."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def evaluate(
    cases: Path = typer.Option(..., exists=True, dir_okay=False, help="Labelled cases (JSONL)"),
    catalogs: Path = typer.Option(..., exists=True, file_okay=False, help="Folder of catalog-<slug>.json files"),
    output: Path = typer.Option(Path("eval-report.json"), help="Where to write the JSON report"),
    pii: bool = typer.Option(True, help="Detect and redact PII first, as production does"),
) -> None:
    """Intent accuracy, line precision/recall/F1 and PII recall/precision, by language, plus misses."""
    from ai.eval.scorer import format_report, run_eval
    from ai.pii.detector import get_detector
    from worker.core.settings import load_settings
    from worker.runtime import build_analyzer

    report = run_eval(cases, catalogs, analyzer=build_analyzer(load_settings()),
                      pii_detector=get_detector() if pii else None)
    print(format_report(report))
    output.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON report written to {output}")


__all__ = ["evaluate"]
