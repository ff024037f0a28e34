"""The outbox: marketplace operations waiting to land on their server exactly once.

An entry is created ``pending`` with an idempotency key that goes with every attempt, so a
retry after a lost answer changes nothing on the server.  States::

    pending ──mark_sending──▶ sending ──mark_done──▶ done
       ▲  ▲                     │  │
       │  └────mark_retry───────┘  └──mark_failed──▶ failed ──retry_now──▶ pending
       │                                               │
       └──────── recover_interrupted (app start) ──────┼── cancel ──▶ cancelled
                                                       (pending and failed can be cancelled)

Order: per server, entries land in id order.  The *head* of a server is its oldest entry
that is ``pending`` or ``sending``; only a head is ever due, so an entry never overtakes an
older one of the same server (a ``failed`` entry does not block: it waits for the author).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError, StudioError
from studio.store.models import OutboxEntry, utcnow

PENDING, SENDING, DONE, FAILED, CANCELLED = "pending", "sending", "done", "failed", "cancelled"
STATES = (PENDING, SENDING, DONE, FAILED, CANCELLED)
#: Not landed yet and not waiting for the author: what "n waiting" counts.
WAITING = (PENDING, SENDING)
MAX_ERROR = 2000


class OutboxStateError(StudioError):
    """An outbox entry is not in a state that allows what was asked."""


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def payload(entry: OutboxEntry) -> dict[str, Any]:
    return json.loads(entry.payload_json)


def result(entry: OutboxEntry) -> dict[str, Any] | None:
    return json.loads(entry.result_json) if entry.result_json else None


def next_attempt_at(entry: OutboxEntry) -> datetime | None:
    """When the entry may be sent again (UTC-aware), None: as soon as it is its turn."""
    return _utc(entry.next_attempt_at)


def enqueue(session: Session, server_url: str, kind: str, label: str, payload: dict[str, Any],
            story_id: int | None = None, key: str | None = None) -> OutboxEntry:
    """Add an operation for ``server_url``; ``label`` is what the author sees ("Publish
    “Dune”"); ``key`` (default: a new UUID, hex) is its idempotency key."""
    now = utcnow()
    entry = OutboxEntry(
        server_url=server_url, kind=kind, label=label[:500],
        payload_json=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        idempotency_key=key or uuid.uuid4().hex, story_id=story_id, state=PENDING,
        attempts=0, next_attempt_at=None, last_error="", result_json=None,
        created_at=now, updated_at=now)
    session.add(entry)
    session.flush()
    return entry


def get(session: Session, entry_id: int) -> OutboxEntry:
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        raise NotFoundError(f"The waiting marketplace operation {entry_id} does not exist "
                            "any more.")
    return entry


def heads(session: Session, exclude_servers: Iterable[str] = ()) -> list[OutboxEntry]:
    """The head of each server: its oldest ``pending`` or ``sending`` entry, oldest first."""
    first = (select(OutboxEntry.server_url, func.min(OutboxEntry.id).label("id"))
             .where(OutboxEntry.state.in_(WAITING)).group_by(OutboxEntry.server_url)
             .subquery())
    query = select(OutboxEntry).join(first, first.c.id == OutboxEntry.id)
    excluded = list(exclude_servers)
    if excluded:
        query = query.where(OutboxEntry.server_url.not_in(excluded))
    return list(session.scalars(query.order_by(OutboxEntry.id)))


def due(session: Session, now: datetime | None = None,
        exclude_servers: Iterable[str] = ()) -> OutboxEntry | None:
    """The oldest ``pending`` head whose time has come (``next_attempt_at`` unset or not after
    ``now``), skipping ``exclude_servers``; None when nothing is due."""
    now = _utc(now) or utcnow()
    for entry in heads(session, exclude_servers):
        if entry.state != PENDING:
            continue  # being sent: its server waits for it
        when = next_attempt_at(entry)
        if when is None or when <= now:
            return entry
    return None


def next_due_at(session: Session, exclude_servers: Iterable[str] = ()) -> datetime | None:
    """The earliest time a pending head becomes due (may be in the past); None: none."""
    times = [next_attempt_at(e) or datetime.min.replace(tzinfo=timezone.utc)
             for e in heads(session, exclude_servers) if e.state == PENDING]
    return min(times) if times else None


def _touch(entry: OutboxEntry, **values: Any) -> None:
    for name, value in values.items():
        setattr(entry, name, value)
    entry.updated_at = utcnow()


def _require(entry: OutboxEntry, states: tuple[str, ...], doing: str) -> None:
    if entry.state not in states:
        raise OutboxStateError(f"“{entry.label}” cannot be {doing}: it is {entry.state}.")


def mark_sending(session: Session, entry_id: int) -> OutboxEntry:
    entry = get(session, entry_id)
    _require(entry, (PENDING,), "sent now")
    _touch(entry, state=SENDING, attempts=entry.attempts + 1)
    return entry


def mark_done(session: Session, entry_id: int, result: dict[str, Any] | None = None
              ) -> OutboxEntry:
    entry = get(session, entry_id)
    _require(entry, (SENDING, PENDING), "marked as sent")
    _touch(entry, state=DONE, next_attempt_at=None, last_error="",
           result_json=json.dumps(result if result is not None else {}, ensure_ascii=False,
                                  sort_keys=True, default=str))
    return entry


def mark_retry(session: Session, entry_id: int, error: str, delay: float) -> OutboxEntry:
    """Back to ``pending``, not before ``delay`` seconds from now; ``error`` says why."""
    entry = get(session, entry_id)
    _require(entry, (SENDING, PENDING), "retried")
    _touch(entry, state=PENDING, last_error=(error or "")[:MAX_ERROR],
           next_attempt_at=utcnow() + timedelta(seconds=max(0.0, delay)))
    return entry


def mark_failed(session: Session, entry_id: int, error: str) -> OutboxEntry:
    """The server refused it (or it cannot be sent): it waits for the author to retry or
    cancel it, and no longer blocks the entries after it."""
    entry = get(session, entry_id)
    _require(entry, (SENDING, PENDING), "marked as failed")
    _touch(entry, state=FAILED, last_error=(error or "")[:MAX_ERROR], next_attempt_at=None)
    return entry


def cancel(session: Session, entry_id: int) -> OutboxEntry:
    """Stop trying (pending or failed entries).  If an earlier attempt's answer was lost, the
    server may have done it already; cancelling does not undo that."""
    entry = get(session, entry_id)
    _require(entry, (PENDING, FAILED), "cancelled")
    _touch(entry, state=CANCELLED, next_attempt_at=None)
    return entry


def retry_now(session: Session, entry_id: int) -> OutboxEntry:
    """Send a failed entry again (same key), or a pending one without waiting out its
    back-off.  It takes its place in its server's order again (by id)."""
    entry = get(session, entry_id)
    _require(entry, (PENDING, FAILED), "retried")
    _touch(entry, state=PENDING, next_attempt_at=None)
    return entry


def reset_backoff(session: Session, server_url: str | None = None) -> int:
    """Make every pending entry (of ``server_url``) due now; returns how many."""
    query = update(OutboxEntry).where(OutboxEntry.state == PENDING,
                                      OutboxEntry.next_attempt_at.is_not(None))
    if server_url is not None:
        query = query.where(OutboxEntry.server_url == server_url)
    return session.execute(query.values(next_attempt_at=None, updated_at=utcnow())).rowcount


def recover_interrupted(session: Session) -> int:
    """At app start: entries left ``sending`` (a crash or quit mid-send) go back to
    ``pending``; they are sent again with the same key, which the server deduplicates."""
    return session.execute(update(OutboxEntry).where(OutboxEntry.state == SENDING)
                           .values(state=PENDING, updated_at=utcnow())).rowcount


def waiting_count(session: Session, server_url: str | None = None) -> int:
    """Entries not landed yet that need no action from the author (pending or sending)."""
    query = select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state.in_(WAITING))
    if server_url is not None:
        query = query.where(OutboxEntry.server_url == server_url)
    return session.scalar(query) or 0


def entries(session: Session, states: Iterable[str] | None = None,
            server_url: str | None = None) -> list[OutboxEntry]:
    """Entries in ``states`` (all when None), oldest first."""
    query = select(OutboxEntry)
    if states is not None:
        query = query.where(OutboxEntry.state.in_(list(states)))
    if server_url is not None:
        query = query.where(OutboxEntry.server_url == server_url)
    return list(session.scalars(query.order_by(OutboxEntry.id)))


def purge_done(session: Session, older_than: datetime) -> int:
    """Delete ``done`` and ``cancelled`` entries last changed before ``older_than``."""
    rows = [e for e in session.scalars(select(OutboxEntry).where(
        OutboxEntry.state.in_((DONE, CANCELLED))))
        if _utc(e.updated_at) < _utc(older_than)]
    for entry in rows:
        session.delete(entry)
    return len(rows)
