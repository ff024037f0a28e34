"""Provider keys, kept only in the operating system's keyring.

One keyring item per configured provider: service ``"Story Studio providers"``, user
``provider-<id>``.  The database row of the provider never holds the key, exports never see it,
and it reaches the network only in an ``Authorization``/``xi-api-key`` header.  An unusable
keyring raises ``CredentialsUnavailable`` (no plain-text fallback, as for marketplace sign-ins).
"""

from __future__ import annotations

import keyring
import keyring.errors

from studio.sync.credentials import CredentialsUnavailable, keyring_call

SERVICE = "Story Studio providers"


def _user(provider_id: int) -> str:
    return f"provider-{int(provider_id)}"


def save_key(provider_id: int, key: str) -> None:
    """Store (replace) the key; an empty key deletes it."""
    if not key.strip():
        delete_key(provider_id)
        return
    keyring_call(keyring.set_password, SERVICE, _user(provider_id), key.strip())


def load_key(provider_id: int) -> str | None:
    return keyring_call(keyring.get_password, SERVICE, _user(provider_id)) or None


def has_key(provider_id: int) -> bool:
    try:
        return load_key(provider_id) is not None
    except CredentialsUnavailable:
        return False


def delete_key(provider_id: int) -> None:
    try:
        keyring_call(keyring.delete_password, SERVICE, _user(provider_id))
    except keyring.errors.PasswordDeleteError:
        pass


__all__ = ["CredentialsUnavailable", "SERVICE", "delete_key", "has_key", "load_key",
           "save_key"]
