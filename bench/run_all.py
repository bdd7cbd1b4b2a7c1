"""`make bench`: every benchmark once, then one table — benchmark | figure | target | met? — and the machine.

Runs, on the embedded server (or --database-url), each in its own scratch database:
  1. worker_throughput     end-to-end messages/s and message→order latency; 800 ms simulated AI
  2. queue_vs_procrastinate claim + complete jobs/s, ours versus procrastinate, same server and client
  3. webhook_delivery      signed deliveries/s to a local receiver (a subprocess, as it runs standalone)
  4. rls_ratio             a distributor's order queries over 1M orders: RLS user / service role
  5. catalog_import        `orderflow catalog import` of 50,000 products (first, changed, --prune)
  6. reply_send            replies/s to the Graph API stand-in (WhatsApp Cloud API on 127.0.0.1)
A benchmark that fails (or is missing) gets a row saying so; the others still run. Each script
also runs standalone (`python bench/<name>.py --help`). About 5 minutes on 2 cores.

Usage: python bench/run_all.py [--database-url URL] [--quick]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import catalog_import, queue_vs_procrastinate, rls_ratio, worker_throughput  # noqa: E402
from bench.common import machine, scratch_database  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
SLOW_AI_TARGET_S = 15.0  # worker_throughput scenario 2: 1,000 messages behind an 800 ms analyzer
DELIVERY_TARGET = 1_000  # deliveries/s (bench/webhook_delivery.py)
REPLY_TARGET = 500  # replies/s (bench/reply_send.py)
SUBPROCESS_TIMEOUT = 300.0  # seconds


@dataclass(frozen=True, kw_only=True)
class Row:
    benchmark: str
    figure: str
    target: str = "—"
    met: bool | None = None  # None: no target, or the benchmark did not run

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: "—"}[self.met]


def _worker(url: str | None, quick: bool) -> list[Row]:
    messages = 2_000 if quick else 10_000
    with scratch_database(url) as db:
        fast = worker_throughput.scenario(db, messages=messages, workers=2, concurrency=32, env={}, label="fast")
    with scratch_database(url) as db:
        paced = worker_throughput.scenario(db, messages=1_000 if quick else 3_000, workers=2, concurrency=32, env={},
                                           label="paced", rate=200.0)
    with scratch_database(url) as db:
        slow = worker_throughput.scenario(db, messages=1_000, workers=1, concurrency=256,
                                          env={"ORDERFLOW_SIMULATED_AI_LATENCY_MS": "800"}, label="slow")
    return [
        Row(benchmark=f"worker end to end ({messages:,} msgs, 2 processes x 32, offline AI)",
            figure=f"{fast['rate']:,.0f} msgs/s; latency p50 {fast['p50_s']:.1f} s, p99 {fast['p99_s']:.1f} s "
                   f"(all enqueued at once)", target="≥ 300 msgs/s", met=fast["rate"] >= 300),
        Row(benchmark="worker, intake paced at 200 msgs/s",
            figure=f"message→order latency p50 {paced['p50_s'] * 1000:.0f} ms, p99 {paced['p99_s'] * 1000:.0f} ms"),
        Row(benchmark="worker, 800 ms simulated AI (1,000 msgs, 1 process x 256)",
            figure=f"{slow['total_s']:.1f} s ({slow['rate']:,.0f} msgs/s)", target=f"≤ {SLOW_AI_TARGET_S:.0f} s",
            met=slow["total_s"] <= SLOW_AI_TARGET_S),
    ]


def _queue(url: str | None, quick: bool) -> list[Row]:
    results = queue_vs_procrastinate.run(url, jobs=5_000 if quick else queue_vs_procrastinate.JOBS)
    for line in queue_vs_procrastinate.summary(results):
        print(line)
    theirs = {r.concurrency: r for r in results if r.queue.startswith("procrastinate")}
    ours = queue_vs_procrastinate.worker_claim_results(results)
    name = ours[0].queue.removeprefix("ours ")
    rows = []
    for n, other in sorted(theirs.items()):
        single = next(r for r in ours if r.concurrency == n and r.batch == 1)
        rows.append(Row(benchmark=f"queue {name} vs procrastinate, {n} consumers, claims of 1",
                        figure=f"{single.rate:,.0f} vs {other.rate:,.0f} jobs/s ({single.rate / other.rate:.2f}x)",
                        target="≥ 1.00x", met=single.rate >= other.rate))
    for r in (r for r in ours if r.batch > 1):
        completion = "one completion per claim" if r.batched_completion else "completion per job"
        rows.append(Row(benchmark=f"queue {name}, {r.concurrency} consumers, claims of {r.batch}, {completion}",
                        figure=f"{r.rate:,.0f} jobs/s", target=f"≥ {queue_vs_procrastinate.TARGET:,} jobs/s",
                        met=r.rate >= queue_vs_procrastinate.TARGET))
    return rows


def _delivery(url: str | None, quick: bool) -> list[Row]:
    script = BENCH_DIR / "webhook_delivery.py"
    if not script.exists():
        return [Row(benchmark="webhook delivery", figure="skipped: bench/webhook_delivery.py is not there")]
    command = [sys.executable, str(script), *(["--database-url", url] if url else []),
               *(["--deliveries", "2000"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False)
    print(done.stdout, end="")
    rate = re.search(r"throughput: ([\d,]+) signed deliveries/s", done.stdout)
    latency = re.search(r"attempt latency: (p50 [\d.]+ ms, p99 [\d.]+ ms)", done.stdout)
    if done.returncode != 0 or rate is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [Row(benchmark="webhook delivery", figure=f"FAILED (exit {done.returncode}): {tail[0][:80]}")]
    value = int(rate[1].replace(",", ""))
    extra = f"; attempt {latency[1]}" if latency else ""
    return [Row(benchmark="webhook delivery (signed, local receiver)", figure=f"{value:,} deliveries/s{extra}",
                target=f"≥ {DELIVERY_TARGET:,}/s", met=value >= DELIVERY_TARGET)]


def _rls(url: str | None, quick: bool) -> list[Row]:
    orders = 100_000 if quick else rls_ratio.ORDERS
    timings, seconds, _ = rls_ratio.run(url, orders=orders, runs=100 if quick else rls_ratio.RUNS)
    print(f"rls_ratio: {orders:,} orders loaded in {seconds:.0f} s")
    return [Row(benchmark=f"RLS / service role over {orders:,} orders: {t.query}",
                figure=f"{t.rls_ms:.3f} vs {t.service_ms:.3f} ms ({t.ratio:.2f}x)", target=f"≤ {rls_ratio.TARGET}x",
                met=t.ratio <= rls_ratio.TARGET) for t in timings]


def _catalog(url: str | None, quick: bool) -> list[Row]:
    products = 5_000 if quick else catalog_import.PRODUCTS
    result = catalog_import.run(url, products)
    return [Row(benchmark=f"catalog import, {products:,} products (CLI, validated, one transaction)",
                figure=f"first {result['first_s']:.1f} s; 10 % changed {result['changed_s']:.1f} s; "
                       f"--prune {result['pruned_s']:.1f} s",
                target=f"< {catalog_import.TARGET_S:.0f} s", met=result["first_s"] < catalog_import.TARGET_S)]
def _replies(url: str | None, quick: bool) -> list[Row]:
    script = BENCH_DIR / "reply_send.py"
    command = [sys.executable, str(script), *(["--database-url", url] if url else []),
               *(["--replies", "1000"] if quick else [])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False)
    print(done.stdout, end="")
    rate = re.search(r"throughput: ([\d,]+) replies/s", done.stdout)
    if done.returncode != 0 or rate is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [Row(benchmark="replies to the Graph API stand-in", figure=f"FAILED (exit {done.returncode}): {tail[0][:80]}")]
    value = int(rate[1].replace(",", ""))
    return [Row(benchmark="replies sent to the Graph API stand-in (WhatsApp, 4 numbers)", figure=f"{value:,} replies/s",
                target=f"≥ {REPLY_TARGET:,}/s", met=value >= REPLY_TARGET)]


BENCHES: list[tuple[str, Callable[[str | None, bool], list[Row]]]] = [
    ("worker_throughput", _worker),
    ("queue_vs_procrastinate", _queue),
    ("webhook_delivery", _delivery),
    ("rls_ratio", _rls),
    ("catalog_import", _catalog),
    ("reply_send", _replies),
]


def table(rows: list[Row]) -> str:
    header = ("benchmark", "figure", "target", "met?")
    cells = [header, *((r.benchmark, r.figure, r.target, r.verdict) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [" | ".join(c[i].ljust(widths[i]) for i in range(len(header))).rstrip() for c in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="server for the scratch databases (default: embedded)")
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of the scripts, not figures)")
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.perf_counter()
    for name, bench in BENCHES:
        print(f"== {name}", flush=True)
        began = time.perf_counter()
        try:
            rows += bench(args.database_url, args.quick)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            rows.append(Row(benchmark=name, figure=f"FAILED: {type(exc).__name__}: {str(exc)[:80]}"))
        print(f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    print()
    print(table(rows))
    print(f"\nmachine: {machine()}; all benchmarks took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
