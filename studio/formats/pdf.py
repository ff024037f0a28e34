"""PDF export with Qt alone: a print layout with page numbers and chapters on new pages.

The manuscript is built into a ``QTextDocument`` with ``QTextCursor`` (block and character
formats, no HTML, so sizes and margins are exact) and laid out as one long column at the PDF
writer's resolution.  The pages are cut here, not by Qt: Qt's own pagination knows no widows,
orphans or headings that must stay with their text, and ``drawContents`` with a clip puts a
paragraph split over two pages into the PDF twice (hidden on one page, yet found by search and
copy).  So :func:`paginate` chooses each page's lines — a chapter starts a page, a paragraph
never leaves one line alone at the bottom or the top, a heading or scene break never ends a
page — and each line is drawn once, through ``QPdfWriter``, followed by the page number
centred in the footer (``QTextDocument.print`` has no footers).

Layout: A5 by default (``options.extra["page_size"]``: ``"a5"``, ``"a4"`` or ``"letter"``), a
serif face (the first installed of ``SERIF_FAMILIES`` or ``options.extra["font"]``), a title
page (front matter; no number on it), every chapter from a new page about a quarter of the way
down, under "CHAPTER N" and its title, justified paragraphs indented except the first after a
heading or a break, centred scene breaks, optional synopses in italics.  Kept: what DOCX keeps
(chapters, breaks, headings in text, italics, bold, synopses).  Not kept: scene titles, the
bible, the graph; the PDF is for reading and printing, not for editing back.

Qt needs a ``QGuiApplication`` for fonts.  Inside the app there is one; a CLI or test run gets
one made here (``QGuiApplication.instance() or QGuiApplication([])``) — so call this first on
the main thread there, or work on a worker thread only once the application exists.  It works
offscreen (``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QFont, QFontDatabase, QGuiApplication, QPageLayout, QPageSize, QPainter, QPdfWriter,
    QTextBlock, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument,
)

from studio.formats.book import (
    Block, Book, Chapter, ExportFormatError, atomic_output, book_from, pieces, report,
)
from studio.formats.registry import (
    ExportDoc, ExportOptions, Exporter, Progress, register_exporter,
)

RESOLUTION = 600                     # PDF device units per inch (text stays vector)
SERIF_FAMILIES = ("Palatino Linotype", "Palatino", "Book Antiqua", "Georgia", "Charter",
                  "Times New Roman", "Liberation Serif", "Noto Serif", "DejaVu Serif")
# name → (Qt page size, body size in pt, margins in mm: top, outer, bottom, inner)
PAGES = {
    "a5": (QPageSize.PageSizeId.A5, 10.5, (18.0, 16.0, 22.0, 16.0)),
    "a4": (QPageSize.PageSizeId.A4, 11.5, (25.0, 25.0, 28.0, 25.0)),
    "letter": (QPageSize.PageSizeId.Letter, 12.0, (25.4, 25.4, 28.0, 25.4)),
}
LINE_HEIGHT = 135                    # percent of the font's line spacing
_app: QGuiApplication | None = None  # the one made here, kept alive for later exports


def ensure_gui_application() -> None:
    """Make the QGuiApplication Qt's fonts need when there is none (CLI, tests).

    Raises ExportFormatError when that cannot be done here: a plain QCoreApplication exists,
    or this is not the main thread (Qt only allows the application on the main thread).
    """
    global _app
    instance = QCoreApplication.instance()
    if isinstance(instance, QGuiApplication):
        return
    if instance is not None:
        raise ExportFormatError("PDF export needs Qt's GUI application (for fonts); this "
                                "program made a non-GUI one.")
    if threading.current_thread() is not threading.main_thread():
        raise ExportFormatError("PDF export needs Qt's GUI application, which can only be "
                                "started on the main thread; start it before exporting.")
    _app = QGuiApplication.instance() or QGuiApplication([])


def serif_family(preferred: str | None = None) -> str:
    """The first installed family of ``preferred`` and SERIF_FAMILIES (else Qt's serif)."""
    installed = set(QFontDatabase.families())
    for family in ((preferred,) if preferred else ()) + SERIF_FAMILIES:
        if family in installed:
            return family
    font = QFont()
    font.setStyleHint(QFont.StyleHint.Serif)
    return font.defaultFamily()


def margin_scale(document: QTextDocument) -> float:
    """How much the layout enlarges block margins on the document's paint device.

    Qt scales a block's top and bottom margins from its default screen DPI to the device's
    (×6.25 for a 600 dpi PDF on Linux and Windows, another factor on macOS) but not text
    indents or the page size; measuring it once lets every margin be given in device units.
    """
    probe = QTextDocument()
    probe.documentLayout().setPaintDevice(document.documentLayout().paintDevice())
    probe.setDocumentMargin(0)
    cursor = QTextCursor(probe)
    cursor.insertText("x")
    fmt = QTextBlockFormat()
    cursor.insertBlock(fmt)
    cursor.insertText("x")
    before = probe.lastBlock().layout().position().y()
    fmt.setTopMargin(1000)
    cursor.setBlockFormat(fmt)
    probe.documentLayout().documentSize()     # lay out again
    after = probe.lastBlock().layout().position().y()
    return max(0.01, (after - before) / 1000)


class _Builder:
    """Fills a QTextDocument with the book, measuring in the writer's device units."""

    def __init__(self, book: Book, options: ExportOptions, document: QTextDocument,
                 family: str, size: float, page_height: float, dpi: int):
        self.book, self.options, self.doc = book, options, document
        self.family, self.size, self.page_height = family, size, page_height
        self.dpi = dpi
        self.margin_scale = margin_scale(document)
        self.cursor = QTextCursor(document)
        self.symbol = options.scene_break.strip() or "#"
        self.starts: dict[int, float] = {}   # block number → space above it on its new page
        self.keep: set[int] = set()          # block numbers that stay with what follows
        self._empty = True                   # the document's first block is still unused

    def pt(self, points: float) -> float:
        """Points as device units (block margins are in device units, fonts in points)."""
        return points * self.dpi / 72

    def char(self, size: float | None = None, italic: bool = False, bold: bool = False,
             spacing: float = 100) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setFontFamilies([self.family])
        fmt.setFontPointSize(size or self.size)
        fmt.setFontItalic(italic)
        fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        if spacing != 100:
            fmt.setFontLetterSpacingType(QFont.SpacingType.PercentageSpacing)
            fmt.setFontLetterSpacing(spacing)
        return fmt

    def block(self, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignJustify,
              indent: float = 0, top: float = 0, bottom: float = 0) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        fmt.setAlignment(align)
        fmt.setTextIndent(indent)
        fmt.setTopMargin(top / self.margin_scale)
        fmt.setBottomMargin(bottom / self.margin_scale)
        fmt.setLineHeight(LINE_HEIGHT, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        return fmt

    def add(self, block: QTextBlockFormat, text: str = "",
            char: QTextCharFormat | None = None, new_page: float | None = None,
            keep: bool = False) -> None:
        """A new paragraph with ``text`` in ``char`` (runs may follow).  ``new_page`` starts a
        page with this block that much below the top margin; ``keep`` keeps it with the next."""
        char = char or self.char()
        if self._empty:
            self.cursor.setBlockFormat(block)
            self.cursor.setBlockCharFormat(char)
            self._empty = False
        else:
            self.cursor.insertBlock(block, char)
        number = self.cursor.block().blockNumber()
        if new_page is not None:
            self.starts[number] = new_page
        if keep:
            self.keep.add(number)
        if text:
            self.cursor.insertText(text, char)

    def runs(self, block: Block, size: float | None = None, bold: bool = False) -> None:
        for run in block.runs:
            self.cursor.insertText(run.text, self.char(size, run.italic, run.bold or bold))

    # -- pages ----------------------------------------------------------------------------

    def title_page(self) -> None:
        book = self.book
        centre = Qt.AlignmentFlag.AlignHCenter
        self.add(self.block(centre, bottom=self.pt(18)), book.title,
                 self.char(self.size * 2.2), new_page=self.page_height * 0.28, keep=True)
        if book.author:
            self.add(self.block(centre, bottom=self.pt(12)), book.author,
                     self.char(self.size * 1.25), keep=True)
        if book.logline:
            self.add(self.block(centre, top=self.pt(36)), book.logline,
                     self.char(self.size * 0.95, italic=True))

    def chapter(self, chapter: Chapter) -> None:
        """A chapter from a new page, a quarter of the way down, under its label and title."""
        centre = Qt.AlignmentFlag.AlignHCenter
        sink = self.page_height * 0.18
        if not chapter.title_says_chapter:
            self.add(self.block(centre, bottom=self.pt(8)), chapter.label.upper(),
                     self.char(self.size * 0.8, spacing=120), new_page=sink, keep=True)
            self.add(self.block(centre, bottom=self.pt(self.size * 2.5)), chapter.title,
                     self.char(self.size * 1.6), keep=True)
        else:
            self.add(self.block(centre, bottom=self.pt(self.size * 2.5)), chapter.title,
                     self.char(self.size * 1.6), new_page=sink, keep=True)
        for piece in pieces(chapter, self.options.synopses):
            if piece.kind == "synopsis":
                self.synopsis(piece.text)
            elif piece.kind == "break":
                self.scene_break()
            elif piece.kind == "heading":
                self.add(self.block(centre, top=self.pt(self.size), bottom=self.pt(6)),
                         keep=True)
                self.runs(piece.block, self.size * 1.1, bold=True)
            else:
                self.add(self.block(indent=0 if piece.first else self.pt(self.size * 1.5)))
                self.runs(piece.block)

    def synopsis(self, text: str) -> None:
        self.add(self.block(bottom=self.pt(self.size)), text,
                 self.char(self.size * 0.92, italic=True), keep=True)

    def scene_break(self) -> None:
        self.add(self.block(Qt.AlignmentFlag.AlignHCenter, top=self.pt(self.size * 0.6),
                            bottom=self.pt(self.size * 0.6)), self.symbol, keep=True)


@dataclass(frozen=True)
class _Line:
    block: QTextBlock
    index: int          # the line's number in its block
    top: float          # document coordinates (device units)
    bottom: float
    count: int          # lines in its block

    @property
    def number(self) -> int:
        return self.block.blockNumber()


def _lines(document: QTextDocument) -> list[_Line]:
    """Every laid-out line of the document, in order."""
    lines: list[_Line] = []
    block = document.begin()
    while block.isValid():
        layout = block.layout()
        y = layout.position().y()
        count = layout.lineCount()
        for index in range(count):
            line = layout.lineAt(index)
            lines.append(_Line(block, index, y + line.y(), y + line.y() + line.height(), count))
        block = block.next()
    return lines


def paginate(lines: list[_Line], starts: dict[int, float], keep: set[int],
             height: float) -> list[tuple[float, int, int]]:
    """Pages as (top in document coordinates, first line, end line): as many lines as fit,
    a new page where ``starts`` says (that far below the top), then the break moved up for
    widows, orphans and kept blocks (see :func:`_better_break`)."""
    pages: list[tuple[float, int, int]] = []

    def forced(k: int) -> bool:
        return lines[k].index == 0 and lines[k].number in starts

    i = 0
    while i < len(lines):
        top = lines[i].top - (starts[lines[i].number] if forced(i) else 0)
        j = i + 1
        while j < len(lines) and not forced(j) and lines[j].bottom - top <= height:
            j += 1
        if j < len(lines) and not forced(j):
            j = _better_break(lines, i, j, keep)
        pages.append((top, i, j))
        i = j
    return pages


def _better_break(lines: list[_Line], start: int, end: int, keep: set[int]) -> int:
    """Move a page break up: no paragraph's last line alone at the top of the next page
    (widow), no first line alone at the bottom (orphan), no heading, scene break or synopsis
    at the bottom.  Never more than a third of the page; then the plain break stands."""
    least = start + max(1, (end - start) * 2 // 3)
    cut = end
    while True:
        before, after = lines[cut - 1], lines[cut]
        same = before.number == after.number
        widow = same and after.index == after.count - 1
        orphan = same and before.index == 0
        if widow or orphan or before.number in keep:
            cut -= 1
            if cut <= least:
                return end
        else:
            return cut


def write_pdf(doc: ExportDoc, out: Path, options: ExportOptions,
              progress: Progress | None = None) -> Path:
    """Write ``doc`` as a print-ready PDF at ``out`` (replaced only when complete).

    Progress goes 0–100: building the document, then painting its pages.  Raises
    ExportFormatError for unknown chapters, nothing to export, an unknown page size or an
    unwritable place; a cancel (``progress`` raising) leaves no file behind.
    """
    book = book_from(doc, options)
    page_name = str(options.extra.get("page_size", "a5")).lower()
    if page_name not in PAGES:
        raise ExportFormatError(f"There is no page size “{page_name}” for PDF export "
                                f"(choose {', '.join(PAGES)}).")
    ensure_gui_application()
    size_id, body_pt, (top_mm, outer_mm, bottom_mm, inner_mm) = PAGES[page_name]
    report(progress, 0, 100)
    out = Path(out)
    with atomic_output(out, "PDF file") as tmp:
        writer = QPdfWriter(str(tmp))
        try:
            _paint(writer, book, options, size_id, body_pt,
                   (top_mm, outer_mm, bottom_mm, inner_mm), progress)
        finally:
            del writer            # closes the file (on Windows too) before it is moved
    report(progress, 100, 100)
    return out


def _paint(writer: QPdfWriter, book: Book, options: ExportOptions,
           size_id: QPageSize.PageSizeId, body_pt: float,
           margins_mm: tuple[float, float, float, float], progress: Progress | None) -> None:
    top_mm, outer_mm, bottom_mm, inner_mm = margins_mm
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(QPageLayout(QPageSize(size_id), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    writer.setTitle(book.title)
    writer.setCreator("Story Studio")
    if book.author and hasattr(writer, "setAuthor"):
        writer.setAuthor(book.author)
    dots = RESOLUTION / 25.4
    page = writer.pageLayout().fullRectPixels(RESOLUTION)
    left, top = inner_mm * dots, top_mm * dots
    width = page.width() - (inner_mm + outer_mm) * dots
    height = page.height() - (top_mm + bottom_mm) * dots

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDocumentMargin(0)
    document.setTextWidth(width)              # one long column; pages are cut by paginate()
    family = serif_family(options.extra.get("font"))
    font = QFont(family)
    font.setPointSizeF(body_pt)
    document.setDefaultFont(font)
    builder = _Builder(book, options, document, family, body_pt, height, RESOLUTION)
    if options.front_matter:
        builder.title_page()
    for index, chapter in enumerate(book.chapters):
        builder.chapter(chapter)
        report(progress, (index + 1) * 40 // len(book.chapters), 100)

    lines = _lines(document)
    pages = paginate(lines, builder.starts, builder.keep, height)
    number_font = QFont(family)
    number_font.setPointSizeF(body_pt * 0.85)
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportFormatError("Qt could not start writing the PDF file.")
    try:
        for index, (page_top, first, end) in enumerate(pages):
            if index:
                writer.newPage()
            painter.save()
            painter.translate(QPointF(left, top - page_top))
            for line in lines[first:end]:
                layout = line.block.layout()
                layout.lineAt(line.index).draw(painter, layout.position())
            painter.restore()
            if index or not options.front_matter:
                painter.setFont(number_font)
                footer = QRectF(left, top + height + 6 * dots, width, 10 * dots)
                painter.drawText(footer, int(Qt.AlignmentFlag.AlignHCenter
                                             | Qt.AlignmentFlag.AlignTop), str(index + 1))
            report(progress, 40 + (index + 1) * 59 // len(pages), 100)
    finally:
        painter.end()


register_exporter(Exporter(
    id="pdf", label="PDF (print layout)", extension=".pdf", write=write_pdf,
    options=("chapters", "synopses", "scene_break", "front_matter", "author")))
