"""`orderflow db audit`: check the live schema against the house rules.

Each check is a named query in audit.sql that returns the offending objects; no rows is a PASS.
The checks read the catalog of schema `public` (and, for SECURITY DEFINER functions, every
non-system schema), plus one scan per foreign key for orphan rows. The session runs with
`search_path = ''` so names come back schema-qualified, inside a transaction that is rolled
back (the orphan counter is a `pg_temp` function and leaves nothing behind).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from worker.core.queries import load


@dataclass(frozen=True, kw_only=True)
class Check:
    name: str  # the named query in audit.sql
    title: str
    why: str  # one line: what goes wrong when this fails


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    check: Check
    columns: tuple[str, ...]
    offenders: tuple[tuple[Any, ...], ...]

    @property
    def passed(self) -> bool:
        return not self.offenders

    def offender_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.offenders]


@dataclass(frozen=True, kw_only=True)
class AuditReport:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def result(self, name: str) -> CheckResult:
        for r in self.results:
            if r.check.name == name:
                return r
        raise KeyError(name)

    def to_json(self) -> str:
        body = {
            "passed": self.passed,
            "checks": [
                {
                    "name": r.check.name,
                    "title": r.check.title,
                    "why": r.check.why,
                    "passed": r.passed,
                    "offenders": r.offender_dicts(),
                }
                for r in self.results
            ],
        }
        return json.dumps(body, indent=2, default=_json_default)


CHECKS: tuple[Check, ...] = (
    Check(
        name="rls_enabled",
        title="Row level security is enabled on every public table",
        why="Without RLS the API roles read and write every tenant's rows through PostgREST.",
    ),
    Check(
        name="policies_present",
        title="Every public table has at least one policy",
        why="A table with RLS and no policy is silently empty to the app; a missing policy is usually a forgotten one.",
    ),
    Check(
        name="tenant_key",
        title="Tenant tables carry distributor_id uuid not null references distributors (id)",
        why='Tenant isolation hangs on that column; a table that is truly shared says so with a "global:" comment.',
    ),
    Check(
        name="tenant_key_indexed",
        title="Tenant tables have an index led by distributor_id",
        why="Every policy and every worker query filters on distributor_id; without the index each one scans the table.",
    ),
    Check(
        name="fk_indexed",
        title="Every foreign key is covered by the leading columns of an index",
        why="Deleting or updating a parent row scans the whole child table when the FK columns are not indexed.",
    ),
    Check(
        name="id_without_fk",
        title='Columns named *_id have a foreign key or say "@external"',
        why="An *_id without a FK dangles silently; ids owned by another system must be marked @external in a comment.",
    ),
    Check(
        name="tenant_reference_not_composite",
        title="References between tenant tables include distributor_id on both sides",
        why="A FK on the id alone lets a row of one distributor point at another distributor's row.",
    ),
    Check(
        name="policy_initplan",
        title="Policies call auth and tenant helpers inside (select ...)",
        why="A bare auth.uid() or get_current_distributor_id() is evaluated once per row instead of once per query (splinter 0003).",
    ),
    Check(
        name="security_definer_search_path",
        title="SECURITY DEFINER functions fix their search_path",
        why="With a mutable search_path a caller can shadow the names a privileged function uses (splinter 0011).",
    ),
    Check(
        name="orphan_rows",
        title="No child row points at a missing parent (NOT VALID foreign keys too)",
        why="NOT VALID constraints and replica-mode loads can leave rows whose parent is gone; joins then drop them.",
    ),
    Check(
        name="secrets_not_readable",
        title='Columns commented "secret:" are not SELECT-able by anon or authenticated',
        why="RLS filters rows, not columns: a tenant admin's browser must never receive signing secrets or keys.",
    ),
    Check(
        name="anon_has_no_policies",
        title="No policy applies to anon or PUBLIC",
        why="anon holds table grants by Supabase default; with no policy for it RLS denies it every row.",
    ),
    Check(
        name="client_table_privileges",
        title="anon and authenticated hold no TRUNCATE, TRIGGER or REFERENCES (MAINTAIN) on public tables, now or by default",
        why="RLS guards rows, not these: any signed-in user could truncate every tenant's rows or hook the service's writes.",
    ),
    Check(
        name="server_columns_writable",
        title="Clients cannot set server columns (created_at, updated_at, used_at, used_by, occurred_at)",
        why="A client-chosen created_at decided which tenant's invitation won; server timestamps must be the server's.",
    ),
)


def run_audit(url: str) -> AuditReport:
    """Run every check against the database at `url`; nothing is changed."""
    sql = load("worker.db", "audit.sql")
    results: list[CheckResult] = []
    with psycopg.connect(url) as conn:
        try:
            conn.execute(sql["session_setup"])
            conn.execute(sql["orphan_rows_function"])
            for check in CHECKS:
                cursor = conn.execute(sql[check.name])
                columns = tuple(col.name for col in cursor.description or ())
                results.append(
                    CheckResult(
                        check=check, columns=columns, offenders=tuple(tuple(r) for r in cursor.fetchall())
                    )
                )
        finally:
            conn.rollback()
    return AuditReport(results=tuple(results))


def print_report(report: AuditReport, console: Console) -> None:
    """One section per check: PASS/FAIL, title, why it matters, and a table of offenders."""
    for result in report.results:
        verdict = "[bold green]PASS[/bold green]" if result.passed else "[bold red]FAIL[/bold red]"
        console.print(f"{verdict} [bold]{result.check.name}[/bold]: {result.check.title}")
        if result.passed:
            continue
        console.print(f"     [dim]{result.check.why}[/dim]")
        table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 3, 0, 0))
        for column in result.columns:
            table.add_column(column, style="red" if column in ("table", "function") else None)
        for row in result.offenders:
            table.add_row(*(Text("" if value is None else str(value)) for value in row))
        console.print(Padding(table, (0, 0, 1, 5), expand=False))
    failed = len(report.failed)
    total = len(report.results)
    summary = f"{total - failed}/{total} checks passed"
    console.print(f"[bold green]{summary}[/bold green]" if not failed else f"[bold red]{summary}[/bold red]")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


__all__ = ["CHECKS", "AuditReport", "Check", "CheckResult", "print_report", "run_audit"]
