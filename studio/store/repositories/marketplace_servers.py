"""The marketplaces the author uses (URL, name, default, who is signed in)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio.store.models import MarketplaceServer, utcnow


def all_servers(session: Session) -> list[MarketplaceServer]:
    return list(session.scalars(select(MarketplaceServer).order_by(MarketplaceServer.id)))


def by_url(session: Session, url: str) -> MarketplaceServer | None:
    return session.scalar(select(MarketplaceServer).where(MarketplaceServer.url == url))


def add(session: Session, url: str, name: str) -> MarketplaceServer:
    row = MarketplaceServer(url=url, name=name, is_default=False, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def make_default(session: Session, row: MarketplaceServer) -> None:
    session.execute(update(MarketplaceServer).where(MarketplaceServer.id != row.id)
                    .values(is_default=False))
    row.is_default = True


def set_user(session: Session, row: MarketplaceServer, username: str | None) -> None:
    row.username = username
    row.signed_in_at = utcnow() if username else None
