"""Standard Webhooks signatures (https://www.standardwebhooks.com/, symmetric "v1" scheme).

Every outbound webhook carries three headers:

    webhook-id:        the message id (the same on every retry of one message)
    webhook-timestamp: integer unix seconds of this attempt
    webhook-signature: "v1,<base64 HMAC-SHA256(secret, f'{id}.{timestamp}.{body}')>"

Secrets are "whsec_" + base64 of 24..64 random bytes. During key rotation an endpoint has
several active secrets; we send one signature per secret, space separated, newest first,
and a receiver accepts the message if any of them matches. We sign exactly the bytes we
send, and `verify` checks exactly the bytes received (never re-serialised JSON).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as secrets_module
import time
from collections.abc import Mapping, Sequence

from worker.core.errors import OrderflowError

SECRET_PREFIX = "whsec_"
SECRET_MIN_BYTES = 24  # spec: secrets are 24..64 bytes of randomness
SECRET_MAX_BYTES = 64
DEFAULT_SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
TOLERANCE = 300  # seconds a timestamp may be off from our clock, either way
MAX_TIMESTAMP_DIGITS = 12  # unix seconds fit in 11 digits until the year 5138

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
_HEADER_UNSAFE = frozenset(" \t\r\n,")  # characters that would corrupt the header values


class InvalidSecret(OrderflowError, ValueError):
    """A secret that is not "whsec_" + base64 of 24..64 bytes (a configuration error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(OrderflowError):
    """The request is not authentic: missing headers, stale timestamp or no matching signature.

    `reason` is machine-readable: missing_header, bad_timestamp, timestamp_too_old,
    timestamp_too_new, no_matching_signature.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def generate_secret(nbytes: int = DEFAULT_SECRET_BYTES) -> str:
    """A new endpoint secret: "whsec_" + base64 of `nbytes` random bytes."""
    if not SECRET_MIN_BYTES <= nbytes <= SECRET_MAX_BYTES:
        raise InvalidSecret(f"secret size must be {SECRET_MIN_BYTES}..{SECRET_MAX_BYTES} bytes, got {nbytes}")
    return SECRET_PREFIX + base64.b64encode(secrets_module.token_bytes(nbytes)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The HMAC key inside a "whsec_..." secret; raises InvalidSecret for anything else."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"secret must start with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("secret is not valid base64") from exc
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise InvalidSecret(f"secret must hold {SECRET_MIN_BYTES}..{SECRET_MAX_BYTES} bytes, holds {len(key)}")
    return key


def _check_header_value(name: str, value: str) -> None:
    if not value or any(ch in _HEADER_UNSAFE or not ch.isprintable() for ch in value):
        raise ValueError(f"{name} must be non-empty and free of spaces, commas and control characters")


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The "v1,<base64>" signature of one message for one secret."""
    _check_header_value(HEADER_ID, msg_id)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be non-negative integer unix seconds")
    digest = _digest(decode_secret(secret), msg_id, str(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per active secret, in the given order.

    Pass the secrets newest first (receivers try them in order).
    """
    if isinstance(secrets, str) or not secrets:
        raise InvalidSecret("at least one secret is required (a sequence of secrets, not a string)")
    signatures = " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)
    return {HEADER_ID: msg_id, HEADER_TIMESTAMP: str(timestamp), HEADER_SIGNATURE: signatures}


def _header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive lookup that works for plain dicts as well as httpx/starlette headers."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if not value:
        raise SignatureError("missing_header", name)
    return value


def _parse_timestamp(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > MAX_TIMESTAMP_DIGITS:
        raise SignatureError("bad_timestamp", f"{HEADER_TIMESTAMP} must be integer unix seconds")
    return int(value)


def _candidate_signatures(header_value: str) -> list[bytes]:
    """The decoded v1 signatures in a webhook-signature header; other versions and junk are skipped."""
    found: list[bytes] = []
    for item in header_value.split():
        version, sep, encoded = item.partition(",")
        if not sep or version != SIGNATURE_VERSION:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    tolerance: int = TOLERANCE,
) -> None:
    """Raise SignatureError unless `body` is signed by one of `secrets` within `tolerance` seconds of `now`.

    Raises InvalidSecret when a configured secret is malformed (our fault, not the sender's).
    """
    if isinstance(secrets, str) or not secrets:
        raise InvalidSecret("at least one secret is required (a sequence of secrets, not a string)")
    keys = [decode_secret(secret) for secret in secrets]
    msg_id = _header(headers, HEADER_ID)
    timestamp_text = _header(headers, HEADER_TIMESTAMP)
    timestamp = _parse_timestamp(timestamp_text)
    signature_header = _header(headers, HEADER_SIGNATURE)

    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise SignatureError("timestamp_too_old", f"{current - timestamp} s old")
    if timestamp > current + tolerance:
        raise SignatureError("timestamp_too_new", f"{timestamp - current} s in the future")

    candidates = _candidate_signatures(signature_header)
    for key in keys:
        expected = _digest(key, msg_id, timestamp_text, body)  # the header text, exactly as signed
        # Compare against every candidate (no early exit on a near miss) in constant time each.
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return
    raise SignatureError("no_matching_signature")


__all__ = [
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "SECRET_PREFIX",
    "TOLERANCE",
    "InvalidSecret",
    "SignatureError",
    "decode_secret",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify",
]
