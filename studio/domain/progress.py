"""Words written per day, made ready for a chart: filled calendar, round gridlines, streaks.

Pure Python so the rules can be tested without Qt.  Day counts are *net* words (written minus
deleted), so a heavy editing day may be negative; the helpers keep that sign rather than hide it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Iterable, TypedDict

DEFAULT_SPAN = 90

# Gridline steps are these mantissas times a power of ten: 1, 2, 2.5, 5, 10, 20, 25, 50, ...
# (2.5 only from 25 up, so every tick stays a whole number of words).
_MANTISSAS = (1.0, 2.0, 2.5, 5.0)
_MAX_INTERVALS = 3  # 0 plus up to 3 lines above it: the 3-4 labels a small chart can carry


class Summary(TypedDict):
    total: int
    best_day: date | None
    best_words: int
    streak: int


def _totals(days: Iterable[tuple[date, int]]) -> dict[date, int]:
    """Sum per date, so two sessions on one day count once, as that day's total."""
    totals: dict[date, int] = {}
    for day, words in days:
        totals[day] = totals.get(day, 0) + int(words)
    return totals


def fill_days(days: Iterable[tuple[date, int]], today: date,
              span: int = DEFAULT_SPAN) -> list[tuple[date, int]]:
    """Exactly ``span`` consecutive days ending at ``today``, oldest first.

    Missing days become 0, repeated dates are summed, and days outside the window are dropped.
    """
    if span <= 0:
        return []
    totals = _totals(days)
    start = today - timedelta(days=span - 1)
    return [(d, totals.get(d, 0)) for d in (start + timedelta(days=i) for i in range(span))]


def nice_ticks(max_value: float) -> list[int]:
    """Round gridline values from 0 up to at least ``max_value``: 0, step, 2·step, ...

    The step is the smallest of 1, 2, 2.5, 5 × 10ⁿ that covers ``max_value`` in at most three
    intervals (and at least two), so a chart shows 3-4 labels (``1234`` → 0, 500, 1000, 1500).
    Nothing to show (``max_value <= 0``) gives just the baseline, ``[0]``.
    """
    if max_value <= 0:
        return [0]
    magnitude = 1
    while True:
        for mantissa in _MANTISSAS:
            step = mantissa * magnitude
            if step != int(step):
                continue  # 2.5 below 25 would not be a whole number of words
            step = int(step)
            intervals = math.ceil(max_value / step)
            if intervals <= _MAX_INTERVALS:
                return [i * step for i in range(max(intervals, 2) + 1)]
        magnitude *= 10


def streak(days: Iterable[tuple[date, int]], today: date) -> int:
    """Consecutive days with more than 0 net words, counting back from today.

    Today only ends the streak once it has words; until then the streak runs to yesterday, so an
    author opening the app in the morning still sees yesterday's run rather than 0.  A day with
    0 or fewer net words (deleting counts as not writing here) breaks the streak.
    """
    totals = _totals(days)
    day = today if totals.get(today, 0) > 0 else today - timedelta(days=1)
    count = 0
    while totals.get(day, 0) > 0:
        count += 1
        day -= timedelta(days=1)
    return count


def summary(days: Iterable[tuple[date, int]], today: date | None = None) -> Summary:
    """The caption numbers: net total, the best day (earliest on a tie), and the streak.

    ``today`` defaults to the last date in ``days``, which is today for a ``fill_days`` result.
    With no day above 0 words there is no best day (``None`` and 0).
    """
    totals = _totals(days)
    if not totals:
        return Summary(total=0, best_day=None, best_words=0, streak=0)
    best_day, best_words = None, 0
    for day in sorted(totals):
        if totals[day] > best_words:
            best_day, best_words = day, totals[day]
    end = today if today is not None else max(totals)
    return Summary(total=sum(totals.values()), best_day=best_day, best_words=best_words,
                   streak=streak(totals.items(), end))
