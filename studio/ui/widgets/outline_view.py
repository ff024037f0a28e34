"""The manuscript as index cards: one section per chapter, its scenes as cards in a flowing grid.

Everything is painted by one canvas widget inside the scroll area rather than built from a
widget per card: a thousand-scene outline would otherwise mean five thousand QLabels and
half a second in ``set_outline``.  ``set_outline`` only places rectangles; text is wrapped and
elided when a card is first painted (only visible cards are), and cached per card width.
A scene's newest illustration (``set_images``) shows as a thumbnail in its card's corner,
decoded on first paint too (``outline_images``).

Keyboard: Tab / Shift+Tab and the arrow keys move between chapter headings and cards (Up and
Down move by grid row), Home / End jump to the ends, Enter or Space activates.  Colours come
from the palette, except the status inks, which have a light and a dark variant.
"""

from __future__ import annotations

import html
from typing import Mapping

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QScrollArea, QSizePolicy, QToolTip, QWidget

from studio.domain.outline import Outline
from studio.ui.widgets.outline_cards import (
    _GAP, _MARGIN, _PAD, _SECTION_GAP, CARD_WIDTH, CHAPTER_SYNOPSIS_LINES, NO_CHAPTER_SYNOPSIS,
    NO_SCENE_SYNOPSIS, SYNOPSIS_LINES, _collapse, _Item, _Metrics, status_label, wrap_lines,
)
from studio.ui.widgets.outline_images import SceneImage, SceneThumbnails
from studio.ui.widgets.outline_painting import CardPainting
from studio.ui.widgets.progress_chart import words_text


class _OutlineCanvas(CardPainting, QWidget):
    """Paints the whole outline; hit-tests, keyboard focus and tooltips by item."""

    sceneActivated = Signal(str)
    chapterActivated = Signal(str)
    wantVisible = Signal(QRect)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName("Outline")
        self.outline: Outline | None = None
        self.items: list[_Item] = []
        self.sections: list[tuple[int, list[int]]] = []  # (heading item, card items)
        self.focus_index = -1
        self.current_uid: str | None = None
        self._hover = -1
        self._pressed = -1
        self._last_click: tuple[int, int] = (-1, 0)  # (item, msecs) of the last click activation
        self._laid_out_width = -1
        self._height = 0
        self._columns = 1
        self._card_w = CARD_WIDTH
        self._hfw_cache: dict[int, int] = {}
        self._synopsis_h: dict[tuple[int, int], int] = {}
        self._m: _Metrics | None = None
        self.thumbs = SceneThumbnails()

    # --- content ---------------------------------------------------------------------------

    def set_images(self, images: Mapping[str, SceneImage]) -> None:
        """Scene pictures by uid; only the cards whose picture changed are repainted."""
        changed = self.thumbs.set_images(images)
        for item in self.items:
            if item.uid in changed:
                self.update(item.rect.adjusted(-2, -2, 2, 2))

    def set_outline(self, outline: Outline) -> None:
        focused = self.items[self.focus_index].uid if 0 <= self.focus_index < len(
            self.items) else None
        self.outline = outline
        items: list[_Item] = []
        sections: list[tuple[int, list[int]]] = []
        for s, chapter in enumerate(outline.chapters):
            heading = len(items)
            items.append(_Item("chapter", chapter.uid, chapter, None, s + 1, s, -1))
            cards = []
            for k, scene in enumerate(chapter.scenes):
                cards.append(len(items))
                items.append(_Item("scene", scene.uid, chapter, scene, s + 1, s, k))
            sections.append((heading, cards))
        self.items, self.sections = items, sections
        self.focus_index = next((i for i, it in enumerate(items) if it.uid == focused), -1)
        self._hover = self._pressed = -1
        self._hfw_cache.clear()
        self._synopsis_h.clear()
        self._laid_out_width = -1
        self._relayout(self.width())
        self.updateGeometry()
        self.update()

    def index_of(self, uid: str | None) -> int:
        if uid is None:
            return -1
        return next((i for i, it in enumerate(self.items) if it.uid == uid), -1)

    def set_current_scene(self, uid: str | None) -> None:
        if uid == self.current_uid:
            return
        old = self.index_of(self.current_uid)
        self.current_uid = uid
        for i in (old, self.index_of(uid)):
            if i >= 0:
                self.update(self.items[i].rect.adjusted(-4, -4, 4, 4))

    # --- geometry --------------------------------------------------------------------------

    def _metrics(self) -> _Metrics:
        if self._m is None:
            body = QFont(self.font())
            bold = QFont(body)
            bold.setBold(True)
            heading = QFont(bold)
            size = body.pointSizeF()
            if size > 0:
                heading.setPointSizeF(size * 1.25)
            small = QFont(body)
            if size > 0:
                small.setPointSizeF(max(7.0, size * 0.88))
            italic = QFont(body)
            italic.setItalic(True)
            fm, fm_bold, fm_small = QFontMetrics(body), QFontMetrics(bold), QFontMetrics(small)
            fm_heading, fm_italic = QFontMetrics(heading), QFontMetrics(italic)
            chip_h = fm_small.height() + 4
            card_h = (_PAD + fm_bold.height() + 6 + chip_h + 8
                      + SYNOPSIS_LINES * fm.lineSpacing() + _PAD)
            heading_row_h = max(fm_heading.height(), chip_h)
            self._m = _Metrics(body, bold, heading, small, italic, fm, fm_bold, fm_heading,
                               fm_small, fm_italic, chip_h, card_h, heading_row_h)
        return self._m

    def _grid(self, width: int) -> tuple[int, int]:
        avail = max(CARD_WIDTH, width - 2 * _MARGIN)
        columns = max(1, (avail + _GAP) // (CARD_WIDTH + _GAP))
        card_w = max(CARD_WIDTH, (avail - (columns - 1) * _GAP) // columns)
        return columns, card_w

    def _chapter_synopsis_height(self, item: _Item, width: int) -> int:
        m = self._metrics()
        key = (item.section, width)
        if key not in self._synopsis_h:
            lines = wrap_lines(item.chapter.synopsis, m.italic, width, CHAPTER_SYNOPSIS_LINES)
            self._synopsis_h[key] = max(1, len(lines)) * m.fm_italic.lineSpacing()
        return self._synopsis_h[key]

    def _heading_height(self, item: _Item, width: int) -> int:
        m = self._metrics()
        return m.heading_row_h + 4 + self._chapter_synopsis_height(item, width)

    def _place(self, width: int, apply: bool) -> int:
        """Lay the items out for ``width``; returns the height.  ``apply`` stores rects."""
        m = self._metrics()
        columns, card_w = self._grid(width)
        inner = max(CARD_WIDTH, width - 2 * _MARGIN)
        y = _MARGIN
        if not self.sections:
            return _MARGIN * 2 + m.fm.height()
        card_h, empty_h = m.card_h, m.fm_italic.height() + 4
        for n, (heading, cards) in enumerate(self.sections):
            if n:
                y += _SECTION_GAP
            item = self.items[heading]
            h = self._heading_height(item, inner)
            if apply:
                item.rect = QRect(_MARGIN, y, inner, h)
            y += h + 10
            if not cards:
                y += empty_h
                continue
            if apply:
                for k, i in enumerate(cards):
                    row, col = divmod(k, columns)
                    self.items[i].rect = QRect(_MARGIN + col * (card_w + _GAP),
                                               y + row * (card_h + _GAP), card_w, card_h)
            rows = (len(cards) + columns - 1) // columns
            y += rows * card_h + (rows - 1) * _GAP
        return y + _MARGIN

    def _relayout(self, width: int) -> None:
        if width <= 0:
            width = 800
        if width == self._laid_out_width:
            return
        self._laid_out_width = width
        self._columns, self._card_w = self._grid(width)
        self._height = self._place(width, apply=True)
        self._hfw_cache[width] = self._height

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        if width not in self._hfw_cache:
            if len(self._hfw_cache) > 16:
                self._hfw_cache.clear()
            self._hfw_cache[width] = self._place(width, apply=False)
        return self._hfw_cache[width]

    def sizeHint(self) -> QSize:
        width = max(self.width(), 2 * _MARGIN + 3 * CARD_WIDTH + 2 * _GAP)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(2 * _MARGIN + CARD_WIDTH, 0)

    def columns(self) -> int:
        return self._columns

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._relayout(event.size().width())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._m = None
            for item in self.items:
                item.cache = None
            self._hfw_cache.clear()
            self._synopsis_h.clear()
            self._laid_out_width = -1
            self._relayout(self.width())
            self.updateGeometry()
        super().changeEvent(event)

    # --- text --------------------------------------------------------------------------------

    def card_strings(self, item: _Item) -> tuple[str, str, str, str]:
        """(title, status, words, synopsis or placeholder) as a card shows them."""
        scene = item.scene
        assert scene is not None
        return (scene.title or "Untitled scene", status_label(scene.status),
                words_text(scene.words), _collapse(scene.synopsis) or NO_SCENE_SYNOPSIS)

    def chapter_strings(self, item: _Item) -> tuple[str, str, str, str]:
        """(heading, status, words and target, synopsis or placeholder) of a chapter."""
        chapter = item.chapter
        title = (chapter.title or "").strip()
        heading = f"Chapter {item.number}"
        if title and title.casefold() != heading.casefold():
            heading = f"{heading} · {title}"
        words = chapter.words
        if chapter.word_target:
            percent = min(999, round(100 * words / chapter.word_target))
            count = f"{words:,} / {words_text(chapter.word_target)} · {percent}%"
        else:
            count = words_text(words)
        return (heading, status_label(chapter.status), count,
                _collapse(chapter.synopsis) or NO_CHAPTER_SYNOPSIS)

    def item_text(self, item: _Item) -> str:
        parts = self.card_strings(item) if item.kind == "scene" else self.chapter_strings(item)
        return "\n".join(parts)

    # --- interaction ---------------------------------------------------------------------

    def item_at(self, pos: QPoint) -> int:
        for i, item in enumerate(self.items):
            if item.rect.contains(pos):
                return i
        return -1

    def _set_focus_index(self, index: int) -> None:
        if not self.items:
            self.focus_index = -1
            return
        index = max(0, min(index, len(self.items) - 1))
        old = self.focus_index
        self.focus_index = index
        for i in (old, index):
            if 0 <= i < len(self.items):
                self.update(self.items[i].rect.adjusted(-6, -6, 6, 6))
        item = self.items[index]
        self.setAccessibleDescription(self.item_text(item).replace("\n", ", "))
        self.wantVisible.emit(item.rect)

    def activate(self, index: int) -> None:
        if 0 <= index < len(self.items):
            item = self.items[index]
            if item.kind == "scene":
                self.sceneActivated.emit(item.uid)
            else:
                self.chapterActivated.emit(item.uid)

    def _vertical(self, down: bool) -> int:
        i = self.focus_index
        item = self.items[i]
        heading, cards = self.sections[item.section]
        cols = self._columns
        if item.kind == "chapter":
            if down:
                if cards:
                    return cards[0]
                return self.sections[item.section + 1][0] if item.section + 1 < len(
                    self.sections) else i
            if item.section == 0:
                return i
            prev_heading, prev_cards = self.sections[item.section - 1]
            return prev_cards[-1] if prev_cards else prev_heading
        k = item.index
        if down:
            if k + cols < len(cards):
                return cards[k + cols]
            if k // cols < (len(cards) - 1) // cols:
                return cards[-1]  # the next row is shorter
            return self.sections[item.section + 1][0] if item.section + 1 < len(
                self.sections) else i
        return cards[k - cols] if k - cols >= 0 else heading

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if not self.items:
            return super().keyPressEvent(event)
        if self.focus_index < 0 and key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Up,
                                            Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End):
            self._set_focus_index(0)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activate(self.focus_index)
        elif key == Qt.Key.Key_Right:
            self._set_focus_index(self.focus_index + 1)
        elif key == Qt.Key.Key_Left:
            self._set_focus_index(self.focus_index - 1)
        elif key == Qt.Key.Key_Down:
            self._set_focus_index(self._vertical(down=True))
        elif key == Qt.Key.Key_Up:
            self._set_focus_index(self._vertical(down=False))
        elif key == Qt.Key.Key_Home:
            self._set_focus_index(0)
        elif key == Qt.Key.Key_End:
            self._set_focus_index(len(self.items) - 1)
        else:
            return super().keyPressEvent(event)
        event.accept()

    def focusNextPrevChild(self, next_: bool) -> bool:
        target = self.focus_index + (1 if next_ else -1)
        if self.focus_index >= 0 and 0 <= target < len(self.items):
            self._set_focus_index(target)
            return True
        return super().focusNextPrevChild(next_)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        if self.items:
            reason = event.reason()
            if reason == Qt.FocusReason.TabFocusReason:
                self._set_focus_index(0)
            elif reason == Qt.FocusReason.BacktabFocusReason:
                self._set_focus_index(len(self.items) - 1)
            elif self.focus_index < 0:
                current = self.index_of(self.current_uid)
                self._set_focus_index(current if current >= 0 else 0)
            else:
                self._set_focus_index(self.focus_index)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if 0 <= self.focus_index < len(self.items):
            self.update(self.items[self.focus_index].rect.adjusted(-6, -6, 6, 6))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.item_at(event.position().toPoint())
            self._pressed = index
            if index >= 0:
                self.focus_index = index
                self.setFocus(Qt.FocusReason.MouseFocusReason)
                self._set_focus_index(index)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._pressed >= 0:
            index = self.item_at(event.position().toPoint())
            pressed, self._pressed = self._pressed, -1
            if index == pressed:
                self._last_click = (index, event.timestamp())
                self.activate(index)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        # Usually the first click of the pair has just activated the card: the double-click
        # then does not ask the editor a second time.
        index = self.item_at(event.position().toPoint())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            item, when = self._last_click
            interval = QApplication.styleHints().mouseDoubleClickInterval()
            if item != index or not 0 <= event.timestamp() - when <= interval:
                self._set_focus_index(index)
                self.activate(index)
            self._last_click = (-1, 0)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.item_at(event.position().toPoint())
        if index != self._hover:
            for i in (self._hover, index):
                if 0 <= i < len(self.items):
                    self.update(self.items[i].rect.adjusted(-2, -2, 2, 2))
            self._hover = index
            if index >= 0:
                self.setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                self.unsetCursor()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if 0 <= self._hover < len(self.items):
            self.update(self.items[self._hover].rect.adjusted(-2, -2, 2, 2))
        self._hover = -1
        self.unsetCursor()
        super().leaveEvent(event)

    def tooltip_at(self, pos: QPoint) -> str | None:
        index = self.item_at(pos)
        if index < 0:
            return None
        item = self.items[index]
        if item.kind == "scene":
            title, status, words, synopsis = self.card_strings(item)
        else:
            title, status, words, synopsis = self.chapter_strings(item)
        return (f"<b>{html.escape(title)}</b><br>{html.escape(status)} · {html.escape(words)}"
                f"<p>{html.escape(synopsis)}</p>")

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            text = self.tooltip_at(e.pos())
            if text:
                QToolTip.showText(e.globalPos(), text, self)
            else:
                QToolTip.hideText()
                e.ignore()
            return True
        return super().event(e)


class OutlineView(QScrollArea):
    """Cards by chapter with synopsis and status.

    ``sceneActivated(uid)`` on click, or Enter/Space on a focused card;
    ``chapterActivated(uid)`` the same on a chapter heading.
    """

    sceneActivated = Signal(str)
    chapterActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("outlineView")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = _OutlineCanvas()
        self.canvas.setObjectName("outlineCanvas")
        self.setWidget(self.canvas)
        self.setFocusProxy(self.canvas)
        self.canvas.sceneActivated.connect(self.sceneActivated)
        self.canvas.chapterActivated.connect(self.chapterActivated)
        self.canvas.wantVisible.connect(self._ensure_visible)
        self.verticalScrollBar().setSingleStep(24)

    # --- API -------------------------------------------------------------------------------

    def set_outline(self, outline: Outline) -> None:
        self.canvas.set_outline(outline)
        # the canvas's height-for-width changed: let the scroll area size it and its bars
        QApplication.sendEvent(self, QEvent(QEvent.Type.LayoutRequest))

    def outline(self) -> Outline | None:
        return self.canvas.outline

    def set_current_scene(self, uid: str | None) -> None:
        self.canvas.set_current_scene(uid)
        index = self.canvas.index_of(uid)
        if index >= 0:
            if not self.canvas.hasFocus():
                self.canvas.focus_index = index
            self._ensure_visible(self.canvas.items[index].rect)

    def current_scene(self) -> str | None:
        return self.canvas.current_uid

    def set_images(self, images: Mapping[str, SceneImage]) -> None:
        """The newest picture of each illustrated scene (encoded bytes or a QImage, by scene
        uid), shown as a thumbnail on its card; scenes left out show none."""
        self.canvas.set_images(images)

    def has_image(self, uid: str) -> bool:
        return self.canvas.thumbs.has(uid)

    def image_uids(self) -> list[str]:
        return self.canvas.thumbs.uids()

    # --- for the panel and for tests --------------------------------------------------------

    def scene_uids(self) -> list[str]:
        return [it.uid for it in self.canvas.items if it.kind == "scene"]

    def card_rect(self, uid: str) -> QRect:
        """Where the card (or chapter heading) ``uid`` is, in ``canvas`` coordinates."""
        index = self.canvas.index_of(uid)
        return QRect(self.canvas.items[index].rect) if index >= 0 else QRect()

    def card_text(self, uid: str) -> str:
        """The strings a card or chapter heading shows, one per line."""
        index = self.canvas.index_of(uid)
        return self.canvas.item_text(self.canvas.items[index]) if index >= 0 else ""

    def focused_uid(self) -> str | None:
        c = self.canvas
        return c.items[c.focus_index].uid if 0 <= c.focus_index < len(c.items) else None

    def columns(self) -> int:
        return self.canvas.columns()

    def _ensure_visible(self, rect: QRect) -> None:
        if rect.isEmpty():
            return
        c = rect.center()
        self.ensureVisible(c.x(), c.y(), rect.width() // 2 + 8,
                           min(rect.height() // 2 + 12, max(0, self.viewport().height() // 2)))
