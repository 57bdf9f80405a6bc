"""The vault: sealed values name their key, are bound to their owner, survive rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from actionruns.vault import DecryptionError, Keyring, Vault


def test_round_trip_and_owner_binding() -> None:
    vault = Vault(Keyring.generate())
    sealed = vault.encrypt_json({"password": "hunter2"}, owner="authentication:a")
    assert b"hunter2" not in sealed
    assert vault.decrypt_json(sealed, owner="authentication:a") == {"password": "hunter2"}
    with pytest.raises(DecryptionError):
        vault.decrypt_json(sealed, owner="authentication:b")


def test_tampering_is_detected() -> None:
    vault = Vault(Keyring.generate())
    sealed = bytearray(vault.encrypt(b"value", owner="x"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        vault.decrypt(bytes(sealed), owner="x")


def test_old_values_open_after_a_new_primary_key() -> None:
    old = Keyring.generate()
    sealed = Vault(old).encrypt(b"value", owner="x")
    rotated = Vault(old.with_new_primary())
    assert rotated.primary_key_id != old.primary
    assert rotated.decrypt(sealed, owner="x") == b"value"
    assert Vault.key_id_of(rotated.encrypt(b"v", owner="x")) == rotated.primary_key_id
    with pytest.raises(DecryptionError, match="unknown key"):
        Vault(Keyring.generate()).decrypt(sealed, owner="x")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / "keys.json"
    first = Keyring.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Keyring.load_or_create(path) == first


def test_keys_from_the_environment_form() -> None:
    key_a, key_b = os.urandom(32), os.urandom(32)
    text = f"a:{base64.b64encode(key_a).decode()}, b:{base64.b64encode(key_b).decode()}"
    keyring = Keyring.parse(text)
    assert keyring.primary == "a"
    assert keyring.keys == {"a": key_a, "b": key_b}
    with pytest.raises(ValueError):
        Keyring.parse("a:" + base64.b64encode(b"short").decode())


def test_derived_keys_differ_by_purpose_and_key() -> None:
    vault = Vault(Keyring.generate().with_new_primary())
    kid, token_key = vault.derived_key("tokens")
    assert kid == vault.primary_key_id
    assert vault.derived_key("other")[1] != token_key
    other_kid = next(k for k in vault.keyring.keys if k != kid)
    assert vault.derived_key("tokens", other_kid)[1] != token_key


def test_the_env_form_reads_back_with_the_same_primary() -> None:
    keyring = Keyring.generate().with_new_primary()
    again = Keyring.parse(keyring.to_env())
    assert again.primary == keyring.primary
    assert dict(again.keys) == dict(keyring.keys)
