"""Storing a WhatsApp integration's access token, sealed with the distributor's data key.

The token is a secret like the app secret: it is encrypted here (AES-256-GCM, bound to the
distributor and the column) and only the service opens it, to send replies. Storing a new token
clears the integration's failing state (a 401 / code 190 set it) and wakes the reply sender, so
the replies that waited are sent.
"""

from __future__ import annotations

from webhooks.outbound.replies import TOKEN_COLUMN
from worker.core.encryption import Keyring
from worker.core.repository import OrderflowError, Repository


class EmptyToken(OrderflowError, ValueError):
    """An access token must not be empty."""


async def store_access_token(repo: Repository, keyring: Keyring, *, distributor_id: str, integration_id: str,
                             token: str) -> bool:
    """Seal and store `token`; returns whether the integration was failing (its replies resume)."""
    token = token.strip()
    if not token:
        raise EmptyToken("the access token is empty")
    key = await keyring.data_key(repo, distributor_id)
    row = await repo.fetch_one("set_integration_token", distributor_id=distributor_id, integration_id=integration_id,
                               token_encrypted=key.seal(token, TOKEN_COLUMN))
    return bool(row and row["was_failing"])


__all__ = ["EmptyToken", "store_access_token"]
