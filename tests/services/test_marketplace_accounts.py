"""Marketplace servers the author uses: a default on first use, several allowed, no tokens."""

from __future__ import annotations

import sqlite3

import pytest

from studio.services import marketplace_accounts as accounts


def test_a_default_server_exists_and_others_can_be_added(db, monkeypatch):
    monkeypatch.delenv("STUDIO_MARKETPLACE_URL", raising=False)
    first = accounts.default_server(db)
    assert first.url == accounts.DEFAULT_URL and first.is_default
    other = accounts.add_server(db, " https://market.example.org/ ", "Example")
    assert other.url == "https://market.example.org" and not other.is_default
    accounts.set_default(db, other.url)
    assert accounts.default_server(db).url == other.url
    assert [s.is_default for s in accounts.servers(db)] == [False, True]


def test_signed_in_user_is_recorded_but_no_token_is_stored(db):
    server = accounts.default_server(db)
    accounts.set_signed_in(db, server.url, "ann")
    assert accounts.default_server(db).username == "ann"
    with sqlite3.connect(db.path) as conn:  # nothing token-like anywhere in the database
        dump = "\n".join(conn.iterdump())
    assert "access_token" not in dump and "refresh_token" not in dump
    accounts.set_signed_in(db, server.url, None)
    assert accounts.default_server(db).username is None


@pytest.mark.parametrize("bad", ["", "market.example.org", "ftp://x", "http://"])
def test_a_malformed_address_is_refused_with_a_clear_message(db, bad):
    with pytest.raises(accounts.InvalidServerAddress, match="not a marketplace address"):
        accounts.add_server(db, bad)
