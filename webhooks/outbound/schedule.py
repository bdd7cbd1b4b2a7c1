"""When to try a webhook delivery again, and what an attempt's outcome means.

Schedule (the Svix / Standard Webhooks one): attempt 1 immediately, then after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h and 10 h: 8 attempts over about 27.6 hours; when the 8th fails the
message is dead. Each delay gets +-10 % jitter so a recovering endpoint is not hit by every
queued message in the same second. A Retry-After header (seconds or HTTP-date) can push the
next attempt later, never earlier, and never beyond MAX_DELAY.

Classification follows Svix: every non-2xx status is retried (3xx too: redirects are not
followed, and 4xx are often transient misconfigurations the distributor fixes within the
retry window), except 410 Gone, which per the Standard Webhooks spec asks the sender to
disable the endpoint. Transport errors (timeouts, refused connections, TLS, DNS) are retried.
A refused target (the SSRF guard's BlockedAddress, an invalid URL) fails the message at once:
retrying cannot change our own policy.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

SCHEDULE: tuple[float, ...] = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)  # seconds before attempt n
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.10  # +-10 % of each delay
MAX_DELAY = 24 * 3600.0  # seconds; cap for Retry-After driven delays
GONE = 410  # Standard Webhooks: "disable this endpoint"

ERROR_BLOCKED = "blocked_address"  # the SSRF guard refused the target
ERROR_INVALID_URL = "invalid_url"
PERMANENT_ERRORS = frozenset({ERROR_BLOCKED, ERROR_INVALID_URL})

Outcome = Literal["success", "retry", "disable", "fail"]

_rng = random.Random()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait according to a Retry-After header (delay-seconds or HTTP-date), or None.

    A date in the past means 0; unparseable values are ignored (None).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 12 else MAX_DELAY
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" zone: UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return max(0.0, (when - reference).total_seconds())


def next_attempt_delay(
    attempts_made: int,
    *,
    retry_after: str | None = None,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> float | None:
    """Seconds until the next attempt after `attempts_made` attempts, or None: no more (dead).

    `attempts_made=0` gives the first attempt (immediately). `retry_after` is the raw header
    of the last response; `now` is only needed to read an HTTP-date (default: the clock).
    """
    if attempts_made < 0:
        raise ValueError("attempts_made must be >= 0")
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts_made]
    delay = base * (rng or _rng).uniform(1.0 - JITTER, 1.0 + JITTER)
    if retry_after is not None:
        server_delay = parse_retry_after(retry_after, now or datetime.now(UTC))
        if server_delay is not None and math.isfinite(server_delay):
            delay = max(delay, server_delay)
    return min(delay, MAX_DELAY)


def classify(status_code: int | None, error: str | None) -> Outcome:
    """What one attempt's result means for the message and the endpoint.

    `status_code` is the response status (None when no response arrived); `error` a short
    transport error code or description (ERROR_BLOCKED / ERROR_INVALID_URL fail at once,
    anything else, e.g. "timeout" or "connect_error", is retried).
    """
    if status_code is not None:
        if 200 <= status_code <= 299:
            return "success"
        if status_code == GONE:
            return "disable"
        return "retry"
    if error is not None and error in PERMANENT_ERRORS:
        return "fail"
    return "retry"


__all__ = [
    "ERROR_BLOCKED",
    "ERROR_INVALID_URL",
    "JITTER",
    "MAX_ATTEMPTS",
    "MAX_DELAY",
    "SCHEDULE",
    "Outcome",
    "classify",
    "next_attempt_delay",
    "parse_retry_after",
]
