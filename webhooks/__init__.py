"""webhooks: inbound channel intake and outbound Standard Webhooks delivery."""

from __future__ import annotations

from webhooks.outbound.signing import SignatureError, generate_secret, sign, signature_headers, verify
from webhooks.outbound.ssrf import BlockedAddress, GuardedTransport

__all__ = [
    "BlockedAddress",
    "GuardedTransport",
    "SignatureError",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify",
]
