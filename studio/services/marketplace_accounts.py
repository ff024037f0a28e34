"""Which marketplaces the author uses and who is signed in where.

The URL list and the signed-in username live in the local database; the tokens themselves never
do — they are in the OS keyring (``studio.sync.credentials``).  Several servers are allowed;
one is the default the marketplace panel opens on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from studio.domain.errors import StudioError
from studio.store.database import Database
from studio.store.repositories import marketplace_servers as repo

#: The marketplace a fresh install points at (``studio-marketplace serve`` listens on 8765);
#: ``STUDIO_MARKETPLACE_URL`` overrides it.
DEFAULT_URL = "http://127.0.0.1:8765"


class InvalidServerAddress(StudioError):
    """The address typed for a marketplace is not an http(s) URL."""


@dataclass(frozen=True)
class ServerInfo:
    url: str
    name: str
    is_default: bool
    username: str | None


def _info(row) -> ServerInfo:
    return ServerInfo(row.url, row.name or row.url, row.is_default, row.username)


def normalise_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidServerAddress(f"“{url}” is not a marketplace address: use one like "
                              "https://market.example.org or http://127.0.0.1:8765.")
    return url


def servers(db: Database) -> list[ServerInfo]:
    """Every known marketplace; on first use the default one is added."""
    with db.session() as s:
        rows = repo.all_servers(s)
        if not rows:
            row = repo.add(s, normalise_url(os.environ.get("STUDIO_MARKETPLACE_URL")
                                            or DEFAULT_URL), "Story Studio marketplace")
            repo.make_default(s, row)
            rows = [row]
        return [_info(r) for r in rows]


def default_server(db: Database) -> ServerInfo:
    found = servers(db)
    return next((s for s in found if s.is_default), found[0])


def add_server(db: Database, url: str, name: str = "", make_default: bool = False
               ) -> ServerInfo:
    url = normalise_url(url)
    with db.session() as s:
        row = repo.by_url(s, url) or repo.add(s, url, name.strip() or url)
        if name.strip():
            row.name = name.strip()
        if make_default:
            repo.make_default(s, row)
        return _info(row)


def set_default(db: Database, url: str) -> ServerInfo:
    return add_server(db, url, make_default=True)


def set_signed_in(db: Database, url: str, username: str | None) -> ServerInfo:
    """Record who is signed in (``None``: signed out).  The token is the caller's business:
    it goes to the keyring, never here."""
    url = normalise_url(url)
    with db.session() as s:
        row = repo.by_url(s, url) or repo.add(s, url, url)
        repo.set_user(s, row, username)
        return _info(row)
