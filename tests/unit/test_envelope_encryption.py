"""Envelope encryption primitives: sealing, binding to tenant and column, wrapping, master keys."""

from __future__ import annotations

import base64
import dataclasses
import stat
from pathlib import Path

import pytest

from worker.core.encryption import (
    HANDLE_HASH_PREFIX,
    DataKey,
    EncryptionError,
    MasterKey,
    master_keys,
    new_master_key,
)
from worker.core.settings import load_settings

A = "7f1c2a9e-0000-4000-8000-00000000000a"
B = "7f1c2a9e-0000-4000-8000-00000000000b"


def data_key(distributor_id: str = A, material: bytes = b"k" * 32, version: int = 1) -> DataKey:
    return DataKey(distributor_id, version, material)


def test_a_sealed_value_opens_and_never_repeats() -> None:
    key = data_key()
    first, second = key.seal("+5215550000101", "customers.phone"), key.seal("+5215550000101", "customers.phone")
    assert first != second  # a fresh nonce each time
    assert b"5215550000101" not in first
    assert key.open(first, "customers.phone") == key.open(second, "customers.phone") == "+5215550000101"


@pytest.mark.parametrize(("distributor_id", "material", "version", "column"), [
    pytest.param(B, b"k" * 32, 1, "customers.phone", id="another distributor, same key material"),
    pytest.param(A, b"k" * 32, 1, "customers.address", id="another column"),
    pytest.param(A, b"x" * 32, 1, "customers.phone", id="another key"),
    pytest.param(A, b"k" * 32, 2, "customers.phone", id="another key version"),
])
def test_a_ciphertext_opens_only_for_its_distributor_column_and_key(
    distributor_id: str, material: bytes, version: int, column: str
) -> None:
    sealed = data_key().seal("Calle 5 de Mayo 12", "customers.phone")
    with pytest.raises(EncryptionError):
        data_key(distributor_id, material, version).open(sealed, column)


def test_a_tampered_or_truncated_ciphertext_does_not_open() -> None:
    key = data_key()
    sealed = bytearray(key.seal("hola", "messages.raw_payload"))
    sealed[-1] ^= 1
    with pytest.raises(EncryptionError):
        key.open(bytes(sealed), "messages.raw_payload")
    with pytest.raises(EncryptionError, match="not a ciphertext"):
        key.open(b"\x01\x00", "messages.raw_payload")


def test_lookup_hashes_are_stable_per_key_and_differ_across_tenants_and_channels() -> None:
    a, b = data_key(A, b"a" * 32), data_key(B, b"b" * 32)
    assert a.phone_hash("+5215550000101") == a.phone_hash("+5215550000101")
    assert a.phone_hash("+5215550000101") != b.phone_hash("+5215550000101")
    assert a.phone_hash("+5215550000101") != a.phone_hash("+5215550000102")
    handle = a.handle_hash("whatsapp", "5215550000101")
    assert handle.startswith(HANDLE_HASH_PREFIX) and "5215550000101" not in handle
    assert handle != a.handle_hash("sms", "5215550000101")
    assert len(a.phone_hash("x")) == 32


def test_a_master_key_wraps_a_data_key_for_one_distributor_and_version() -> None:
    master, other = MasterKey.parse(new_master_key()), MasterKey.parse(new_master_key())
    wrapped = master.wrap(b"d" * 32, A, 1)
    assert master.unwrap(wrapped, A, 1) == b"d" * 32
    for attempt in (lambda: other.unwrap(wrapped, A, 1), lambda: master.unwrap(wrapped, B, 1),
                    lambda: master.unwrap(wrapped, A, 2)):
        with pytest.raises(EncryptionError):
            attempt()
    assert master.key_id.startswith("mk_") and master.key_id != other.key_id
    assert master.key_id == MasterKey(master.key).key_id


@pytest.mark.parametrize("text", ["not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_a_malformed_master_key_is_refused(text: str) -> None:
    with pytest.raises(EncryptionError):
        MasterKey.parse(text)


def test_against_a_database_url_a_missing_master_key_is_an_error(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), database_url="postgresql://db.example/app", master_key=None,
                                   home=tmp_path)
    with pytest.raises(EncryptionError, match="ORDERFLOW_MASTER_KEY"):
        master_keys(settings)
    assert not (tmp_path / "master.key").exists()


def test_the_embedded_database_gets_a_private_development_key_file_once(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), database_url=None, master_key=None, home=tmp_path)
    first, _ = master_keys(settings)
    again, _ = master_keys(settings)
    assert first.key_id == again.key_id
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


def test_the_environment_key_and_the_previous_one_during_a_rotation() -> None:
    current, previous = new_master_key(), new_master_key()
    settings = dataclasses.replace(load_settings(), master_key=current, previous_master_key=previous)
    got, before = master_keys(settings)
    assert got.key_id == MasterKey.parse(current).key_id
    assert before is not None and before.key_id == MasterKey.parse(previous).key_id
