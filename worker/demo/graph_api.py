"""A stand-in for Meta's Graph API (WhatsApp Cloud API) on 127.0.0.1, for tests, the demo and the bench.

It is the network edge we cannot reach here, answering as Meta documents it: a message POST
with a valid bearer token gets `{"messages": [{"id": "wamid..."}]}`; a bad token gets 401 with
code 190; scripted errors for a recipient (`fail`) answer the next sends to that number; media
ids (`add_media`) resolve to a url that serves the bytes to the same bearer token. It runs on
worker/demo/recorder.py's server (uvicorn in a thread), so sync and async code can both use it.

    with GraphApiStandIn(tokens={"tok"}) as graph:
        graph.fail("5215550001", GraphError(status=400, code=131047, message="Re-engagement message"))
        ... WHATSAPP_GRAPH_URL = graph.url ...
        assert graph.sent[0].body["type"] == "template"
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from worker.demo.recorder import RecordedRequest, Reply, WebhookReceiver

VERSION = "v23.0"


@dataclass(frozen=True, kw_only=True)
class GraphError:
    status: int = 400
    code: int = 131026
    message: str = "Message undeliverable"
    retry_after: int | None = None

    def reply(self) -> Reply:
        body = json.dumps({"error": {"message": self.message, "type": "OAuthException", "code": self.code,
                                     "fbtrace_id": "AbCdEf"}}).encode()
        headers = {"content-type": "application/json"}
        if self.retry_after is not None:
            headers["retry-after"] = str(self.retry_after)
        return Reply(status=self.status, headers=headers, body=body)


WINDOW_CLOSED = GraphError(code=131047, message="Re-engagement message")
RATE_LIMITED = GraphError(code=130429, message="Rate limit hit")
PAIR_RATE_LIMITED = GraphError(code=131056, message="(Business Account, Consumer Account) pair rate limit hit")
UNDELIVERABLE = GraphError(code=131026, message="Message undeliverable")
TOKEN_EXPIRED = GraphError(status=401, code=190, message="Error validating access token: Session has expired")


@dataclass(frozen=True, kw_only=True)
class SentMessage:
    phone_number_id: str
    token: str
    body: dict[str, Any]
    wamid: str

    @property
    def to(self) -> str:
        return str(self.body.get("to"))

    @property
    def type(self) -> str:
        return str(self.body.get("type"))


@dataclass(frozen=True, kw_only=True)
class Media:
    content: bytes
    mime_type: str


@dataclass(kw_only=True)
class _State:
    tokens: set[str]
    errors: dict[str, deque[GraphError]] = field(default_factory=dict)
    sent: list[SentMessage] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # (to, code) of every error answered
    media: dict[str, Media] = field(default_factory=dict)


class GraphApiStandIn:
    def __init__(self, *, tokens: set[str] | frozenset[str] = frozenset({"test-token"}), version: str = VERSION) -> None:
        self.version = version
        self._state = _State(tokens=set(tokens))
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = WebhookReceiver(handler=self._handle)

    # ---- scripting and inspection ----------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url.rstrip("/")

    def fail(self, to: str, *errors: GraphError) -> None:
        """The next sends to `to` are answered with these errors, in order."""
        with self._lock:
            self._state.errors.setdefault(to, deque()).extend(errors)

    def set_tokens(self, *tokens: str) -> None:
        with self._lock:
            self._state.tokens = set(tokens)

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> None:
        with self._lock:
            self._state.media[media_id] = Media(content=content, mime_type=mime_type)

    @property
    def sent(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.sent)

    @property
    def refused(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._state.refused)

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._server.requests

    # ---- the API ---------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Reply:
        parts = [p for p in request.path.split("/") if p]
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            if token not in self._state.tokens:
                self._state.refused.append(("", 190))
                return TOKEN_EXPIRED.reply()
            if request.method == "POST" and len(parts) == 3 and parts[0] == self.version and parts[2] == "messages":
                return self._message(parts[1], token, request.body)
            if request.method == "GET" and len(parts) == 2 and parts[0] == self.version:
                return self._media_info(parts[1])
            if request.method == "GET" and len(parts) == 2 and parts[0] == "media":
                return self._media_bytes(parts[1])
        return GraphError(status=404, code=100, message="Unsupported request").reply()

    def _message(self, phone_number_id: str, token: str, raw: bytes) -> Reply:
        body = json.loads(raw)
        to = str(body.get("to"))
        queued = self._state.errors.get(to)
        if queued:
            error = queued.popleft()
            self._state.refused.append((to, error.code))
            return error.reply()
        wamid = f"wamid.STANDIN{next(self._ids):08d}"
        self._state.sent.append(SentMessage(phone_number_id=phone_number_id, token=token, body=body, wamid=wamid))
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                  "messages": [{"id": wamid}]}
        return Reply(status=200, headers={"content-type": "application/json"}, body=json.dumps(answer).encode())

    def _media_info(self, media_id: str) -> Reply:
        media = self._state.media.get(media_id)
        if media is None:
            return GraphError(status=404, code=100, message="Unknown media").reply()
        info = {"messaging_product": "whatsapp", "url": f"{self.url}/media/{media_id}", "mime_type": media.mime_type,
                "sha256": hashlib.sha256(media.content).hexdigest(), "file_size": len(media.content), "id": media_id}
        return Reply(status=200, headers={"content-type": "application/json"}, body=json.dumps(info).encode())

    def _media_bytes(self, media_id: str) -> Reply:
        media = self._state.media.get(media_id)
        if media is None:
            return Reply(status=404)
        return Reply(status=200, headers={"content-type": media.mime_type}, body=media.content)

    # ---- status webhooks Meta would send for our messages -----------------------------------

    @staticmethod
    def status_payload(phone_number_id: str, wamid: str, status: str, *, recipient: str, timestamp: int,
                       error_code: int | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": recipient}
        if error_code is not None:
            item["errors"] = [{"code": error_code, "title": "error"}]
        return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550000000",
                                                          "phone_number_id": phone_number_id},
            "statuses": [item]}}]}]}

    def start(self) -> GraphApiStandIn:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> GraphApiStandIn:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


__all__ = ["PAIR_RATE_LIMITED", "RATE_LIMITED", "TOKEN_EXPIRED", "UNDELIVERABLE", "VERSION", "WINDOW_CLOSED",
           "GraphApiStandIn", "GraphError", "SentMessage"]
