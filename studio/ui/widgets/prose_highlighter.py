"""Light formatting and spell-check marks for the manuscript editor's plain text.

The scene stays plain text — these are display formats only, never stored and never on the undo
stack.  Recognised: ``# `` / ``## `` headings, ``*emphasis*`` / ``_emphasis_``, ``**strong**``,
scene breaks (a line that is ``***``, ``* * *`` or ``---``) and misspelled words.

``highlightBlock`` runs for every paragraph Qt lays out — for all of them at once after a paste —
so it does one cheap test before each regex, reuses precompiled formats, relies on the speller's
per-word cache, and leaves paragraphs over ``SPELL_CHECK_MAX_BLOCK`` characters unchecked.
"""

from __future__ import annotations

import bisect
import re

from PySide6.QtGui import (
    QColor, QFont, QGuiApplication, QPalette, QSyntaxHighlighter, QTextBlock, QTextCharFormat,
    QTextDocument, QTextFormat,
)

from studio.services.spelling import Speller, iter_words

SPELL_CHECK_MAX_BLOCK = 5_000

_HEADING_RE = re.compile(r"(#{1,2}) ")
_HEADING_SCALE = {1: 1.5, 2: 1.25}
_SCENE_BREAK_RE = re.compile(r"[ \t]*(?:\*\*\*|\* \* \*|---)[ \t]*\Z")
# Emphasis never spans its own marker, so each regex scans at most to the next marker: linear
# even over a megabyte paragraph full of stray asterisks.
_STRONG_RE = re.compile(r"\*\*([^\s*](?:(?:[^*]|\*(?!\*))*?[^\s*])?)\*\*")
_EM_STAR_RE = re.compile(r"(?<![*\w])\*([^\s*](?:[^*]*[^\s*])?)\*(?![*\w])")
# No intraword underscores: snake_case and file_names stay as they are.
_EM_UNDERSCORE_RE = re.compile(r"(?<!\w)_([^\s_](?:[^_]*[^\s_])?)_(?!\w)")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")

MISSPELLED_COLOUR = QColor("#e03131")


def _astral_positions(text: str) -> list[int]:
    """Indices of characters Qt counts twice (UTF-16 surrogate pairs: emoji and the like)."""
    return [] if text.isascii() else [m.start() for m in _ASTRAL_RE.finditer(text)]


def _to_qt(index: int, astral: list[int]) -> int:
    """A Python string index as a position in Qt's UTF-16 block text."""
    return index + bisect.bisect_left(astral, index) if astral else index


class ProseHighlighter(QSyntaxHighlighter):
    """Formats one ``QTextDocument`` of prose; spell-checks when given a ``Speller``."""

    def __init__(self, document: QTextDocument, speller: Speller | None = None):
        super().__init__(document)
        self._speller = speller
        self._astral: list[int] = []
        dim = QColor(QGuiApplication.palette().color(QPalette.ColorRole.Text))
        dim.setAlphaF(0.45)
        self._marker = QTextCharFormat()
        self._marker.setForeground(dim)
        self._italic = QTextCharFormat()
        self._italic.setFontItalic(True)
        self._bold = QTextCharFormat()
        self._bold.setFontWeight(QFont.Weight.Bold)
        self._scene_break = QTextCharFormat()
        self._scene_break.setForeground(dim)
        self._scene_break.setFontLetterSpacingType(QFont.SpacingType.PercentageSpacing)
        self._scene_break.setFontLetterSpacing(500)
        self._misspelled = QTextCharFormat()
        self._misspelled.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SpellCheckUnderline)
        self._misspelled.setUnderlineColor(MISSPELLED_COLOUR)

    # -- the speller --

    def speller(self) -> Speller | None:
        return self._speller

    def set_speller(self, speller: Speller | None) -> None:
        """Turn spell-checking on (a loaded ``Speller``) or off (``None``) and redraw."""
        self._speller = speller
        self.rehighlight()

    def recheck_word(self, word: str) -> None:
        """Redraw only the paragraphs that mention ``word`` — after "Add to dictionary" or
        "Ignore", a full rehighlight of a long scene would stall the editor for nothing."""
        doc = self.document()
        if doc is None:
            return
        needles = {word.lower(), word.lower().replace("'", "’"), word.lower().replace("’", "'")}
        block = doc.begin()
        while block.isValid():
            low = block.text().lower()
            if any(n in low for n in needles):
                self.rehighlightBlock(block)
            block = block.next()

    def misspelled_at(self, block: QTextBlock,
                      position_in_block: int) -> tuple[int, int, str] | None:
        """The misspelled word at a cursor position, as ``(start, length, word)`` with start
        and length in the block's Qt positions (``block.position() + start`` is in the
        document); ``None`` if the word there is correct, or nothing is checked there."""
        if self._speller is None or not block.isValid():
            return None
        text = block.text()
        if len(text) > SPELL_CHECK_MAX_BLOCK:
            return None
        astral = _astral_positions(text)
        for start, length, word in iter_words(text):
            qt_start = _to_qt(start, astral)
            qt_end = _to_qt(start + length, astral)
            if qt_start > position_in_block:
                break
            if position_in_block <= qt_end:
                if self._speller.is_correct(word):
                    return None
                return qt_start, qt_end - qt_start, word
        return None

    # -- formatting --

    def _apply(self, start: int, length: int, fmt: QTextCharFormat) -> None:
        """Add ``fmt`` on top of what the span already has (italic inside a heading stays a
        heading); spans are in Python indices of the current block."""
        qt_start = _to_qt(start, self._astral)
        qt_length = _to_qt(start + length, self._astral) - qt_start
        merged = self.format(qt_start)
        merged.merge(fmt)
        self.setFormat(qt_start, qt_length, merged)

    def _heading_format(self, level: int) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold)
        base = self.document().defaultFont()
        scale = _HEADING_SCALE[level]
        if base.pointSizeF() > 0:
            fmt.setFontPointSize(base.pointSizeF() * scale)
        elif base.pixelSize() > 0:
            fmt.setProperty(QTextFormat.Property.FontPixelSize, round(base.pixelSize() * scale))
        return fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        if not text:
            return
        self._astral = _astral_positions(text)
        first = text[0]
        if first in "*- \t" and _SCENE_BREAK_RE.match(text):
            self._apply(0, len(text), self._scene_break)
            return
        if first == "#":
            m = _HEADING_RE.match(text)
            if m:
                self._apply(0, len(text), self._heading_format(len(m.group(1))))
                self._apply(0, m.end(), self._marker)
        if "*" in text:
            for m in _STRONG_RE.finditer(text):
                self._emphasis(m, self._bold, 2)
            for m in _EM_STAR_RE.finditer(text):
                self._emphasis(m, self._italic, 1)
        if "_" in text:
            for m in _EM_UNDERSCORE_RE.finditer(text):
                self._emphasis(m, self._italic, 1)
        if self._speller is not None and len(text) <= SPELL_CHECK_MAX_BLOCK:
            for start, length, _word in self._speller.misspellings(text):
                self._apply(start, length, self._misspelled)

    def _emphasis(self, m: re.Match[str], fmt: QTextCharFormat, marker: int) -> None:
        start, end = m.span()
        self._apply(start + marker, end - start - 2 * marker, fmt)
        self._apply(start, marker, self._marker)
        self._apply(end - marker, marker, self._marker)
