"""Words-per-day rules behind the progress chart: filled calendar, gridlines, streak, summary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from studio.domain.progress import fill_days, nice_ticks, streak, summary

TODAY = date(2025, 10, 14)


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def test_fill_days_fills_gaps_with_zero_and_ends_today():
    filled = fill_days([(ago(0), 300), (ago(3), 1200)], TODAY, span=5)
    assert filled == [(ago(4), 0), (ago(3), 1200), (ago(2), 0), (ago(1), 0), (ago(0), 300)]


def test_fill_days_default_span_is_ninety_consecutive_days():
    filled = fill_days([], TODAY)
    assert len(filled) == 90
    assert filled[0][0] == ago(89) and filled[-1][0] == TODAY
    assert all(b[0] - a[0] == timedelta(days=1) for a, b in zip(filled, filled[1:]))
    assert all(words == 0 for _, words in filled)


def test_fill_days_keeps_negative_days_and_sums_repeated_dates():
    filled = dict(fill_days([(ago(1), -250), (ago(2), 400), (ago(2), -100)], TODAY, span=3))
    assert filled == {ago(2): 300, ago(1): -250, TODAY: 0}


def test_fill_days_drops_days_outside_the_window():
    days = [(ago(90), 999), (ago(89), 5), (TODAY + timedelta(days=1), 777)]
    filled = fill_days(days, TODAY)
    assert sum(words for _, words in filled) == 5
    assert filled[0] == (ago(89), 5)
    assert fill_days(days, TODAY, span=0) == []


@pytest.mark.parametrize("value, expected", [
    (0, [0]),
    (-40, [0]),
    (1, [0, 1, 2]),
    (7, [0, 5, 10]),
    (1000, [0, 500, 1000]),
    (1234, [0, 500, 1000, 1500]),
    (98765, [0, 50000, 100000]),
])
def test_nice_ticks(value, expected):
    assert nice_ticks(value) == expected


@pytest.mark.parametrize("value", [3, 7, 42, 99, 101, 700, 1234, 2001, 98765, 3_456_789])
def test_nice_ticks_are_three_or_four_round_steps_covering_the_value(value):
    ticks = nice_ticks(value)
    assert 3 <= len(ticks) <= 4
    assert ticks[0] == 0 and ticks[-1] >= value
    step = ticks[1]
    assert all(b - a == step for a, b in zip(ticks, ticks[1:]))
    mantissa = step / 10 ** (len(str(step)) - 1)
    assert mantissa in (1, 2, 2.5, 5)
    assert ticks[-2] < value  # no wasted gridline above the one that covers the value


def test_streak_counts_back_from_today_when_today_has_words():
    days = [(ago(0), 10), (ago(1), 500), (ago(2), 20), (ago(4), 800)]
    assert streak(days, TODAY) == 3


def test_streak_runs_to_yesterday_while_today_is_still_empty():
    days = [(ago(1), 500), (ago(2), 20), (ago(3), 1)]
    assert streak(days, TODAY) == 3
    assert streak(days + [(ago(0), 0)], TODAY) == 3


def test_streak_is_zero_when_neither_today_nor_yesterday_has_words():
    assert streak([(ago(2), 900), (ago(3), 900)], TODAY) == 0
    assert streak([], TODAY) == 0


def test_streak_breaks_on_deletion_days_and_sums_sessions():
    assert streak([(ago(0), 300), (ago(1), -50), (ago(2), 900)], TODAY) == 1
    # two sessions yesterday, +100 then -150, make a net deletion day, which breaks it
    assert streak([(ago(0), 10), (ago(1), 100), (ago(1), -150), (ago(2), 40)], TODAY) == 1


def test_streak_is_not_limited_to_the_chart_window():
    days = [(ago(n), 100) for n in range(120)]
    assert streak(days, TODAY) == 120


def test_summary_of_a_filled_window():
    days = fill_days([(ago(0), 700), (ago(1), 1_500), (ago(5), 1_500), (ago(6), -200)], TODAY)
    assert summary(days) == {"total": 3_500, "best_day": ago(5), "best_words": 1_500,
                             "streak": 2}


def test_summary_with_nothing_written():
    assert summary([]) == {"total": 0, "best_day": None, "best_words": 0, "streak": 0}
    only_deletions = fill_days([(ago(3), -80)], TODAY)
    assert summary(only_deletions) == {"total": -80, "best_day": None, "best_words": 0,
                                       "streak": 0}


def test_summary_takes_an_explicit_today_for_sparse_days():
    days = [(ago(1), 50), (ago(2), 60)]
    assert summary(days)["streak"] == 2  # last date (yesterday) taken as today
    assert summary(days, today=TODAY)["streak"] == 2  # today empty: runs to yesterday
    assert summary(days, today=TODAY + timedelta(days=1))["streak"] == 0
