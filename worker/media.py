"""Reading a message's media: fetch it from the channel's API once, keep it encrypted, and with an
OpenAI key turn voice notes into transcripts and photos / documents into parts of the analysis
request (vision).

Media is fetched (webhooks.inbound.media: size cap, type check) and kept sealed with the
distributor's data key in message_media, whether or not it can be read: offline, or over a hard
budget, the message goes to review with its media kept for a person. A retried message reuses what
was kept and never fetches twice. Media that cannot be fetched, or is refused, sends the message
to review with the reason (media_failed:<kind>, media_refused:<kind>); a refused token also marks
nothing here (the reply sender owns the integration's health) but is logged.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field

import httpx

from ai.analyzer import MediaPart
from ai.openai.transcribe import Transcriber, Transcript
from webhooks.inbound.media import AUDIO_TYPES, FetchedMedia, fetch_media
from webhooks.outbound.graph import GraphConfig
from webhooks.outbound.replies import TOKEN_COLUMN
from worker.core.encryption import DataKey, Keyring
from worker.core.repository import Repository, Row

CONTENT_COLUMN = "message_media.content"  # the associated data of the sealed bytes

log = logging.getLogger("orderflow.media")


@dataclass(frozen=True, kw_only=True)
class MediaRead:
    """What a message's media gave: transcripts, parts for the analysis request, and problems."""

    captions: tuple[str, ...] = ()
    transcripts: tuple[str, ...] = ()
    parts: tuple[MediaPart, ...] = ()
    transcriptions: tuple[Transcript, ...] = ()  # the calls made now (usage to record)
    problems: tuple[str, ...] = field(default=())  # review reasons

    @property
    def readable(self) -> bool:
        return not self.problems and bool(self.transcripts or self.parts)

    def text(self) -> str:
        """Captions and transcripts: the text analysed with the media."""
        return "\n".join(part for part in (*self.captions, *self.transcripts) if part.strip())


class MediaReader:
    def __init__(self, *, repo: Repository, keyring: Keyring, graph: GraphConfig,
                 transcriber: Transcriber | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.repo = repo
        self.keyring = keyring
        self.graph = graph
        self.transcriber = transcriber
        self._client = client  # made on the first fetch: most workers never read media

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def read(self, *, distributor_id: str, message_id: str, understand: bool,
                   language: str | None = None) -> MediaRead:
        """Fetch and keep every media item of the message; with `understand`, transcribe / attach them."""
        rows = await self.repo.fetch_all("message_media_sources",
                                         distributor_id=distributor_id, message_id=message_id)
        key = await self.keyring.data_key(self.repo, distributor_id)
        captions, transcripts, parts, calls, problems = [], [], [], [], []
        for row in rows:
            if row["caption"]:
                captions.append(str(row["caption"]))
            content, mime_type, problem = await self._kept_or_fetched(row, key, distributor_id, message_id)
            if problem is not None:
                problems.append(problem)
                continue
            if not understand or content is None or mime_type is None:
                continue
            if mime_type in AUDIO_TYPES:
                if row["transcript"] is not None:
                    transcripts.append(str(row["transcript"]))
                    continue
                if self.transcriber is None:
                    problems.append(f"media_unread:{row['kind']}")
                    continue
                transcript = await self.transcriber.transcribe(content, mime_type, language=language)
                calls.append(transcript)
                transcripts.append(transcript.text)
                await self.repo.execute("set_media_transcript", distributor_id=distributor_id, message_id=message_id,
                                        media_id=row["media_id"], transcript=transcript.text)
            else:
                parts.append(MediaPart(mime_type=mime_type, content=content))
        return MediaRead(captions=tuple(captions), transcripts=tuple(transcripts), parts=tuple(parts),
                         transcriptions=tuple(calls), problems=tuple(problems))

    async def _kept_or_fetched(self, row: Row, key: DataKey, distributor_id: str,
                               message_id: str) -> tuple[bytes | None, str | None, str | None]:
        """(content, mime type, problem): what was kept earlier, or a fresh fetch, kept now."""
        kind = str(row["kind"])
        if row["kept_state"] == "fetched" and row["content_encrypted"] is not None:
            content = base64.b64decode(key.open(bytes(row["content_encrypted"]), CONTENT_COLUMN))
            return content, row["kept_mime_type"], None
        if row["kept_state"] in ("refused", "cleared"):
            return None, None, f"media_{row['kept_state']}:{kind}"
        token = self._token(row, key)
        if token is None or row["integration_kind"] != "whatsapp_cloud":
            return None, None, f"media_unavailable:{kind}"
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        fetched = await fetch_media(self._client, self.graph, media_id=str(row["media_id"]), token=token)
        await self._keep(fetched, key, kind, distributor_id, message_id)
        if fetched.outcome != "fetched":
            log.info("media not kept", extra={"action": "media_not_kept", "message_id": message_id,
                                              "distributor_id": distributor_id, "outcome": fetched.outcome,
                                              "token_refused": fetched.token_refused})
            return None, None, f"media_{fetched.outcome}:{kind}"
        return fetched.content, fetched.mime_type, None

    def _token(self, row: Row, key: DataKey) -> str | None:
        if row["access_token_encrypted"] is not None:
            return key.open(bytes(row["access_token_encrypted"]), TOKEN_COLUMN)
        token: str | None = row["access_token"]
        return token

    async def _keep(self, fetched: FetchedMedia, key: DataKey, kind: str, distributor_id: str,
                    message_id: str) -> None:
        sealed = key.seal(base64.b64encode(fetched.content).decode(), CONTENT_COLUMN) if fetched.content else None
        await self.repo.execute(
            "keep_message_media", distributor_id=distributor_id, message_id=message_id, media_id=fetched.media_id,
            kind=kind, mime_type=fetched.mime_type, size_bytes=fetched.size if fetched.content else None,
            sha256=fetched.sha256, content_encrypted=sealed, state=fetched.outcome, error=fetched.error)


__all__ = ["CONTENT_COLUMN", "MediaRead", "MediaReader"]
