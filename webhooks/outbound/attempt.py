"""One webhook delivery attempt: sign the frozen payload, POST it, say what the result means.

Exactly the stored payload bytes are sent, with the Standard Webhooks headers (webhook-id = the
event id, the same on every attempt; webhook-timestamp = this attempt; one v1 signature per
active secret, newest first), through the SSRF-guarded transport, without following redirects,
cut off after `timeout` seconds from connect to last byte. `webhooks.outbound.schedule` classifies
the result: 2xx succeeded; 410 gone (the endpoint gets disabled); a refused target failed at
once; anything else is retried on the schedule (multiplied by `schedule_scale`, which tests use
to compress time; a Retry-After header can only push the next attempt later and is never
scaled) until the attempts run out: dead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from webhooks.outbound.schedule import (
    ERROR_BLOCKED,
    ERROR_INVALID_URL,
    MAX_DELAY,
    classify,
    next_attempt_delay,
    parse_retry_after,
)
from webhooks.outbound.signing import InvalidSecret, signature_headers
from webhooks.outbound.ssrf import BlockedAddress, GuardedTransport

TIMEOUT = 15.0  # seconds per attempt, connect to last byte
SNIPPET_CHARS = 500  # of the response body kept in response_snippet
SNIPPET_READ_BYTES = 4096  # of the response body read at most
CONNECTIONS_PER_POOL = 2  # see _PoolShards
KEEPALIVE_EXPIRY = 30.0  # seconds an idle connection to an endpoint is kept
USER_AGENT = "orderflow-webhooks/1"


@dataclass(frozen=True, kw_only=True)
class Claimed:
    """One leased delivery, with what an attempt needs."""

    delivery_id: str
    distributor_id: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]  # newest first
    event_id: str  # the webhook-id header, the same on every attempt
    event_type: str
    payload: bytes  # exactly the bytes to send and sign
    attempts: int  # attempts made before this one


@dataclass(frozen=True, kw_only=True)
class Result:
    """The outcome of one attempt, as finish_deliveries reads it."""

    delivery_id: str
    outcome: str  # succeeded | retry | dead | failed | gone | release (not attempted)
    status_code: int | None = None
    error: str | None = None
    snippet: str | None = None
    delay: float | None = None  # seconds until the next attempt (retry)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.delivery_id, "outcome": self.outcome, "status_code": self.status_code,
                "error": self.error, "snippet": self.snippet, "delay": self.delay}


def retry_delay(attempts_made: int, retry_after: str | None, *, scale: float, rng: random.Random) -> float | None:
    """Seconds until the next attempt (the scaled schedule, or a longer Retry-After), or None: dead."""
    base = next_attempt_delay(attempts_made, rng=rng)
    if base is None:
        return None
    delay = base * scale
    server = parse_retry_after(retry_after, datetime.now(UTC))
    if server is not None and math.isfinite(server):
        delay = max(delay, server)
    return min(delay, MAX_DELAY)


async def _snippet(response: httpx.Response) -> str | None:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= SNIPPET_READ_BYTES:
            break
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")[:SNIPPET_CHARS] if data else None  # jsonb: no NUL


async def _send(client: httpx.AsyncClient, claimed: Claimed, timeout: float) -> tuple[int, str | None, str | None]:
    """POST the delivery; returns (status, Retry-After header, body snippet)."""
    headers = signature_headers(claimed.secrets, claimed.event_id, int(time.time()), claimed.payload)
    headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
    async with asyncio.timeout(timeout):
        async with client.stream("POST", claimed.url, content=claimed.payload, headers=headers) as response:
            return response.status_code, response.headers.get("retry-after"), await _snippet(response)


async def attempt(client: httpx.AsyncClient, claimed: Claimed, *, timeout: float = TIMEOUT,
                  schedule_scale: float = 1.0, rng: random.Random | None = None) -> Result:
    """Deliver once and say what happened; whatever the target does, this returns a Result."""
    status: int | None = None
    code: str | None = None  # the error code classify() reads
    error: str | None = None  # what last_error records
    snippet = retry_after = None
    try:
        status, retry_after, snippet = await _send(client, claimed, timeout)
    except BlockedAddress as exc:
        code = ERROR_INVALID_URL if exc.reason == "invalid_url" else ERROR_BLOCKED
        error = f"{code}: {exc.reason}"
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        code, error = ERROR_INVALID_URL, f"{ERROR_INVALID_URL}: {type(exc).__name__}"
    except (TimeoutError, httpx.TimeoutException):
        code = error = "timeout"
    except httpx.ConnectError:
        code = error = "connect_error"
    except (httpx.HTTPError, OSError) as exc:
        code, error = "network_error", f"network_error: {type(exc).__name__}"
    except InvalidSecret as exc:  # a malformed stored secret: retried, so rotating it in time saves the event
        code, error = "invalid_secret", f"invalid_secret: {exc.reason}"
    outcome = classify(status, code)
    if status is not None and outcome != "success":
        error = f"http_status: {status}"
    result = Result(delivery_id=claimed.delivery_id, outcome="succeeded", status_code=status, error=error,
                    snippet=snippet)
    if outcome == "success":
        return result
    if outcome == "disable":
        return dataclasses.replace(result, outcome="gone")
    if outcome == "fail":
        return dataclasses.replace(result, outcome="failed")
    delay = retry_delay(claimed.attempts + 1, retry_after, scale=schedule_scale, rng=rng or random.Random())
    return dataclasses.replace(result, outcome="retry" if delay is not None else "dead", delay=delay)


class _PoolShards(httpx.AsyncBaseTransport):
    """Several small guarded connection pools behind one client transport.

    httpcore's pool scans all of its connections for every queued request, so one pool of 64
    connections costs more CPU than the HTTP itself (measured on the 2-core bench machine:
    about 250 requests/s with one pool of 64 against 1,400 with 32 pools of 2). Each request
    goes to the least busy pool; ties go to the first, which keeps its connections warm.
    """

    def __init__(self, shards: list[GuardedTransport]) -> None:
        self._shards = shards
        self._busy = [0] * len(shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            return await self._shards[index].handle_async_request(request)
        finally:
            self._busy[index] -= 1

    async def aclose(self) -> None:
        await asyncio.gather(*(shard.aclose() for shard in self._shards))


def build_client(*, concurrency: int, timeout: float = TIMEOUT, allow_private: bool = False) -> httpx.AsyncClient:
    """The one client all deliveries share: SSRF-guarded, pooled, no redirects, `timeout` per phase."""
    pools = max(1, math.ceil(concurrency / CONNECTIONS_PER_POOL))
    limits = httpx.Limits(max_connections=CONNECTIONS_PER_POOL, max_keepalive_connections=CONNECTIONS_PER_POOL,
                          keepalive_expiry=KEEPALIVE_EXPIRY)
    ssl_context = httpx.create_ssl_context()  # loading the CA bundle once, not per pool
    shards = [GuardedTransport(allow_private=allow_private, limits=limits, ssl_context=ssl_context)
              for _ in range(pools)]
    return httpx.AsyncClient(transport=_PoolShards(shards), timeout=httpx.Timeout(timeout), follow_redirects=False)


__all__ = ["TIMEOUT", "USER_AGENT", "Claimed", "Result", "attempt", "build_client", "retry_delay"]
