"""Turn one message's analysis into the outcome record that record_outcome writes.

Pure functions: no I/O, so the routing rules (order or not, review or not, why) are unit-tested
without a database. The decision lives in the analysis fields, never in prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ai.analyzer import AnalysisResult, Usage
from ai.catalog import Catalog
from ai.contract import Analysis, Intent, Line
from ai.cost import OFFLINE_PROVIDER, ModelPrice, cost_micro_usd, price_for
from ai.matching.matcher import Matcher
from ai.pii.detector import PiiFinding
from ai.routing import NO_MATCHED_LINES, is_order

REVIEW_CONFIDENCE = 0.75  # a line below this goes to a person instead of being guessed
CANDIDATES_KEPT = 3  # candidates stored in product_matching_history per line


@dataclass(frozen=True, kw_only=True)
class MessageFacts:
    """What every outcome of one message carries, whatever the route."""

    message_id: str
    distributor_id: str
    worker_id: str
    language: str
    body_redacted: str
    findings: Sequence[PiiFinding]

    def header(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "distributor_id": self.distributor_id, "worker_id": self.worker_id,
                "language": self.language, "body_redacted": self.body_redacted, "pii": pii_rows(self.findings)}


@dataclass(frozen=True, kw_only=True)
class LineDecision:
    line_no: int
    line: Line
    sku: str | None
    quantity: float
    review_reason: str | None


def decide_lines(lines: Sequence[Line], catalog: Catalog, threshold: float = REVIEW_CONFIDENCE) -> list[LineDecision]:
    decisions: list[LineDecision] = []
    for number, line in enumerate(lines, start=1):
        sku = line.sku if line.sku and catalog.by_sku(line.sku) is not None else None
        reason: str | None = None
        quantity = line.quantity
        if sku is None:
            reason = "unmatched" if line.sku is None else f"unknown_sku:{line.sku}"
        elif line.confidence < threshold:
            reason = "low_confidence"
        if quantity <= 0:
            quantity = 1.0
            reason = reason or "quantity_missing"
        decisions.append(LineDecision(line_no=number, line=line, sku=sku, quantity=quantity, review_reason=reason))
    return decisions


def usage_row(usage: Usage, *, prompt_version: str, latency_ms: float, prices: Sequence[ModelPrice],
              price_ids: dict[tuple[str, str, date], str], today: date) -> dict[str, Any]:
    price = price_for(prices, usage.provider, usage.model, today)
    return {
        "provider": usage.provider,
        "model": usage.model,
        "prompt_version": prompt_version,
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_micro_usd": cost_micro_usd(usage, price) if price is not None else 0,
        "price_id": price_ids.get((price.provider, price.model, price.effective_from)) if price is not None else None,
        "latency_ms": round(latency_ms),
    }


def price_unknown(usage: Usage, prices: Sequence[ModelPrice], today: date) -> bool:
    """A paid call whose model has no price in force: its cost is not known, so it is not 0."""
    return usage.provider != OFFLINE_PROVIDER and price_for(prices, usage.provider, usage.model, today) is None


def send_to_review(outcome: dict[str, Any], reason: str) -> dict[str, Any]:
    """The outcome with the message, its analysis and its order (if any) in review for `reason`."""
    reasons = sorted({*outcome["review_reasons"], reason})
    changed: dict[str, Any] = {**outcome, "needs_review": True, "review_reasons": reasons}
    if outcome.get("analysis"):
        changed["analysis"] = {**outcome["analysis"], "needs_review": True}
    if outcome.get("order"):
        order = outcome["order"]
        changed["order"] = {**order, "status": "needs_review", "review_reasons": sorted({*order["review_reasons"], reason})}
    conversation = outcome.get("conversation")
    if conversation and conversation.get("action") in {"create", "update"}:  # the order the message makes or changes
        changed["conversation"] = {**conversation, "status": "needs_review",
                                   "review_reasons": sorted({*conversation.get("review_reasons", ()), reason})}
    return changed


def pii_rows(findings: Sequence[PiiFinding]) -> list[dict[str, Any]]:
    return [
        {"category": f.category, "entity_type": f.entity_type, "start": f.start, "end": f.end,
         "score": f.score, "recognizer": f.recognizer}
        for f in findings
    ]


def build_outcome(
    facts: MessageFacts,
    *,
    result: AnalysisResult,
    usage: dict[str, Any],
    catalog: Catalog,
    matcher: Matcher,
) -> dict[str, Any]:
    analysis: Analysis = result.analysis
    decisions = decide_lines(analysis.lines, catalog)
    review_reasons = list(analysis.review_reasons)
    order: dict[str, Any] | None = None
    if analysis.intent == Intent.ORDER and decisions and not is_order(True, analysis.lines, catalog,
                                                                       facts.body_redacted):
        review_reasons.append(NO_MATCHED_LINES)  # lines that match nothing: no order, whatever the model said
    elif analysis.intent == Intent.ORDER:
        if not decisions:
            review_reasons.append("order_without_lines")
        else:
            line_reasons = [f"{d.review_reason}:line:{d.line_no}" for d in decisions if d.review_reason]
            reasons = sorted(set(review_reasons + line_reasons))
            needs_review = analysis.needs_review or bool(line_reasons)
            order = {
                "status": "needs_review" if needs_review else "created",
                "review_reasons": reasons if needs_review else [],
                "delivery_date": analysis.delivery.date if analysis.delivery else None,
                "delivery_text": analysis.delivery.text if analysis.delivery else None,
                "lines": [
                    {"line_no": d.line_no, "customer_text": d.line.text, "sku": d.sku, "quantity": d.quantity,
                     "unit": d.line.unit, "confidence": d.line.confidence, "match_method": d.line.evidence[:200],
                     "review_reason": d.review_reason}
                    for d in decisions
                ],
            }
            review_reasons = reasons
    needs_review = analysis.needs_review or bool(order and order["status"] == "needs_review") or (
        "order_without_lines" in review_reasons or NO_MATCHED_LINES in review_reasons
    )
    matches = []
    for d in decisions:
        candidates = matcher.candidates(d.line.text, limit=CANDIDATES_KEPT)
        chosen = next((c for c in candidates if c.sku == d.sku), None)
        matches.append({
            "line_no": d.line_no, "query_text": d.line.text, "chosen_sku": d.sku, "score": d.line.confidence,
            "method": chosen.method if chosen else ("none" if d.sku is None else "analyzer"),
            "accepted": d.review_reason is None,
            "candidates": [{"sku": c.sku, "score": round(c.score, 3), "method": c.method} for c in candidates],
        })
    confidences = [line.confidence for line in analysis.lines]
    return {
        **facts.header(),
        "needs_review": needs_review,
        "review_reasons": sorted(set(review_reasons)) if needs_review else [],
        "analysis": {
            "provider": result.usage.provider, "model": result.usage.model, "prompt_version": result.prompt_version,
            "intent": analysis.intent.value, "language": analysis.language,
            "output": analysis.model_dump(mode="json"),
            "confidence": min(confidences) if confidences else None,
            "needs_review": needs_review, "latency_ms": round(result.latency_ms),
        },
        "usage": [usage],
        "matches": matches,
        "order": order,
        "reply": analysis.reply,
    }


def review_outcome(facts: MessageFacts, *, reason: str) -> dict[str, Any]:
    """A message that goes to a person without analysis (budget stop, media without text)."""
    return {**facts.header(), "needs_review": True, "review_reasons": [reason], "analysis": None, "usage": [],
            "matches": [], "order": None, "reply": None}


__all__ = ["REVIEW_CONFIDENCE", "LineDecision", "MessageFacts", "build_outcome", "decide_lines", "price_unknown", "review_outcome",
           "send_to_review", "usage_row"]
