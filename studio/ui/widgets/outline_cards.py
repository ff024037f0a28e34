"""The look of the outline cards: status inks and labels, sizes, and text wrapping — the parts
of ``outline_view`` that do not depend on the canvas's state."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette, QTextLayout, QTextOption

from studio.domain.outline import ChapterInfo, SceneInfo

STATUS_LABELS = {"idea": "Idea", "draft": "Draft", "revised": "Revised", "final": "Final"}
# Status inks (text and outline of the chip) for a light and for a dark palette; the chip's fill
# is the same ink, mostly transparent, so it sits on either background with enough contrast.
_STATUS_INKS = {
    "idea": ("#5f6368", "#b4b8bf"),
    "draft": ("#8a5300", "#f0b54a"),
    "revised": ("#1f5fa8", "#85b6f2"),
    "final": ("#23683f", "#62cf92"),
}

NO_SCENE_SYNOPSIS = "No synopsis"
NO_CHAPTER_SYNOPSIS = "No synopsis yet"
NO_SCENES = "No scenes in this chapter yet"
NO_CHAPTERS = "No chapters yet"

CARD_WIDTH = 220  # the narrowest a card gets; cards widen a little to fill each row
SYNOPSIS_LINES = 5
CHAPTER_SYNOPSIS_LINES = 3
_MARGIN = 16
_GAP = 12  # between cards
_SECTION_GAP = 30  # between the last cards of one chapter and the next heading
_PAD = 10  # inside a card


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.capitalize() or "—")


def status_colors(status: str, palette: QPalette) -> tuple[QColor, QColor]:
    """(ink, fill) of a status chip on ``palette``."""
    light, dark = _STATUS_INKS.get(status, _STATUS_INKS["idea"])
    dark_mode = is_dark(palette)
    ink = QColor(dark if dark_mode else light)
    fill = QColor(ink)
    fill.setAlphaF(0.20 if dark_mode else 0.13)
    return ink, fill


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() + (b.red() - a.red()) * t),
                  round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def _collapse(text: str) -> str:
    return " ".join((text or "").split())


def wrap_lines(text: str, font: QFont, width: int, max_lines: int, narrow_width: int = 0,
               narrow_lines: int = 0) -> list[str]:
    """``text`` wrapped to ``width``; if it needs more than ``max_lines``, the last line is
    elided (…).  The first ``narrow_lines`` lines are ``narrow_width`` wide (text flowing
    around a card's thumbnail)."""
    text = _collapse(text)
    if not text or width <= 0:
        return []

    def line_width(n: int) -> int:
        return narrow_width if n < narrow_lines and narrow_width > 0 else width

    if QFontMetrics(font).horizontalAdvance(text) <= line_width(0):
        return [text]
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    spans: list[tuple[int, int]] = []
    layout.beginLayout()
    while len(spans) <= max_lines:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(line_width(len(spans)))
        spans.append((line.textStart(), line.textLength()))
    layout.endLayout()
    # QTextLayout counts UTF-16 units; map them back to Python indexes for astral characters.
    if any(ord(c) > 0xFFFF for c in text):
        index: list[int] = []
        for i, c in enumerate(text):
            index.append(i)
            if ord(c) > 0xFFFF:
                index.append(i)
        index.append(len(text))

        def at(unit: int) -> int:
            return index[min(unit, len(index) - 1)]
    else:
        def at(unit: int) -> int:
            return unit
    lines = [text[at(s):at(s + n)].rstrip() for s, n in spans[:max_lines]]
    if len(spans) > max_lines:
        rest = text[at(spans[max_lines - 1][0]):]
        lines[-1] = QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight,
                                                  line_width(max_lines - 1))
    return lines


@dataclass(slots=True, eq=False)
class _Item:
    kind: str  # "chapter" or "scene"
    uid: str
    chapter: ChapterInfo
    scene: SceneInfo | None
    number: int  # the chapter's number, from 1
    section: int  # index of the chapter section
    index: int  # the card's index inside its chapter (-1 for the heading)
    rect: QRect = field(default_factory=QRect)
    cache: tuple | None = None  # (width, lines) of wrapped text, filled on first paint


@dataclass
class _Metrics:
    body: QFont
    bold: QFont
    heading: QFont
    small: QFont
    italic: QFont
    fm: QFontMetrics
    fm_bold: QFontMetrics
    fm_heading: QFontMetrics
    fm_small: QFontMetrics
    fm_italic: QFontMetrics
    chip_h: int
    card_h: int
    heading_row_h: int
