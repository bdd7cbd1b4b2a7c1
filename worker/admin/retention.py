"""Data retention: anonymise or delete what is past each distributor's retention window (`orderflow retention run`).

The policy in force per distributor and data kind is its data_retention_policies row, or the
default (supabase/migrations/20261123093200_retention.sql): message bodies 90 days (anonymised:
the message row, its ids and state stay, so orders keep their source), PII findings 90 days
(deleted), AI responses 180 days (output replaced by '{}', the metadata stays); orders and their
lines are kept. `apply_retention` does one batch per call and transaction, skipping rows
someone holds, so the loop below runs until a batch comes back short.

Each distributor and kind gets one structured log line with its counts and, when rows changed,
a 'retention_applied' security event. A second run finds nothing and writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from worker.core.repository import Repository, dumps

DEFAULT_BATCH = 1000  # rows per batch, one transaction each
ACTOR = "retention"  # security_audit_log.actor of the job

logger = logging.getLogger("orderflow.retention")


@dataclass(frozen=True, kw_only=True)
class RetentionResult:
    distributor_id: str
    slug: str
    data_kind: str
    action: str  # anonymise | delete | keep
    retain_days: int | None
    is_default: bool  # no policy row: the platform default applies
    affected: int  # rows changed; on a dry run, rows that would change
    batches: int
    dry_run: bool


async def run_retention(repo: Repository, *, batch: int = DEFAULT_BATCH, dry_run: bool = False,
                        slug: str | None = None) -> list[RetentionResult]:
    """Apply every distributor's (or one slug's) retention policies; one result per distributor and kind."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    policies = await repo.fetch_all("retention_policies", slug=slug)
    return [await _apply(repo, policy, batch=batch, dry_run=dry_run) for policy in policies]


async def _apply(repo: Repository, policy: dict[str, Any], *, batch: int, dry_run: bool) -> RetentionResult:
    target = {"distributor_id": policy["distributor_id"], "data_kind": policy["data_kind"]}
    affected = batches = 0
    if policy["action"] == "keep":
        pass
    elif dry_run:
        row = await repo.fetch_one("retention_due", **target)
        affected = int(row["due"]) if row else 0
    else:
        while True:
            row = await repo.fetch_one("apply_retention", batch=batch, **target)
            changed = int(row["affected"]) if row else 0
            affected += changed
            batches += 1
            if changed < batch:
                break
    result = RetentionResult(
        distributor_id=str(policy["distributor_id"]), slug=policy["slug"], data_kind=policy["data_kind"],
        action=policy["action"], retain_days=policy["retain_days"], is_default=policy["is_default"],
        affected=affected, batches=batches, dry_run=dry_run,
    )
    if affected and not dry_run:
        await repo.fetch_one(
            "log_security_event", distributor_id=policy["distributor_id"], event_type="retention_applied",
            severity="info", actor=ACTOR,
            details=dumps({"data_kind": result.data_kind, "action": result.action, "retain_days": result.retain_days,
                           "default_policy": result.is_default, "affected": affected, "batches": batches}),
        )
    logger.info(
        "retention %s", "dry run" if dry_run else "applied",
        extra={"action": "retention_dry_run" if dry_run else "retention_applied",
               "distributor_id": result.distributor_id, "slug": result.slug, "data_kind": result.data_kind,
               "policy_action": result.action, "retain_days": result.retain_days, "default_policy": result.is_default,
               "affected": affected, "batches": batches},
    )
    return result


__all__ = ["DEFAULT_BATCH", "RetentionResult", "run_retention"]
