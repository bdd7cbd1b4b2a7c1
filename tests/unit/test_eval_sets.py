"""The registry of labelled sets and the first-seen-versus-today table."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai.eval.scorer import run_eval
from ai.eval.sets import FirstSeen, LabelledSet, RegistryError, format_sets, load_sets, run_sets

REPO = Path(__file__).resolve().parents[2]


def test_every_labelled_fixture_is_registered() -> None:
    sets = load_sets(REPO / "ai" / "eval" / "data" / "sets.toml")
    registered = {s.path.resolve() for s in sets}
    fixtures = {p.resolve() for p in (REPO / "tests" / "unit" / "fixtures").glob("*_cases.jsonl")}
    assert fixtures <= registered
    assert all(s.first_seen.commit or s.first_seen.note for s in sets)
    blind = [s for s in sets if s.first_seen.commit]
    assert blind and all(s.first_seen.intent or s.first_seen.line_f1 or s.first_seen.pii_recall for s in blind)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    registry = tmp_path / "sets.toml"
    registry.write_text('[[set]]\nname = "x"\npath = "nope.jsonl"\ncatalogs = "."\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="nope.jsonl"):
        load_sets(registry, root=tmp_path)


def test_the_table_puts_first_seen_next_to_today(eval_dir: Path) -> None:
    labelled = LabelledSet(name="devset", path=eval_dir / "cases-dev.jsonl", catalogs=eval_dir, written_by="us",
                           measures=("intent", "lines"), first_seen=FirstSeen(intent=0.5, line_f1=0.25, commit="abc1234"))
    rows = run_sets([labelled], lambda s: run_eval(s.path, s.catalogs))
    table = format_sets(rows)
    line = next(row for row in table.splitlines() if row.startswith("devset"))
    assert "0.500" in line and "0.250" in line and "abc1234" in line and "1.000" in line
    assert rows[0][1].pii_recall is None  # not measured
