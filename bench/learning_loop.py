"""The learning loop, measured: does reviewing the first half of the cases help the second half?

For each case file (the eval dev cases, and tests/unit/fixtures/offline_extra_cases.jsonl when
present) and each catalog mode (the eval catalogs as given, and "cold": the same catalogs without
their aliases, a distributor on its first day), in a scratch database:

1. import the three eval catalogs;
2. score every case with the offline analyzer and the catalog as the worker loads it from the
   database (ContextCache): line precision/recall/F1 (SKU and quantity must both match, as in
   ai.eval.scorer) and the share of cases sent to review;
3. send the FIRST half of each distributor's cases (file order) through the real pipeline
   (intake → worker → record_outcome) and review the orders it made as staff would, from the
   labels: lines right as they are are confirmed (in orders that were sent to review), wrong
   lines get the right SKU and/or quantity (`worker.admin.corrections.correct_line`). Items the
   analyzer missed and lines it invented cannot be fixed by a line correction (staff would add or
   delete a line) and teach nothing; they are counted;
4. score both halves again with a fresh ContextCache, which now loads the learned aliases.

Prints before/after per half. The second half is the honest number (the first half was taught).
Usage: python bench/learning_loop.py [--cases FILE ...] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ai.eval.datasets import eval_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ai.analyzer import AnalysisRequest  # noqa: E402
from ai.contract import Intent  # noqa: E402
from ai.eval.scorer import DEFAULT_NOW, Counts, load_cases, score_lines  # noqa: E402
from ai.offline.analyzer import OfflineAnalyzer  # noqa: E402
from bench.common import machine, scratch_database  # noqa: E402
from webhooks.inbound.store import InboundRecord, store_many  # noqa: E402
from worker.admin.catalog_import import import_catalog  # noqa: E402
from worker.admin.corrections import correct_line  # noqa: E402
from worker.context import ContextCache  # noqa: E402
from worker.core.repository import Repository  # noqa: E402
from worker.core.settings import REPO_ROOT, load_settings  # noqa: E402
from worker.runtime import build_worker  # noqa: E402

EVAL_DIR = eval_dir()
EXTRA_CASES = REPO_ROOT / "tests" / "unit" / "fixtures" / "offline_extra_cases.jsonl"
SLUGS = ("valle", "sol", "northwind")
CUSTOMERS_PER_DISTRIBUTOR = 5  # the first half's messages come from this many shops per distributor


@dataclass(frozen=True, kw_only=True)
class Score:
    lines: Counts
    reviewed: int
    cases: int

    def __str__(self) -> str:
        c = self.lines
        return (f"F1 {c.f1:.3f} (P {c.precision:.3f} R {c.recall:.3f}; tp {c.tp} fp {c.fp} fn {c.fn}), "
                f"review {self.reviewed}/{self.cases}")


@dataclass(kw_only=True)
class Review:
    confirmed: int = 0
    product: int = 0
    quantity: int = 0
    extra_lines: int = 0  # predicted lines with no expected item: staff would delete them
    missed_items: int = 0  # expected items without a line: staff would add them
    false_orders: int = 0  # orders made from messages that are not orders
    aliases: int = 0
    notes: list[str] = field(default_factory=list)


def split_halves(cases: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """First and second half of each distributor's cases, in file order."""
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    for slug in sorted({c["distributor"] for c in cases}):
        mine = [c for c in cases if c["distributor"] == slug]
        half = len(mine) // 2
        first += mine[:half]
        second += mine[half:]
    return first, second


async def import_catalogs(repo: Repository, *, cold: bool) -> dict[str, str]:
    ids: dict[str, str] = {}
    for slug in SLUGS:
        data = json.loads((EVAL_DIR / f"catalog-{slug}.json").read_text(encoding="utf-8"))
        if cold:
            data["products"] = [{**p, "aliases": []} for p in data["products"]]
        ids[slug], _ = await import_catalog(repo, data)
    return ids


async def score(repo: Repository, ids: dict[str, str], cases: Sequence[dict[str, Any]]) -> Score:
    """The offline analyzer on each case, with the catalog (and learned aliases) the worker loads."""
    contexts, analyzer = ContextCache(repo), OfflineAnalyzer()
    total, reviewed = Counts(), 0
    for case in cases:
        ctx = await contexts.get(ids[case["distributor"]])
        result = await analyzer.analyze(AnalysisRequest(text=case["text"], catalog=ctx.catalog, now=DEFAULT_NOW))
        analysis = result.analysis
        got = [(line.sku, line.quantity) for line in analysis.lines] if analysis.intent == Intent.ORDER else []
        want = [(item["sku"], float(item["quantity"])) for item in case["expect"]["items"]]
        total = total + score_lines(want, got)
        reviewed += int(analysis.needs_review)
    return Score(lines=total, reviewed=reviewed, cases=len(cases))


async def run_first_half(repo: Repository, ids: dict[str, str], cases: Sequence[dict[str, Any]], tag: str) -> None:
    records = []
    for index, case in enumerate(cases):
        shop = index % CUSTOMERS_PER_DISTRIBUTOR
        records.append(InboundRecord(distributor_id=ids[case["distributor"]], channel="whatsapp",
                                     provider_message_id=f"wamid.{tag}.{case['id']}", handle=f"+52155500{shop:04d}",
                                     profile_name=f"Tienda {shop}", body=case["text"]))
    await store_many(repo, records)
    worker = build_worker(repo, load_settings(), analyzer=OfflineAnalyzer(), concurrency=8, retry_base=0,
                          worker_id=f"bench-{tag}")
    stats = await worker.run(until_idle=True)
    if stats.processed != len(cases):
        raise RuntimeError(f"processed {stats.processed} of {len(cases)} messages")


def order_lines(url: str, provider_message_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute("""
            select o.status::text as status, op.id::text as line_id, op.sku, op.quantity::float as quantity
              from messages m
              join orders o on o.distributor_id = m.distributor_id and o.ai_source_message_id = m.id
              join order_products op on op.distributor_id = o.distributor_id and op.order_id = o.id
             where m.provider_message_id = %s order by op.line_no""", (provider_message_id,)).fetchall()


async def review_first_half(repo: Repository, url: str, cases: Sequence[dict[str, Any]], tag: str) -> Review:
    """What staff do from the labels: confirm right lines of orders in review, fix wrong lines."""
    review = Review()
    for case in cases:
        lines = order_lines(url, f"wamid.{tag}.{case['id']}")
        expected = [(item["sku"], float(item["quantity"])) for item in case["expect"]["items"]]
        if case["expect"]["intent"] != "order":
            review.false_orders += int(bool(lines))
            continue
        in_review = bool(lines) and lines[0]["status"] == "needs_review"
        left = list(expected)
        pending = []
        for line in lines:  # right as it is
            if (line["sku"], line["quantity"]) in left:
                left.remove((line["sku"], line["quantity"]))
                if in_review:
                    await correct_line(repo, order_product_id=line["line_id"], confirm=True)
                    review.confirmed += 1
            else:
                pending.append(line)
        wrong = []
        for line in pending:  # the right product, the wrong quantity
            same = next((item for item in left if item[0] == line["sku"]), None)
            if same is None:
                wrong.append(line)
                continue
            left.remove(same)
            await correct_line(repo, order_product_id=line["line_id"], quantity=same[1])
            review.quantity += 1
        paired = list(zip(wrong, list(left), strict=False))  # the wrong product: pair what is left, in order
        for line, (sku, quantity) in paired:
            left.remove((sku, quantity))
            done = await correct_line(repo, order_product_id=line["line_id"], product_sku=sku, quantity=quantity)
            review.product += 1
            review.notes.append(f"{case['id']}: line {done.line_no} → {sku} (alias {done.alias!r})")
        review.extra_lines += len(wrong) - len(paired)
        review.missed_items += len(left)
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from learned_aliases where customer_id is null").fetchone()
    review.aliases = int(row[0]) if row else 0
    return review


async def scenario(url: str, cases: Sequence[dict[str, Any]], *, cold: bool) -> dict[str, Any]:
    repo = Repository(url, min_size=1, max_size=8)
    await repo.open()
    try:
        ids = await import_catalogs(repo, cold=cold)
        first, second = split_halves(cases)
        before = (await score(repo, ids, first), await score(repo, ids, second))
        tag = uuid.uuid4().hex[:6]
        await run_first_half(repo, ids, first, tag)
        review = await review_first_half(repo, url, first, tag)
        after = (await score(repo, ids, first), await score(repo, ids, second))
    finally:
        await repo.close()
    return {"first": len(first), "second": len(second), "before": before, "after": after, "review": review}


def report(name: str, mode: str, result: dict[str, Any], verbose: bool) -> None:
    review: Review = result["review"]
    print(f"\n{name} — catalog {mode}: {result['first']} cases reviewed, {result['second']} held out")
    print(f"  staff review of the first half: {review.confirmed} lines confirmed, {review.product} product and "
          f"{review.quantity} quantity corrections, {review.aliases} distributor aliases learned; "
          f"not fixable by a line correction: {review.missed_items} missed items, {review.extra_lines} extra lines, "
          f"{review.false_orders} orders from non-order messages")
    for label, index in (("first half (taught)", 0), ("second half (held out)", 1)):
        print(f"  {label:<23} before: {result['before'][index]}")
        print(f"  {'':<23} after:  {result['after'][index]}")
    if verbose:
        for note in review.notes:
            print(f"    {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, nargs="*", default=None, help="JSONL case files (default: dev + extra)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--verbose", action="store_true", help="List each product correction")
    args = parser.parse_args()
    files = args.cases or [p for p in (EVAL_DIR / "cases-dev.jsonl", EXTRA_CASES) if p.exists()]
    print(f"machine: {machine()}")
    for path in files:
        cases = load_cases(path)
        for mode, cold in (("as given", False), ("without aliases (cold start)", True)):
            with scratch_database(args.database_url) as url:
                report(path.name, mode, asyncio.run(scenario(url, cases, cold=cold)), args.verbose)


if __name__ == "__main__":
    main()
