"""The conversation eval harness on a real Postgres: a scratch database from the migrations, history
seeded before the messages, each case judged on exactly the orders it left."""

from __future__ import annotations

import json
from pathlib import Path

from ai.offline.analyzer import OfflineAnalyzer
from worker.conversation_eval import canonical, format_conversation_report, run_conversations
from worker.core.settings import load_settings

CASES = [
    {"id": "t-es-1", "distributor": "valle", "kind": "correction", "customer": {"from": "+520", "name": "A"},
     "history": [], "messages": [{"text": "mándame 5 cajas de coca 600", "gap_s": 0},
                                 {"text": "mejor 6 de coca", "gap_s": 60}],
     "expect": {"orders": [{"status": "active", "items": [{"sku": "CC-600-24", "quantity": 6}]}]}},
    {"id": "t-en-1", "distributor": "northwind", "customer": {"from": "+1", "name": "B"},
     "history": [{"days_ago": 7, "items": [{"sku": "NW-LIM-200", "quantity": 2}]}],
     "messages": [{"text": "the usual please", "gap_s": 0}],
     "expect": {"orders": [{"status": "active", "items": [{"sku": "NW-LIM-200", "quantity": 2}]}]}},
    {"id": "t-pt-wrong", "distributor": "sol", "customer": {"from": "+55", "name": "C"}, "history": [],
     "messages": [{"text": "5 sacos de gelo", "gap_s": 0}],
     "expect": {"orders": [{"status": "cancelled", "items": [{"sku": "SOL-GELO-5K", "quantity": 5}]}]}},
]


async def test_each_conversation_is_judged_on_exactly_the_orders_it_left(admin_url: str, eval_dir: Path,
                                                                         tmp_path: Path) -> None:
    cases = tmp_path / "conversations.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")

    report = await run_conversations(load_settings(), admin_url, cases, eval_dir, OfflineAnalyzer())

    assert {r.id: r.passed for r in report.results} == {"t-es-1": True, "t-en-1": True, "t-pt-wrong": False}
    data = report.to_dict()
    assert data["all"] == {"cases": 3, "exact": 2, "share": 0.6667}
    assert data["by_language"]["pt"]["exact"] == 0 and data["by_kind"]["correction"]["exact"] == 1
    assert "MISS t-pt-wrong" in format_conversation_report(report)


def test_orders_compare_by_status_and_summed_items_whatever_their_order() -> None:
    got = canonical([{"status": "needs_review", "items": [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2},
                                                          {"sku": "A", "quantity": 1}]}])
    assert got == canonical([{"status": "active", "items": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}]}])
    assert got != canonical([{"status": "cancelled", "items": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}]}])
