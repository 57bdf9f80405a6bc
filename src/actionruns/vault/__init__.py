"""Encryption of secrets at rest: AES-256-GCM, a key id on every value, owner-bound."""

from actionruns.vault.vault import DecryptionError, Keyring, Vault

__all__ = ["DecryptionError", "Keyring", "Vault"]
