"""The outline's index cards, offscreen, on an outline read from a real database."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPalette
from PySide6.QtWidgets import QApplication

from studio.domain.outline import ChapterInfo, Outline, SceneInfo
from studio.services import manuscript as ms
from studio.services import stories
from studio.ui.theme import _dark_palette
from studio.ui.widgets.outline_cards import (
    NO_CHAPTER_SYNOPSIS, NO_SCENE_SYNOPSIS, STATUS_LABELS, status_colors,
)
from studio.ui.widgets.outline_view import OutlineView


def build_story(db):
    story = stories.create_story(db, "The Salt Road")
    ch1 = ms.add_chapter(db, story.id, "Departure")
    ch2 = ms.add_chapter(db, story.id, "The Flats")
    ms.update_chapter(db, story.id, ch1.uid, synopsis="They leave the salt town.",
                      status="revised", word_target=3000)
    market = ms.add_scene(db, story.id, ch1.uid, "Market",
                          text="Mara counted the lanterns.\n\nThe old lantern swung.")
    gate = ms.add_scene(db, story.id, ch1.uid, "Gate", text="Guards at the gate.")
    road = ms.add_scene(db, story.id, ch1.uid, "Road", text="Dust.")
    thirst = ms.add_scene(db, story.id, ch2.uid, "Thirst", text="Salt, and more salt.")
    ms.update_scene(db, story.id, market.uid, synopsis="Mara trades a ring for a mule.",
                    status="final")
    ms.update_scene(db, story.id, gate.uid, synopsis="A toll she cannot pay.", status="idea")
    ms.update_scene(db, story.id, thirst.uid, status="revised")
    return story, (ch1, ch2), (market, gate, road, thirst)


@pytest.fixture
def story(db):
    return build_story(db)


@pytest.fixture
def view(qtbot):
    widget = OutlineView()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def centre(view: OutlineView, uid: str) -> QPoint:
    rect = view.card_rect(uid)
    assert not rect.isEmpty()
    return rect.center()


def test_a_card_per_scene_under_its_chapter_with_title_status_and_synopsis(db, story, view):
    st, (ch1, ch2), (market, gate, road, thirst) = story
    view.set_outline(ms.outline(db, st.id))
    assert view.scene_uids() == [market.uid, gate.uid, road.uid, thirst.uid]

    heading = view.card_text(ch1.uid).splitlines()
    assert heading == ["Chapter 1 · Departure", "Revised", "13 / 3,000 words · 0%",
                       "They leave the salt town."]
    assert view.card_text(ch2.uid).splitlines() == [
        "Chapter 2 · The Flats", "Draft", "4 words", NO_CHAPTER_SYNOPSIS]
    assert view.card_text(market.uid).splitlines() == [
        "Market", "Final", "8 words", "Mara trades a ring for a mule."]
    assert view.card_text(gate.uid).splitlines()[:2] == ["Gate", "Idea"]
    assert view.card_text(road.uid).splitlines() == ["Road", "Draft", "1 word",
                                                     NO_SCENE_SYNOPSIS]
    assert view.card_text(thirst.uid).splitlines()[1] == "Revised"

    # Cards flow left to right under their heading; the next chapter starts below them.
    r = {uid: view.card_rect(uid) for uid in (ch1.uid, market.uid, gate.uid, road.uid,
                                              ch2.uid, thirst.uid)}
    assert r[market.uid].top() > r[ch1.uid].bottom()
    assert r[market.uid].top() == r[gate.uid].top() == r[road.uid].top()
    assert r[market.uid].right() < r[gate.uid].left() < r[road.uid].left()
    assert r[market.uid].width() >= 220
    assert r[ch2.uid].top() > r[road.uid].bottom()
    assert r[thirst.uid].top() > r[ch2.uid].bottom()
    # and everything is painted without complaint
    assert not view.grab().isNull()


def test_cards_reflow_to_the_width(db, story, view, qtbot):
    st, _chapters, (market, gate, road, _thirst) = story
    view.set_outline(ms.outline(db, st.id))
    assert view.columns() >= 3
    view.resize(520, 700)
    qtbot.waitUntil(lambda: view.columns() == 2)
    assert view.card_rect(gate.uid).top() == view.card_rect(market.uid).top()
    assert view.card_rect(road.uid).top() > view.card_rect(market.uid).bottom()
    assert view.card_rect(road.uid).left() == view.card_rect(market.uid).left()
    assert view.card_rect(market.uid).right() <= view.viewport().width()
    # the scroll area's range follows the content's height
    assert view.canvas.height() >= view.canvas.heightForWidth(view.canvas.width())


def test_clicking_a_card_or_a_heading_activates_it(db, story, view, qtbot):
    st, (ch1, _ch2), (market, gate, _road, thirst) = story
    view.set_outline(ms.outline(db, st.id))
    with qtbot.waitSignal(view.sceneActivated) as blocker:
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=centre(view, gate.uid))
    assert blocker.args == [gate.uid]
    with qtbot.waitSignal(view.sceneActivated) as blocker:
        qtbot.mouseDClick(view.canvas, Qt.MouseButton.LeftButton, pos=centre(view, thirst.uid))
    assert blocker.args == [thirst.uid]
    # a real double-click (click, then double-click) opens the scene once
    seen = []
    view.sceneActivated.connect(seen.append)
    pos = QPointF(centre(view, market.uid))
    for kind, msecs in ((QEvent.Type.MouseButtonPress, 10_000),
                        (QEvent.Type.MouseButtonRelease, 10_050),
                        (QEvent.Type.MouseButtonDblClick, 10_150),
                        (QEvent.Type.MouseButtonRelease, 10_200)):
        event = QMouseEvent(kind, pos, view.canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        event.setTimestamp(msecs)
        QApplication.sendEvent(view.canvas, event)
    assert seen == [market.uid]
    with qtbot.waitSignal(view.chapterActivated) as blocker:
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton,
                         pos=view.card_rect(ch1.uid).topLeft() + QPoint(20, 8))
    assert blocker.args == [ch1.uid]
    with qtbot.assertNotEmitted(view.sceneActivated):
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))


def test_keyboard_moves_between_cards_and_enter_activates(db, story, view, qtbot):
    st, (ch1, ch2), (market, gate, road, thirst) = story
    view.set_outline(ms.outline(db, st.id))
    canvas = view.canvas
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert view.focused_uid() == ch1.uid
    with qtbot.waitSignal(view.chapterActivated) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert blocker.args == [ch1.uid]
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert view.focused_uid() == market.uid
    qtbot.keyClick(canvas, Qt.Key.Key_Tab)
    assert view.focused_uid() == gate.uid
    qtbot.keyClick(canvas, Qt.Key.Key_Backtab)
    assert view.focused_uid() == market.uid
    qtbot.keyClick(canvas, Qt.Key.Key_Down)  # last row of chapter 1: on to chapter 2
    assert view.focused_uid() == ch2.uid
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    assert view.focused_uid() == thirst.uid
    with qtbot.waitSignal(view.sceneActivated) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_Enter)
    assert blocker.args == [thirst.uid]
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert view.focused_uid() == road.uid
    qtbot.keyClick(canvas, Qt.Key.Key_End)
    assert view.focused_uid() == thirst.uid
    # two columns: Up and Down move by a whole row
    view.resize(520, 700)
    qtbot.waitUntil(lambda: view.columns() == 2)
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    assert view.focused_uid() == road.uid
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert view.focused_uid() == market.uid
    with qtbot.waitSignal(view.sceneActivated) as blocker:
        qtbot.keyClick(canvas, Qt.Key.Key_Space)
    assert blocker.args == [market.uid]


def test_set_outline_again_replaces_the_cards(db, story, view):
    st, (ch1, ch2), (market, gate, road, thirst) = story
    view.set_outline(ms.outline(db, st.id))
    ms.delete_chapter(db, st.id, ch1.uid)
    ms.update_scene(db, st.id, thirst.uid, title="Thirst, again", synopsis="Water at last.")
    extra = ms.add_scene(db, st.id, ch2.uid, "Oasis")
    view.set_outline(ms.outline(db, st.id))
    assert view.scene_uids() == [thirst.uid, extra.uid]
    assert view.card_rect(market.uid).isEmpty() and view.card_text(ch1.uid) == ""
    assert view.card_text(ch2.uid).startswith("Chapter 1 · The Flats")
    assert view.card_text(thirst.uid).splitlines() == [
        "Thirst, again", "Revised", "4 words", "Water at last."]
    view.set_outline(Outline(st.id, [], None, "en", 0))
    assert view.scene_uids() == [] and not view.grab().isNull()


def test_current_scene_is_highlighted(db, story, view, qtbot):
    st, _chapters, (market, gate, _road, _thirst) = story
    view.set_outline(ms.outline(db, st.id))
    rect = view.card_rect(gate.uid)
    before = view.canvas.grab(rect).toImage()
    view.set_current_scene(gate.uid)
    assert view.current_scene() == gate.uid
    after = view.canvas.grab(rect).toImage()
    assert before != after
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    assert after.pixelColor(rect.width() // 2, 1) == highlight  # the border
    view.set_current_scene(None)
    assert view.canvas.grab(rect).toImage() == before


@pytest.mark.parametrize("dark", [False, True])
def test_status_chips_are_distinct_and_readable(qapp, dark):
    palette = _dark_palette() if dark else qapp.palette()
    base = palette.color(QPalette.ColorRole.Base)

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return (0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF())
                + 0.0722 * channel(c.blueF()))

    inks = []
    for status in STATUS_LABELS:
        ink, fill = status_colors(status, palette)
        # the chip's fill over the card, then the ink on that
        under = QColor.fromRgbF(*(fill.alphaF() * a + (1 - fill.alphaF()) * b for a, b in zip(
            (fill.redF(), fill.greenF(), fill.blueF()), (base.redF(), base.greenF(),
                                                         base.blueF()))))
        hi, lo = sorted((luminance(ink), luminance(under)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5, status
        inks.append(ink.name())
    assert len(set(inks)) == len(STATUS_LABELS)


def big_outline(chapters: int, scenes: int) -> Outline:
    out = []
    for c in range(chapters):
        chapter = ChapterInfo(f"ch{c}", f"Chapter {c + 1}", "A synopsis. " * (c % 3), "draft",
                              None, c)
        chapter.scenes = [SceneInfo(f"sc{c}-{s}", chapter.uid, f"Scene {s + 1}",
                                    "Something happens, and then it matters. " * (s % 4),
                                    ("idea", "draft", "revised", "final")[s % 4], 900 + s, s)
                          for s in range(scenes)]
        out.append(chapter)
    return Outline(1, out, None, "en", 0)


def test_a_thousand_scenes_are_set_quickly(view, qtbot):
    # Timing is printed, and only checked loosely: shared CI machines vary.
    for chapters, scenes in ((50, 20), (1000, 1)):
        outline = big_outline(chapters, scenes)
        started = time.perf_counter()
        view.set_outline(outline)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"set_outline, {chapters} chapters x {scenes} scenes: {elapsed:.1f} ms")
        assert len(view.scene_uids()) == 1000
        assert elapsed < 2000
        qtbot.wait(1)
        assert view.verticalScrollBar().maximum() > 5000
    last = view.scene_uids()[-1]
    view.set_current_scene(last)
    qtbot.waitUntil(lambda: view.verticalScrollBar().value() > 0)
