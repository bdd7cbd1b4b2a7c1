"""OpenAIAnalyzer at the HTTP layer: the real openai SDK over an httpx client mocked by respx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from openai.lib import type_to_response_format_param

from ai.analyzer import AnalysisFailed, AnalysisRequest, RecentOrderLine
from ai.catalog import Catalog, Product
from ai.contract import Analysis, Intent
from ai.openai.analyzer import (
    CANDIDATES_PER_LINE,
    PROMPT_VERSION,
    OpenAIAnalyzer,
    OpenAIConfig,
    load_prompt,
)

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
NOW = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # still Thursday 13 March in Mexico City
RAW_TEXT = (
    "Hola soy Juan Pérez, mi cel 55 1234 5678, mándame 2 cajas de coca cola 600 y 3 sabritas originales"
)
REDACTED = (
    "Hola soy <PERSON>, mi cel <PHONE_NUMBER>, mándame 2 cajas de coca cola 600 y 3 sabritas originales"
)
PII = ("Juan", "Pérez", "P\\u00e9rez", "1234", "5678")

NAMES = (
    "Coca Cola 600ml|Coca Cola 2L|Sabritas Originales 45g|Sabritas Limón 45g|Pepsi 600ml|"
    "Agua Bonafont 1L|Detergente Ariel 1kg|Cloralex 1L|Papel Higiénico Pétalo 4 rollos|Jabón Zote 400g|"
    "Arroz Morelos 1kg|Frijol Negro Verde Valle 1kg|Aceite Nutrioli 850ml|Atún Dolores 140g|"
    "Leche Lala Entera 1L|Huevo San Juan 12 piezas|Pan Bimbo Blanco|Galletas Marías Gamesa|"
    "Café Nescafé Clásico 120g|Azúcar Zulka 1kg|Sal La Fina 1kg|Mayonesa McCormick 390g|"
    "Chiles Jalapeños La Costeña|Sopa Maruchan Camarón|Cerveza Corona 355ml|Jugo Del Valle Mango 1L|"
    "Gansito Marinela|Chocolate Abuelita|Harina Maseca 1kg|Servilletas Pétalo"
).split("|")
BRANDS = (
    "Fabuloso",
    "Pinol",
    "Maestro Limpio",
    "Vanish",
    "Suavitel",
    "Downy",
    "Axion",
    "Salvo",
    "Foca",
    "Roma",
)
NAMES += [f"{kind} {brand}" for kind in ("Limpiador", "Veladora", "Escoba") for brand in BRANDS]
PRODUCTS = tuple(
    Product(
        sku=f"SKU-{i:03d}",
        name=name,
        unit="caja" if i < 2 else "pieza",
        pack_size=24 if i < 2 else 1,
        price_cents=1000 + i,
    )
    for i, name in enumerate(NAMES)
)
CATALOG = Catalog(distributor="abarrotes-norte", products=PRODUCTS, timezone="America/Mexico_City")


def request(text: str = REDACTED, **kwargs: Any) -> AnalysisRequest:
    return AnalysisRequest(text=text, catalog=CATALOG, now=NOW, customer_language="es", **kwargs)


def output(sku: str | None = "SKU-000", **overrides: Any) -> dict[str, Any]:
    line = {
        "op": "add",
        "text": "2 cajas de coca cola 600",
        "quantity": 2,
        "unit": "caja",
        "sku": sku,
        "confidence": 0.93,
        "evidence": "candidate 1",
    }
    data: dict[str, Any] = {
        "intent": "order",
        "action": "none",
        "closes_order": False,
        "language": "es",
        "lines": [line],
        "delivery": None,
        "needs_review": False,
        "review_reasons": [],
        "reply": "¡Listo! 2 cajas de Coca Cola 600.",
    }
    data.update(overrides)
    return data


def completion(
    content: str | None = None,
    *,
    refusal: str | None = None,
    finish: str = "stop",
    tokens: tuple[int, int, int] = (1800, 120, 1024),
) -> httpx.Response:
    prompt, completion_tokens, cached = tokens
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1741928400,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish,
                "logprobs": None,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }
    return httpx.Response(200, json=body)


def ok(data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    return completion(json.dumps(data if data is not None else output(), ensure_ascii=False), **kwargs)


def error(status: int, headers: dict[str, str] | None = None, code: str | None = None) -> httpx.Response:
    body = {"error": {"message": f"status {status}", "type": "server_error", "param": None, "code": code}}
    return httpx.Response(status, json=body, headers=headers or {})


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def analyzer(sleeps: Sleeps) -> AsyncIterator[OpenAIAnalyzer]:
    async with httpx.AsyncClient() as http:
        config = OpenAIConfig(api_key="sk-test", max_attempts=3, max_total_wait_s=20.0)
        yield OpenAIAnalyzer(config, http_client=http, sleep=sleeps)


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


def user_document(body: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(body["messages"][1]["content"])
    return document


# --- the request ---------------------------------------------------------------------------------


async def test_request_binds_the_analysis_schema_strictly(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=ok())
    await analyzer.analyze(request())
    body = sent(route)
    assert body["model"] == "gpt-4o-mini"
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["name"] == "Analysis"
    assert fmt == json.loads(json.dumps(type_to_response_format_param(Analysis)))
    schema = fmt["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(Analysis.model_fields)
    line = schema["$defs"]["Line"]
    assert line["additionalProperties"] is False and set(line["required"]) == set(line["properties"])
    assert set(line["properties"]["op"]["enum"]) == {"add", "set", "remove"}
    assert set(schema["$defs"]["OrderAction"]["enum"]) == {"new", "change", "cancel", "confirm", "repeat_last", "none"}
    assert {"action", "closes_order"} <= set(schema["required"])
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test"


async def test_request_has_no_raw_pii_and_only_candidate_products(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=ok())
    await analyzer.analyze(request())
    raw_body = route.calls[0].request.content.decode()
    assert all(secret in RAW_TEXT for secret in PII if "\\" not in secret)  # what redaction removed
    for secret in PII:
        assert secret not in raw_body
    assert "<PHONE_NUMBER>" in raw_body and "<PERSON>" in raw_body
    document = user_document(sent(route))
    assert document["message"] == REDACTED
    offered = {c["sku"] for line in document["lines"] for c in line["candidates"]}
    in_body = {p.sku for p in PRODUCTS if p.sku in raw_body}
    assert in_body == offered  # every catalog product in the request is a candidate ...
    assert 0 < len(offered) <= CANDIDATES_PER_LINE * len(document["lines"])  # ... a few per line ...
    assert len(offered) < len(PRODUCTS) / 2  # ... never the catalog
    assert {"SKU-000", "SKU-002"} <= offered  # coca cola 600, sabritas originales
    for line in document["lines"]:
        for candidate in line["candidates"]:
            assert set(candidate) == {"sku", "name", "unit", "pack_size"}


async def test_prompt_carries_date_timezone_language_and_recent_orders(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=ok())
    recent = ((RecentOrderLine(sku="SKU-010", quantity=3),),)
    await analyzer.analyze(request(recent_orders=recent))
    body = sent(route)
    assert body["messages"][0] == {"role": "system", "content": load_prompt()}
    document = user_document(body)
    assert document["today"] == "2025-03-13" and document["weekday"] == "Thursday"
    assert document["timezone"] == "America/Mexico_City"
    assert document["reply_language"] == "es"
    assert document["recent_orders"] == [[{"sku": "SKU-010", "name": "Arroz Morelos 1kg", "quantity": 3}]]


async def test_custom_base_url_for_compatible_servers(sleeps: Sleeps, router: respx.MockRouter) -> None:
    route = router.post("http://llm.internal:8000/v1/chat/completions").mock(return_value=ok())
    async with httpx.AsyncClient() as http:
        config = OpenAIConfig(api_key="local", base_url="http://llm.internal:8000/v1", model="qwen2.5-7b")
        result = await OpenAIAnalyzer(config, http_client=http, sleep=sleeps).analyze(request())
    assert route.call_count == 1 and sent(route)["model"] == "qwen2.5-7b"
    assert result.usage.model == "qwen2.5-7b"


# --- a good answer -------------------------------------------------------------------------------


async def test_valid_answer_with_usage_and_cached_tokens(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    router.post(OPENAI_URL).mock(return_value=ok(tokens=(2048, 130, 1536)))
    result = await analyzer.analyze(request())
    assert result.analysis.intent is Intent.ORDER
    assert result.analysis.needs_review is False
    assert result.analysis.lines[0].sku == "SKU-000"
    assert result.usage.provider == "openai" and result.usage.model == "gpt-4o-mini"
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.cached_input_tokens) == (
        2048,
        130,
        1536,
    )
    assert result.latency_ms > 0
    assert result.prompt_version == PROMPT_VERSION == "v2"
    assert result.raw == output()
    assert (analyzer.provider, analyzer.paid) == ("openai", True)


# --- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected_s"),
    [({"retry-after": "2"}, 2.0), ({"retry-after-ms": "1500"}, 1.5), ({"retry-after": "0.25"}, 0.25)],
)
async def test_429_honours_retry_after(
    analyzer: OpenAIAnalyzer,
    router: respx.MockRouter,
    sleeps: Sleeps,
    headers: dict[str, str],
    expected_s: float,
) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=[error(429, headers), ok()])
    result = await analyzer.analyze(request())
    assert route.call_count == 2
    assert sleeps.calls == [expected_s]
    assert result.analysis.needs_review is False


async def test_429_honours_retry_after_http_date(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    route = router.post(OPENAI_URL).mock(side_effect=[error(429, {"retry-after": when}), ok()])
    await analyzer.analyze(request())
    assert route.call_count == 2
    assert len(sleeps.calls) == 1 and 8.0 <= sleeps.calls[0] <= 10.0


async def test_500_then_success(analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=[error(500), ok()])
    result = await analyzer.analyze(request())
    assert route.call_count == 2  # the SDK's own retries are off: each call is one of ours
    assert len(sleeps.calls) == 1 and 0.0 <= sleeps.calls[0] <= analyzer.config.backoff_cap_s
    assert result.analysis.lines[0].sku == "SKU-000"


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_timeout_or_connection_error_then_success(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps, failure: Exception
) -> None:
    route = router.post(OPENAI_URL).mock(side_effect=[failure, ok()])
    result = await analyzer.analyze(request())
    assert route.call_count == 2 and len(sleeps.calls) == 1
    assert result.usage.input_tokens == 1800


async def test_retries_exhausted_raise_retryable(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=error(503))
    with pytest.raises(AnalysisFailed) as failed:
        await analyzer.analyze(request())
    assert failed.value.retryable is True
    assert failed.value.reason == "retries_exhausted:InternalServerError"
    assert route.call_count == analyzer.config.max_attempts == 3
    assert len(sleeps.calls) == 2
    assert failed.value.usage is not None and failed.value.usage.input_tokens == 0


async def test_retry_after_beyond_the_wait_budget_gives_up_now(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=error(429, {"retry-after": "3600"}))
    with pytest.raises(AnalysisFailed) as failed:
        await analyzer.analyze(request())
    assert failed.value.retryable is True
    assert route.call_count == 1 and sleeps.calls == []


async def test_bad_request_is_not_retried(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=error(400, code="invalid_json_schema"))
    with pytest.raises(AnalysisFailed) as failed:
        await analyzer.analyze(request())
    assert failed.value.retryable is False
    assert failed.value.reason == "api_error:400:invalid_json_schema"
    assert route.call_count == 1 and sleeps.calls == []


async def test_insufficient_quota_is_not_retried_now_but_later(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = router.post(OPENAI_URL).mock(return_value=error(429, code="insufficient_quota"))
    with pytest.raises(AnalysisFailed) as failed:
        await analyzer.analyze(request())
    assert failed.value.retryable is True
    assert route.call_count == 1 and sleeps.calls == []


# --- answers that go to review -------------------------------------------------------------------


async def test_refusal_goes_to_review_and_keeps_usage(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    router.post(OPENAI_URL).mock(
        return_value=completion(refusal="I can't help with that.", tokens=(900, 12, 0))
    )
    result = await analyzer.analyze(request())
    assert result.analysis.needs_review is True
    assert result.analysis.review_reasons == ["refusal"]
    assert result.analysis.intent is Intent.OTHER and result.analysis.lines == []
    assert result.analysis.language == "es" and result.analysis.reply
    assert (result.usage.input_tokens, result.usage.output_tokens) == (900, 12)
    assert result.raw == {"refusal": "I can't help with that."}


async def test_malformed_json_goes_to_review(analyzer: OpenAIAnalyzer, router: respx.MockRouter) -> None:
    router.post(OPENAI_URL).mock(return_value=completion('{"intent": "order", "lines": [', finish="length"))
    result = await analyzer.analyze(request())
    assert result.analysis.needs_review is True
    assert result.analysis.review_reasons == ["invalid_output"]
    assert result.analysis.lines == []
    assert result.usage.output_tokens == 120


async def test_schema_invalid_output_keeps_the_valid_lines_for_review(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    good = output()["lines"][0]
    bad = {**good, "text": "3 sabritas", "sku": "SKU-002", "confidence": 1.7}
    data = output(lines=[good, bad], reply=None)
    router.post(OPENAI_URL).mock(return_value=ok(data))
    result = await analyzer.analyze(request())
    assert result.analysis.needs_review is True
    assert result.analysis.review_reasons == ["invalid_output"]
    assert result.analysis.intent is Intent.ORDER
    assert [line.sku for line in result.analysis.lines] == ["SKU-000"]
    assert result.raw == data


@pytest.mark.parametrize("invented", [True, False])  # not in the catalog / in it but never offered
async def test_sku_outside_the_candidates_goes_to_review(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter, invented: bool
) -> None:
    allowed = analyzer.build_prompt(request()).allowed_skus
    sku = "ZZZ-999" if invented else next(p.sku for p in PRODUCTS if p.sku not in allowed)
    route = router.post(OPENAI_URL).mock(return_value=ok(output(sku=sku)))
    result = await analyzer.analyze(request())
    offered = {c["sku"] for line in user_document(sent(route))["lines"] for c in line["candidates"]}
    assert sku not in offered and offered == allowed
    assert result.analysis.needs_review is True
    assert result.analysis.review_reasons == [f"unknown_sku:{sku}"]
    assert result.analysis.lines[0].sku is None and result.analysis.lines[0].confidence == 0.0
    assert result.analysis.intent is Intent.ORDER


async def test_repeat_of_a_recent_order_may_use_its_sku(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    router.post(OPENAI_URL).mock(return_value=ok(output(sku="SKU-010")))
    recent = ((RecentOrderLine(sku="SKU-010", quantity=3),),)
    result = await analyzer.analyze(request("lo mismo de la otra vez", recent_orders=recent))
    assert result.analysis.needs_review is False
    assert result.analysis.lines[0].sku == "SKU-010"


async def test_prompt_carries_the_open_and_last_order_and_a_change_may_use_them(
    analyzer: OpenAIAnalyzer, router: respx.MockRouter
) -> None:
    changed = output(sku="SKU-010", action="change")
    changed["lines"][0]["op"] = "set"
    route = router.post(OPENAI_URL).mock(return_value=ok(changed))
    result = await analyzer.analyze(request("mejor 6 del arroz", open_order=(RecentOrderLine(sku="SKU-010", quantity=3),),
                                            last_order=(RecentOrderLine(sku="SKU-000", quantity=1),)))
    document = json.loads(sent(route)["messages"][1]["content"])
    assert document["open_order"] == [{"sku": "SKU-010", "name": "Arroz Morelos 1kg", "quantity": 3}]
    assert [item["sku"] for item in document["last_order"]] == ["SKU-000"]
    assert (result.analysis.action, result.analysis.lines[0].op, result.analysis.needs_review) == ("change", "set", False)


async def test_settings_build_an_analyzer_that_owns_its_client() -> None:
    @dataclass(frozen=True, kw_only=True)
    class Settings:
        openai_api_key: str | None = "sk-test"
        openai_base_url: str | None = "http://llm.internal:8000/v1"
        openai_model: str = "gpt-4o-mini"
        openai_timeout_s: float = 120.0
        openai_max_attempts: int = 2

    analyzer = OpenAIAnalyzer(OpenAIConfig.from_settings(Settings()))
    assert (analyzer.model, analyzer.prompt_version) == ("gpt-4o-mini", "v2")
    assert analyzer.config.base_url == "http://llm.internal:8000/v1"
    assert (analyzer.config.timeout_s, analyzer.config.max_attempts) == (120.0, 2)
    await analyzer.aclose()
