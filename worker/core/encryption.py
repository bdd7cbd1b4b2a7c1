"""Envelope encryption of personal data at rest: master key, per-distributor data keys, ciphertexts
and keyed lookup hashes (supabase/migrations/20261123098300_encryption_at_rest.sql has the layout).

- The master key comes from the environment (ORDERFLOW_MASTER_KEY, 32 bytes in base64). Only the
  embedded development database may fall back to a key file under ORDERFLOW_HOME, created on
  first use; against any DATABASE_URL a missing key is an error, never a silently new key.
- Each distributor has one AES-256 data key, stored in encryption_keys wrapped by the master key
  (AES-256-GCM, bound to the distributor and key version). Rotating the master key re-wraps these
  rows (`orderflow keys rotate-master`); ciphertexts stay as they are. During a rotation
  ORDERFLOW_PREVIOUS_MASTER_KEY still unwraps rows the new key has not re-wrapped yet.
- A value is sealed as: format byte 0x01, key version (4 bytes), 12-byte nonce, AES-256-GCM
  ciphertext and tag. The associated data is the distributor id and the column, so a ciphertext
  copied to another tenant or column fails to open.
- Lookups by phone or handle use HMAC-SHA256 under a key derived (HKDF) from the data key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from worker.core.errors import OrderflowError
from worker.core.repository import Repository, Row
from worker.core.settings import Settings, load_settings

log = logging.getLogger(__name__)

FORMAT = 1
KEY_BYTES = 32
NONCE_BYTES = 12
HANDLE_HASH_PREFIX = "h1:"
MASTER_KEY_FILE = "master.key"
_HEADER = struct.Struct(">BI")  # format, key version


class EncryptionError(OrderflowError):
    """A key is missing or wrong, or a ciphertext does not open."""


def new_master_key() -> str:
    """A fresh master key, as ORDERFLOW_MASTER_KEY expects it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


@dataclass(frozen=True)
class MasterKey:
    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        try:
            key = base64.urlsafe_b64decode(text.strip().encode())
        except (binascii.Error, ValueError) as exc:
            raise EncryptionError("the master key is not base64") from exc
        if len(key) != KEY_BYTES:
            raise EncryptionError(f"the master key must be {KEY_BYTES} bytes, got {len(key)}")
        return cls(key)

    @property
    def key_id(self) -> str:
        """A public fingerprint naming the key in encryption_keys.wrapped_with."""
        return "mk_" + hashlib.sha256(b"orderflow master key id\x00" + self.key).hexdigest()[:16]

    def wrap(self, data_key: bytes, distributor_id: str, version: int) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.key).encrypt(nonce, data_key, _wrap_aad(distributor_id, version))

    def unwrap(self, wrapped: bytes, distributor_id: str, version: int) -> bytes:
        try:
            return AESGCM(self.key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(distributor_id, version))
        except InvalidTag as exc:
            raise EncryptionError(f"the data key of distributor {distributor_id} does not unwrap with {self.key_id}") from exc


def _wrap_aad(distributor_id: str, version: int) -> bytes:
    return f"orderflow data key\x00{distributor_id}\x00{version}".encode()


@dataclass(frozen=True)
class DataKey:
    """One distributor's data key: seals and opens values, hashes lookup keys."""

    distributor_id: str
    version: int
    key: bytes = field(repr=False)

    def seal(self, plaintext: str, column: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = _HEADER.pack(FORMAT, self.version)
        return header + nonce + AESGCM(self.key).encrypt(nonce, plaintext.encode(), self._aad(column))

    def open(self, blob: bytes, column: str) -> str:
        if len(blob) < _HEADER.size + NONCE_BYTES:
            raise EncryptionError(f"{column}: not a ciphertext")
        fmt, version = _HEADER.unpack_from(blob)
        if fmt != FORMAT or version != self.version:
            raise EncryptionError(f"{column}: format {fmt}, key version {version}; this key is version {self.version}")
        nonce = blob[_HEADER.size:_HEADER.size + NONCE_BYTES]
        try:
            return AESGCM(self.key).decrypt(nonce, blob[_HEADER.size + NONCE_BYTES:], self._aad(column)).decode()
        except InvalidTag as exc:
            raise EncryptionError(f"{column}: the ciphertext does not open for distributor {self.distributor_id}") from exc

    def lookup_hash(self, value: str, purpose: str) -> bytes:
        return hmac.new(self._hash_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()

    def phone_hash(self, phone: str) -> bytes:
        return self.lookup_hash(phone, "phone")

    def handle_hash(self, channel: str, handle: str) -> str:
        return HANDLE_HASH_PREFIX + self.lookup_hash(f"{channel}\x00{handle}", "handle").hex()

    @cached_property
    def _hash_key(self) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"orderflow lookup hash v1")
        return hkdf.derive(self.key)

    def _aad(self, column: str) -> bytes:
        return f"{self.distributor_id}\x00{column}".encode()


def master_keys(settings: Settings) -> tuple[MasterKey, MasterKey | None]:
    """The current master key (and the previous one during a rotation)."""
    previous = MasterKey.parse(settings.previous_master_key) if settings.previous_master_key else None
    if settings.master_key:
        return MasterKey.parse(settings.master_key), previous
    if settings.database_url:
        raise EncryptionError("ORDERFLOW_MASTER_KEY is not set: it is required with DATABASE_URL "
                              "(`orderflow keys new-master` prints a fresh one; keep it in your secret store)")
    return _development_key(settings.home / MASTER_KEY_FILE), previous


def _development_key(path: Path) -> MasterKey:
    """The embedded database's key file, created on first use (git-ignored, owner-only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first
        else:
            with os.fdopen(fd, "w") as out:
                out.write(new_master_key() + "\n")
            log.info("created a development master key", extra={"action": "master_key_created"})
    return MasterKey.parse(path.read_text())


class Keyring:
    """The data keys of every distributor this process has met, unwrapped once and cached."""

    def __init__(self, master: MasterKey, previous: MasterKey | None = None) -> None:
        self.master = master
        self.previous = previous
        self._keys: dict[str, DataKey] = {}

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Keyring:
        return cls(*master_keys(settings or load_settings()))

    async def data_key(self, repo: Repository, distributor_id: str) -> DataKey:
        distributor_id = str(distributor_id)
        cached = self._keys.get(distributor_id)
        if cached is not None:
            return cached
        row = await repo.fetch_one("active_data_key", distributor_id=distributor_id)
        if row is None:
            version = 1
            material = secrets.token_bytes(KEY_BYTES)
            await repo.execute("create_data_key", distributor_id=distributor_id, version=version,
                               wrapped_key=self.master.wrap(material, distributor_id, version),
                               wrapped_with=self.master.key_id)
            row = await repo.fetch_one("active_data_key", distributor_id=distributor_id)  # ours, or a racer's
            assert row is not None
        key = DataKey(distributor_id, row["key_version"], self._unwrap(row, distributor_id))
        self._keys[distributor_id] = key
        return key

    def _unwrap(self, row: Row, distributor_id: str) -> bytes:
        wrapped, version, wrapped_with = bytes(row["wrapped_key"]), int(row["key_version"]), row["wrapped_with"]
        for candidate in (self.master, self.previous):
            if candidate is not None and candidate.key_id == wrapped_with:
                return candidate.unwrap(wrapped, distributor_id, version)
        raise EncryptionError(f"the data key of distributor {distributor_id} is wrapped with {wrapped_with}; "
                              f"the master key in the environment is {self.master.key_id}"
                              + (f" (previous {self.previous.key_id})" if self.previous else ""))

    async def rotate_master(self, repo: Repository, new: MasterKey) -> int:
        """Re-wrap every data key not yet wrapped with `new`; returns how many. Idempotent."""
        rows = await repo.fetch_all("data_keys_not_wrapped_with", wrapped_with=new.key_id)
        for row in rows:
            distributor_id = str(row["distributor_id"])
            material = self._unwrap(row, distributor_id)
            await repo.execute("rewrap_data_key", id=row["id"], wrapped_with_before=row["wrapped_with"],
                               wrapped_key=new.wrap(material, distributor_id, int(row["key_version"])),
                               wrapped_with=new.key_id)
        log.info("master key rotated", extra={"action": "master_key_rotated", "count": len(rows), "key_id": new.key_id})
        return len(rows)


_default: Keyring | None = None


def default_keyring() -> Keyring:
    """The process's keyring, from the environment (built on first use)."""
    global _default
    if _default is None:
        _default = Keyring.from_settings()
    return _default


__all__ = ["HANDLE_HASH_PREFIX", "DataKey", "EncryptionError", "Keyring", "MasterKey", "default_keyring",
           "master_keys", "new_master_key"]
