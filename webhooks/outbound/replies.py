"""The reply sender: claim queued replies, send them to the customer, record results in batches.

Each reply goes out through its conversation's integration:
- WhatsApp Cloud API (webhooks.outbound.graph): a text, or for an order confirmation an
  interactive message with confirm / change reply buttons (ids `confirm:<order_id>` and
  `change:<order_id>`, titles in the reply's language from the composition root), or the
  distributor's approved template when the 24-hour window is closed (131047). Each business
  number is paced to its throughput (integration settings `messages_per_second`, Meta's 80 by
  default) and paused on a rate-limit answer, which retries with backoff.
- A generic channel (SMS gateways ...): a Standard Webhooks POST, signed with the integration's
  signing secret, to its `reply_url` setting, through the SSRF-guarded webhook client
  (webhooks.outbound.attempt); a 2xx is `sent`.

The loop is webhooks.outbound.result_batches.BatchedResultsLoop, as the webhook deliverer's: claim until nothing is
due, then wait for a NOTIFY on 'orderflow_replies', a finished attempt or the poll interval; one
flusher writes many results per finish_replies_v1 call. A refused token (401 / 190) marks the integration
failing and its replies wait for a new token. Accepted replies are never claimed again; an attempt
whose answer was lost is not repeated (Meta may have accepted it): it fails as outcome_unknown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from webhooks.outbound import graph
from webhooks.outbound.attempt import Claimed, attempt, build_client
from webhooks.outbound.result_batches import BatchedResultsLoop
from webhooks.outbound.throughput import Pacer
from worker.core.claim_loop import new_worker_id
from worker.core.encryption import EncryptionError, Keyring
from worker.core.repository import Repository, Row, dumps

CHANNEL = "orderflow_replies"
CONCURRENCY = 64  # sends in flight
BATCH_SIZE = 200  # replies per claim at most
PER_DISTRIBUTOR = 50  # replies of one distributor per claim at most (fairness)
LEASE_SECONDS = 60  # must exceed the request timeout: no heartbeat
POLL_INTERVAL = 2.0  # seconds between polls when no NOTIFY arrives
MAX_ATTEMPTS = 8  # sends of one reply before it fails
RETRY_BASE = 2.0  # seconds before the first retry, doubled each time
RETRY_MAX = 3600.0  # seconds at most between two attempts
JITTER = 0.10  # +-10 % of each backoff
TOKEN_COLUMN = "external_integrations.access_token"
HANDLE_COLUMN = "conversations.handle"

ButtonTitles = Callable[[str | None], tuple[str, str]]  # reply language -> (confirm title, change title)

log = logging.getLogger("orderflow.webhooks.replies")


@dataclass(frozen=True, kw_only=True)
class ReplyConfig:
    concurrency: int = CONCURRENCY
    batch_size: int = BATCH_SIZE
    per_distributor: int = PER_DISTRIBUTOR
    lease_seconds: int = LEASE_SECONDS
    poll_interval: float = POLL_INTERVAL
    max_attempts: int = MAX_ATTEMPTS
    retry_base: float = RETRY_BASE
    drain_timeout: float = graph.TIMEOUT + 5.0
    graph: graph.GraphConfig = field(default_factory=graph.GraphConfig)
    allow_private: bool = False  # generic channels' reply URLs on loopback / private addresses

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch_size < 1 or self.per_distributor < 1:
            raise ValueError("concurrency, batch_size and per_distributor must be at least 1")
        if self.lease_seconds <= self.graph.timeout + 1:
            raise ValueError("lease_seconds must exceed the request timeout: no heartbeat renews leases")


@dataclass(frozen=True, kw_only=True)
class ReplyResult:
    """One attempt's outcome as finish_replies_v1 reads it."""

    reply_id: str
    outcome: str  # sent | retry | failed | token | release
    provider_message_id: str | None = None
    via_template: bool = False
    error_code: str | None = None
    error: str | None = None
    delay: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.reply_id, "outcome": self.outcome, "provider_message_id": self.provider_message_id,
                "via_template": self.via_template, "error_code": self.error_code, "error": self.error,
                "delay": self.delay}


@dataclass(kw_only=True)
class ReplyStats:
    outcomes: dict[str, int] = field(default_factory=dict)
    failing_integrations: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)

    def count(self, result: ReplyResult) -> None:
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1


def backoff(attempts_made: int, *, base: float, rng: random.Random) -> float:
    """Seconds before the next attempt: base doubled per attempt made, +-10 %, capped."""
    delay = min(base * 2 ** max(attempts_made - 1, 0), RETRY_MAX)
    return float(delay * (1 + rng.uniform(-JITTER, JITTER)))


def channel_payload(row: Row, handle: str, buttons: list[dict[str, str]]) -> bytes:
    """The signed body of a generic channel's reply: the same bytes on every attempt."""
    data = {"reply_id": str(row["reply_id"]), "message_id": str(row["message_id"]), "to": handle,
            "text": row["body"], "language": row["language"],
            "order_id": str(row["order_id"]) if row["order_id"] else None, "buttons": buttons}
    return json.dumps({"type": "message.reply", "data": data}, ensure_ascii=False, separators=(",", ":")).encode()


class ReplySender(BatchedResultsLoop[Row, ReplyResult]):
    channel = CHANNEL
    kind = "replies"
    log = log
    due_query = "count_due_replies"
    result_kind = "reply"

    def __init__(self, *, repo: Repository, keyring: Keyring, button_titles: ButtonTitles,
                 config: ReplyConfig | None = None, worker_id: str | None = None,
                 graph_client: httpx.AsyncClient | None = None, channel_client: httpx.AsyncClient | None = None,
                 pacer: Pacer | None = None, rng: random.Random | None = None) -> None:
        config = config or ReplyConfig()
        super().__init__(repo=repo, worker_id=worker_id or new_worker_id(), concurrency=config.concurrency,
                         batch_size=config.batch_size, poll_interval=config.poll_interval,
                         drain_timeout=config.drain_timeout, min_claim=max(1, config.concurrency // 4))
        self.keyring = keyring
        self.button_titles = button_titles
        self.config = config
        self.pacer = pacer or Pacer()
        self.stats = ReplyStats()
        self._graph_client = graph_client
        self._channel_client = channel_client
        self._clients: tuple[httpx.AsyncClient, httpx.AsyncClient] | None = None  # of the run in progress
        self._rng = rng or random.Random()
        self.results = self.batches(drain_timeout=config.drain_timeout)

    async def run(self, stop: asyncio.Event | None = None, *, until_idle: bool = False) -> ReplyStats:
        """Send until `stop` is set (or, with until_idle, until nothing is due or in flight)."""
        stop = stop or asyncio.Event()
        graph_client = self._graph_client or build_client(concurrency=self.config.concurrency,
                                                          timeout=self.config.graph.timeout, allow_private=True)
        channel_client = self._channel_client or build_client(concurrency=self.config.concurrency,
                                                              allow_private=self.config.allow_private)
        self._clients = (graph_client, channel_client)
        log.info("reply sender started", extra={"action": "replies_start", "worker_id": self.worker_id})
        try:
            await self.run_with_flusher(stop, until_idle=until_idle)
        finally:
            if self._graph_client is None:
                await graph_client.aclose()
            if self._channel_client is None:
                await channel_client.aclose()
            log.info("reply sender stopped", extra={"action": "replies_stop", "worker_id": self.worker_id,
                                                    **self.stats.outcomes})
        return self.stats

    async def claim(self, batch: int) -> list[Row]:
        return await self.repo.fetch_all("claim_replies", worker_id=self.worker_id, batch=batch,
                                         lease_seconds=self.config.lease_seconds,
                                         per_distributor=self.config.per_distributor)

    def key(self, item: Row) -> str:
        return str(item["reply_id"])

    async def handle(self, item: Row) -> None:
        assert self._clients is not None, "handle runs inside run()"
        await self._run_one(*self._clients, item)

    async def _run_one(self, graph_client: httpx.AsyncClient, channel_client: httpx.AsyncClient, row: Row) -> None:
        reply_id = str(row["reply_id"])
        try:
            if row["integration_kind"] == "whatsapp_cloud":
                result = await self._whatsapp(graph_client, row)
            else:
                result = await self._channel(channel_client, row)
        except asyncio.CancelledError:
            self._add(ReplyResult(reply_id=reply_id, outcome="release"))
            raise
        except EncryptionError as exc:
            result = ReplyResult(reply_id=reply_id, outcome="failed", error=f"encryption: {exc}"[:300])
        except Exception as exc:  # noqa: BLE001 - the job boundary: one reply must not stop the loop
            log.exception("reply attempt crashed", extra={"action": "reply_crash", "reply_id": reply_id})
            result = ReplyResult(reply_id=reply_id, outcome="failed", error=f"internal: {type(exc).__name__}")
        self._add(result)
        log.log(logging.DEBUG if result.outcome == "sent" else logging.INFO, "reply attempt", extra={
            "action": "reply_attempt", "reply_id": reply_id, "distributor_id": str(row["distributor_id"]),
            "integration_id": str(row["integration_id"]), "outcome": result.outcome, "error_code": result.error_code})

    async def _secret(self, row: Row, blob_column: str, plain_column: str, column: str) -> str | None:
        if row[blob_column] is not None:
            key = await self.keyring.data_key(self.repo, str(row["distributor_id"]))
            return key.open(bytes(row[blob_column]), column)
        value: str | None = row[plain_column]
        return value

    def _buttons(self, row: Row) -> graph.Buttons | None:
        if row["kind"] != "confirmation" or row["order_id"] is None:
            return None
        confirm, change = self.button_titles(row["language"])
        order_id = str(row["order_id"])
        return graph.Buttons(confirm_id=f"confirm:{order_id}", confirm_title=confirm,
                             change_id=f"change:{order_id}", change_title=change)

    async def _whatsapp(self, client: httpx.AsyncClient, row: Row) -> ReplyResult:
        reply_id, integration_id = str(row["reply_id"]), str(row["integration_id"])
        token = await self._secret(row, "access_token_encrypted", "access_token", TOKEN_COLUMN)
        if not token:
            return ReplyResult(reply_id=reply_id, outcome="token", error_code="no_token", error="no access token stored")
        to = await self._secret(row, "handle_encrypted", "handle", HANDLE_COLUMN)
        if not to:
            return ReplyResult(reply_id=reply_id, outcome="failed", error="no recipient handle")
        settings = row["integration_settings"] or {}
        rate = settings.get("messages_per_second") if isinstance(settings.get("messages_per_second"), int | float) else None
        def template() -> dict[str, Any]:
            return graph.template_message(
                to, name=row["template_name"] or graph.DEFAULT_TEMPLATE_NAME,
                language=graph.template_language(row["template_language"], row["language"]), summary=row["body"] or "")

        via_template = bool(row["via_template"])
        buttons = self._buttons(row)
        if via_template:
            message = template()
        elif buttons is not None:
            message = graph.button_message(to, row["body"] or "", buttons)
        else:
            message = graph.text_message(to, row["body"] or "")
        await self.pacer.wait(integration_id, rate)
        sent = await graph.send(client, self.config.graph, phone_number_id=row["account"], token=token, message=message)
        if sent.outcome == "window_closed" and not via_template:
            via_template = True
            await self.pacer.wait(integration_id, rate)
            sent = await graph.send(client, self.config.graph, phone_number_id=row["account"], token=token,
                                    message=template())
        return self._whatsapp_result(row, sent, via_template)

    def _whatsapp_result(self, row: Row, sent: graph.SendResult, via_template: bool) -> ReplyResult:
        result = ReplyResult(reply_id=str(row["reply_id"]), outcome="failed", via_template=via_template,
                             error_code=sent.error_code, error=sent.error)
        if sent.outcome == "accepted":
            return ReplyResult(reply_id=result.reply_id, outcome="sent", provider_message_id=sent.wamid,
                               via_template=via_template)
        if sent.outcome == "token":
            return ReplyResult(reply_id=result.reply_id, outcome="token", error_code=sent.error_code, error=sent.error)
        if sent.outcome == "retry":
            return self._retry(result, int(row["attempts"]), sent.retry_after, str(row["integration_id"]))
        return result  # failed, or the template's window closed too

    def _retry(self, result: ReplyResult, attempts_before: int, retry_after: float | None,
               pace_key: str | None) -> ReplyResult:
        attempts_made = attempts_before + 1
        if attempts_made >= self.config.max_attempts:
            return ReplyResult(reply_id=result.reply_id, outcome="failed", via_template=result.via_template,
                               error_code=result.error_code, error=f"attempts_exhausted: {result.error}")
        delay = max(backoff(attempts_made, base=self.config.retry_base, rng=self._rng), retry_after or 0.0)
        if pace_key is not None:
            self.pacer.pause(pace_key, delay)  # the whole number slows down, not just this reply
        return ReplyResult(reply_id=result.reply_id, outcome="retry", via_template=result.via_template,
                           error_code=result.error_code, error=result.error, delay=delay)

    async def _channel(self, client: httpx.AsyncClient, row: Row) -> ReplyResult:
        reply_id = str(row["reply_id"])
        settings = row["integration_settings"] or {}
        url = settings.get("reply_url")
        secrets = tuple((row["signing_secret"] or "").split())
        if not isinstance(url, str) or not url or not secrets:
            return ReplyResult(reply_id=reply_id, outcome="failed", error="no_reply_url_or_secret")
        handle = await self._secret(row, "handle_encrypted", "handle", HANDLE_COLUMN) or ""
        found = self._buttons(row)
        buttons = [] if found is None else [{"id": found.confirm_id, "title": found.confirm_title},
                                            {"id": found.change_id, "title": found.change_title}]
        claimed = Claimed(delivery_id=reply_id, distributor_id=str(row["distributor_id"]),
                          endpoint_id=str(row["integration_id"]), url=url, secrets=secrets,
                          event_id=f"reply_{reply_id}", event_type="message.reply",
                          payload=channel_payload(row, handle, buttons), attempts=int(row["attempts"]))
        outcome = await attempt(client, claimed, rng=self._rng)
        if outcome.outcome == "succeeded":
            return ReplyResult(reply_id=reply_id, outcome="sent")
        failed = ReplyResult(reply_id=reply_id, outcome="failed", error_code=str(outcome.status_code or ""),
                             error=outcome.error)
        if outcome.outcome == "retry":  # our backoff, not the webhook schedule: a customer waits for this
            return self._retry(failed, int(row["attempts"]), None, None)
        return failed

    def _add(self, result: ReplyResult) -> None:
        self.stats.count(result)
        self.results.add(result)

    async def finish(self, batch: list[ReplyResult]) -> None:
        row = await self.repo.fetch_one("finish_replies", worker_id=self.worker_id,
                                        results=dumps([r.as_json() for r in batch]))
        for integration_id in (row or {}).get("failing_integrations") or ():
            self.stats.failing_integrations.append(str(integration_id))
            log.warning("integration failing", extra={"action": "integration_failing",
                                                      "integration_id": str(integration_id)})


__all__ = ["CHANNEL", "ButtonTitles", "ReplyConfig", "ReplyResult", "ReplySender", "ReplyStats", "backoff",
           "channel_payload"]
