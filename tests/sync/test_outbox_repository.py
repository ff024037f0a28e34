"""The outbox repository: states, strict per-server order, back-off, recovery after a crash."""

from __future__ import annotations

from datetime import timedelta

import pytest

from studio.store.models import utcnow
from studio.store.repositories import outbox as repo
from studio.store.repositories.outbox import OutboxStateError

A, B = "https://a.example", "https://b.example"


def add(db, server=A, kind="like", label="Like", **payload):
    with db.session() as s:
        return repo.enqueue(s, server, kind, label, payload or {"n": 1}).id


def due_id(db, now=None, exclude=()):
    with db.session() as s:
        entry = repo.due(s, now or utcnow(), exclude)
        return entry.id if entry else None


def test_enqueue_gives_a_unique_key_and_keeps_the_payload(db):
    with db.session() as s:
        one = repo.enqueue(s, A, "publish", "Publish “Dune”", {"story": 1, "title": "Dune"},
                           story_id=None)
        two = repo.enqueue(s, A, "like", "Like", {"story_id": "st_x"}, key="my-key")
        assert len(one.idempotency_key) == 32 and int(one.idempotency_key, 16) >= 0
        assert two.idempotency_key == "my-key"
        assert one.state == "pending" and one.attempts == 0 and one.next_attempt_at is None
        assert repo.payload(one) == {"story": 1, "title": "Dune"}
        assert repo.waiting_count(s) == 2 and repo.waiting_count(s, B) == 0


def test_entries_of_a_server_go_strictly_in_order(db):
    first, second = add(db), add(db)
    other = add(db, server=B)
    assert due_id(db) == first
    with db.session() as s:  # the first one is in back-off: the second must wait behind it
        repo.mark_sending(s, first)
        repo.mark_retry(s, first, "offline", delay=60)
    assert due_id(db) == other  # another server is not held up
    assert due_id(db, exclude=(B,)) is None
    assert due_id(db, now=utcnow() + timedelta(seconds=61)) == first
    with db.session() as s:
        assert repo.next_due_at(s, (B,)) > utcnow() + timedelta(seconds=50)
        heads = [e.id for e in repo.heads(s)]
    assert heads == [first, other]
    with db.session() as s:  # while it is being sent, nothing else of its server is due
        repo.mark_sending(s, other)
        repo.retry_now(s, first)
        repo.mark_sending(s, first)
    assert due_id(db) is None
    with db.session() as s:
        repo.mark_done(s, first, {"ok": True})
        assert repo.result(repo.get(s, first)) == {"ok": True}
    assert due_id(db) == second


def test_a_failed_entry_waits_for_the_author_without_blocking_the_next(db):
    first, second = add(db), add(db)
    with db.session() as s:
        repo.mark_sending(s, first)
        repo.mark_failed(s, first, "The marketplace refused it.")
    assert due_id(db) == second
    with db.session() as s:
        assert repo.waiting_count(s) == 1
        assert [e.id for e in repo.entries(s, ["failed"])] == [first]
        repo.retry_now(s, first)  # same key, back in its place (before the second)
        entry = repo.get(s, first)
        assert entry.state == "pending" and entry.attempts == 1
    assert due_id(db) == first
    with db.session() as s:
        repo.cancel(s, first)
        assert [e.state for e in repo.entries(s)] == ["cancelled", "pending"]
    assert due_id(db) == second


def test_entries_left_sending_by_a_crash_go_back_to_pending(db):
    first, second = add(db), add(db)
    with db.session() as s:
        repo.mark_sending(s, first)
        key = repo.get(s, first).idempotency_key
    with db.session() as s:  # the app starts again
        assert repo.recover_interrupted(s) == 1
        entry = repo.get(s, first)
        assert entry.state == "pending" and entry.idempotency_key == key
        assert entry.attempts == 1
    assert due_id(db) == first


def test_state_changes_that_make_no_sense_are_refused(db):
    entry = add(db)
    with db.session() as s:
        repo.mark_sending(s, entry)
        with pytest.raises(OutboxStateError):
            repo.mark_sending(s, entry)
        with pytest.raises(OutboxStateError, match="cannot be cancelled"):
            repo.cancel(s, entry)
        repo.mark_done(s, entry, {})
        for change in (repo.retry_now, repo.cancel):
            with pytest.raises(OutboxStateError):
                change(s, entry)


def test_back_off_can_be_ended_and_old_entries_purged(db):
    first, second = add(db), add(db, server=B)
    with db.session() as s:
        for entry in (first, second):
            repo.mark_sending(s, entry)
            repo.mark_retry(s, entry, "offline", delay=300)
    assert due_id(db) is None
    with db.session() as s:
        assert repo.reset_backoff(s, A) == 1
    assert due_id(db) == first
    with db.session() as s:
        repo.mark_sending(s, first)
        repo.mark_done(s, first, {})
        assert repo.purge_done(s, utcnow() - timedelta(days=1)) == 0
        assert repo.purge_done(s, utcnow() + timedelta(seconds=1)) == 1
        assert [e.id for e in repo.entries(s)] == [second]
