"""One interface for both analyzers (OpenAI and offline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ai.catalog import Catalog
from ai.contract import Analysis


@dataclass(frozen=True, kw_only=True)
class RecentOrderLine:
    sku: str
    quantity: float


@dataclass(frozen=True, kw_only=True)
class MediaPart:
    """A photo or document sent with the message: the analysis request includes it (vision)."""

    mime_type: str  # image/jpeg, image/png, image/webp, application/pdf
    content: bytes = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class AnalysisRequest:
    text: str  # already redacted: analyzers never see raw PII
    catalog: Catalog
    now: datetime  # timezone-aware; delivery words resolve against it in catalog.timezone
    recent_orders: tuple[tuple[RecentOrderLine, ...], ...] = ()
    customer_language: str | None = None
    media: tuple[MediaPart, ...] = ()  # photos / documents of a list; only analyzers that read images get them
    # the customer's open order (what a change applies to) and last order ("the usual"), history included
    open_order: tuple[RecentOrderLine, ...] = ()
    last_order: tuple[RecentOrderLine, ...] = ()
    open_order_recent: bool = False  # the open order is within the follow-up window (a plain line restates it)
    message_kind: str = "text"  # "button" / "interactive": a reply button's title


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Token usage of one AI call, for the usage ledger."""

    provider: str  # "openai" | "offline"
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class AnalysisResult:
    analysis: Analysis
    usage: Usage
    latency_ms: float
    prompt_version: str
    raw: dict[str, object] = field(default_factory=dict)  # structured output as returned, for ai_responses


class AnalysisFailed(Exception):
    """The analyzer could not produce a usable analysis (after its own retries).

    `retryable` tells the worker whether trying again later may help (timeouts, 5xx)
    or whether the message should go to review now (refusal, invalid output).
    """

    def __init__(self, reason: str, *, retryable: bool, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.usage = usage


class Analyzer(Protocol):
    provider: str
    model: str
    prompt_version: str
    paid: bool  # False for the offline analyzer: budget hard stops do not apply
    reads_orders: bool  # True: give it the open order and the last order (conversations)

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult: ...


__all__ = [
    "AnalysisFailed",
    "AnalysisRequest",
    "AnalysisResult",
    "Analyzer",
    "MediaPart",
    "RecentOrderLine",
    "Usage",
]
