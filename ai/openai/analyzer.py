"""The paid analyzer: one OpenAI chat completion per message, bound to the Analysis schema.

The request carries only the redacted message, the customer's recent, open and last orders, today's date in the
distributor's timezone and, per parsed line, a few matcher candidates: never the whole catalog.
The response format is the SDK's strict JSON schema for `Analysis` (`strict: true`); the content is
validated here so usage is recorded even when the output is refused or invalid. Such answers go to
review instead of raising; only transport failures that outlast the retries raise AnalysisFailed.
Changing the prompt file or the shape of the user document means bumping PROMPT_VERSION.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from importlib.resources import files
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import openai
import pydantic
from openai.lib import type_to_response_format_param
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from ai.analyzer import AnalysisFailed, AnalysisRequest, AnalysisResult, MediaPart, RecentOrderLine, Usage
from ai.catalog import Catalog, Product
from ai.contract import Analysis, Intent, Language, Line, OrderAction
from ai.language import detect_language
from ai.matching.matcher import Matcher
from ai.offline.lines import parse_lines

PROVIDER = "openai"
DEFAULT_MODEL = "gpt-4o-mini"
PROMPT_VERSION = "v2"
PROMPT_FILE = "analysis_v2.md"  # in ai/openai/prompts/
DEFAULT_TIMEOUT_S = 30.0  # per HTTP attempt
DEFAULT_MAX_ATTEMPTS = 4  # first call + 3 retries
DEFAULT_BACKOFF_BASE_S = 0.5  # full-jitter exponential: random(0, base * 2**n) ...
DEFAULT_BACKOFF_CAP_S = 8.0  # ... capped per wait
DEFAULT_MAX_TOTAL_WAIT_S = 30.0  # sleeping between attempts, all retries together
DEFAULT_TEMPERATURE = 0.0  # None: not sent (reasoning models reject it)
MAX_OUTPUT_TOKENS = 1500  # per call
CANDIDATES_PER_LINE = 5
MAX_PROMPT_CANDIDATES = 40  # distinct products per message, all lines together
MAX_RECENT_ORDERS = 3
MAX_VISION_CATALOG = 300  # products offered with a photo or document of a list (its lines are not in the text)
MATCHER_CACHE_SIZE = 64  # catalogs
RETRYABLE_STATUS = frozenset({408, 409, 429})  # plus every 5xx
LANGUAGES = ("es", "en", "pt")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
INTENTS = frozenset(i.value for i in Intent)
RESPONSE_FORMAT = type_to_response_format_param(Analysis)  # {"type": "json_schema", ... "strict": True}
HOLDING_REPLY: dict[str, str] = {
    "es": "¡Gracias! Recibimos tu mensaje y te confirmamos en breve.",
    "en": "Thanks! We got your message and will confirm shortly.",
    "pt": "Obrigado! Recebemos sua mensagem e confirmamos em breve.",
}

Sleep = Callable[[float], Awaitable[None]]


class OpenAISettings(Protocol):
    """What the worker's Settings provides (OPENAI_API_KEY, OPENAI_BASE_URL, model, timeout, attempts)."""

    @property
    def openai_api_key(self) -> str | None: ...
    @property
    def openai_base_url(self) -> str | None: ...
    @property
    def openai_model(self) -> str: ...
    @property
    def openai_timeout_s(self) -> float: ...
    @property
    def openai_max_attempts(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class OpenAIConfig:
    api_key: str | None  # None: the SDK reads OPENAI_API_KEY
    base_url: str | None = None  # any OpenAI-compatible server; None: api.openai.com
    model: str = DEFAULT_MODEL
    prompt_version: str = PROMPT_VERSION
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_cap_s: float = DEFAULT_BACKOFF_CAP_S
    max_total_wait_s: float = DEFAULT_MAX_TOTAL_WAIT_S
    temperature: float | None = DEFAULT_TEMPERATURE

    @classmethod
    def from_settings(cls, settings: OpenAISettings) -> OpenAIConfig:
        return cls(
            api_key=settings.openai_api_key, base_url=settings.openai_base_url, model=settings.openai_model,
            timeout_s=settings.openai_timeout_s, max_attempts=settings.openai_max_attempts,
        )


@dataclass(frozen=True, kw_only=True)
class AnalysisPrompt:
    messages: list[ChatCompletionMessageParam]
    allowed_skus: frozenset[str]  # candidates and recent-order products: what the model may answer


class _StopAfterTotalWait(stop_base):
    """Give up before a sleep that would take the time slept between attempts past the budget."""

    def __init__(self, max_total_wait_s: float) -> None:
        self.max_total_wait_s = max_total_wait_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self.max_total_wait_s


@cache
def load_prompt(name: str = PROMPT_FILE) -> str:
    return files("ai.openai").joinpath("prompts", name).read_text(encoding="utf-8")


def retry_after_s(exc: BaseException, *, now: datetime | None = None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or HTTP-date)."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        return _seconds(ms, scale=0.001)
    if (value := headers.get("retry-after")) is None:
        return None
    if (seconds := _seconds(value)) is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _seconds(value: str, *, scale: float = 1.0) -> float | None:
    try:
        number = float(value) * scale
    except ValueError:
        return None
    return max(number, 0.0) if math.isfinite(number) else None


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        if exc.code == "insufficient_quota":  # a 429 that waiting seconds will not fix
            return False
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


class OpenAIAnalyzer:
    provider = PROVIDER
    paid = True
    reads_orders = True

    def __init__(
        self,
        config: OpenAIConfig,
        *,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.config = config
        self.model = config.model
        self.prompt_version = config.prompt_version
        self._owns_http = http_client is None
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,  # tenacity retries, below
            http_client=cast(Any, http_client),  # the SDK accepts httpx or httpx2 clients
        )
        self._sleep: Sleep = sleep or asyncio.sleep
        self._indexes: OrderedDict[int, tuple[Catalog, Matcher, dict[str, Product]]] = OrderedDict()
        self._backoff = wait_random_exponential(multiplier=config.backoff_base_s, max=config.backoff_cap_s)
        self._system_prompt = load_prompt()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._client.close()

    async def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        prompt = self.build_prompt(request)
        started = time.perf_counter()
        completion = await self._complete(prompt)
        latency_ms = (time.perf_counter() - started) * 1000.0
        usage = self._usage(completion)
        analysis, raw = self._interpret(completion, request, prompt.allowed_skus)
        return AnalysisResult(
            analysis=analysis, usage=usage, latency_ms=latency_ms, prompt_version=self.prompt_version, raw=raw
        )

    def build_prompt(self, request: AnalysisRequest) -> AnalysisPrompt:
        catalog, language = request.catalog, _language(request)
        matcher, products = self._index(catalog)
        parsed = [(p.text, p.quantity, p.unit, p.phrase) for p in parse_lines(request.text, language)]
        offered: dict[str, Product] = {}
        lines: list[dict[str, object]] = []
        for number, (text, quantity, unit, phrase) in enumerate(
            parsed or [(request.text, None, None, request.text)]
        ):
            found = [
                products[c.sku]
                for c in matcher.candidates(phrase, limit=CANDIDATES_PER_LINE)
                if c.sku in products
            ]
            found = [p for p in found if p.sku in offered or len(offered) < MAX_PROMPT_CANDIDATES]
            offered.update((p.sku, p) for p in found)
            views = [{"sku": p.sku, "name": p.name, "unit": p.unit, "pack_size": p.pack_size} for p in found]
            lines.append(
                {"line": number + 1, "text": text, "quantity": quantity, "unit": unit, "candidates": views}
            )
        orders = [[line for line in order if line.sku in products] for order in request.recent_orders]
        recent = [
            [{"sku": line.sku, "name": products[line.sku].name, "quantity": line.quantity} for line in order]
            for order in orders[:MAX_RECENT_ORDERS]
        ]
        if request.media:  # the list is in the photo: its lines are not in the text, offer the catalog itself
            offered.update((p.sku, p) for p in catalog.products[:MAX_VISION_CATALOG])
        open_order, last_order = _order_view(request.open_order, products), _order_view(request.last_order, products)
        today = request.now.astimezone(_zone(catalog.timezone)).date()
        document = {
            "today": today.isoformat(),
            "weekday": WEEKDAYS[today.weekday()],  # not strftime: that follows the process locale
            "timezone": catalog.timezone,
            "reply_language": language,
            "recent_orders": recent,
            "open_order": open_order,
            "last_order": last_order,
            "lines": lines,
            "message": request.text,
        }
        if request.media:
            document["catalog"] = [{"sku": p.sku, "name": p.name, "unit": p.unit, "pack_size": p.pack_size}
                                   for p in catalog.products[:MAX_VISION_CATALOG]]
        user = json.dumps(document, ensure_ascii=False)
        content: Any = [{"type": "text", "text": user}, *(media_content(part) for part in request.media)] \
            if request.media else user
        return AnalysisPrompt(
            messages=[{"role": "system", "content": self._system_prompt}, {"role": "user", "content": content}],
            allowed_skus=frozenset(offered)
            | {line.sku for order in orders[:MAX_RECENT_ORDERS] for line in order}
            | {str(item["sku"]) for item in (*open_order, *last_order)},
        )

    def _index(self, catalog: Catalog) -> tuple[Matcher, dict[str, Product]]:
        """The matcher and sku index of a catalog, built once per catalog object (small LRU)."""
        key = id(catalog)
        if (hit := self._indexes.get(key)) is not None and hit[0] is catalog:
            self._indexes.move_to_end(key)
            return hit[1], hit[2]
        entry = (catalog, Matcher(catalog), {p.sku: p for p in catalog.products})
        self._indexes[key] = entry  # holding the catalog keeps its id from being reused
        while len(self._indexes) > MATCHER_CACHE_SIZE:
            self._indexes.popitem(last=False)
        return entry[1], entry[2]

    async def _complete(self, prompt: AnalysisPrompt) -> ChatCompletion:
        temperature = openai.omit if self.config.temperature is None else self.config.temperature
        no_tokens = Usage(provider=PROVIDER, model=self.model)  # failed calls are not billed
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop_after_attempt(self.config.max_attempts)
            | _StopAfterTotalWait(self.config.max_total_wait_s),
            wait=self._wait,
            retry=retry_if_exception(is_retryable),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._client.chat.completions.create(
                        model=self.model,
                        messages=prompt.messages,
                        response_format=RESPONSE_FORMAT,
                        max_completion_tokens=MAX_OUTPUT_TOKENS,
                        temperature=temperature,
                    )
        except RetryError as exhausted:
            error = exhausted.last_attempt.exception()
            reason = f"retries_exhausted:{type(error).__name__}"
            raise AnalysisFailed(reason, retryable=True, usage=no_tokens) from error
        except openai.APIStatusError as error:  # 400/422: a bad request, review now; 401/403/404/quota: ops
            retryable = error.status_code not in (400, 422)  # fix the config or billing, the message waits
            reason = f"api_error:{error.status_code}" + (f":{error.code}" if error.code else "")
            raise AnalysisFailed(reason, retryable=retryable, usage=no_tokens) from error
        raise AssertionError("unreachable: tenacity either returns, raises or gives up")

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after_s(error) if error is not None else None
        return asked if asked is not None else float(self._backoff(state))

    def _usage(self, completion: ChatCompletion) -> Usage:
        usage = completion.usage
        if usage is None:
            return Usage(provider=PROVIDER, model=self.model)
        cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else None
        return Usage(
            provider=PROVIDER,
            model=self.model,
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            cached_input_tokens=cached or 0,
        )

    def _interpret(
        self, completion: ChatCompletion, request: AnalysisRequest, allowed: frozenset[str]
    ) -> tuple[Analysis, dict[str, object]]:
        if not completion.choices:
            return _review(request, "invalid_output"), {}
        choice = completion.choices[0]
        message = choice.message
        if message.refusal:
            return _review(request, "refusal"), {"refusal": message.refusal}
        if choice.finish_reason == "content_filter":
            return _review(request, "content_filter"), {"content": message.content}
        content = message.content or ""
        try:
            data = json.loads(content)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            return _review(request, "invalid_output"), {"content": content}
        try:
            analysis = Analysis.model_validate(data)
        except pydantic.ValidationError:
            return _check_skus(_review(request, "invalid_output", data), allowed), data
        return _check_skus(analysis, allowed), data


def media_content(part: MediaPart) -> dict[str, Any]:
    """A photo as an image part, a PDF as a file part of the user message (Chat Completions)."""
    data = base64.b64encode(part.content).decode()
    if part.mime_type == "application/pdf":
        return {"type": "file", "file": {"filename": "list.pdf", "file_data": f"data:application/pdf;base64,{data}"}}
    return {"type": "image_url", "image_url": {"url": f"data:{part.mime_type};base64,{data}", "detail": "high"}}


def _language(request: AnalysisRequest) -> Language:
    if request.customer_language in LANGUAGES:
        return cast(Language, request.customer_language)
    detected: Language = detect_language(request.text)
    return detected


def _order_view(order: tuple[RecentOrderLine, ...], products: dict[str, Product]) -> list[dict[str, object]]:
    return [{"sku": line.sku, "name": products[line.sku].name, "quantity": line.quantity}
            for line in order if line.sku in products]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _review(request: AnalysisRequest, reason: str, output: dict[str, Any] | None = None) -> Analysis:
    """A review-only analysis, so the message is never lost: keeps what validates of `output`."""
    output = output or {}
    intent, language, items = output.get("intent"), output.get("language"), output.get("lines")
    lines: list[Line] = []
    for item in items if isinstance(items, list) else []:
        try:
            lines.append(Line.model_validate(item))
        except pydantic.ValidationError:
            continue
    language = language if language in LANGUAGES else _language(request)
    return Analysis.model_validate(
        {
            "intent": intent if isinstance(intent, str) and intent in INTENTS else Intent.OTHER,
            "action": OrderAction.NONE,
            "closes_order": False,
            "language": language,
            "lines": lines,
            "delivery": None,
            "needs_review": True,
            "review_reasons": [reason],
            "reply": HOLDING_REPLY[language],
        }
    )


def _check_skus(analysis: Analysis, allowed: frozenset[str]) -> Analysis:
    """A SKU the model was not offered is dropped from its line and the message goes to review."""
    unknown = [line.sku for line in analysis.lines if line.sku is not None and line.sku not in allowed]
    if not unknown:
        return analysis
    lines = [
        line
        if line.sku is None or line.sku in allowed
        else line.model_copy(
            update={"sku": None, "confidence": 0.0, "evidence": f"model answered {line.sku}, not a candidate"}
        )
        for line in analysis.lines
    ]
    reasons = [
        r for r in dict.fromkeys(f"unknown_sku:{sku}" for sku in unknown) if r not in analysis.review_reasons
    ]
    update = {"needs_review": True, "review_reasons": [*analysis.review_reasons, *reasons], "lines": lines}
    return analysis.model_copy(update=update)


__all__ = [
    "DEFAULT_MODEL",
    "AnalysisPrompt",
    "PROMPT_VERSION",
    "RESPONSE_FORMAT",
    "OpenAIAnalyzer",
    "OpenAIConfig",
    "OpenAISettings",
    "is_retryable",
    "load_prompt",
    "retry_after_s",
]
