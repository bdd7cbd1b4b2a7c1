"""A local webhook receiver for tests and the demo: a distributor's endpoint on 127.0.0.1.

It runs a Starlette app under uvicorn in a background thread (its own event loop), so sync
and async tests can both use it, on an ephemeral port. Each request is answered by the next
scripted `Reply` (status, headers, body, delay), by a handler callable, or by the default
reply; every request is recorded and its Standard Webhooks signature checked with the PyPI
`standardwebhooks` library (an independent implementation of the scheme we sign with).

    with WebhookReceiver(secrets=[secret], replies=[503, Reply(status=429, headers={"retry-after": "7"})]) as rx:
        httpx.post(rx.url, ...)
        assert rx.verified == 1

Run `python -m worker.demo.recorder --secret whsec_...` for a receiver that prints each delivery.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOST = "127.0.0.1"
START_TIMEOUT = 10.0  # seconds to wait for uvicorn to listen
STOP_TIMEOUT = 10.0  # seconds to wait for the server thread to end
POLL_INTERVAL = 0.01  # seconds between checks in wait_for
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass(frozen=True, kw_only=True)
class Reply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # time.time()
    verified: bool | None  # None when the receiver has no secrets
    verify_error: str | None


Handler = Callable[[RecordedRequest], Reply]


class WebhookReceiver:
    """A scripted HTTP endpoint on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(
        self,
        *,
        secrets: Sequence[str] = (),
        replies: Iterable[Reply | int] = (),
        handler: Handler | None = None,
        default: Reply | None = None,
        port: int = 0,
    ) -> None:
        self.secrets = list(secrets)
        self.handler = handler
        self.default = default if default is not None else Reply()
        self._replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.push(*replies)

    # ---- scripting and inspection (any thread) ------------------------------------------

    def push(self, *replies: Reply | int) -> None:
        """Queue replies for the next requests (an int is a bare status code)."""
        with self._lock:
            self._replies.extend(Reply(status=r) if isinstance(r, int) else r for r in replies)

    @property
    def url(self) -> str:
        if self._socket is None:
            raise RuntimeError("receiver is not running")
        return f"http://{HOST}:{self.port}/"

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("receiver is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def verified(self) -> int:
        return sum(1 for r in self.requests if r.verified is True)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.requests if r.verified is False)

    def wait_for_sync(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` requests arrived; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived within {timeout} s")
            time.sleep(POLL_INTERVAL)
        return self.requests

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Await until `count` requests arrived; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived within {timeout} s")
            await asyncio.sleep(POLL_INTERVAL)
        return self.requests

    # ---- the server (runs on the receiver's own thread and loop) -----------------------

    def _verify(self, headers: dict[str, str], body: bytes) -> tuple[bool | None, str | None]:
        if not self.secrets:
            return None, None
        error = "no secret matched"
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers, json_parse=False)
            except (WebhookVerificationError, UnicodeDecodeError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            return True, None
        return False, error

    def _next_reply(self, recorded: RecordedRequest) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        return self.handler(recorded) if self.handler is not None else self.default

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        verified, error = self._verify(headers, body)
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers=headers,
            body=body,
            received_at=time.time(),
            verified=verified,
            verify_error=error,
        )
        with self._lock:
            self._requests.append(recorded)
        reply = self._next_reply(recorded)
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        return Response(content=reply.body, status_code=reply.status, headers=dict(reply.headers))

    def start(self) -> WebhookReceiver:
        if self._thread is not None:
            raise RuntimeError("receiver already started")
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=METHODS)])
        config = uvicorn.Config(
            app, lifespan="off", log_config=None, log_level="warning", access_log=False,
            http="h11", ws="none", timeout_graceful_shutdown=1,
        )
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((HOST, self._port))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("webhook receiver did not start")
            time.sleep(POLL_INTERVAL)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local webhook endpoint that prints each delivery.")
    parser.add_argument("--secret", action="append", default=[], help="whsec_... (repeat for rotation)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--status", type=int, default=200, help="status to answer with")
    args = parser.parse_args(argv)

    def show(request: RecordedRequest) -> Reply:
        mark = {True: "verified", False: f"BAD SIGNATURE ({request.verify_error})", None: "unsigned"}
        print(f"{request.method} {request.path} {len(request.body)} bytes, {mark[request.verified]}", flush=True)
        print(request.body.decode("utf-8", "replace"), flush=True)
        return Reply(status=args.status)

    with WebhookReceiver(secrets=args.secret, handler=show, port=args.port) as receiver:
        print(f"listening on {receiver.url}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


__all__ = ["Handler", "RecordedRequest", "Reply", "WebhookReceiver", "main"]

if __name__ == "__main__":
    main()
