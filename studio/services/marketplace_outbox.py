"""The outbox as the UI sees it: queue an operation, list what waits, retry or cancel one.

Every marketplace change (publish, fork, like, report, resolutions) is written here first, in
the same local transaction as whatever it records, with an idempotency key; the drainer
(``studio.sync.outbox``) sends it when the server is reachable.  So an operation made offline
is never lost, and one retried after a lost answer is never applied twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from studio.store.database import Database
from studio.store.repositories import outbox as repo
from studio.store.repositories.stories import aware

WAITING = ("pending", "sending")


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    label: str
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None


def _item(row) -> OutboxItem:
    return OutboxItem(row.id, row.kind, row.label, row.state, row.attempts, row.last_error or "",
                      aware(row.created_at), aware(row.next_attempt_at))


def enqueue(db: Database, server_url: str, kind: str, label: str, payload: dict,
            story_id: int | None = None) -> int:
    json.dumps(payload)  # refuse what could not be sent, now rather than later
    with db.session() as s:
        return repo.enqueue(s, server_url, kind, label, payload, story_id=story_id).id


def items(db: Database, include_done: bool = False) -> list[OutboxItem]:
    states = ("pending", "sending", "failed") + (("done", "cancelled") if include_done else ())
    with db.session() as s:
        return [_item(r) for r in repo.entries(s, states)]


def retry(db: Database, entry_id: int) -> None:
    with db.session() as s:
        repo.retry_now(s, entry_id)


def cancel(db: Database, entry_id: int) -> None:
    with db.session() as s:
        repo.cancel(s, entry_id)
