"""The inbound HTTP intake: WhatsApp Cloud API and generic channel webhooks in, queued messages out.

It only authenticates, validates and stores (webhooks.inbound.store.store → ingest_message, which
deduplicates on the provider's message id and wakes the workers); processing is the worker's
job, so it answers fast. Routes:

    GET  /healthz                              200
    GET  /webhooks/whatsapp                    subscription handshake: 200 challenge | 403
    POST /webhooks/whatsapp                    X-Hub-Signature-256 with the integration's app secret
    POST /webhooks/channel/{integration_key}   Standard Webhooks headers with the integration's secrets

Rejections: 413 body over MAX_BODY, 408 body not received within BODY_TIMEOUT, 415 not application/json, 400 malformed JSON, nested deeper
than MAX_DEPTH or not the provider's shape, 404 unknown channel integration, 401 bad or missing
signature (on /webhooks/whatsapp also for a phone_number_id nobody registered, the same answer,
so unauthenticated POSTs cannot probe which numbers are registered) (nothing stored, and a
security_audit_log row, at most one per integration and reason every AUDIT_INTERVAL), 429 with
Retry-After over the distributor's inbound rate (worker.core.rate_limit; checked after the signature,
nothing stored), 405
wrong method, 503 with Retry-After when the database is away. Every rejection is logged with
an `action` and a reason, never the body. A batch with bad items stores the good ones and
answers 200 with {stored, duplicates, statuses, errors}.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from secrets import token_hex

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from webhooks.inbound.channel import verify_and_parse
from webhooks.inbound.envelope import InboundMessage, MalformedPayload, PayloadError, decode_json
from webhooks.inbound.records import Integration, IntegrationCache, message_record, scrub
from webhooks.inbound.store import store
from webhooks.inbound.whatsapp import SIGNATURE_HEADER, parse_payload, verify_signature, verify_subscription
from webhooks.outbound.signing import InvalidSecret, SignatureError
from worker.core.encryption import Keyring
from worker.core.errors import OrderflowError
from worker.core.rate_limit import take_inbound_token
from worker.core.repository import DatabaseUnavailable, Repository, dumps
from worker.core.settings import Settings

MAX_BODY = 1024 * 1024  # bytes
MAX_PHONE_NUMBERS = 20  # distinct business numbers in one WhatsApp payload (Meta batches one app's numbers)
RETRY_AFTER = 5  # seconds, on 503
BODY_TIMEOUT = 10.0  # seconds to receive a whole request body
AUDIT_INTERVAL = 10.0  # seconds between security_audit_log rows per integration and reason
AUDIT_ACTOR = "webhooks.intake"
BUTTON_KINDS = frozenset({"interactive", "button"})  # a reply-button tap: its id may name an order
JSON_TYPE = "application/json"
UNKNOWN_NUMBER_SECRET = token_hex(32)  # checked against for unknown numbers: same work, same answer

log = logging.getLogger("orderflow.webhooks.intake")
Endpoint = Callable[[Request], Awaitable[Response]]


class Rejected(OrderflowError):
    """Answer the request with `status` (logged with `reason`; ids go to the log too)."""

    def __init__(self, status: int, reason: str, *, headers: dict[str, str] | None = None, **ids: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.ids = ids


def _route_name(request: Request) -> str:
    path = request.url.path
    return "channel" if path.startswith("/webhooks/channel/") else path.strip("/").replace("/", ".") or "root"


def _reject_response(request: Request, rejected: Rejected) -> Response:
    level = logging.WARNING if rejected.status in (401, 429, 503) else logging.INFO
    log.log(level, "request rejected", extra={"action": "intake_rejected", "route": _route_name(request),
                                              "status": rejected.status, "reason": rejected.reason, **rejected.ids})
    headers = {"retry-after": str(RETRY_AFTER), **rejected.headers} if rejected.status == 503 else rejected.headers
    return JSONResponse({"error": rejected.reason}, status_code=rejected.status, headers=headers)


def _edge(handler: Endpoint) -> Endpoint:
    """The request boundary: every failure becomes a 4xx/503 answer, never a 500 or a trace."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Rejected as rejected:
            return _reject_response(request, rejected)
        except DatabaseUnavailable:
            return _reject_response(request, Rejected(503, "database_unavailable"))
        except Exception:  # noqa: BLE001 - the request boundary: log it, answer 503, keep serving
            log.exception("intake crashed", extra={"action": "intake_crash", "route": _route_name(request)})
            return _reject_response(request, Rejected(503, "internal_error"))

    return endpoint


def _require_json(request: Request) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Rejected(413, "body_too_large")
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_TYPE:
        raise Rejected(415, "unsupported_media_type")


async def _read_body(request: Request, timeout: float) -> bytes:
    """The whole body within `timeout` seconds (a client trickling bytes holds a connection no longer)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY:
                    raise Rejected(413, "body_too_large")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise Rejected(408, "body_timeout", headers={"connection": "close"}) from exc
    return b"".join(chunks)


class Intake:
    """The request handlers, sharing the repository, the integration cache and the audit throttle."""

    def __init__(self, repo: Repository, keyring: Keyring, *, body_timeout: float = BODY_TIMEOUT) -> None:
        self.repo = repo
        self.keyring = keyring
        self.body_timeout = body_timeout
        self.integrations = IntegrationCache(repo)
        self._audited: dict[tuple[str, str], tuple[float, int]] = {}  # (integration, reason) -> (last row, suppressed)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def whatsapp_verify(self, request: Request) -> Response:
        token = request.query_params.get("hub.verify_token") or ""
        row = await self.repo.fetch_one("whatsapp_integration_by_verify_token", token=scrub(token)) if token else None
        challenge = verify_subscription(request.query_params, str(row["verify_token"])) if row is not None else None
        if row is None or challenge is None:
            raise Rejected(403, "verification_failed")
        log.info("subscription verified", extra={"action": "whatsapp_verified", "integration_id": str(row["id"])})
        return PlainTextResponse(challenge)

    async def whatsapp_receive(self, request: Request) -> Response:
        _require_json(request)
        body = await _read_body(request, self.body_timeout)
        try:
            parsed = parse_payload(decode_json(body))
        except MalformedPayload as exc:
            raise Rejected(400, "malformed_payload") from exc
        phone_ids = list(dict.fromkeys(change.phone_number_id for change in parsed.changes))
        if len(phone_ids) > MAX_PHONE_NUMBERS:
            raise Rejected(400, "too_many_phone_numbers")
        if not phone_ids and not parsed.errors:
            return JSONResponse({"stored": 0, "duplicates": 0, "statuses": 0, "errors": 0})  # no messages field
        found = {pid: await self.integrations.get("whatsapp_cloud", pid) for pid in phone_ids}
        known = {pid: integration for pid, integration in found.items() if integration is not None}
        header = request.headers.get(SIGNATURE_HEADER)
        unsigned = "missing_signature" if header is None else "bad_signature"
        # An unknown number, a known one without a secret and a bad signature get the same answer
        # (and the same HMAC work), so an unauthenticated POST cannot tell which numbers are registered.
        if not known:
            verify_signature(UNKNOWN_NUMBER_SECRET, body, header)
            log.info("unknown phone number", extra={"action": "intake_unknown_integration",
                                                    "route": _route_name(request)})
            raise Rejected(401, unsigned)
        for integration in {i.id: i for i in known.values()}.values():
            if not integration.app_secret:
                log.error("integration has no app secret", extra={"action": "integration_misconfigured",
                                                                  "integration_id": integration.id})
                raise Rejected(401, unsigned, integration_id=integration.id)
            if not verify_signature(integration.app_secret, body, header):
                await self._audit(request, integration, unsigned)
                raise Rejected(401, unsigned, integration_id=integration.id)
        for integration in {i.id: i for i in known.values()}.values():
            await self._rate_limit(integration)
        summary = {"stored": 0, "duplicates": 0, "statuses": 0, "errors": 0}
        self._log_errors(parsed.errors, request, summary)
        for change in parsed.changes:
            owner = known.get(change.phone_number_id)
            if owner is None:
                summary["errors"] += len(change.messages) + len(change.statuses)
                log.info("unknown phone number in batch", extra={"action": "intake_item_rejected", "route": "webhooks.inbound.whatsapp",
                                                                 "reason": "unknown_integration"})
                continue
            await self._store(owner, change.messages, summary)
            for status in change.statuses:
                await self.repo.execute("record_message_status", distributor_id=owner.distributor_id,
                                        integration_id=owner.id, external_id=scrub(status.provider_message_id),
                                        status=status.status, at=status.timestamp,
                                        error_code=status.errors[0].partition(":")[0] if status.errors else None,
                                        error=scrub("; ".join(status.errors))[:1000] if status.errors else None)
                summary["statuses"] += 1
        return JSONResponse(summary)

    async def channel_receive(self, request: Request) -> Response:
        _require_json(request)
        integration = await self.integrations.get("channel", request.path_params["integration_key"])
        if integration is None:
            raise Rejected(404, "unknown_integration")
        body = await _read_body(request, self.body_timeout)
        secrets = (integration.signing_secret or "").split()
        if not secrets:
            raise Rejected(503, "integration_misconfigured", integration_id=integration.id)
        try:
            payload = verify_and_parse(secrets, request.headers, body)
        except SignatureError as exc:
            await self._audit(request, integration, exc.reason)
            raise Rejected(401, exc.reason, integration_id=integration.id) from exc
        except InvalidSecret as exc:
            raise Rejected(503, "integration_misconfigured", integration_id=integration.id) from exc
        except MalformedPayload as exc:
            raise Rejected(400, "malformed_payload", integration_id=integration.id) from exc
        await self._rate_limit(integration)
        summary = {"stored": 0, "duplicates": 0, "statuses": 0, "errors": 0}
        self._log_errors(payload.errors, request, summary)
        await self._store(integration, payload.messages, summary)
        return JSONResponse(summary)

    async def _rate_limit(self, integration: Integration) -> None:
        """Take one inbound token of the integration's distributor, or answer 429 with Retry-After."""
        decision = await take_inbound_token(self.repo, distributor_id=integration.distributor_id,
                                            integration_id=integration.id)
        if not decision.allowed:
            raise Rejected(429, "rate_limited", headers={"retry-after": decision.retry_after_header},
                           integration_id=integration.id, distributor_id=integration.distributor_id,
                           retry_after=decision.retry_after_header)

    async def _store(self, integration: Integration, messages: Iterable[InboundMessage], summary: dict[str, int]) -> None:
        for message in messages:
            stored = await store(self.repo, message_record(integration, message), self.keyring)
            summary["stored" if stored.created else "duplicates"] += 1
            if stored.created and message.reply_id is not None and message.kind in BUTTON_KINDS:
                await self.repo.fetch_one("link_button_reply", distributor_id=integration.distributor_id,
                                          message_id=stored.message_id, reply_id=scrub(message.reply_id)[:200])
            log.info("message stored", extra={"action": "intake_stored", "message_id": stored.message_id,
                                              "distributor_id": integration.distributor_id,
                                              "integration_id": integration.id, "new": stored.created})

    def _log_errors(self, errors: Iterable[PayloadError], request: Request, summary: dict[str, int]) -> None:
        for error in errors:
            summary["errors"] += 1
            log.info("item rejected", extra={"action": "intake_item_rejected", "route": _route_name(request),
                                             "path": error.path, "reason": error.reason[:300]})

    async def _audit(self, request: Request, integration: Integration, reason: str) -> None:
        """A security_audit_log row for a failed signature, throttled per integration and reason."""
        key = (integration.id, reason)
        now = time.monotonic()
        last, suppressed = self._audited.get(key, (float("-inf"), 0))
        if now - last < AUDIT_INTERVAL:
            self._audited[key] = (last, suppressed + 1)
            return
        self._audited[key] = (now, 0)
        details = {"integration_id": integration.id, "kind": integration.kind, "reason": reason,
                   "route": _route_name(request), "client": request.client.host if request.client else None,
                   "suppressed_since_last": suppressed}
        try:
            await self.repo.fetch_one("log_inbound_security_event", distributor_id=integration.distributor_id,
                                      event_type="inbound_signature_failed", severity="warning", actor=AUDIT_ACTOR,
                                      details=dumps(details))
        except DatabaseUnavailable:
            log.warning("security event not recorded", extra={"action": "audit_unavailable",
                                                              "integration_id": integration.id})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (404 no such path, 405 wrong method), logged like every rejection."""
    assert isinstance(exc, HTTPException)
    reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _reject_response(request, Rejected(exc.status_code, reason, headers=dict(exc.headers or {})))


def create_app(repo: Repository, settings: Settings | None = None, *, body_timeout: float = BODY_TIMEOUT) -> Starlette:
    """The intake ASGI app over an opened repository (the caller opens and closes it). The master
    key comes from `settings` (the environment by default): without one the app does not start.
    A request body not complete within `body_timeout` seconds is answered 408.
    """
    intake = Intake(repo, Keyring.from_settings(settings), body_timeout=body_timeout)
    routes = [
        Route("/healthz", _edge(intake.healthz), methods=["GET"]),
        Route("/webhooks/whatsapp", _edge(intake.whatsapp_verify), methods=["GET"]),
        Route("/webhooks/whatsapp", _edge(intake.whatsapp_receive), methods=["POST"]),
        Route("/webhooks/channel/{integration_key}", _edge(intake.channel_receive), methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.intake = intake
    return app


__all__ = ["BODY_TIMEOUT", "MAX_BODY", "Intake", "create_app"]
