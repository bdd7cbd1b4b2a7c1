"""One message through the pipeline: PII → (budget) → analysis → matching → one atomic write."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ai.analyzer import AnalysisFailed, AnalysisRequest, Analyzer, RecentOrderLine
from ai.language import detect_language
from ai.pii.detector import PiiDetector, redact
from worker.context import ContextCache
from worker.conversation import OrderState, changeable, within_window
from worker.conversation_outcome import Orders, with_conversation
from worker.core.rate_limit import take_ai_token
from worker.core.repository import DatabaseUnavailable, OrderChanged, Repository, dumps
from worker.media import MediaRead, MediaReader
from worker.outcome import (
    MessageFacts,
    build_outcome,
    price_unknown,
    review_outcome,
    send_to_review,
    usage_row,
)

RECORD_RETRY_FOR = 60.0  # seconds: keep retrying the final write while the database is away
RECORD_RETRY_STEP = 0.5  # seconds between those retries
TEXT_KINDS = frozenset({"text", "interactive", "button", "order"})
MEDIA_KINDS = frozenset({"audio", "image", "document", "video", "sticker"})
MEDIA_REASON_PREFIX = "media:"  # the intake's review reason for media, dropped once the media was read

log = logging.getLogger("orderflow.pipeline")


@dataclass(frozen=True, kw_only=True)
class Claim:
    message_id: str
    distributor_id: str
    attempts: int
    message: dict[str, Any] | None = None  # the fields the claim returned; None: load them


@dataclass(frozen=True, kw_only=True)
class Processed:
    state: str  # "processed" | "queued" (retry) | "failed" | "lost" | "deferred" (over the AI rate)
    order_status: str | None = None
    events: int = 0


def retry_delay(attempts: int, base: float) -> float:
    """Exponential backoff between attempts of one message, capped at five minutes."""
    return float(min(base * 2 ** max(attempts - 1, 0), 300.0))


class Pipeline:
    def __init__(
        self,
        *,
        repo: Repository,
        contexts: ContextCache,
        analyzer: Analyzer,
        pii_detector: PiiDetector,
        worker_id: str,
        retry_base: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        media: MediaReader | None = None,
    ) -> None:
        self.repo = repo
        self.contexts = contexts
        self.analyzer = analyzer
        self.pii = pii_detector
        self.worker_id = worker_id
        self.retry_base = retry_base
        self.clock = clock
        self.media = media

    async def process(self, claim: Claim) -> Processed:
        msg = claim.message or await self.repo.fetch_one("load_message", message_id=claim.message_id,
                                                         distributor_id=claim.distributor_id)
        if msg is None:
            return Processed(state="lost")
        ctx = await self.contexts.get(claim.distributor_id)
        body: str = msg["body"] or ""
        media: MediaRead | None = None
        over_budget: bool | None = None  # the month's spend against a hard budget: read at most once per message

        async def over_hard_budget() -> bool:
            nonlocal over_budget
            if over_budget is None:
                over_budget = await self._over_hard_budget(ctx.budget_micro_usd, ctx.budget_mode, claim)
            return over_budget

        if self.media is not None and msg["kind"] in MEDIA_KINDS:
            understand = self.analyzer.paid and not await over_hard_budget()
            try:
                media = await self.media.read(distributor_id=claim.distributor_id, message_id=claim.message_id,
                                              understand=understand, language=msg["preferred_language"])
            except AnalysisFailed as exc:
                return await self._fail(claim, f"analysis:{exc.reason[:60]}", str(exc), retryable=exc.retryable)
            if media.readable:
                body = "\n".join(part for part in (body, *media.transcripts) if part.strip())
        fallback_language = msg["preferred_language"] or ctx.language
        language = detect_language(body, default=fallback_language) if body.strip() else fallback_language
        findings = self.pii.detect(body, language, not_names=ctx.own_words) if body.strip() else []
        redacted = redact(body, findings)
        facts = MessageFacts(message_id=claim.message_id, distributor_id=claim.distributor_id, worker_id=self.worker_id,
                             language=language, body_redacted=redacted, findings=findings)

        outcome: dict[str, Any]
        images = media.parts if media is not None and media.readable else ()
        if not body.strip() and not images:
            reason = f"media:{msg['kind']}" if msg["kind"] not in TEXT_KINDS else "empty_message"
            outcome = review_outcome(facts, reason=reason)
        elif self.analyzer.paid and await over_hard_budget():
            outcome = review_outcome(facts, reason="budget_exceeded")
        else:
            now = self.clock().astimezone(ZoneInfo(ctx.timezone))
            received_at: datetime = msg.get("received_at") or self.clock()
            orders = await self._orders(msg) if self.analyzer.reads_orders else Orders()
            if orders.open is not None and not changeable(orders.open, received_at, ctx.order_policy):
                orders = replace(orders, open=None)  # past the distributor's cut-off: no more changes
            catalog, matcher = await self.contexts.for_customer(ctx, msg["customer_id"])
            request = AnalysisRequest(
                text=redacted, catalog=catalog, now=now, recent_orders=orders.recent,
                customer_language=msg["preferred_language"], open_order=orders.open_lines(),
                last_order=orders.last_lines(), message_kind=str(msg["kind"] or "text"),
                open_order_recent=orders.open is not None and within_window(orders.open, received_at, ctx.order_policy),
                media=images,
            )
            if ctx.ai_per_minute is not None:
                decision = await take_ai_token(self.repo, distributor_id=claim.distributor_id)
                if not decision.allowed:
                    return await self._defer(claim, decision.retry_after)
            try:
                result = await self.analyzer.analyze(request)
            except AnalysisFailed as exc:
                return await self._fail(claim, f"analysis:{exc.reason[:60]}", str(exc), retryable=exc.retryable)
            prices, price_ids = await self.contexts.prices()
            usage = usage_row(result.usage, prompt_version=result.prompt_version, latency_ms=result.latency_ms,
                              prices=prices, price_ids=price_ids, today=now.date())
            outcome = build_outcome(facts, result=result, usage=usage, catalog=catalog, matcher=matcher)
            outcome = with_conversation(outcome, result.analysis, catalog=catalog, open_order=orders.open,
                                        last_order=orders.last, received_at=received_at, policy=ctx.order_policy)
            if price_unknown(result.usage, prices, now.date()):  # tokens recorded, cost unknown: never a silent 0
                log.warning("no price for the model", extra={"action": "price_unknown", "message_id": claim.message_id,
                                                             "provider": result.usage.provider, "model": result.usage.model})
                outcome = send_to_review(outcome, "price_unknown")

        intake_reasons = set(msg["review_reasons"] or ())
        if media is not None:
            if media.readable:  # the media was read: the intake's "a person must look at it" no longer holds
                intake_reasons = {r for r in intake_reasons if not r.startswith(MEDIA_REASON_PREFIX)}
            intake_reasons |= set(media.problems)
            if media.transcriptions:
                prices, price_ids = await self.contexts.prices()
                today = self.clock().astimezone(ZoneInfo(ctx.timezone)).date()
                outcome["usage"] = [*outcome["usage"], *(
                    usage_row(t.usage, prompt_version="transcription", latency_ms=t.latency_ms, prices=prices,
                              price_ids=price_ids, today=today) for t in media.transcriptions)]
        if intake_reasons and (msg["needs_review"] or media is not None):  # flagged at intake (media, a bad cart item)
            outcome["needs_review"] = True
            outcome["review_reasons"] = sorted(set(outcome["review_reasons"]) | intake_reasons)
        try:
            return await self._record(outcome)
        except OrderChanged as exc:  # staff changed the order since we read it: again, on the fresh order
            return await self._fail(claim, "order_changed", str(exc), retryable=True)

    async def _over_hard_budget(self, budget: int | None, mode: str | None, claim: Claim) -> bool:
        if budget is None or mode != "hard":
            return False
        row = await self.repo.fetch_one("month_spend", distributor_id=claim.distributor_id)
        return row is not None and int(row["spent"]) >= budget

    async def _orders(self, msg: dict[str, Any]) -> Orders:
        """The customer's recent orders, open order and last order (both analyzers read them)."""
        distributor_id, customer_id = str(msg["distributor_id"]), msg["customer_id"]
        states = {row["role"]: OrderState.from_row(row) for row in
                  await self.repo.fetch_all("conversation_orders", distributor_id=distributor_id, customer_id=customer_id)}
        orders = Orders(open=states.get("open"), last=states.get("last"))
        if not self.analyzer.paid:  # the prompt's recent orders: the offline analyzer needs only the last one
            return replace(orders, recent=(orders.last_lines(),) if orders.last is not None else ())
        rows = await self.repo.fetch_all("recent_orders", distributor_id=distributor_id, customer_id=customer_id)
        recent: dict[str, list[RecentOrderLine]] = {}
        for row in rows:
            recent.setdefault(str(row["id"]), []).append(RecentOrderLine(sku=row["sku"], quantity=float(row["quantity"])))
        return replace(orders, recent=tuple(tuple(lines) for lines in recent.values()))

    async def _record(self, outcome: dict[str, Any]) -> Processed:
        payload = dumps(outcome)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECORD_RETRY_FOR
        while True:
            try:
                row = await self.repo.fetch_one("record_outcome", outcome=payload)
                break
            except DatabaseUnavailable:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(RECORD_RETRY_STEP)
        result = row["result"] if row else {}
        created = result.get("action") == "create" and result.get("order_id") is not None
        return Processed(state="processed", order_status=result.get("order_status") if created else None,
                         events=int(result.get("events") or 0))

    async def _defer(self, claim: Claim, seconds: float) -> Processed:
        """Over the distributor's AI rate: due again in `seconds`, the attempt given back."""
        row = await self.repo.fetch_one("defer_messages", worker_id=self.worker_id, ids=[claim.message_id],
                                        seconds=seconds)
        deferred = bool(row and row["deferred"])
        log.info("message deferred", extra={"action": "message_deferred", "message_id": claim.message_id,
                                            "distributor_id": claim.distributor_id, "seconds": round(seconds, 3)})
        return Processed(state="deferred" if deferred else "lost")

    async def _fail(self, claim: Claim, error_type: str, message: str, *, retryable: bool) -> Processed:
        row = await self.repo.fetch_one(
            "fail_message", message_id=claim.message_id, worker_id=self.worker_id, error_type=error_type,
            error_message=message, retryable=retryable, retry_delay=retry_delay(claim.attempts, self.retry_base),
        )
        state = row["state"] if row and row["state"] else "lost"
        log.warning("message attempt failed", extra={"action": "message_failed_attempt", "message_id": claim.message_id,
                                                      "distributor_id": claim.distributor_id, "state": state,
                                                      "error_type": error_type})
        return Processed(state=state)

    async def fail_unexpected(self, claim: Claim, exc: BaseException) -> Processed:
        """A bug or an unforeseen error in one message: count the attempt, keep the error, never drop it."""
        return await self._fail(claim, f"internal:{type(exc).__name__}", repr(exc)[:2000], retryable=True)


__all__ = ["Claim", "Pipeline", "Processed", "retry_delay"]
