"""Final routing does not trust the model's flags: recorded model answers (respx) that call a question an
order with lines matching nothing, and an order with an unmatched line, with needs_review false."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from ai.analyzer import AnalysisRequest, AnalysisResult
from ai.catalog import Catalog, Product
from ai.matching.matcher import Matcher
from ai.openai.analyzer import OpenAIAnalyzer, OpenAIConfig
from ai.routing import NO_MATCHED_LINES, is_order, matches_something
from worker.conversation import Policy
from worker.conversation_outcome import with_conversation
from worker.outcome import MessageFacts, build_outcome

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
CATALOG = Catalog(distributor="t", timezone="America/Mexico_City", products=(
    Product(sku="CC-600", name="Coca-Cola 600 ml (caja 24)", aliases=("coca 600",), unit="caja", pack_size=24,
            price_cents=1000),
    Product(sku="GARR", name="Garrafón de agua 20 L", aliases=("garrafon",), unit="pieza", price_cents=500),
))
def facts(text: str) -> MessageFacts:
    return MessageFacts(message_id="m1", distributor_id="d1", worker_id="w1", language="es", body_redacted=text,
                        findings=())
USAGE: dict[str, Any] = {"provider": "openai", "model": "gpt-4o-mini"}


def line(text: str, sku: str | None, confidence: float = 0.95) -> dict[str, Any]:
    return {"op": "add", "text": text, "quantity": 2, "unit": None, "sku": sku, "confidence": confidence, "evidence": "model"}


def answer(lines: list[dict[str, Any]], intent: str = "order") -> httpx.Response:
    """A recorded chat completion: the model's own flags say all is fine."""
    content = {"intent": intent, "action": "none", "closes_order": False, "language": "es", "lines": lines, "delivery": None, "needs_review": False,
               "review_reasons": [], "reply": "¡Listo!"}
    body = {"id": "chatcmpl-rec", "object": "chat.completion", "created": 1764950400, "model": "local-model",
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": json.dumps(content), "refusal": None}}],
            "usage": {"prompt_tokens": 1070, "completion_tokens": 230, "total_tokens": 1300}}
    return httpx.Response(200, json=body)


@pytest.fixture
async def analyzer() -> AsyncIterator[OpenAIAnalyzer]:
    async def no_sleep(_: float) -> None:
        return None

    async with httpx.AsyncClient() as http:
        yield OpenAIAnalyzer(OpenAIConfig(api_key="sk-test", max_attempts=1), http_client=http, sleep=no_sleep)


async def route(analyzer: OpenAIAnalyzer, text: str, response: httpx.Response) -> tuple[AnalysisResult, dict[str, Any]]:
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(OPENAI_URL).mock(return_value=response)
        result = await analyzer.analyze(AnalysisRequest(text=text, catalog=CATALOG,
                                                        now=datetime(2026, 12, 1, 15, tzinfo=UTC)))
    outcome = build_outcome(facts(text), result=result, usage=USAGE, catalog=CATALOG, matcher=Matcher(CATALOG))
    # the pipeline's final routing: the outcome, then what it does to the customer's orders (none open here)
    return result, with_conversation(outcome, result.analysis, catalog=CATALOG, open_order=None, last_order=None,
                                     received_at=datetime(2026, 12, 1, 15, tzinfo=UTC), policy=Policy())


async def test_a_question_the_model_calls_an_order_with_lines_matching_nothing_is_no_order(
    analyzer: OpenAIAnalyzer,
) -> None:
    result, outcome = await route(analyzer, "¿a qué hora pasa el camión mañana? gracias",
                                  answer([line("camión mañana", None, 0.9)]))
    assert result.analysis.intent.value == "order"  # what the model said
    assert outcome["conversation"]["action"] == "none"  # no order
    assert outcome["needs_review"] is True and NO_MATCHED_LINES in outcome["review_reasons"]


async def test_an_unmatched_line_sends_the_order_to_review_whatever_the_model_said(
    analyzer: OpenAIAnalyzer,
) -> None:
    _, outcome = await route(analyzer, "mándame 2 cajas de coca 600 y 2 de tortillas",
                             answer([line("2 cajas de coca 600", "CC-600"), line("2 de tortillas", None)]))
    assert outcome["conversation"]["status"] == "needs_review"
    assert "unmatched:line:2" in outcome["review_reasons"] and outcome["needs_review"] is True


async def test_a_low_confidence_line_sends_the_order_to_review(analyzer: OpenAIAnalyzer) -> None:
    _, outcome = await route(analyzer, "mándame 2 garrafones", answer([line("2 garrafones", "GARR", 0.4)]))
    assert outcome["conversation"]["status"] == "needs_review" and "low_confidence:line:1" in outcome["review_reasons"]


async def test_a_clean_order_is_created(analyzer: OpenAIAnalyzer) -> None:
    _, outcome = await route(analyzer, "mándame 2 garrafones", answer([line("2 garrafones", "GARR")]))
    assert outcome["conversation"]["status"] == "created" and outcome["needs_review"] is False


async def test_an_order_verb_keeps_an_unmatched_order_for_a_person(analyzer: OpenAIAnalyzer) -> None:
    _, outcome = await route(analyzer, "mándame 3 cajas de las rojitas porfa",
                             answer([line("3 cajas de las rojitas", None, 0.3)]))
    assert outcome["conversation"]["status"] == "needs_review" and "unmatched:line:1" in outcome["review_reasons"]
    assert NO_MATCHED_LINES not in outcome["review_reasons"]


def test_is_order_needs_a_catalog_product() -> None:
    from ai.contract import Line

    unknown = Line(op="add", text="x", quantity=1, unit=None, sku="NOPE", confidence=1.0, evidence="")
    known = Line(op="add", text="y", quantity=1, unit=None, sku="GARR", confidence=1.0, evidence="")
    assert not matches_something([unknown], CATALOG) and matches_something([unknown, known], CATALOG)
    assert not is_order(True, [], CATALOG, "mándame algo") and not is_order(False, [known], CATALOG, "")
    assert is_order(True, [known], CATALOG, "") and not is_order(True, [unknown], CATALOG, "gracias!")
    assert is_order(True, [unknown], CATALOG, "send 2 cases of the red ones")
