"""`orderflow eval`: the accuracy report of the configured analyzer on labelled cases."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def evaluate(
    cases: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Labelled cases (JSONL)"),
    catalogs: Path | None = typer.Option(None, exists=True, file_okay=False,
                                         help="Folder of catalog-<slug>.json files"),
    output: Path = typer.Option(Path("eval-report.json"), help="Where to write the JSON report"),
    pii: bool = typer.Option(True, help="Detect and redact PII first, as production does"),
    sets: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                     help="A registry of labelled sets (ai/eval/data/sets.toml): score every set and "
                                          "print its first-seen figure next to today's"),
) -> None:
    """Intent accuracy, line precision/recall/F1 and PII recall/precision, by language, plus misses."""
    from ai.eval.scorer import format_report, run_eval
    from ai.pii.detector import get_detector
    from worker.core.settings import load_settings
    from worker.runtime import build_analyzer

    analyzer = build_analyzer(load_settings())
    detector = get_detector() if pii else None
    if sets is not None:
        from ai.eval.sets import format_sets, load_sets, run_sets, to_dict

        rows = run_sets(load_sets(sets), lambda labelled: run_eval(
            labelled.path, labelled.catalogs, analyzer=analyzer,
            pii_detector=detector if "pii" in labelled.measures else None))
        print(format_sets(rows))
        output.write_text(json.dumps(to_dict(rows), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(f"JSON report written to {output}")
        return
    if cases is None or catalogs is None:
        raise typer.BadParameter("give --cases and --catalogs, or --sets")
    report = run_eval(cases, catalogs, analyzer=analyzer, pii_detector=detector)
    print(format_report(report))
    output.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON report written to {output}")


__all__ = ["evaluate"]
