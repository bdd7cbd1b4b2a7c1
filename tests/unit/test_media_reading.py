"""Media reading contracts: the type check on leading bytes, and transcription through the real openai
SDK with respx answering at the HTTP layer (usage by tokens or by duration, errors)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from ai.analyzer import AnalysisFailed
from ai.openai.transcribe import Transcriber
from webhooks.inbound.media import ACCEPTED_TYPES, SIGNATURES, base_type, matches_signature

URL = "https://api.openai.com/v1/audio/transcriptions"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        yield mock


@pytest.fixture
async def transcriber() -> AsyncIterator[Transcriber]:
    async with httpx.AsyncClient() as http:
        yield Transcriber(api_key="sk-test", model="gpt-4o-mini-transcribe", http_client=http, max_retries=0)


def test_every_accepted_type_has_a_signature() -> None:
    assert set(SIGNATURES) == set(ACCEPTED_TYPES)


@pytest.mark.parametrize(("mime", "content", "expected"), [
    ("audio/ogg", b"OggS\x00\x02rest", True),
    ("audio/ogg", b"ID3\x04 an mp3", False),
    ("image/jpeg", b"\xff\xd8\xff\xe0JFIF", True),
    ("image/jpeg", b"MZ\x90\x00", False),
    ("image/png", b"\x89PNG\r\n\x1a\n....", True),
    ("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", True),
    ("application/pdf", b"%PDF-1.7\n", True),
    ("application/pdf", b"<html>", False),
    ("application/x-msdownload", b"MZ\x90\x00", False),
])
def test_leading_bytes_must_match_the_declared_type(mime: str, content: bytes, expected: bool) -> None:
    assert matches_signature(mime, content) is expected


def test_a_mime_type_is_read_without_its_parameters() -> None:
    assert base_type("audio/ogg; codecs=opus") == "audio/ogg"
    assert base_type(None) == ""


async def test_a_token_billed_transcription_reports_audio_and_text_tokens(
        transcriber: Transcriber, router: respx.MockRouter) -> None:
    route = router.post(URL).mock(return_value=httpx.Response(200, json={
        "text": " 3 cajas de coca ", "usage": {"type": "tokens", "input_tokens": 412, "output_tokens": 9,
                                              "total_tokens": 421}}))
    transcript = await transcriber.transcribe(b"OggS....", "audio/ogg", language="es")
    assert transcript.text == "3 cajas de coca"
    assert (transcript.usage.model, transcript.usage.input_tokens, transcript.usage.output_tokens) == (
        "gpt-4o-mini-transcribe", 412, 9)
    body = route.calls[0].request.content
    assert b'name="model"' in body and b"gpt-4o-mini-transcribe" in body and b'filename="voice.ogg"' in body
    assert b'name="language"' in body


async def test_a_duration_billed_transcription_records_seconds_as_input_units(
        transcriber: Transcriber, router: respx.MockRouter) -> None:
    router.post(URL).mock(return_value=httpx.Response(200, json={
        "text": "hola", "usage": {"type": "duration", "seconds": 7.2}}))
    transcript = await transcriber.transcribe(b"OggS....", "audio/ogg")
    assert (transcript.usage.input_tokens, transcript.usage.output_tokens) == (8, 0)


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (503, True), (400, False), (401, False)])
async def test_refusals_say_whether_trying_later_helps(
        transcriber: Transcriber, router: respx.MockRouter, status: int, retryable: bool) -> None:
    router.post(URL).mock(return_value=httpx.Response(status, json={"error": {"message": "no", "type": "x"}}))
    with pytest.raises(AnalysisFailed) as failed:
        await transcriber.transcribe(b"OggS....", "audio/ogg")
    assert failed.value.retryable is retryable and failed.value.reason == f"transcription:{status}"
