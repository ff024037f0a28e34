"""``OutboxDrainer``: sends the outbox's entries to their marketplaces, one at a time, in order.

Async and Qt-free.  The local database is only reached through ``run_db(fn, *args)``, which
runs a synchronous function off the event loop and returns its result (the app passes one
backed by its service-runner thread; tests may use ``asyncio.to_thread``).

For each entry, in id order per server (``studio.store.repositories.outbox.due``):

1. it is marked ``sending`` (attempts + 1);
2. ``handler.prepare(db, entry_id)`` builds the request spec *now*, from the local database
   (e.g. whether the story already has a remote id).  For a retry to be deduplicated by the
   server the spec must come out the same for the same entry (build it from what the entry
   froze, e.g. a version snapshot, not from the live draft);
3. ``await handler.send(client, spec, key)`` makes the request(s) with the entry's idempotency
   key (multi-step operations derive sub-keys, ``f"{key}:publish"``…), so every retry of the
   entry is the same operation to the server: it lands exactly once;
4. ``handler.complete(db, entry_id, result)`` records the result locally, then the entry is
   ``done``.  If the app stops between the two, the entry is sent again and the server replays
   its first answer: ``complete`` must be idempotent.

What a failure does:

- ``Offline`` / ``ServerFault`` (and 429): the entry stays ``pending`` with an exponential
  back-off with jitter (``base_delay`` doubling to ``max_delay``); its server is left alone
  until then (later entries of that server wait behind it), others go on.
- ``SignInRequired``: the entry stays ``pending`` (no back-off) and its server is left alone
  until ``wake()`` (call it after the author signed in); status ``signed_out``.
- ``Refused`` / ``QuotaExceeded`` / ``ConflictError``, an error preparing it, an unknown kind:
  the entry is ``failed`` with the message (the author may retry or cancel it) and draining
  goes on with the next entry.

``on_status(SyncStatus)`` is called whenever the state, the number waiting or the error
changes; it must be quick and must not raise (it runs on the event loop).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from studio.domain.errors import StudioError
from studio.store.repositories import outbox as repo
from studio.sync.client import MarketplaceClient
from studio.sync.credentials import CredentialsUnavailable
from studio.sync.errors import (
    ConflictError, MarketplaceError, Offline, QuotaExceeded, Refused, ServerFault,
    SignInRequired,
)

log = logging.getLogger(__name__)

ONLINE, OFFLINE, SYNCING, SIGNED_OUT = "online", "offline", "syncing", "signed_out"

RunDb = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Handler:
    """How to send one kind of outbox entry (see the module's docstring)."""

    prepare: Callable[[Any, int], dict]
    send: Callable[[MarketplaceClient, dict, str], Awaitable[dict]]
    complete: Callable[[Any, int, dict], None]


@dataclass(frozen=True)
class SyncStatus:
    """What the UI shows: ``state`` ("online", "offline", "syncing", "signed_out"), how many
    operations wait, the last error's message ("" if none), and in how many seconds the next
    automatic retry is (None: none planned)."""

    state: str
    waiting: int
    last_error: str = ""
    next_retry_in: float | None = None


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    server_url: str
    key: str
    attempts: int
    label: str


def backoff_delay(attempts: int, base: float = 2.0, cap: float = 300.0,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``base * 2**(attempts-1)``
    capped at ``cap``, then jittered into its upper half (so clients that went offline
    together do not come back together)."""
    ceiling = min(cap, base * (2 ** max(0, min(attempts - 1, 30))))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


# --- database steps (run through run_db, off the event loop) ---------------------------------

def _recover(db) -> int:
    with db.session() as s:
        return repo.recover_interrupted(s)


def _claim(db, now: datetime, exclude: tuple[str, ...]) -> _Claimed | None:
    with db.session() as s:
        entry = repo.due(s, now, exclude)
        if entry is None:
            return None
        repo.mark_sending(s, entry.id)
        return _Claimed(entry.id, entry.kind, entry.server_url, entry.idempotency_key,
                        entry.attempts, entry.label)


def _finish(db, handler: Handler, entry_id: int, result: dict) -> None:
    handler.complete(db, entry_id, result)
    with db.session() as s:
        repo.mark_done(s, entry_id, result)


def _retry(db, entry_id: int, error: str, delay: float) -> None:
    with db.session() as s:
        repo.mark_retry(s, entry_id, error, delay)


def _fail(db, entry_id: int, error: str) -> None:
    with db.session() as s:
        repo.mark_failed(s, entry_id, error)


def _snapshot(db, exclude: tuple[str, ...]) -> tuple[int, datetime | None, set[str]]:
    with db.session() as s:
        servers = {e.server_url for e in repo.heads(s)}
        return repo.waiting_count(s), repo.next_due_at(s, exclude), servers


def _reset_backoff(db) -> int:
    with db.session() as s:
        return repo.reset_backoff(s)


class OutboxDrainer:
    """Drains the outbox; see the module's docstring.

    ``client_for(server_url)`` gives the ``MarketplaceClient`` of a server (the drainer does
    not close it).  ``handlers`` maps an entry's ``kind`` to its ``Handler``.
    ``base_delay``/``max_delay``: the back-off's first step and cap, in seconds.
    """

    def __init__(self, run_db: RunDb, db, client_for: Callable[[str], MarketplaceClient],
                 handlers: dict[str, Handler], *,
                 on_status: Callable[[SyncStatus], None] | None = None,
                 base_delay: float = 2.0, max_delay: float = 300.0,
                 rng: random.Random | None = None):
        self.run_db = run_db
        self.db = db
        self.client_for = client_for
        self.handlers = dict(handlers)
        self.on_status = on_status
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng or random.Random()
        self.status = SyncStatus(ONLINE, 0)
        self._signed_out: set[str] = set()
        self._offline: set[str] = set()
        self._recovered = False
        self._reset_requested = False
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._again = False

    # --- control -----------------------------------------------------------------------------

    def wake(self, *, retry_backoff: bool = False) -> None:
        """Drain soon (``run_forever`` stops waiting); servers marked signed out are tried
        again.  ``retry_backoff``: also end the back-off of waiting entries (e.g. the network
        just came back)."""
        self._signed_out.clear()
        self._reset_requested = self._reset_requested or retry_backoff
        self._again = True
        if self._wake is not None:
            self._wake.set()

    async def recover(self) -> int:
        """Put entries a previous run left ``sending`` back to ``pending`` (done once, before
        the first drain; call it at app start to see the count)."""
        self._recovered = True
        count = await self.run_db(_recover, self.db)
        if count:
            log.info("outbox: %d interrupted entries will be sent again", count)
        return count

    def _the_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    # --- draining ----------------------------------------------------------------------------

    async def drain(self) -> int:
        """Send every entry that is due, one at a time; returns how many landed.  Concurrent
        calls run one after the other."""
        async with self._the_lock():
            if not self._recovered:
                await self.recover()
            if self._reset_requested:
                self._reset_requested = False
                await self.run_db(_reset_backoff, self.db)
            self._again = False
            landed = 0
            last_error = ""
            syncing_reported = False
            while True:
                # a server in back-off needs no exclusion: its head is not due yet, and the
                # entries behind it wait for it
                exclude = tuple(sorted(self._signed_out))
                now = datetime.now(timezone.utc)
                claimed = await self.run_db(_claim, self.db, now, exclude)
                if claimed is None:
                    break
                if not syncing_reported:
                    syncing_reported = True
                    await self._report(SYNCING, self.status.last_error)
                ok, error = await self._one(claimed)
                landed += ok
                if error:
                    last_error = error
                elif ok:
                    last_error = ""
            await self._report(None, last_error)
            return landed

    async def _one(self, entry: _Claimed) -> tuple[bool, str]:
        """Send one claimed entry: (landed, error message or "")."""
        handler = self.handlers.get(entry.kind)
        if handler is None:
            message = (f"This version of Story Studio does not know how to send “{entry.label}” "
                       f"(an operation of kind {entry.kind!r}). Update Story Studio, or cancel "
                       "it.")
            await self.run_db(_fail, self.db, entry.id, message)
            return False, message
        try:
            try:
                spec = await self.run_db(handler.prepare, self.db, entry.id)
            except StudioError as exc:  # its message says what is wrong with the entry
                message = str(exc)
                await self.run_db(_fail, self.db, entry.id, message)
                return False, message
            client = self.client_for(entry.server_url)
            result = await handler.send(client, spec, entry.key)
        except asyncio.CancelledError:
            # the app is stopping: give the entry back (the next start would do it anyway)
            try:
                await asyncio.shield(self.run_db(_retry, self.db, entry.id, "", 0.0))
            except Exception:  # noqa: BLE001 - recover_interrupted will do it
                pass
            raise
        except (SignInRequired, CredentialsUnavailable) as exc:
            self._signed_out.add(entry.server_url)
            await self.run_db(_retry, self.db, entry.id, str(exc), 0.0)
            return False, str(exc)
        except (Offline, ServerFault) as exc:
            return False, await self._back_off(entry, str(exc))
        except Refused as exc:
            if exc.status == 429:
                return False, await self._back_off(entry, str(exc), exc.retry_after)
            return False, await self._failed(entry, str(exc))
        except (QuotaExceeded, ConflictError, MarketplaceError) as exc:
            return False, await self._failed(entry, str(exc))
        except StudioError as exc:
            return False, await self._back_off(entry, str(exc), offline=False)
        except Exception as exc:  # a bug in a handler: do not loop on it
            log.exception("outbox: sending entry %s (%s) failed", entry.id, entry.kind)
            return False, await self._failed(
                entry, f"“{entry.label}” could not be sent because of an internal error "
                f"({type(exc).__name__}: {exc}). You can retry or cancel it.")
        try:
            await self.run_db(_finish, self.db, handler, entry.id, result)
        except StudioError as exc:  # e.g. the disk is full: the server's answer is kept
            return False, await self._back_off(
                entry, f"“{entry.label}” was accepted by the marketplace but could not be "
                f"recorded here: {exc}", offline=False)
        except Exception as exc:
            log.exception("outbox: recording entry %s (%s) failed", entry.id, entry.kind)
            return False, await self._failed(
                entry, f"“{entry.label}” was accepted by the marketplace but could not be "
                f"recorded here ({type(exc).__name__}: {exc}). Retry it to record it (the "
                "marketplace will not do it twice).")
        self._offline.discard(entry.server_url)
        await self._report(SYNCING, "")
        return True, ""

    async def _back_off(self, entry: _Claimed, message: str, at_least: float | None = None,
                        offline: bool = True) -> str:
        """Retry later; ``offline``: the server could not be used (status "offline")."""
        delay = backoff_delay(entry.attempts, self.base_delay, self.max_delay, self.rng)
        if at_least is not None:
            delay = max(delay, at_least)
        if offline:
            self._offline.add(entry.server_url)
        await self.run_db(_retry, self.db, entry.id, message, delay)
        log.info("outbox: %s (%s) will be retried in %.1f s: %s", entry.id, entry.kind,
                 delay, message)
        return message

    async def _failed(self, entry: _Claimed, message: str) -> str:
        """The server answered (so it is reachable) and refused: the entry waits for the
        author."""
        self._offline.discard(entry.server_url)
        await self.run_db(_fail, self.db, entry.id, message)
        await self._report(SYNCING, message)
        return message

    async def _report(self, state: str | None, last_error: str) -> None:
        """Publish the status; ``state`` None: settled (after a drain), worked out from the
        servers that still have entries waiting."""
        exclude = tuple(sorted(self._signed_out))
        waiting, when, servers = await self.run_db(_snapshot, self.db, exclude)
        # a server nothing waits for any more is no longer "offline" or "signed out" to us
        self._offline &= servers
        if state is None:
            if self._signed_out & servers:
                state = SIGNED_OUT
            elif self._offline:
                state = OFFLINE
            else:
                state = ONLINE
            if state != ONLINE and not last_error:  # still waiting out the same problem
                last_error = self.status.last_error
        next_in = None
        if when is not None and state != SYNCING:
            next_in = max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
            if next_in == 0.0 and state == ONLINE:
                next_in = None
        status = SyncStatus(state, waiting, last_error, next_in)
        if status != self.status:
            self.status = status
            if self.on_status is not None:
                try:
                    self.on_status(status)
                except Exception:  # noqa: BLE001 - the UI's problem, not the outbox's
                    log.exception("outbox: on_status raised")

    async def run_forever(self, poll: float = 30.0) -> None:
        """Drain, then wait for ``wake()``, the next planned retry or ``poll`` seconds, and
        again, until the task is cancelled.  Errors of the local database are reported in the
        status and retried at the next round."""
        self._wake = asyncio.Event()
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the loop alive
                log.exception("outbox: drain failed")
                self.status = SyncStatus(self.status.state, self.status.waiting,
                                         f"The waiting marketplace operations could not be "
                                         f"read: {exc}", None)
                if self.on_status is not None:
                    try:
                        self.on_status(self.status)
                    except Exception:  # noqa: BLE001
                        log.exception("outbox: on_status raised")
            if self._again:
                continue
            wait = poll
            if self.status.next_retry_in is not None:
                wait = min(wait, self.status.next_retry_in + 0.05)
            wait = max(wait, 0.05)
            self._wake.clear()
            if self._again:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
