"""The conversation eval: each case through the real worker pipeline and a scratch database.

A case (ai/eval/data/conversations-*.jsonl) is one customer's conversation with a distributor:
`history` orders (`days_ago` before a pinned clock), then `messages` ingested with received_at =
BASE + the cumulative `gap_s`. Every case gets its own customer; all cases run together through
one worker (customers in parallel, each customer's messages one at a time, as in production), and
a case passes when the orders its messages left (history excluded, oldest first) are exactly the
expected ones: same count, same status (active = anything but cancelled), same items.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from ai.analyzer import Analyzer
from webhooks.inbound.store import InboundRecord, store
from worker.admin.catalog_import import import_catalog_file
from worker.core.repository import Repository
from worker.core.settings import Settings
from worker.db.migrate import migrate
from worker.runtime import build_worker

BASE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # the pinned clock: a Monday, 9:00 in Mexico City
LANGUAGE_OF_LOCALE = {"es": "es", "en": "en", "pt": "pt"}
WORKER_CONCURRENCY = 16


@dataclass(frozen=True, kw_only=True)
class CaseResult:
    id: str
    language: str
    kind: str
    passed: bool
    expected: list[dict[str, Any]]
    actual: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ConversationReport:
    results: list[CaseResult] = field(default_factory=list)

    def share(self, results: Sequence[CaseResult]) -> float:
        return sum(r.passed for r in results) / len(results) if results else 0.0

    def groups(self, key: str) -> dict[str, list[CaseResult]]:
        out: dict[str, list[CaseResult]] = defaultdict(list)
        for r in self.results:
            out[getattr(r, key)].append(r)
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        def block(results: Sequence[CaseResult]) -> dict[str, Any]:
            return {"cases": len(results), "exact": sum(r.passed for r in results), "share": round(self.share(results), 4)}
        return {
            "all": block(self.results),
            "by_language": {k: block(v) for k, v in self.groups("language").items()},
            "by_kind": {k: block(v) for k, v in self.groups("kind").items()},
            "misses": [{"id": r.id, "expected": r.expected, "actual": r.actual} for r in self.results if not r.passed],
        }


def format_conversation_report(report: ConversationReport) -> str:
    data = report.to_dict()
    rows = [f"conversations exact: {data['all']['exact']}/{data['all']['cases']} = {data['all']['share']:.1%}"]
    for title, key in (("by language", "by_language"), ("by kind", "by_kind")):
        rows.append(f"{title}:")
        rows.extend(f"  {name:<14} {b['exact']:>3}/{b['cases']:<3} {b['share']:.1%}" for name, b in data[key].items())
    rows.extend(f"MISS {m['id']}: expected {m['expected']} got {m['actual']}" for m in data["misses"])
    return "\n".join(rows)


def load_conversations(path: Path) -> list[dict[str, Any]]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        missing = {"id", "distributor", "messages", "expect"} - set(case)
        if missing:
            raise ValueError(f"{path}:{number}: case without {sorted(missing)}")
        cases.append(case)
    return cases


def canonical(orders: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orders as compared: status active|cancelled, items sorted with quantities as numbers."""
    out = []
    for order in orders:
        items: dict[str, float] = {}
        for item in order.get("items", []):
            items[str(item["sku"])] = items.get(str(item["sku"]), 0.0) + float(item["quantity"])
        out.append({"status": "cancelled" if order.get("status") == "cancelled" else "active",
                    "items": sorted(([sku, round(q, 3)] for sku, q in items.items()), key=lambda x: str(x[0]))})
    return out


@contextmanager
def scratch_database(admin_url: str, migrations_dir: Path) -> Iterator[str]:
    """A new database with every migration applied, dropped afterwards."""
    name = f"orderflow_conv_eval_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = make_conninfo(admin_url, dbname=name)
    try:
        migrate(url, migrations_dir)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


async def seed_case(repo: Repository, case: dict[str, Any], index: int, distributor_id: str) -> str:
    """Store the case's messages (received_at from the gaps) and its history; the customer id."""
    customer = case.get("customer") or {}
    handle = f"+1555{index:07d}"  # one customer per case, whatever "from" the cases share
    received = BASE
    customer_id: str | None = None
    for number, message in enumerate(case["messages"]):
        received += timedelta(seconds=float(message.get("gap_s", 0)))
        stored = await store(repo, InboundRecord(
            distributor_id=distributor_id, channel="whatsapp", provider_message_id=f"wamid.conv.{index}.{number}",
            handle=handle, profile_name=customer.get("name"), body=message["text"],
            kind=message.get("kind", "text"), received_at=received))
        if customer_id is None:
            row = await repo.fetch_one("eval_customer_of_message", message_id=stored.message_id)
            customer_id = str(row["customer_id"]) if row else None
    if customer_id is None:
        raise ValueError(f"case {case['id']}: no messages")
    for past in case.get("history", []):
        await repo.execute("eval_history_order", distributor_id=distributor_id, customer_id=customer_id,
                           created_at=BASE - timedelta(days=float(past["days_ago"])), items=json.dumps(past["items"]))
    return customer_id


async def run_conversations(settings: Settings, admin_url: str, cases_path: Path, catalogs: Path,
                            analyzer: Analyzer) -> ConversationReport:
    cases = load_conversations(cases_path)
    with scratch_database(admin_url, settings.migrations_dir) as url:
        repo = Repository(url, min_size=1, max_size=8)
        await repo.open()
        try:
            ids, languages = {}, {}
            for path in sorted(catalogs.glob("catalog-*.json")):
                slug = path.stem.removeprefix("catalog-")
                ids[slug], _ = await import_catalog_file(repo, path)
                locale = json.loads(path.read_text(encoding="utf-8"))["distributor"].get("locale", "es")
                languages[slug] = LANGUAGE_OF_LOCALE.get(locale[:2], locale[:2])
            customers = []
            for index, case in enumerate(cases):
                if case["distributor"] not in ids:
                    raise ValueError(f"case {case['id']}: no catalog-{case['distributor']}.json in {catalogs}")
                customers.append(await seed_case(repo, case, index, ids[case["distributor"]]))
            worker = build_worker(repo, settings, analyzer=analyzer, concurrency=WORKER_CONCURRENCY, retry_base=0,
                                  worker_id="conversation-eval", clock=lambda: BASE)
            await worker.run(until_idle=True)
            results = []
            for case, customer_id in zip(cases, customers, strict=True):
                rows = await repo.fetch_all("eval_customer_orders", distributor_id=ids[case["distributor"]],
                                            customer_id=customer_id)
                actual = canonical(rows)
                expected = canonical(case["expect"].get("orders", []))
                results.append(CaseResult(id=case["id"], language=case.get("language") or languages[case["distributor"]],
                                          kind=case.get("kind", "all"), passed=actual == expected,
                                          expected=expected, actual=actual))
            return ConversationReport(results=results)
        finally:
            await repo.close()


__all__ = ["BASE", "CaseResult", "ConversationReport", "canonical", "format_conversation_report",
           "load_conversations", "run_conversations", "scratch_database"]
