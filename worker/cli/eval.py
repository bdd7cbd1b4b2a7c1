"""`orderflow eval`: the accuracy report of the configured analyzer on labelled cases, or the
conversation eval (`--conversations`): each conversation through the real worker and a scratch
database, the share that ends with exactly the expected orders."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer


def evaluate(
    cases: Path | None = typer.Option(None, exists=True, dir_okay=False, help="Labelled single-message cases (JSONL)"),
    catalogs: Path | None = typer.Option(None, exists=True, file_okay=False,
                                         help="Folder of catalog-<slug>.json files"),
    conversations: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                              help="Conversation cases (JSONL): run through the worker and a scratch database"),
    output: Path = typer.Option(Path("eval-report.json"), help="Where to write the JSON report"),
    pii: bool = typer.Option(True, help="Detect and redact PII first, as production does"),
    sets: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                     help="A registry of labelled sets (ai/eval/data/sets.toml): score every set and "
                                          "print its first-seen figure next to today's"),
) -> None:
    """Intent accuracy, line precision/recall/F1 and PII recall/precision, by language, plus misses;
    or, with --conversations, the share of conversations ending with exactly the expected orders."""
    from worker.core.settings import load_settings
    from worker.runtime import build_analyzer

    settings = load_settings()
    if sets is not None:
        from ai.eval.scorer import run_eval
        from ai.eval.sets import format_sets, load_sets, run_sets, to_dict
        from ai.pii.detector import get_detector

        analyzer, detector = build_analyzer(settings), get_detector() if pii else None
        rows = run_sets(load_sets(sets), lambda labelled: run_eval(
            labelled.path, labelled.catalogs, analyzer=analyzer,
            pii_detector=detector if "pii" in labelled.measures else None))
        print(format_sets(rows))
        output.write_text(json.dumps(to_dict(rows), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        print(f"JSON report written to {output}")
        return
    if catalogs is None or (cases is None) == (conversations is None):
        raise typer.BadParameter("give --catalogs with either --cases or --conversations, or --sets")
    if conversations is not None:
        from worker.conversation_eval import format_conversation_report, run_conversations
        from worker.db import connection

        admin_url = connection.database_url(settings, start=True)
        report = asyncio.run(run_conversations(settings, admin_url, conversations, catalogs, build_analyzer(settings)))
        print(format_conversation_report(report))
        output.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"JSON report written to {output}")
        return

    from ai.eval.scorer import format_report, run_eval
    from ai.pii.detector import get_detector

    assert cases is not None
    single = run_eval(cases, catalogs, analyzer=build_analyzer(settings), pii_detector=get_detector() if pii else None)
    print(format_report(single))
    output.write_text(json.dumps(single.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON report written to {output}")


__all__ = ["evaluate"]
