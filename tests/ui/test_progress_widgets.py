"""The writing-progress chart and the word-target bar, offscreen: geometry, text, colours."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, QSize
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QToolTip

from studio.ui.theme import _dark_palette
from studio.ui.widgets.progress_chart import EMPTY_MESSAGE, WritingProgressChart
from studio.ui.widgets.target_bar import TargetProgress

TODAY = date(2025, 10, 14)  # a Tuesday


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


DAYS = [(ago(0), 1_234), (ago(1), 500), (ago(2), 1_000), (ago(4), -300), (ago(40), 1_500),
        (ago(120), 9_999)]  # the last one is outside the 90-day window


@pytest.fixture
def chart(qtbot):
    widget = WritingProgressChart()
    qtbot.addWidget(widget)
    widget.resize(640, 220)
    widget.set_data(DAYS, today=TODAY, daily_goal=1_000)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def centre_x(chart: WritingProgressChart, day: date) -> int:
    rect = chart.bar_rect(day)
    assert not rect.isEmpty()
    return rect.center().x()


def pixel(chart: WritingProgressChart, point: QPoint) -> QColor:
    image = chart.grab().toImage()
    ratio = image.devicePixelRatio()
    return image.pixelColor(round(point.x() * ratio), round(point.y() * ratio))


def test_sizes(chart):
    assert chart.sizeHint() == QSize(640, 220)
    assert chart.minimumSize() == QSize(320, 160)


def test_ninety_days_today_last_and_scale_from_data_and_goal(chart):
    days = chart.days()
    assert len(days) == 90 and days[-1] == (TODAY, 1_234) and days[0][0] == ago(89)
    assert chart.ticks() == [0, 500, 1_000, 1_500]
    assert not chart.is_empty()


def test_goal_above_every_day_raises_the_scale(qtbot):
    widget = WritingProgressChart()
    qtbot.addWidget(widget)
    widget.set_data([(TODAY, 300)], today=TODAY, daily_goal=2_000)
    assert widget.ticks() == [0, 1_000, 2_000]


def test_bar_at_maps_columns_to_days(chart):
    assert chart.bar_at(centre_x(chart, TODAY)) == (TODAY, 1_234)
    assert chart.bar_at(centre_x(chart, ago(40))) == (ago(40), 1_500)
    assert chart.bar_at(chart.width() - 9) == (TODAY, 1_234)  # today sits at the right edge
    assert chart.bar_at(0) is None  # the y-axis labels, not a day
    assert chart.bar_at(chart.width() - 1) is None  # the right margin
    # a zero day has no bar but its column still answers
    zero_x = (centre_x(chart, ago(2)) + centre_x(chart, ago(4))) // 2
    assert chart.bar_at(zero_x) == (ago(3), 0)
    assert chart.bar_rect(ago(3)).isEmpty()
    # every pixel column of the plot belongs to exactly one day, oldest on the left
    hits = [chart.bar_at(x) for x in range(chart.width())]
    seen = [h[0] for h in hits if h is not None]
    assert seen == sorted(seen) and len(set(seen)) == 90


def test_bars_are_distinct_wide_enough_and_grow_from_the_baseline(chart):
    rects = [chart.bar_rect(i) for i in range(90)]
    drawn = [r for r in rects if not r.isEmpty()]
    assert len(drawn) == 5
    assert all(r.width() >= 3 for r in drawn)
    lefts = [r.left() for r in drawn]
    assert all(a.right() < b.left() for a, b in zip(drawn, drawn[1:])) and lefts == sorted(lefts)
    baseline = chart.value_y(0)
    for day, words in ((TODAY, 1_234), (ago(1), 500), (ago(2), 1_000), (ago(40), 1_500)):
        rect = chart.bar_rect(day)
        assert rect.bottom() == baseline
        assert abs(rect.top() - chart.value_y(words)) <= 1
    # heights are proportional: 1,000 words is twice 500 words
    assert abs(chart.bar_rect(ago(2)).height() - 2 * chart.bar_rect(ago(1)).height()) <= 1
    # the 1,500-word day reaches the top gridline, inside the widget
    assert chart.bar_rect(ago(40)).top() == chart.value_y(1_500) > 0


def test_deletions_hang_below_the_baseline_as_small_bars(chart):
    rect = chart.bar_rect(ago(4))
    assert rect.top() == chart.value_y(0) + 1
    assert 2 <= rect.height() <= 0.15 * chart.height()
    assert rect.height() < chart.bar_rect(ago(1)).height()  # 300 deleted < 500 written
    assert rect.bottom() < chart.height()


def test_tooltips(chart):
    assert chart.tooltip_at(centre_x(chart, ago(1))) == "Mon 13 Oct: 500 words"
    assert chart.tooltip_at(centre_x(chart, ago(40))) == "Thu 4 Sep: 1,500 words — goal met"
    assert chart.tooltip_at(centre_x(chart, TODAY)) == "Tue 14 Oct: 1,234 words — goal met (today)"
    assert chart.tooltip_at(centre_x(chart, ago(4))) == (
        "Fri 10 Oct: -300 words (more deleted than written)")
    assert chart.tooltip_at(0) is None


def test_hovering_a_bar_shows_its_tooltip(chart, qtbot):
    assert chart.hasMouseTracking()
    rect = chart.bar_rect(ago(1))
    qtbot.mouseMove(chart, rect.center())
    qtbot.waitUntil(lambda: QToolTip.isVisible()
                    and QToolTip.text() == "Mon 13 Oct: 500 words", timeout=2_000)
    qtbot.mouseMove(chart, QPoint(2, 2))  # the caption: no day under the mouse
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2_000)


def test_caption_has_total_best_day_and_streak(chart):
    text = chart.caption_text()
    assert text == ("Last 90 days: 3,934 words  ·  Best day: Thu 4 Sep, 1,500 words"
                    "  ·  Streak: 3 days")
    assert chart.caption_text(compact=True) == "3,934 words · best 1,500 · 3-day streak"


def test_bars_are_painted_in_palette_colours(chart):
    palette = chart.palette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#c03020"))
    chart.setPalette(palette)
    past = pixel(chart, chart.bar_rect(ago(40)).center())
    assert past.red() > past.green() + 40 and past.red() > past.blue() + 40
    gap_column = chart.bar_rect(ago(40)).center() + QPoint(0, -chart.bar_rect(ago(40)).height())
    assert pixel(chart, gap_column).red() - pixel(chart, gap_column).green() < 20  # above bar


def test_today_stands_out_in_the_dark_palette(chart):
    chart.setPalette(_dark_palette())
    today = pixel(chart, chart.bar_rect(TODAY).center())
    past = pixel(chart, chart.bar_rect(ago(1)).center())
    background = pixel(chart, QPoint(chart.width() // 2, chart.height() - 2))
    assert background.lightnessF() < 0.3
    assert today.lightnessF() > past.lightnessF() + 0.1


def test_empty_chart_shows_the_friendly_message(qtbot):
    widget = WritingProgressChart()
    qtbot.addWidget(widget)
    widget.resize(640, 220)
    widget.set_data([(ago(0), 0), (ago(200), 5_000)], today=TODAY)
    assert widget.is_empty()
    assert widget.bar_at(320) is None
    assert widget.accessibleDescription() == EMPTY_MESSAGE
    assert "No words written yet in the last 90 days" in EMPTY_MESSAGE
    image = widget.grab().toImage()  # paints without axes or errors
    assert not image.isNull()


def test_chart_still_works_at_its_minimum_size(qtbot):
    widget = WritingProgressChart()
    qtbot.addWidget(widget)
    widget.resize(320, 160)
    widget.set_data(DAYS, today=TODAY, daily_goal=1_000)
    rects = [widget.bar_rect(i) for i in range(90)]
    assert all(r.left() >= 0 and r.right() < 320 and r.bottom() < 160 for r in rects
               if not r.isEmpty())
    assert widget.bar_at(widget.bar_rect(TODAY).center().x()) == (TODAY, 1_234)
    assert widget.value_y(1_500) > 0 and widget.value_y(0) < 160 - 10


@pytest.fixture
def target(qtbot):
    widget = TargetProgress()
    qtbot.addWidget(widget)
    return widget


def test_target_progress_text_and_percentage(target):
    target.set_progress("Chapter 3", 12_340, 20_000)
    assert target.text() == "Chapter 3 — 12,340 / 20,000 words (62%)"
    assert target.text_label.text() == target.text()
    assert target.percent() == 62 and not target.is_reached()
    assert not target.bar.isHidden() and target.hint.isHidden()
    assert target.bar.value() == 617 and target.bar.maximum() == 1000


def test_target_almost_reached_does_not_round_to_100(target):
    target.set_progress("Chapter 3", 19_990, 20_000)
    assert target.percent() == 99
    assert "target reached" not in target.text()


def test_target_reached_turns_the_bar_success_coloured(target):
    target.set_progress("Chapter 3", 12_340, 20_000)
    normal = target.bar.palette().color(QPalette.ColorRole.Highlight)
    target.set_progress("Chapter 3", 21_050, 20_000)
    assert target.is_reached()
    assert target.text() == "Chapter 3 — 21,050 / 20,000 words (105%) — target reached"
    assert target.bar.value() == target.bar.maximum()
    success = target.bar.palette().color(QPalette.ColorRole.Highlight)
    assert success == target.success_colour() != normal
    assert success.green() > success.red() and success.green() > success.blue()
    # falling back below the target restores the normal colour
    target.set_progress("Chapter 3", 100, 20_000)
    assert target.bar.palette().color(QPalette.ColorRole.Highlight) == normal


def test_no_target_shows_words_and_offers_to_set_one(target, qtbot):
    target.set_progress("Chapter 5", 3_120, None)
    assert target.text() == "Chapter 5 — 3,120 words"
    assert target.percent() is None and not target.is_reached()
    assert target.bar.isHidden() and not target.hint.isHidden()
    assert "Set target…" in target.hint.text()
    with qtbot.waitSignal(target.targetRequested, timeout=1_000):
        target.hint.linkActivated.emit("#set-target")
    target.set_progress("", 3_120, None)
    assert target.text() == "3,120 words"


def test_target_of_zero_counts_as_no_target(target):
    target.set_progress("Chapter 6", 0, 0)
    assert target.text() == "Chapter 6 — 0 words"
    assert target.bar.isHidden() and not target.is_reached()


def test_counts_beyond_int32_are_safe(target):
    target.set_progress("Saga", 5_000_000_000, 3_000_000_000)
    assert target.text() == "Saga — 5,000,000,000 / 3,000,000,000 words (167%) — target reached"
    assert target.bar.value() == target.bar.maximum()
    target.set_progress("Saga", 1_500_000_000, 3_000_000_000)
    assert target.percent() == 50 and target.bar.value() == 500
