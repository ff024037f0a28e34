"""sort=trending's stored count: ``story_stats.downloads_7d``.

Browse used to add up ``story_daily_stats`` for every listed story on each trending request
and sort them all (~70 ms at 50,000 stories).  Now each story keeps the downloads of the
trending window (``Settings.trending_days`` UTC days, today included) in ``story_stats``,
with an index in sort order, so a trending page is an index walk:

- ``routers.common.bump`` adds every counted download to ``downloads_7d`` as it adds it to
  the day's ``story_daily_stats`` row;
- ``refresh_downloads_7d`` recomputes it from the daily rows, so that days leaving the
  window fall out (and any drift is repaired: an increment racing a refresh may be lost until
  the next one).  The job workers run it (``TrendingRefresher``) when they start, whenever the
  UTC day changes, and every ``Settings.trending_refresh_seconds``; it writes only the rows
  whose count changed.  On PostgreSQL one refresh runs at a time across all processes
  (a transaction-level advisory lock; the others skip theirs).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, timedelta

from sqlalchemy import func, or_, select, text, update

from studio.marketplace.db import Database
from studio.marketplace.models import StoryDailyStats, StoryStats, utcnow

log = logging.getLogger("studio.marketplace.trending")

ADVISORY_LOCK = 0x7472656E64  # "trend": one refresh at a time (PostgreSQL)


def window_start(days: int, today: date | None = None) -> date:
    """The first day of the trending window that ends today."""
    return (today or utcnow().date()) - timedelta(days=max(days, 1) - 1)


def refresh_statement(since: date):
    """UPDATE story_stats: downloads_7d = the downloads since ``since``, for the stories that
    have some now or had some before (and only where the number changes)."""
    daily, stats = StoryDailyStats, StoryStats
    recent = select(func.coalesce(func.sum(daily.downloads), 0)) \
        .where(daily.story_id == stats.story_id, daily.day >= since).scalar_subquery()
    candidates = or_(stats.downloads_7d > 0, stats.story_id.in_(
        select(daily.story_id).where(daily.day >= since)))
    return update(stats).where(candidates, stats.downloads_7d != recent) \
        .values(downloads_7d=recent)


def refresh_downloads_7d(db: Database, days: int, today: date | None = None) -> int | None:
    """Recompute every story's ``downloads_7d``; the number of rows changed, or None when
    another process was refreshing already (PostgreSQL)."""
    session = db.session(write=True)
    try:
        if db.is_postgres and not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}):
            return None
        changed = session.execute(refresh_statement(window_start(days, today))).rowcount
        session.commit()
        return changed
    finally:
        session.close()


class TrendingRefresher:
    """Calls ``refresh_downloads_7d`` when due: first call, a new UTC day, or ``every``
    seconds after the last refresh (``every`` ≤ 0: on a new day only).  Safe to share between
    the worker threads of a process; a call that is not due costs a clock read."""

    def __init__(self, db: Database, days: int, every: float):
        self.db, self.days, self.every = db, days, every
        self._lock = threading.Lock()
        self._day: date | None = None
        self._next = 0.0
        self._not_before = 0.0
        self.runs = 0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._not_before:  # a failed refresh is retried after a minute
            return False
        return utcnow().date() != self._day or (self.every > 0 and now >= self._next)

    def __call__(self) -> bool:
        """Refresh if due (and no other thread of this process is at it); True if it ran."""
        if not self.due() or not self._lock.acquire(blocking=False):
            return False
        try:
            today = utcnow().date()
            started = time.monotonic()
            try:
                changed = refresh_downloads_7d(self.db, self.days, today)
            except Exception:  # noqa: BLE001 - e.g. the database restarting: retry in a minute
                log.exception("trending refresh failed")
                self._not_before = started + 60.0
                return False
            self._day = today
            self._next = started + (self.every if self.every > 0 else float("inf"))
            self.runs += 1
            log.info("trending refresh: %s rows changed in %.0f ms",
                     "skipped (another process)" if changed is None else changed,
                     (time.monotonic() - started) * 1000)
            return True
        finally:
            self._lock.release()
