"""`orderflow catalog import` on a large catalog: 50,000 products in under a minute.

Writes a CSV of N products (aliases, categories, pack sizes), creates a distributor with the CLI,
then times the real command as an operator runs it (a subprocess: CLI start, validation of every
row, one import_catalog_v1 transaction): the first import (all new), a second with 10 % of the
prices changed, and the second again with --prune after dropping 5 % of the rows.

Usage: python bench/catalog_import.py [--database-url URL] [--products N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, scratch_database  # noqa: E402

PRODUCTS = 50_000
TARGET_S = 60.0  # seconds for the first import of PRODUCTS rows
HEADER = "sku,name,aliases,unit,pack_size,price_cents,category\n"
ORDERFLOW = [sys.executable, "-m", "worker"]


def write_catalog(path: Path, products: int, *, price_shift_every: int = 0, drop_every: int = 0) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(products):
            if drop_every and n % drop_every == 0:
                continue
            price = 1000 + n % 5000 + (7 if price_shift_every and n % price_shift_every == 0 else 0)
            out.write(f"SKU-{n:06d},Producto {n} {['lata', 'botella', 'caja'][n % 3]} {n % 900} ml,"
                      f"prod {n}|p{n}|item {n % 1000},{['caja', 'pack', 'pieza'][n % 3]},{1 + n % 24},{price},"
                      f"categoria {n % 40}\n")


def timed(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    began = time.perf_counter()
    done = subprocess.run([*ORDERFLOW, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"orderflow {' '.join(args)} failed: {done.stderr or done.stdout}")
    print(f"  orderflow {' '.join(args[:2])} ...: {seconds:.1f} s — {done.stdout.strip().splitlines()[-1]}")
    return seconds


def run(url: str | None, products: int = PRODUCTS) -> dict[str, float]:
    with scratch_database(url) as db, tempfile.TemporaryDirectory() as tmp:
        first, changed, pruned = Path(tmp) / "first.csv", Path(tmp) / "changed.csv", Path(tmp) / "pruned.csv"
        write_catalog(first, products)
        write_catalog(changed, products, price_shift_every=10)
        write_catalog(pruned, products, price_shift_every=10, drop_every=20)
        timed(db, "distributors", "create", "bench", "--name", "Bench", "--country", "MX", "--currency", "MXN",
              "--timezone", "America/Mexico_City")
        return {"first_s": timed(db, "catalog", "import", str(first), "--distributor", "bench"),
                "changed_s": timed(db, "catalog", "import", str(changed), "--distributor", "bench"),
                "pruned_s": timed(db, "catalog", "import", str(pruned), "--distributor", "bench", "--prune")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="server for the scratch database (default: embedded)")
    parser.add_argument("--products", type=int, default=PRODUCTS)
    args = parser.parse_args()
    result = run(args.database_url, args.products)
    print(f"catalog import: {args.products:,} products first {result['first_s']:.1f} s, 10 % changed "
          f"{result['changed_s']:.1f} s, with --prune {result['pruned_s']:.1f} s (target < {TARGET_S:.0f} s); "
          f"{machine()}")


if __name__ == "__main__":
    main()
