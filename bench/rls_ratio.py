"""What Row Level Security costs a distributor's order queries: RLS user versus service role.

A scratch database gets 1,000,000 orders spread over 20 distributors (50,000 each, 500 customers
each, created over the last 180 days, one in ten needs_review) and two order_products lines per
order, generated in SQL (generate_series) with triggers off for the load. Then three queries a
distributor's dashboard runs, each timed warm many times (median, client side, round trip
included):

- latest: the 50 latest orders with their totals and line count (order_products)
- review: the count of needs_review orders created this month
- customer: the 100 latest orders of one customer

as a staff user of one distributor (`set local role authenticated` + `request.jwt.claims`, as
Supabase's PostgREST does; the query has no distributor filter: the policies add it) and as
service_role with an explicit `where distributor_id = $1`. The two connections take turns, so
background noise hits both alike. Prints median ms for both and the ratio. Target: ratio ≤ 1.3.
`--explain` prints both plans (EXPLAIN ANALYZE) of each query.

Usage: python bench/rls_ratio.py [--orders N] [--distributors D] [--runs R] [--explain] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, scratch_database  # noqa: E402
from tests.support.tenants import SERVICE_ROLE, create_user, impersonate  # noqa: E402

ORDERS = 1_000_000
DISTRIBUTORS = 20
CUSTOMERS = 500  # per distributor
LINES = 2  # order_products per order
RUNS = 1_000  # timed executions per query and role (each well under a millisecond or two)
WARMUP = 50  # untimed executions first
TARGET = 1.3  # RLS median / service-role median

LOAD = [
    "set session_replication_role = replica",  # a bulk load of consistent rows: no FK or audit triggers
    """insert into public.distributors (slug, name)
       select 'rls-' || i, 'RLS bench ' || i from generate_series(1, %(distributors)s) i""",
    """insert into public.customers (distributor_id, name)
       select d.id, 'Tienda ' || g from public.distributors d, generate_series(1, %(customers)s) g""",
    """insert into public.orders (distributor_id, customer_id, status, currency, subtotal_cents, total_cents, created_at)
select c.distributor_id, c.ids[1 + g %% cardinality(c.ids)],
       case when g %% 10 = 0 then 'needs_review' else 'created' end::public.order_status, 'MXN',
       (g * 7919) %% 500000, (g * 7919) %% 500000,
       now() - ((g::bigint * 104729) %% (180 * 86400)) * interval '1 second'
  from (select distributor_id, array_agg(id order by id) as ids from public.customers group by distributor_id) c,
       generate_series(1, %(per_distributor)s) g""",
    """insert into public.order_products (distributor_id, order_id, line_no, customer_text, quantity, unit_price_cents,
                                   total_cents, created_at)
select o.distributor_id, o.id, l, 'caja de agua', l, o.total_cents / %(lines)s, o.total_cents / %(lines)s, o.created_at
  from public.orders o, generate_series(1, %(lines)s) l""",
    "set session_replication_role = origin",
]

# (name, the query as the distributor's user runs it, the same as service_role with the explicit filter)
QUERIES = [
    ("latest 50 orders with totals and lines",
     """select o.id, o.status, o.total_cents, o.created_at, l.lines, l.lines_cents
          from public.orders o
          cross join lateral (select count(*) as lines, sum(op.total_cents) as lines_cents from public.order_products op
                               where op.distributor_id = o.distributor_id and op.order_id = o.id) l
         order by o.created_at desc limit 50""",
     """select o.id, o.status, o.total_cents, o.created_at, l.lines, l.lines_cents
          from public.orders o
          cross join lateral (select count(*) as lines, sum(op.total_cents) as lines_cents from public.order_products op
                               where op.distributor_id = o.distributor_id and op.order_id = o.id) l
         where o.distributor_id = %(distributor_id)s
         order by o.created_at desc limit 50"""),
    ("needs_review orders this month",
     """select count(*) from public.orders
         where status = 'needs_review' and created_at >= date_trunc('month', now())""",
     """select count(*) from public.orders
         where distributor_id = %(distributor_id)s and status = 'needs_review' and created_at >= date_trunc('month', now())"""),
    ("100 latest orders of one customer",
     """select id, status, total_cents, created_at from public.orders
         where customer_id = %(customer_id)s order by created_at desc limit 100""",
     """select id, status, total_cents, created_at from public.orders
         where distributor_id = %(distributor_id)s and customer_id = %(customer_id)s order by created_at desc limit 100"""),
]


@dataclass(frozen=True, kw_only=True)
class Timing:
    query: str
    rls_ms: float  # median
    service_ms: float  # median
    rows: int

    @property
    def ratio(self) -> float:
        return self.rls_ms / self.service_ms


def load(url: str, *, orders: int, distributors: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        params = {"distributors": distributors, "customers": CUSTOMERS, "per_distributor": orders // distributors,
                  "lines": LINES}
        for statement in LOAD:
            conn.execute(statement, params if "%(" in statement else None)
        conn.execute("vacuum analyze public.distributors, public.customers, public.orders, public.order_products")
    return time.perf_counter() - started


def measure(url: str, *, runs: int, explain: bool) -> tuple[list[Timing], str]:
    with psycopg.connect(url) as setup:
        distributor_id, customer_id = setup.execute(
            "select c.distributor_id, c.id from public.customers c join public.distributors d on d.id = c.distributor_id"
            " where d.slug = 'rls-1' order by c.id limit 1").fetchone()  # type: ignore[misc]
        user_id = create_user(setup, distributor_id, "staff")
        setup.commit()
    params = {"distributor_id": distributor_id, "customer_id": customer_id}
    plans: list[str] = []
    timings = []
    with psycopg.connect(url) as rls, psycopg.connect(url) as service, \
            impersonate(rls, user_id), impersonate(service, SERVICE_ROLE):  # each for its open transaction
        for name, as_user, as_service in QUERIES:
            samples: dict[str, list[float]] = {"rls": [], "service": []}
            rows = {}
            for i in range(WARMUP + runs):
                for key, conn, sql in (("rls", rls, as_user), ("service", service, as_service)):
                    started = time.perf_counter()
                    result = conn.execute(sql, params).fetchall()
                    if i >= WARMUP:
                        samples[key].append(time.perf_counter() - started)
                    rows[key] = result
            if rows["rls"] != rows["service"]:
                raise SystemExit(f"{name}: the RLS user and the service role got different rows")
            timings.append(Timing(query=name, rls_ms=statistics.median(samples["rls"]) * 1000,
                                  service_ms=statistics.median(samples["service"]) * 1000, rows=len(rows["rls"])))
            if explain:
                for key, conn, sql in (("RLS user", rls, as_user), ("service_role", service, as_service)):
                    plan = conn.execute("explain (analyze, costs off, timing off, summary on) " + sql, params)
                    plans.append(f"--- {name}, as {key}\n" + "\n".join(r[0] for r in plan.fetchall()))
    return timings, "\n".join(plans)


def run(database_url: str | None = None, *, orders: int = ORDERS, distributors: int = DISTRIBUTORS, runs: int = RUNS,
        explain: bool = False) -> tuple[list[Timing], float, str]:
    """(timings per query, load seconds, plans when explain)."""
    with scratch_database(database_url) as url:
        seconds = load(url, orders=orders, distributors=distributors)
        timings, plans = measure(url, runs=runs, explain=explain)
    return timings, seconds, plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--distributors", type=int, default=DISTRIBUTORS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query, both ways")
    parser.add_argument("--database-url", default=None, help="server to create the scratch database on")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    timings, seconds, plans = run(args.database_url, orders=args.orders, distributors=args.distributors, runs=args.runs,
                                  explain=args.explain)
    print(f"{args.orders:,} orders ({args.orders * LINES:,} lines) over {args.distributors} distributors, loaded in "
          f"{seconds:.0f} s; median of {args.runs} warm runs each")
    for t in timings:
        print(f"{t.query}: RLS user {t.rls_ms:.3f} ms, service_role {t.service_ms:.3f} ms, ratio {t.ratio:.2f} "
              f"({t.rows} rows)")
    print(f"worst ratio {max(t.ratio for t in timings):.2f} (target ≤ {TARGET})")
    if plans:
        print(plans)


if __name__ == "__main__":
    main()
