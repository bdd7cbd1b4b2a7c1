"""Channel integrations: a distributor's WhatsApp number, a generic signed channel.

Secrets come from files (never the command line, where they land in shell history) and are shown
at most once: the channel's generated whsec_ secret when it is created, nothing else ever.

WhatsApp: before anything is saved, the access token must see the phone_number_id in the Graph
API: GET {WHATSAPP_GRAPH_URL}/{version}/{phone_number_id} with the token as a bearer, which
answers 200 with that id. The app secret (X-Hub-Signature-256) and the verify token are stored as
the intake reads them (columns never readable by authenticated); the access token is sealed with
the distributor's data key into external_integrations.access_token_encrypted (AES-256-GCM, bound
to the distributor and the column "external_integrations.access_token"): service code opens it
with `open_access_token`, the database never holds it in clear.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from webhooks.outbound.signing import generate_secret
from worker.admin import distributors
from worker.admin.errors import AdminError, NotFound
from worker.core.encryption import Keyring, default_keyring
from worker.core.repository import Repository, Row, dumps

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
GRAPH_TIMEOUT = 15.0  # seconds
ACCESS_TOKEN_COLUMN = "external_integrations.access_token"  # the associated data of the sealed token
MAX_SECRET_FILE_BYTES = 4096
_KEY = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


@dataclass(frozen=True, kw_only=True)
class GraphCheck:
    ok: bool
    detail: str  # what the Graph API said (never the token)


def graph_url() -> str:
    return (os.environ.get("WHATSAPP_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


def graph_version() -> str:
    return os.environ.get("WHATSAPP_GRAPH_VERSION") or DEFAULT_GRAPH_VERSION


def read_secret_file(path: Path, what: str) -> str:
    """A secret from a file: its content without surrounding whitespace; AdminError when unusable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdminError(f"{what}: cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise AdminError(f"{what}: {path} is larger than a secret ({len(data)} bytes)")
    try:
        secret = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise AdminError(f"{what}: {path} is not text") from None
    if not secret or any(c.isspace() for c in secret):
        raise AdminError(f"{what}: {path} must hold one secret on one line")
    return secret


async def verify_phone_number(client: httpx.AsyncClient, *, base_url: str, version: str, phone_number_id: str,
                              access_token: str) -> GraphCheck:
    """Does the token see the number? GET /<version>/<phone_number_id> must answer 200 with its id."""
    url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}"
    try:
        response = await client.get(url, headers={"authorization": f"Bearer {access_token}"},
                                    params={"fields": "id,display_phone_number,verified_name"}, timeout=GRAPH_TIMEOUT)
    except httpx.HTTPError as exc:
        return GraphCheck(ok=False, detail=f"the Graph API at {base_url} did not answer: {type(exc).__name__}")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") if isinstance(error, dict) else None
        return GraphCheck(ok=False, detail=f"the Graph API answered {response.status_code}"
                                           + (f": {message}" if message else ""))
    if not isinstance(body, dict) or str(body.get("id")) != phone_number_id:
        return GraphCheck(ok=False, detail=f"the Graph API answered for another id: {body.get('id')!r}")
    shown = body.get("display_phone_number") or body.get("verified_name") or phone_number_id
    return GraphCheck(ok=True, detail=f"the token sees {shown}")


@dataclass(frozen=True, kw_only=True)
class WhatsAppSetup:
    distributor_slug: str
    phone_number_id: str
    app_secret: str
    access_token: str
    verify_token: str
    name: str | None = None


async def add_whatsapp(repo: Repository, setup: WhatsAppSetup, *, verify: bool,
                       client: httpx.AsyncClient | None = None, keyring: Keyring | None = None) -> tuple[str, GraphCheck]:
    """Check the token against the Graph API (unless verify is False), then save; (integration id, check)."""
    if not re.fullmatch(r"\d{5,32}", setup.phone_number_id):
        raise AdminError(f"phone_number_id {setup.phone_number_id!r}: the digits Meta shows for the number")
    if len(setup.verify_token) < 8:
        raise AdminError("the verify token must be at least 8 characters")
    distributor_id = await distributors.resolve(repo, setup.distributor_slug)
    version = graph_version()
    if verify:
        async with (httpx.AsyncClient() if client is None else _borrowed(client)) as http:
            check = await verify_phone_number(http, base_url=graph_url(), version=version,
                                              phone_number_id=setup.phone_number_id, access_token=setup.access_token)
        if not check.ok:
            raise AdminError(f"not saved: {check.detail} (the access token must see phone_number_id "
                             f"{setup.phone_number_id})")
    else:
        check = GraphCheck(ok=False, detail="NOT VERIFIED (--skip-verify): the Graph API was not asked")
    key = await (keyring or default_keyring()).data_key(repo, distributor_id)
    row = await repo.fetch_one(
        "ops_upsert_whatsapp", distributor_id=distributor_id, name=setup.name or f"WhatsApp {setup.phone_number_id}",
        account=setup.phone_number_id, verify_token=setup.verify_token, app_secret=setup.app_secret,
        access_token_encrypted=key.seal(setup.access_token, ACCESS_TOKEN_COLUMN),
        settings=dumps({"graph_version": version, "verified": verify}),
    )
    if row is None:
        raise AdminError(f"phone_number_id {setup.phone_number_id} belongs to another distributor")
    return str(row["id"]), check


class _borrowed:
    """Use a caller's client in `async with` without closing it."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> httpx.AsyncClient:
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        return None


async def open_access_token(repo: Repository, row: Row, keyring: Keyring | None = None) -> str | None:
    """The access token of an integration row (distributor_id, access_token_encrypted), for service code."""
    sealed = row.get("access_token_encrypted")
    if sealed is None:
        return None
    key = await (keyring or default_keyring()).data_key(repo, str(row["distributor_id"]))
    return key.open(bytes(sealed), ACCESS_TOKEN_COLUMN)


async def add_channel(repo: Repository, *, distributor_slug: str, key: str, channel: str = "sms",
                      name: str | None = None) -> tuple[str, str]:
    """A generic channel at /webhooks/channel/{key}; returns (integration id, the whsec_ secret: show it once)."""
    if not _KEY.match(key):
        raise AdminError(f"key {key!r}: 3 to 64 letters, digits, '-' or '_' (it is part of the URL)")
    distributor_id = await distributors.resolve(repo, distributor_slug)
    secret = generate_secret()
    row = await repo.fetch_one("ops_insert_channel", distributor_id=distributor_id, name=name or f"channel {key}",
                               channel=channel, account=key, signing_secret=secret)
    if row is None:
        raise AdminError(f"channel key {key!r} is taken")
    return str(row["id"]), secret


async def listing(repo: Repository, slug: str | None = None) -> list[Row]:
    return await repo.fetch_all("ops_integrations", slug=slug)


async def disable(repo: Repository, integration_id: str) -> Row:
    try:
        integration_id = str(uuid.UUID(integration_id))
    except ValueError:
        raise AdminError(f"not an integration id: {integration_id!r}") from None
    row = await repo.fetch_one("ops_disable_integration", id=integration_id)
    if row is None:
        raise NotFound(f"no integration {integration_id}")
    return row


__all__ = ["ACCESS_TOKEN_COLUMN", "GraphCheck", "WhatsAppSetup", "add_channel", "add_whatsapp", "disable",
           "graph_url", "graph_version", "listing", "open_access_token", "read_secret_file", "verify_phone_number"]
