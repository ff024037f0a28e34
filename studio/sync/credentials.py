"""Marketplace sign-ins, kept only in the operating system's keyring.

One keyring item per (server, user): service ``"Story Studio marketplace"``, key
``f"{server_url}|{username}"``, value the JSON of the server's token response (access and
refresh tokens, their lifetimes, and the absolute expiry times the client adds).  Nothing of
it is ever written to the local database or to any file.

When no keyring is usable (a headless machine has only keyring's *fail* backend; a locked or
broken Secret Service…) every function raises ``CredentialsUnavailable`` with a message saying
so.  There is deliberately no plain-text fallback.
"""

from __future__ import annotations

import json
from typing import Any

import keyring
import keyring.errors

from studio.domain.errors import StudioError
from studio.sync.client import TokenSource

SERVICE = "Story Studio marketplace"


class CredentialsUnavailable(StudioError):
    """The system keyring cannot be used, so no sign-in can be kept."""


def _key(server_url: str, username: str) -> str:
    return f"{server_url}|{username}"


def _unavailable(exc: Exception) -> CredentialsUnavailable:
    reason = str(exc).strip() or type(exc).__name__
    return CredentialsUnavailable(
        "Story Studio keeps your marketplace sign-in in the system keyring, which is not "
        f"available: {reason}. Your work is safe and can still be saved locally; to sign in, "
        "unlock or install a keyring (Windows Credential Manager, macOS Keychain, or a Secret "
        "Service such as GNOME Keyring or KWallet on Linux).")


def keyring_call(fn, *args):
    """Call a keyring function; an unusable keyring becomes ``CredentialsUnavailable``."""
    try:
        return fn(*args)
    except keyring.errors.PasswordDeleteError:
        raise
    except keyring.errors.KeyringError as exc:  # NoKeyringError, InitError, locked…
        raise _unavailable(exc) from exc
    except (OSError, RuntimeError) as exc:  # third-party backends (D-Bus…) raise these too
        raise _unavailable(exc) from exc


def save_tokens(server_url: str, username: str, tokens: dict[str, Any]) -> None:
    """Store (replace) the token response of ``username`` on ``server_url``."""
    value = json.dumps(tokens, ensure_ascii=True, sort_keys=True, default=str)
    keyring_call(keyring.set_password, SERVICE, _key(server_url, username), value)


def load_tokens(server_url: str, username: str) -> dict[str, Any] | None:
    """The stored token response, or None when there is none (or it is unreadable)."""
    value = keyring_call(keyring.get_password, SERVICE, _key(server_url, username))
    if not value:
        return None
    try:
        tokens = json.loads(value)
    except ValueError:
        return None
    return tokens if isinstance(tokens, dict) else None


def delete_tokens(server_url: str, username: str) -> None:
    """Forget the sign-in (no error when there was none)."""
    try:
        keyring_call(keyring.delete_password, SERVICE, _key(server_url, username))
    except keyring.errors.PasswordDeleteError:
        pass


class KeyringTokenSource(TokenSource):
    """The sign-in of ``username`` on ``server_url`` as stored in the keyring (it may hold no
    tokens yet); a refresh saves the new tokens there, a sign-out deletes them.  Raises
    ``CredentialsUnavailable`` when there is no usable keyring."""

    def __init__(self, server_url: str, username: str):
        self.server_url, self.keyring_user = server_url, username
        super().__init__(load_tokens(server_url, username), self._store)

    def _store(self, tokens: dict[str, Any] | None) -> None:
        if tokens is None:
            delete_tokens(self.server_url, self.keyring_user)
        else:
            save_tokens(self.server_url, self.keyring_user, tokens)
