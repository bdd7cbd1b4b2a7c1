"""The registry of labelled sets (ai/eval/data/sets.toml) and the table `make eval` prints.

Each set records the figure it scored when first seen (before any change made for it); `run_sets` scores
every set today with the same scorer (ai.eval.scorer: intent, lines with unmatched lines apart, PII) and
`format_sets` puts the two side by side, so a tuned set is never read as a blind one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai.eval.scorer import ALL, EvalReport

MEASURES = ("intent", "lines", "pii")


@dataclass(frozen=True, kw_only=True)
class FirstSeen:
    intent: float | None = None
    line_f1: float | None = None
    pii_recall: float | None = None
    commit: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class LabelledSet:
    name: str
    path: Path
    catalogs: Path
    written_by: str
    measures: tuple[str, ...]
    first_seen: FirstSeen = field(default_factory=FirstSeen)


class RegistryError(ValueError):
    """sets.toml names a file that is not there, or a field it does not know."""


def load_sets(registry: Path, root: Path | None = None) -> list[LabelledSet]:
    """The sets of `registry`; paths are relative to `root` (the repo root: the registry's ../../..)."""
    base = root if root is not None else registry.resolve().parents[3]
    data = tomllib.loads(registry.read_text(encoding="utf-8"))
    out: list[LabelledSet] = []
    for entry in data.get("set", []):
        measures = tuple(entry.get("measures", MEASURES))
        unknown = set(measures) - set(MEASURES)
        if unknown:
            raise RegistryError(f"{registry}: set {entry.get('name')!r} measures unknown {sorted(unknown)}")
        labelled = LabelledSet(
            name=str(entry["name"]), path=base / entry["path"], catalogs=base / entry["catalogs"],
            written_by=str(entry.get("written_by", "")), measures=measures,
            first_seen=FirstSeen(**entry.get("first_seen", {})),
        )
        if not labelled.path.is_file() or not labelled.catalogs.is_dir():
            raise RegistryError(f"{registry}: set {labelled.name!r}: {entry['path']} or {entry['catalogs']} not found")
        out.append(labelled)
    return out


@dataclass(frozen=True, kw_only=True)
class Today:
    intent: float | None
    line_f1: float | None
    pii_recall: float | None
    pii_precision: float | None
    unmatched: int | None  # lines without a SKU, where the set measures lines
    failed: int


def today(labelled: LabelledSet, report: EvalReport) -> Today:
    pii = report.pii.get(ALL, {}).get(ALL) if report.pii is not None and "pii" in labelled.measures else None
    return Today(
        intent=report.intent[ALL].value if "intent" in labelled.measures and ALL in report.intent else None,
        line_f1=report.lines[ALL].f1 if "lines" in labelled.measures and ALL in report.lines else None,
        pii_recall=pii.recall if pii is not None else None,
        pii_precision=pii.precision if pii is not None else None,
        unmatched=report.lines[ALL].unmatched if "lines" in labelled.measures and ALL in report.lines else None,
        failed=report.failed,
    )


def run_sets(sets: list[LabelledSet], score: Callable[[LabelledSet], EvalReport]) -> list[tuple[LabelledSet, Today]]:
    return [(labelled, today(labelled, score(labelled))) for labelled in sets]


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_sets(rows: list[tuple[LabelledSet, Today]]) -> str:
    """One line per set: first seen (commit) | today, for intent, line F1 (unmatched not counted), PII recall."""
    head = (f"{'set':<11} {'cases from':<10} | {'first seen: intent':>18} {'line F1':>7} {'PII R':>6} {'commit':<8}"
            f" | {'today: intent':>13} {'line F1':>7} {'PII R':>6} {'PII P':>6} {'unmatched':>9}")
    out = [head, "-" * len(head)]
    for labelled, now in rows:
        seen = labelled.first_seen
        blind = "blind" if seen.commit else "not blind"
        out.append(
            f"{labelled.name:<11} {blind:<10} | {_cell(seen.intent):>18} {_cell(seen.line_f1):>7} "
            f"{_cell(seen.pii_recall):>6} {seen.commit or '-':<8} | {_cell(now.intent):>13} {_cell(now.line_f1):>7} "
            f"{_cell(now.pii_recall):>6} {_cell(now.pii_precision):>6} {'-' if now.unmatched is None else now.unmatched:>9}"
            + (f"  ({now.failed} failed)" if now.failed else "")
        )
    out.append("line F1 leaves unmatched lines (products the catalog lacks) out; first-seen figures are as each "
               "set's note in ai/eval/data/sets.toml says")
    return "\n".join(out)


def to_dict(rows: list[tuple[LabelledSet, Today]]) -> list[dict[str, Any]]:
    return [{"name": s.name, "path": str(s.path), "written_by": s.written_by, "first_seen": s.first_seen.__dict__,
             "today": t.__dict__} for s, t in rows]


__all__ = ["FirstSeen", "LabelledSet", "RegistryError", "Today", "format_sets", "load_sets", "run_sets", "to_dict"]
