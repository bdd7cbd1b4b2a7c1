"""CPU cost of the offline analyzer per message, on one core, as the worker runs it.

Loads the three eval catalogs and the eval cases (cases-dev.jsonl plus the unit tests' extra
cases), builds one OfflineAnalyzer and one Matcher per catalog (once per process, like the
worker), warms up, then times `analyze_text` plus `Matcher.candidates` for each resulting
line's text (what worker/outcome.py stores per line) over all cases repeated to ~N messages.

Prints µs/message (p50, p99, mean; wall and process CPU) and messages/s on one core for each
of a few passes, then the best pass (the machine may be busy); asserts nothing. `--unique`
appends a random word to every message so that no cache ever sees the same text twice.
Usage: python bench/offline_analyzer_speed.py [--messages N] [--passes P] [--unique] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import random
import statistics
import string
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai.eval.datasets import eval_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ai.analyzer import AnalysisRequest  # noqa: E402
from ai.catalog import Catalog, load_catalog_file  # noqa: E402
from ai.matching.matcher import Matcher  # noqa: E402
from ai.offline.analyzer import OfflineAnalyzer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = eval_dir()
EXTRA_CASES = REPO_ROOT / "tests" / "unit" / "fixtures" / "offline_extra_cases.jsonl"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # the eval's fixed Monday
CANDIDATES_KEPT = 3  # as worker/outcome.py
WARMUP_ROUNDS = 2
UNIQUE_SEED = 20261123
UNIQUE_WORD_LETTERS = 7  # "--unique": a random word this long ends each message


def load_cases(*paths: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in paths:
        cases += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return cases


def load_catalogs(directory: Path) -> dict[str, Catalog]:
    catalogs = (load_catalog_file(path) for path in sorted(directory.glob("catalog-*.json")))
    return {catalog.distributor: catalog for catalog in catalogs}


def one_message(analyzer: OfflineAnalyzer, matchers: dict[str, Matcher], request: AnalysisRequest) -> int:
    """What the worker spends CPU on for one message: the analysis, then stored candidates per line."""
    analysis = analyzer.analyze_text(request)
    matcher = matchers[request.catalog.distributor]
    for line in analysis.lines:
        matcher.candidates(line.text, limit=CANDIDATES_KEPT)
    return len(analysis.lines)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(UNIQUE_WORD_LETTERS))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


@dataclass(frozen=True, kw_only=True)
class Pass:
    micros: list[float]  # wall time per message
    cpu_micros: float  # process CPU time per message, averaged
    wall: float  # seconds for the whole pass
    lines: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.micros)

    def describe(self) -> str:
        return (f"p50 {percentile(self.micros, 50):.0f} µs, p99 {percentile(self.micros, 99):.0f} µs, "
                f"mean {self.mean:.0f} µs (cpu {self.cpu_micros:.0f} µs), "
                f"{len(self.micros) / self.wall:,.0f} messages/s")


def timed_pass(analyzer: OfflineAnalyzer, matchers: dict[str, Matcher], batches: list[list[AnalysisRequest]]) -> Pass:
    micros: list[float] = []
    lines = 0
    clock = time.perf_counter
    cpu_started, started = time.process_time(), clock()
    for batch in batches:
        for request in batch:
            t0 = clock()
            lines += one_message(analyzer, matchers, request)
            micros.append((clock() - t0) * 1e6)
    wall = clock() - started
    cpu = (time.process_time() - cpu_started) * 1e6 / len(micros)
    return Pass(micros=micros, cpu_micros=cpu, wall=wall, lines=lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages per timed pass")
    parser.add_argument("--passes", type=int, default=3, help="timed passes; the best one is reported")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one pass instead")
    parser.add_argument("--unique", action="store_true",
                        help="make every message text distinct (a new word appended), so no cache sees a repeat")
    args = parser.parse_args()

    catalogs = load_catalogs(EVAL_DIR)
    cases = load_cases(EVAL_DIR / "cases-dev.jsonl", EXTRA_CASES)
    analyzer = OfflineAnalyzer()
    # the worker keeps its own Matcher per catalog (worker/context.py) besides the analyzer's
    matchers = {slug: Matcher(catalog) for slug, catalog in catalogs.items()}
    requests = [AnalysisRequest(text=c["text"], catalog=catalogs[c["distributor"]], now=NOW) for c in cases]
    rounds = max(1, round(args.messages / len(requests)))
    rng = random.Random(UNIQUE_SEED)

    def batches() -> list[list[AnalysisRequest]]:
        if not args.unique:
            return [requests] * rounds
        return [[replace(r, text=f"{r.text}\n{_word(rng)}") for r in requests] for _ in range(rounds)]

    for _ in range(WARMUP_ROUNDS):
        for request in requests:
            one_message(analyzer, matchers, request)

    if args.profile:
        work = batches()
        profiler = cProfile.Profile()
        profiler.enable()
        timed_pass(analyzer, matchers, work)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return

    kind = "unique texts" if args.unique else "repeated texts"
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{rounds * len(requests)} messages per pass ({len(requests)} cases x {rounds}, {kind})")
    passes: list[Pass] = []
    for number in range(1, args.passes + 1):
        passes.append(timed_pass(analyzer, matchers, batches()))
        print(f"pass {number}: {passes[-1].describe()}")
    best = min(passes, key=lambda p: p.mean)
    print(f"best pass: {best.describe()}; lines per pass: {best.lines}")


if __name__ == "__main__":
    main()
