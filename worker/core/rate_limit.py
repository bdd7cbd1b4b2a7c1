"""Per-distributor rate limits (public.api_rate_limits), enforced in Postgres.

Each limit is a token bucket shared by every intake and worker process: one call of
take_rate_token per request (GCRA state in private.rate_buckets, one upsert). Two scopes:

- inbound: requests the HTTP intake accepts per distributor, after the signature check (so
  unsigned floods cannot spend a tenant's tokens). The integration's own row, else the
  distributor-wide row, else DEFAULT_INBOUND_PER_MINUTE / DEFAULT_INBOUND_BURST. Over the limit
  the intake answers 429 with Retry-After and stores nothing (WhatsApp retries non-2xx).
- ai: analyzer calls per distributor, for every analyzer (offline included), only when the
  distributor has an `ai` row; without one, AI calls are unlimited (no default: a paid provider
  has its own account-wide limits, and the offline analyzer costs nothing). A message over the
  limit is deferred (defer_messages: due again later, no attempt spent), and the claim
  (the `claim_messages` query) holds back a distributor's messages while its bucket is empty.

`burst` is how many requests may arrive at once (0 counts as 1); requests_per_minute refills it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from worker.core.repository import NamedQueries

DEFAULT_INBOUND_PER_MINUTE = 600  # requests per minute per distributor without an api_rate_limits row
DEFAULT_INBOUND_BURST = 100  # requests at once
MIN_RETRY_AFTER = 1  # seconds: Retry-After is a whole number of seconds, at least one

Scope = Literal["inbound", "ai"]


@dataclass(frozen=True, kw_only=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until a token is available; 0 when allowed
    limited: bool  # False: no limit applies (unlimited scope)

    @property
    def retry_after_header(self) -> str:
        """Retry-After value: whole seconds, rounded up."""
        return str(max(MIN_RETRY_AFTER, math.ceil(self.retry_after)))


async def take_token(repo: NamedQueries, *, distributor_id: str, scope: Scope, integration_id: str | None = None,
                     default_per_minute: int | None = None, default_burst: int = 0) -> Decision:
    """Take one token of the distributor's `scope` limit (default_per_minute None: unlimited without a row)."""
    row = await repo.fetch_one("take_rate_token", distributor_id=distributor_id, integration_id=integration_id,
                               scope=scope, default_rpm=default_per_minute, default_burst=default_burst)
    if row is None:
        return Decision(allowed=True, retry_after=0.0, limited=False)
    return Decision(allowed=bool(row["allowed"]), retry_after=float(row["retry_after"]), limited=bool(row["limited"]))


async def take_inbound_token(repo: NamedQueries, *, distributor_id: str, integration_id: str) -> Decision:
    return await take_token(repo, distributor_id=distributor_id, scope="inbound", integration_id=integration_id,
                            default_per_minute=DEFAULT_INBOUND_PER_MINUTE, default_burst=DEFAULT_INBOUND_BURST)


async def take_ai_token(repo: NamedQueries, *, distributor_id: str) -> Decision:
    return await take_token(repo, distributor_id=distributor_id, scope="ai")


__all__ = ["DEFAULT_INBOUND_BURST", "DEFAULT_INBOUND_PER_MINUTE", "Decision", "Scope", "take_ai_token",
           "take_inbound_token", "take_token"]
