"""Voice notes to text with OpenAI's audio transcription API (the real SDK), model configurable
(ORDERFLOW_OPENAI_TRANSCRIBE_MODEL, a `gpt-4o-mini-transcribe` class model by default).

The transcript is then handled like a typed message: PII detection, redaction, analysis. Usage is
recorded like an analysis call's: token-billed models report audio input tokens and text output
tokens (priced per million tokens from ai_model_prices); duration-billed ones (whisper-1) report
seconds, recorded as input units (their price row is per million seconds of audio).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, cast

import httpx
import openai

from ai.analyzer import AnalysisFailed, Usage

PROVIDER = "openai"
DEFAULT_MODEL = "gpt-4o-mini-transcribe"
TIMEOUT_S = 60.0  # per request: a voice note is at most a few minutes
MAX_RETRIES = 1  # the SDK's own retry of 429 / 5xx / connection errors; then the message is retried later
RETRYABLE_STATUS = frozenset({408, 409, 429})  # plus every 5xx
EXTENSIONS = {"audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac", "audio/amr": "amr",
              "audio/wav": "wav", "audio/webm": "webm"}


@dataclass(frozen=True, kw_only=True)
class Transcript:
    text: str
    usage: Usage
    latency_ms: float
    model: str


class Transcriber:
    def __init__(self, *, api_key: str | None, base_url: str | None = None, model: str = DEFAULT_MODEL,
                 http_client: httpx.AsyncClient | None = None, max_retries: int = MAX_RETRIES) -> None:
        self.model = model
        self._http = http_client or httpx.AsyncClient(timeout=TIMEOUT_S)  # httpx, as the analyzer's tests mock it
        self._owns_http = http_client is None
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=TIMEOUT_S, max_retries=max_retries,
                                          http_client=cast(Any, self._http))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def transcribe(self, audio: bytes, mime_type: str, *, language: str | None = None) -> Transcript:
        """The transcript of one voice note; AnalysisFailed (retryable or not) when the API refuses."""
        name = f"voice.{EXTENSIONS.get(mime_type, 'ogg')}"
        started = time.perf_counter()
        try:
            result = await self._client.audio.transcriptions.create(
                model=self.model, file=(name, audio, mime_type), response_format="json",
                language=language if language else openai.omit)
        except openai.APIStatusError as error:
            retryable = error.status_code in RETRYABLE_STATUS or error.status_code >= 500
            raise AnalysisFailed(f"transcription:{error.status_code}", retryable=retryable,
                                 usage=Usage(provider=PROVIDER, model=self.model)) from error
        except openai.APIConnectionError as error:  # includes timeouts
            raise AnalysisFailed("transcription:connection", retryable=True,
                                 usage=Usage(provider=PROVIDER, model=self.model)) from error
        latency_ms = (time.perf_counter() - started) * 1000.0
        return Transcript(text=(result.text or "").strip(), usage=self._usage(result.usage), latency_ms=latency_ms,
                          model=self.model)

    def _usage(self, usage: object) -> Usage:
        kind = getattr(usage, "type", None)
        if kind == "tokens":
            return Usage(provider=PROVIDER, model=self.model, input_tokens=int(getattr(usage, "input_tokens", 0)),
                         output_tokens=int(getattr(usage, "output_tokens", 0)))
        if kind == "duration":
            return Usage(provider=PROVIDER, model=self.model, input_tokens=math.ceil(float(getattr(usage, "seconds", 0))))
        return Usage(provider=PROVIDER, model=self.model)


__all__ = ["DEFAULT_MODEL", "Transcriber", "Transcript"]
