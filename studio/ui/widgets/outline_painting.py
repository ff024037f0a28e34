"""Painting the outline cards and chapter headings (mixed into the outline canvas, which owns
the items, their rectangles, the hover and focus state and the cached metrics)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen

from studio.ui.widgets.outline_cards import (
    _MARGIN, _PAD, _SECTION_GAP, CHAPTER_SYNOPSIS_LINES, NO_CHAPTER_SYNOPSIS, NO_CHAPTERS,
    NO_SCENE_SYNOPSIS, NO_SCENES, SYNOPSIS_LINES, _blend, _Item, is_dark, status_colors,
    status_label, wrap_lines,
)
from studio.ui.widgets.outline_images import (
    THUMB, THUMB_GAP, lines_beside, paint_thumbnail, thumbnail_rect,
)


class CardPainting:
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        area = event.rect()
        painter.fillRect(area, pal.color(QPalette.ColorRole.Window))
        m = self._metrics()
        if not self.items:
            painter.setFont(m.italic)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(QRect(_MARGIN, _MARGIN, max(0, self.width() - 2 * _MARGIN),
                                   m.fm.height() + 4),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             NO_CHAPTERS)
            return
        focused = self.hasFocus()
        grown = area.adjusted(-6, -6, 6, 6)
        for i, item in enumerate(self.items):
            r = item.rect
            if r.bottom() < grown.top():
                continue
            if r.top() > grown.bottom():
                if item.kind == "chapter":
                    break
                continue
            if item.kind == "chapter":
                self._paint_chapter(painter, item, i == self._hover)
                if not self.sections[item.section][1]:
                    painter.setFont(m.italic)
                    painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
                    painter.drawText(QRect(r.left(), r.bottom() + 11, r.width(),
                                           m.fm_italic.height() + 4),
                                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                     NO_SCENES)
            else:
                self._paint_card(painter, item, i == self._hover)
            if focused and i == self.focus_index:
                pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(r.adjusted(-3, -3, 3, 3), 8, 8)

    def _chip(self, painter: QPainter, x: int, y: int, status: str) -> int:
        """Paint a status chip with its top-left at (x, y); returns its width."""
        m = self._metrics()
        text = status_label(status)
        ink, fill = status_colors(status, self.palette())
        w = m.fm_small.horizontalAdvance(text) + 14
        rect = QRect(x, y, w, m.chip_h)
        painter.setPen(QPen(ink, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect.adjusted(0, 0, -1, -1), m.chip_h / 2, m.chip_h / 2)
        painter.setFont(m.small)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        return w

    def _paint_chapter(self, painter: QPainter, item: _Item, hover: bool) -> None:
        m = self._metrics()
        pal = self.palette()
        r = item.rect
        heading, _status, count, _synopsis = self.chapter_strings(item)
        text_c = pal.color(QPalette.ColorRole.WindowText)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        if item.section:
            rule = QColor(text_c)
            rule.setAlphaF(0.14)
            painter.setPen(QPen(rule, 1))
            y = r.top() - _SECTION_GAP // 2
            painter.drawLine(r.left(), y, r.right(), y)
        # count on the right, heading elided to what is left, then the chip
        painter.setFont(m.small)
        count_w = m.fm_small.horizontalAdvance(count)
        row = QRect(r.left(), r.top(), r.width(), m.heading_row_h)
        painter.setPen(dim)
        painter.drawText(row, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, count)
        chip_w = m.fm_small.horizontalAdvance(status_label(item.chapter.status)) + 14
        room = max(40, r.width() - count_w - chip_w - 30)
        shown = m.fm_heading.elidedText(heading, Qt.TextElideMode.ElideRight, room)
        painter.setFont(m.heading)
        painter.setPen(pal.color(QPalette.ColorRole.Link) if hover else text_c)
        painter.drawText(row, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        x = r.left() + m.fm_heading.horizontalAdvance(shown) + 10
        self._chip(painter, x, r.top() + (m.heading_row_h - m.chip_h) // 2, item.chapter.status)
        # synopsis
        if item.cache is None or item.cache[0] != r.width():
            item.cache = (r.width(), wrap_lines(item.chapter.synopsis, m.italic, r.width(),
                                                CHAPTER_SYNOPSIS_LINES))
        lines = item.cache[1]
        painter.setFont(m.italic)
        y = r.top() + m.heading_row_h + 4 + m.fm_italic.ascent()
        if lines:
            painter.setPen(text_c)
            for line in lines:
                painter.drawText(QPoint(r.left(), y), line)
                y += m.fm_italic.lineSpacing()
        else:
            painter.setPen(dim)
            painter.drawText(QPoint(r.left(), y), NO_CHAPTER_SYNOPSIS)

    def _paint_card(self, painter: QPainter, item: _Item, hover: bool) -> None:
        m = self._metrics()
        pal = self.palette()
        r = item.rect
        scene = item.scene
        assert scene is not None
        base = pal.color(QPalette.ColorRole.Base)
        text_c = pal.color(QPalette.ColorRole.Text)
        accent = pal.color(QPalette.ColorRole.Highlight)
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        current = scene.uid == self.current_uid
        border = QColor(text_c)
        border.setAlphaF(0.16)
        fill = base
        if current:
            fill = _blend(base, accent, 0.14 if is_dark(pal) else 0.08)
            border = accent
        elif hover:
            border = QColor(accent)
            border.setAlphaF(0.6)
        painter.setPen(QPen(border, 2 if current else 1))
        painter.setBrush(fill)
        box = r.adjusted(1, 1, -1, -1) if current else r.adjusted(0, 0, -1, -1)
        painter.drawRoundedRect(box, 6, 6)
        inner_w = r.width() - 2 * _PAD
        x = r.left() + _PAD
        # A scene's picture sits in the top-right corner; the text beside it is narrower.
        pixmap = self.thumbs.pixmap(scene.uid, self.devicePixelRatioF())
        text_w = inner_w - THUMB - THUMB_GAP if pixmap is not None else inner_w
        key = (r.width(), pixmap is not None)
        if item.cache is None or item.cache[0] != key:
            title, _status, words, _syn = self.card_strings(item)
            beside = 0 if pixmap is None else lines_beside(
                _PAD + m.fm_bold.height() + 6 + m.chip_h + 8, m.fm.lineSpacing(), _PAD,
                SYNOPSIS_LINES)
            item.cache = (key,
                          m.fm_bold.elidedText(title, Qt.TextElideMode.ElideRight, text_w),
                          wrap_lines(scene.synopsis, m.body, inner_w, SYNOPSIS_LINES,
                                     text_w, beside), words)
        _key, title, lines, words = item.cache
        if pixmap is not None:
            edge = QColor(text_c)
            edge.setAlphaF(0.22)
            paint_thumbnail(painter, thumbnail_rect(r, _PAD), pixmap, edge)
        y = r.top() + _PAD
        painter.setFont(m.bold)
        painter.setPen(text_c)
        painter.drawText(QPoint(x, y + m.fm_bold.ascent()), title)
        y += m.fm_bold.height() + 6
        self._chip(painter, x, y, scene.status)
        painter.setFont(m.small)
        painter.setPen(dim)
        painter.drawText(QRect(x, y, text_w, m.chip_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, words)
        y += m.chip_h + 8 + m.fm.ascent()
        if lines:
            painter.setFont(m.body)
            painter.setPen(text_c)
            for line in lines:
                painter.drawText(QPoint(x, y), line)
                y += m.fm.lineSpacing()
        else:
            painter.setFont(m.italic)
            painter.setPen(dim)
            painter.drawText(QPoint(x, y), NO_SCENE_SYNOPSIS)

