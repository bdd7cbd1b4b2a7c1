"""The WhatsApp Cloud API (Meta's Graph API) as the reply sender and the media reader use it.

Sending: `POST <graph_url>/<version>/<phone_number_id>/messages` with `Authorization: Bearer
<access token>` and a JSON body: a text message, an interactive message with reply buttons (order
confirmations), or the distributor's approved template (when the 24-hour window is closed). Meta
answers 200 with `{"messages": [{"id": "wamid..."}]}` or an error `{"error": {"code": ..,
"message": ..}}`; `classify` turns the answer into what the sender does next, by Meta's codes:

    accepted                     the wamid; the reply is sent
    131047 (window closed)       send the template instead
    130429, 131056, 429, 5xx     retry with backoff (rate limits; the number's throughput is paused)
    401, 190 (token)             the integration is failing; the reply waits for a new token
    131026 and other 4xx         failed for good, with the reason

Media: `GET <graph_url>/<version>/<media_id>` gives a short-lived url, which is fetched with the
same bearer token (webhooks.outbound.media reads it, size-capped and type-checked).
Reference: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"
DEFAULT_TEMPLATE_NAME = "order_update"
TIMEOUT = 15.0  # seconds per request, connect to last byte
TEXT_MAX = 4096  # characters of a text message body
INTERACTIVE_BODY_MAX = 1024  # characters of an interactive message body
BUTTON_TITLE_MAX = 20  # characters of a reply button title
TEMPLATE_PARAM_MAX = 1024  # characters of a template body parameter
WINDOW_CLOSED = 131047  # more than 24 hours since the customer last wrote
RATE_LIMITED = frozenset({130429, 131056, 4, 80007})  # throughput, pair rate, app and account rate limits
TOKEN_REFUSED = frozenset({190})  # access token expired or revoked
TEMPLATE_LANGUAGES = {"es": "es", "en": "en", "pt": "pt_BR"}  # reply language -> template language code

Outcome = Literal["accepted", "window_closed", "retry", "token", "failed"]


@dataclass(frozen=True, kw_only=True)
class GraphConfig:
    graph_url: str = DEFAULT_GRAPH_URL
    api_version: str = DEFAULT_API_VERSION
    timeout: float = TIMEOUT

    def messages_url(self, phone_number_id: str) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{phone_number_id}/messages"

    def media_url(self, media_id: str) -> str:
        return f"{self.graph_url.rstrip('/')}/{self.api_version}/{media_id}"


@dataclass(frozen=True, kw_only=True)
class Buttons:
    """Reply buttons of an order confirmation: ids the intake maps back to the order."""

    confirm_id: str
    confirm_title: str
    change_id: str
    change_title: str


@dataclass(frozen=True, kw_only=True)
class SendResult:
    outcome: Outcome
    wamid: str | None = None
    status_code: int | None = None
    error_code: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header


def text_message(to: str, body: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
            "text": {"preview_url": False, "body": body[:TEXT_MAX]}}


def button_message(to: str, body: str, buttons: Buttons) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body[:INTERACTIVE_BODY_MAX]},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": buttons.confirm_id, "title": buttons.confirm_title[:BUTTON_TITLE_MAX]}},
                {"type": "reply", "reply": {"id": buttons.change_id, "title": buttons.change_title[:BUTTON_TITLE_MAX]}},
            ]},
        },
    }


def template_parameter(text: str) -> str:
    """A template body parameter: Meta refuses new lines, tabs and more than 4 spaces in a row."""
    flat = re.sub(r"\s*[\r\n\t]+\s*", " · ", text.strip())
    return re.sub(r" {4,}", "   ", flat)[:TEMPLATE_PARAM_MAX]


def template_message(to: str, *, name: str, language: str, summary: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "template",
        "template": {"name": name, "language": {"code": language},
                     "components": [{"type": "body",
                                     "parameters": [{"type": "text", "text": template_parameter(summary)}]}]},
    }


def template_language(configured: str | None, reply_language: str | None) -> str:
    if configured:
        return configured
    return TEMPLATE_LANGUAGES.get((reply_language or "").split("-")[0].lower(), "en")


def _error(response: httpx.Response) -> tuple[int | None, str]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, response.text[:200]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, response.text[:200]
    code = error.get("code")
    message = error.get("message") or error.get("error_user_msg") or ""
    return (code if isinstance(code, int) and not isinstance(code, bool) else None), str(message)[:500]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def classify(response: httpx.Response) -> SendResult:
    """What a Graph API answer to a send means (see the module docstring)."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            messages = response.json().get("messages")
            wamid = messages[0]["id"] if isinstance(messages, list) and messages else None
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, KeyError, TypeError):
            wamid = None
        if isinstance(wamid, str) and wamid:
            return SendResult(outcome="accepted", wamid=wamid, status_code=status)
        # Accepted but unreadable: do not send again (it may have gone out); a person looks.
        return SendResult(outcome="failed", status_code=status, error="accepted_without_wamid")
    code, message = _error(response)
    error_code = str(code) if code is not None else str(status)
    detail = f"{error_code}: {message}" if message else error_code
    if status == 401 or code in TOKEN_REFUSED:
        return SendResult(outcome="token", status_code=status, error_code=error_code, error=detail)
    if code == WINDOW_CLOSED:
        return SendResult(outcome="window_closed", status_code=status, error_code=error_code, error=detail)
    if code in RATE_LIMITED or status == 429 or status >= 500:
        return SendResult(outcome="retry", status_code=status, error_code=error_code, error=detail,
                          retry_after=_retry_after(response))
    return SendResult(outcome="failed", status_code=status, error_code=error_code, error=detail)


async def send(client: httpx.AsyncClient, config: GraphConfig, *, phone_number_id: str, token: str,
               message: dict[str, Any]) -> SendResult:
    """POST one message. A request that never reached Meta is retried; one whose answer was lost
    (a read timeout, a dropped connection after sending) is not: Meta may have accepted it."""
    try:
        response = await client.post(config.messages_url(phone_number_id), json=message, timeout=config.timeout,
                                     headers={"authorization": f"Bearer {token}"})
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        return SendResult(outcome="retry", error=f"connect: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return SendResult(outcome="failed", error=f"outcome_unknown: {type(exc).__name__}; not sent again")
    return classify(response)


__all__ = [
    "DEFAULT_API_VERSION", "DEFAULT_GRAPH_URL", "DEFAULT_TEMPLATE_NAME", "Buttons", "GraphConfig", "SendResult",
    "button_message", "classify", "send", "template_language", "template_message", "template_parameter",
    "text_message",
]
