"""ORDERFLOW_OPENAI_TIMEOUT_S and ORDERFLOW_OPENAI_MAX_ATTEMPTS reach the OpenAI analyzer's client."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from ai.analyzer import AnalysisFailed, AnalysisRequest
from ai.catalog import Catalog, Product
from ai.openai.analyzer import OpenAIAnalyzer, OpenAIConfig
from worker.core.settings import load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDERFLOW_OPENAI_TIMEOUT_S", raising=False)
    monkeypatch.delenv("ORDERFLOW_OPENAI_MAX_ATTEMPTS", raising=False)
    settings = load_settings()
    assert (settings.openai_timeout_s, settings.openai_max_attempts) == (30.0, 4)


def test_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_OPENAI_TIMEOUT_S", "180")
    monkeypatch.setenv("ORDERFLOW_OPENAI_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = OpenAIConfig.from_settings(load_settings())
    assert (config.timeout_s, config.max_attempts) == (180.0, 2)


@pytest.mark.parametrize("name,value", [("ORDERFLOW_OPENAI_TIMEOUT_S", "slow"), ("ORDERFLOW_OPENAI_TIMEOUT_S", "0"),
                                        ("ORDERFLOW_OPENAI_MAX_ATTEMPTS", "-1"), ("ORDERFLOW_OPENAI_MAX_ATTEMPTS", "2.5")])
def test_a_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_settings()


async def test_the_client_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERFLOW_OPENAI_TIMEOUT_S", "75")
    monkeypatch.setenv("ORDERFLOW_OPENAI_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    http = httpx.AsyncClient()
    analyzer = OpenAIAnalyzer(OpenAIConfig.from_settings(load_settings()), http_client=http, sleep=sleep)
    catalog = Catalog(distributor="t", products=(Product(sku="A", name="Agua", unit="pieza", price_cents=1),))
    seen: list[float] = []

    def timeout(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("slow server", request=request)

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post("https://api.openai.com/v1/chat/completions").mock(side_effect=timeout)
        with pytest.raises(AnalysisFailed) as failed:
            await analyzer.analyze(AnalysisRequest(text="2 aguas", catalog=catalog,
                                                   now=datetime(2026, 12, 1, tzinfo=UTC)))
    await http.aclose()
    assert route.call_count == 2 and seen == [75.0, 75.0], failed.value
