"""Sign-ins live only in the OS keyring; without a usable keyring the author is told so."""

from __future__ import annotations

import json

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from studio.sync import credentials
from studio.sync.client import TokenSource
from studio.sync.credentials import CredentialsUnavailable
from tests.sync.helpers import run

URL = "https://market.example.org"
TOKENS = {"access_token": "sa_1", "refresh_token": "sr_1", "expires_in": 3600,
          "refresh_expires_in": 86400, "user": {"username": "ann"}}


def test_tokens_round_trip_through_the_keyring_under_the_documented_names(memory_keyring):
    assert credentials.load_tokens(URL, "ann") is None
    credentials.save_tokens(URL, "ann", TOKENS)
    stored = memory_keyring.items[("Story Studio marketplace", f"{URL}|ann")]
    assert json.loads(stored) == TOKENS
    assert keyring.get_password("Story Studio marketplace", f"{URL}|ann") == stored
    assert credentials.load_tokens(URL, "ann") == TOKENS
    assert credentials.load_tokens(URL, "bob") is None  # per user …
    assert credentials.load_tokens(URL + ":8443", "ann") is None  # … and per server
    credentials.delete_tokens(URL, "ann")
    assert credentials.load_tokens(URL, "ann") is None
    credentials.delete_tokens(URL, "ann")  # forgetting twice is fine
    assert memory_keyring.items == {}


def test_an_unreadable_keyring_item_counts_as_no_sign_in(memory_keyring):
    memory_keyring.items[("Story Studio marketplace", f"{URL}|ann")] = "{not json"
    assert credentials.load_tokens(URL, "ann") is None
    memory_keyring.items[("Story Studio marketplace", f"{URL}|ann")] = "[1, 2]"
    assert credentials.load_tokens(URL, "ann") is None


class LockedKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username, *more):
        raise keyring.errors.InitError("the keyring is locked")

    set_password = delete_password = get_password


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring(), LockedKeyring()],
                         ids=["headless-fail-backend", "locked"])
def test_no_usable_keyring_is_a_clear_error_and_nothing_falls_back_to_files(
        backend, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keyring.set_keyring(backend)  # the autouse fixture restores the backend afterwards
    calls = [lambda: credentials.save_tokens(URL, "ann", TOKENS),
             lambda: credentials.load_tokens(URL, "ann"),
             lambda: credentials.delete_tokens(URL, "ann"),
             lambda: TokenSource.from_keyring(URL, "ann")]
    for call in calls:
        with pytest.raises(CredentialsUnavailable) as info:
            call()
        message = str(info.value)
        assert message.startswith("Story Studio keeps your marketplace sign-in in the system "
                                  "keyring, which is not available: ")
        assert "Traceback" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_token_source_from_the_keyring_saves_and_forgets_there(memory_keyring):
    credentials.save_tokens(URL, "ann", TOKENS)
    source = TokenSource.from_keyring(URL, "ann")
    assert source.access_token == "sa_1" and source.refresh_token == "sr_1"
    assert source.username == "ann"
    run(source.update({**TOKENS, "access_token": "sa_2", "refresh_token": "sr_2"}))
    assert credentials.load_tokens(URL, "ann")["access_token"] == "sa_2"
    run(source.update(None))
    assert credentials.load_tokens(URL, "ann") is None
    assert source.access_token is None
