"""Rate-limit decisions and the pipeline's deferral, over an in-memory repository (no database)."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest

from ai.analyzer import AnalysisRequest, AnalysisResult
from ai.catalog import Catalog
from ai.matching.matcher import Matcher
from ai.pii.detector import PiiDetector
from worker.context import ContextCache, DistributorContext
from worker.core.rate_limit import Decision
from worker.core.repository import Repository
from worker.core.testing import InMemoryRepository
from worker.pipeline import Claim, Pipeline

DISTRIBUTOR = "00000000-0000-0000-0000-0000000000d1"
MESSAGE = "00000000-0000-0000-0000-0000000000a1"


class Contexts:
    def __init__(self, ctx: DistributorContext) -> None:
        self.ctx = ctx

    async def get(self, distributor_id: str) -> DistributorContext:
        return self.ctx

    async def for_customer(self, ctx: DistributorContext, customer_id: str | None) -> tuple[Catalog, Matcher]:
        return ctx.catalog, ctx.matcher


class NoPii:
    def detect(self, text: str, language: str, *, not_names: Any = ()) -> list[Any]:
        return []


class MustNotAnalyze:
    provider, model, prompt_version, paid = "test", "test", "v0", False
    reads_orders = False

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        raise AssertionError("the analyzer ran for a distributor over its AI rate")


def _context(ai_per_minute: int | None) -> DistributorContext:
    catalog = Catalog(distributor=DISTRIBUTOR, products=())
    return DistributorContext(id=DISTRIBUTOR, slug="d", timezone="UTC", language="es", catalog=catalog,
                              matcher=Matcher(catalog), catalog_version="0", budget_micro_usd=None, budget_mode=None,
                              loaded_at=time.monotonic(), ai_per_minute=ai_per_minute)


@pytest.mark.parametrize(("seconds", "header"), [(0.001, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert Decision(allowed=False, retry_after=seconds, limited=True).retry_after_header == header


async def test_a_message_over_the_ai_rate_is_deferred_and_the_analyzer_never_runs() -> None:
    repo = InMemoryRepository({
        "load_message": {"id": MESSAGE, "distributor_id": DISTRIBUTOR, "customer_id": "c", "conversation_id": "v",
                         "kind": "text", "body": "2 cajas de agua", "needs_review": False, "review_reasons": [],
                         "attempts": 1, "max_attempts": 5, "preferred_language": "es"},
        "take_rate_token": {"allowed": False, "retry_after": 0.75, "limited": True},
        "defer_messages": {"deferred": 1},
    })
    pipeline = Pipeline(repo=cast(Repository, repo), contexts=cast(ContextCache, Contexts(_context(60))),
                        analyzer=MustNotAnalyze(), pii_detector=cast(PiiDetector, NoPii()), worker_id="w")
    outcome = await pipeline.process(Claim(message_id=MESSAGE, distributor_id=DISTRIBUTOR, attempts=1))
    assert outcome.state == "deferred"
    assert repo.names == ["load_message", "take_rate_token", "defer_messages"]
    assert repo.ran[-1][1] == {"worker_id": "w", "ids": [MESSAGE], "seconds": 0.75}


async def test_without_an_ai_limit_no_token_is_taken() -> None:
    repo = InMemoryRepository({
        "load_message": {"id": MESSAGE, "distributor_id": DISTRIBUTOR, "customer_id": "c", "conversation_id": "v",
                         "kind": "text", "body": "2 cajas de agua", "needs_review": False, "review_reasons": [],
                         "attempts": 1, "max_attempts": 5, "preferred_language": "es"},
    })
    pipeline = Pipeline(repo=cast(Repository, repo), contexts=cast(ContextCache, Contexts(_context(None))),
                        analyzer=MustNotAnalyze(), pii_detector=cast(PiiDetector, NoPii()), worker_id="w")
    with pytest.raises(AssertionError, match="analyzer ran"):
        await pipeline.process(Claim(message_id=MESSAGE, distributor_id=DISTRIBUTOR, attempts=1))
    assert "take_rate_token" not in repo.names
