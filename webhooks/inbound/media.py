"""Fetching an inbound message's media from the Graph API: `GET /<version>/<media_id>` answers a
short-lived url (and the declared type and size), which is then fetched with the same bearer token.

Both answers are checked before anything is kept: the declared size and the bytes read are capped
(MAX_BYTES; the download stops as soon as it passes the cap), the type must be one we read (voice
notes and audio, photos, PDF documents) and the first bytes must match it (a "photo" that is an
executable is refused). The result says what happened; it never raises for a bad answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import httpx

from webhooks.outbound.graph import GraphConfig

MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own cap for audio and video; photos are 5 MB, so this covers them
TIMEOUT = 30.0  # seconds per request
AUDIO_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "audio/wav", "audio/webm"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
DOCUMENT_TYPES = frozenset({"application/pdf"})
ACCEPTED_TYPES = AUDIO_TYPES | IMAGE_TYPES | DOCUMENT_TYPES
# Leading bytes of each accepted type (offset, bytes); audio/aac and audio/amr have several forms.
SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "audio/ogg": ((0, b"OggS"),),
    "audio/mpeg": ((0, b"ID3"), (0, b"\xff\xfb"), (0, b"\xff\xf3"), (0, b"\xff\xf2")),
    "audio/mp4": ((4, b"ftyp"),),
    "audio/aac": ((0, b"\xff\xf1"), (0, b"\xff\xf9"), (0, b"ADIF")),
    "audio/amr": ((0, b"#!AMR"),),
    "audio/wav": ((0, b"RIFF"),),
    "audio/webm": ((0, b"\x1a\x45\xdf\xa3"),),
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/webp": ((8, b"WEBP"),),
    "application/pdf": ((0, b"%PDF-"),),
}

Outcome = Literal["fetched", "refused", "failed"]


@dataclass(frozen=True, kw_only=True)
class FetchedMedia:
    outcome: Outcome
    media_id: str
    mime_type: str | None = None
    content: bytes = b""
    sha256: str | None = None
    error: str | None = None
    token_refused: bool = False  # 401 / code 190: the integration's token, not the media

    @property
    def size(self) -> int:
        return len(self.content)


def base_type(mime_type: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return (mime_type or "").split(";")[0].strip().lower()


def matches_signature(mime_type: str, content: bytes) -> bool:
    return any(content[offset:offset + len(magic)] == magic for offset, magic in SIGNATURES.get(mime_type, ()))


def _failed(media_id: str, response: httpx.Response, what: str) -> FetchedMedia:
    refused = response.status_code == 401 or b'"code":190' in response.content.replace(b" ", b"")
    return FetchedMedia(outcome="failed", media_id=media_id, error=f"{what}: http {response.status_code}",
                        token_refused=refused)


async def fetch_media(client: httpx.AsyncClient, config: GraphConfig, *, media_id: str, token: str,
                      max_bytes: int = MAX_BYTES) -> FetchedMedia:
    """The media's bytes, or why not (see the module docstring)."""
    headers = {"authorization": f"Bearer {token}"}
    try:
        info = await client.get(config.media_url(media_id), headers=headers, timeout=TIMEOUT)
        if info.status_code != 200:
            return _failed(media_id, info, "media info")
        data = info.json()
        url, declared = data.get("url"), base_type(data.get("mime_type"))
        size = data.get("file_size")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return FetchedMedia(outcome="failed", media_id=media_id, error="media info: no url")
        if declared not in ACCEPTED_TYPES:
            return FetchedMedia(outcome="refused", media_id=media_id, mime_type=declared or None,
                                error=f"type {declared or 'unknown'} is not read")
        if isinstance(size, int) and size > max_bytes:
            return FetchedMedia(outcome="refused", media_id=media_id, mime_type=declared,
                                error=f"{size} bytes, over the {max_bytes} byte cap")
        content = bytearray()
        async with client.stream("GET", url, headers=headers, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                await response.aread()
                return _failed(media_id, response, "media download")
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > max_bytes:
                    return FetchedMedia(outcome="refused", media_id=media_id, mime_type=declared,
                                        error=f"over the {max_bytes} byte cap")
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: an info answer that is not JSON
        return FetchedMedia(outcome="failed", media_id=media_id, error=f"fetch: {type(exc).__name__}")
    body = bytes(content)
    if not matches_signature(declared, body):
        return FetchedMedia(outcome="refused", media_id=media_id, mime_type=declared,
                            error=f"the bytes are not {declared}")
    return FetchedMedia(outcome="fetched", media_id=media_id, mime_type=declared, content=body,
                        sha256=hashlib.sha256(body).hexdigest())


__all__ = ["ACCEPTED_TYPES", "AUDIO_TYPES", "DOCUMENT_TYPES", "IMAGE_TYPES", "MAX_BYTES", "FetchedMedia", "base_type",
           "fetch_media", "matches_signature"]
