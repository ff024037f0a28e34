"""DOCX export (python-docx): a manuscript for editors, or standard manuscript format.

Two looks from one writer.  The default is a clean book draft: a title page, each chapter on a
new page under a "Heading 1" (so Word's navigation pane and a table of contents see it), body
paragraphs indented except the first after a heading or break, the chosen scene-break symbol.

``options.standard_manuscript`` gives **standard manuscript format** as agents and editors ask
for it (after William Shunn's modern version): Times New Roman 12 pt, double-spaced, 1-inch
margins, every paragraph indented half an inch, a title page with the author's name and contact
block at the top left, "about N words" at the top right and the title and byline centred half
way down; from the second page a right-aligned header ``Surname / TITLE / page`` (a PAGE field,
so Word numbers the pages itself); chapters starting on a new page a third of the way down;
scene breaks as a centred ``#``; ``END`` after the last line.  Italics stay italics (the modern
convention; underlining for italics is not used any more).

Every style is set explicitly (fonts with their theme links removed, colours black), so Word,
LibreOffice and Pages show the same thing whatever their defaults.  Kept: chapters in order,
titles, scene breaks, ``# headings`` in the text, italics and bold, optional synopses (in
italics under each heading).  Not kept: comments, bible, chapter graph, per-scene titles (a
finished manuscript shows breaks, not scene names), text colour or other marks the editor does
not know.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Mm, Pt, RGBColor

from studio.formats.book import Block, Book, Chapter, atomic_output, book_from, pieces, report
from studio.formats.registry import (
    ExportDoc, ExportOptions, Exporter, Progress, register_exporter,
)

SMF_FONT = "Times New Roman"
BOOK_FONT = "Georgia"
# Page sizes by name (width, height); standard manuscript defaults to US Letter.
PAGE_SIZES = {"letter": (Inches(8.5), Inches(11)), "a4": (Mm(210), Mm(297))}


def _set_fonts(rpr_parent: Any, font: str) -> None:
    """Point every script slot of a style's or docDefaults' rFonts at ``font``, removing theme
    references (they win over names in Word, so a theme would bring Calibri back)."""
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), font)


def _set_language(rpr_parent: Any, language: str) -> None:
    rpr = rpr_parent.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), language)


def _style(document: Any, name: str, font: str, size: float, *, based_on: str = "Normal",
           bold: bool = False, italic: bool = False, align: Any = None,
           indent: Any = 0, before: Any = 0, after: Any = 0, single: bool = False,
           keep_next: bool = False) -> Any:
    """A paragraph style set completely (existing built-in styles are reset first)."""
    styles = document.styles
    try:
        style = styles[name]
    except KeyError:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[based_on]
    element = style.element
    for child in list(element):
        if child.tag in (qn("w:rPr"), qn("w:pPr")):
            element.remove(child)
    _set_fonts(element, font)
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = RGBColor(0, 0, 0)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = indent
    fmt.space_before = before
    fmt.space_after = after
    if single:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.keep_with_next = keep_next
    fmt.widow_control = True
    return style


class _Writer:
    """Lays one book out in one python-docx Document, in either look."""

    def __init__(self, book: Book, options: ExportOptions):
        self.book = book
        self.options = options
        self.smf = options.standard_manuscript
        self.symbol = "#" if self.smf else (options.scene_break.strip() or "#")
        self.document = Document()
        self.font = SMF_FONT if self.smf else BOOK_FONT
        self._set_up_styles()
        self._set_up_page()

    # -- styles and page ------------------------------------------------------------------

    def _set_up_styles(self) -> None:
        document, font = self.document, self.font
        defaults = document.styles.element.find(qn("w:docDefaults"))
        rpr_default = defaults.find(qn("w:rPrDefault"))
        rpr = rpr_default.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts"))
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(slot), font)
        rpr.find(qn("w:lang")).set(qn("w:val"), self.book.language)
        size = 12 if self.smf else 11.5
        indent = Inches(0.5) if self.smf else Inches(0.3)
        normal = _style(document, "Normal", font, size, indent=indent)
        _set_language(normal.element, self.book.language)
        normal.paragraph_format.line_spacing_rule = (
            WD_LINE_SPACING.DOUBLE if self.smf else WD_LINE_SPACING.MULTIPLE)
        if not self.smf:
            normal.paragraph_format.line_spacing = 1.3
            normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        centred = WD_ALIGN_PARAGRAPH.CENTER
        # Chapters start a third of the way down the page in a manuscript; a book draft gives
        # them a generous sink too.
        sink = Inches(2.6) if self.smf else Inches(1.6)
        heading = _style(document, "Heading 1", font, size if self.smf else 20,
                         bold=not self.smf, align=centred, before=sink,
                         after=Pt(24 if self.smf else 30), keep_next=True)
        heading.paragraph_format.page_break_before = True
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), "0")
        heading.element.get_or_add_pPr().append(outline)
        for level in (2, 3):
            sub = _style(document, f"Heading {level}", font, size if self.smf else 13,
                         bold=True, align=centred, before=Pt(12), after=Pt(6), keep_next=True)
            sub_outline = OxmlElement("w:outlineLvl")
            sub_outline.set(qn("w:val"), str(level - 1))
            sub.element.get_or_add_pPr().append(sub_outline)
        _style(document, "First Paragraph", font, size, indent=indent if self.smf else 0)
        _style(document, "Scene Break", font, size, align=centred,
               before=Pt(0 if self.smf else 12), after=Pt(0 if self.smf else 12),
               keep_next=True)
        _style(document, "Synopsis", font, size if self.smf else 10.5, italic=True,
               indent=0, after=Pt(0 if self.smf else 12))
        _style(document, "Title Page", font, size, align=centred, single=not self.smf)
        _style(document, "Story Title", font, size if self.smf else 28, align=centred,
               bold=not self.smf, after=Pt(0 if self.smf else 18), single=not self.smf)
        _style(document, "Contact", font, size, single=True)
        header = _style(document, "Header", font, size, align=WD_ALIGN_PARAGRAPH.RIGHT,
                        single=True)
        header.paragraph_format.tab_stops.clear_all()
        footer = _style(document, "Footer", font, size - 1, align=centred, single=True)
        footer.paragraph_format.tab_stops.clear_all()

    def _set_up_page(self) -> None:
        name = str(self.options.extra.get("page_size", "letter" if self.smf else "a4")).lower()
        width, height = PAGE_SIZES.get(name, PAGE_SIZES["letter"])
        section = self.document.sections[0]
        section.page_width, section.page_height = width, height
        margin = Inches(1)
        section.top_margin = section.bottom_margin = margin
        section.left_margin = section.right_margin = margin
        section.header_distance = section.footer_distance = Inches(0.5)
        section.start_type = WD_SECTION.NEW_PAGE
        core = self.document.core_properties
        core.title = self.book.title
        core.author = self.book.author
        core.language = self.book.language
        core.comments = "Exported by Story Studio"

    # -- pieces ---------------------------------------------------------------------------

    def _runs(self, paragraph: Any, block: Block) -> None:
        for run in block.runs:
            r = paragraph.add_run(run.text)
            if run.italic:
                r.italic = True
            if run.bold:
                r.bold = True

    def _page_field(self, paragraph: Any) -> None:
        """Word's PAGE field (begin / instruction / separate / shown number / end): the
        application numbers the pages, so they stay right after the editor's changes."""
        def char(kind: str) -> None:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
            paragraph.add_run()._r.append(element)

        char("begin")
        instruction = OxmlElement("w:instrText")
        instruction.set(qn("xml:space"), "preserve")
        instruction.text = " PAGE "
        paragraph.add_run()._r.append(instruction)
        char("separate")
        paragraph.add_run("2")
        char("end")

    def header(self) -> None:
        """Page numbers after the title page: the manuscript header, or a draft's footer."""
        section = self.document.sections[0]
        section.different_first_page_header_footer = self.options.front_matter
        if not self.smf:
            footer = section.footer.paragraphs[0]
            footer.style = self.document.styles["Footer"]
            self._page_field(footer)
            return
        if self.options.front_matter:
            section.first_page_header.paragraphs[0].text = ""
        paragraph = section.header.paragraphs[0]
        paragraph.style = self.document.styles["Header"]
        surname = self.book.surname or "Anonymous"
        paragraph.add_run(f"{surname} / {self.book.title.upper()} / ")
        self._page_field(paragraph)

    def title_page(self) -> None:
        if not self.options.front_matter:
            return
        book, doc = self.book, self.document
        if self.smf:
            top = doc.add_paragraph(style="Contact")
            width = doc.sections[0].page_width - Inches(2)
            top.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
            top.add_run(f"{book.author or 'Author name'}\t{book.approximate_words}")
            for line in book.contact:
                doc.add_paragraph(line, style="Contact")
            title = doc.add_paragraph(book.title, style="Story Title")
            lines = 1 + len(book.contact)
            title.paragraph_format.space_before = Inches(3.4) - Pt(14 * lines)
            if book.author:
                doc.add_paragraph(f"by {book.author}", style="Title Page")
            return
        title = doc.add_paragraph(book.title, style="Story Title")
        title.paragraph_format.space_before = Inches(2.5)
        if book.author:
            doc.add_paragraph(book.author, style="Title Page")
        if book.logline:
            logline = doc.add_paragraph(book.logline, style="Synopsis")
            logline.alignment = WD_ALIGN_PARAGRAPH.CENTER
            logline.paragraph_format.space_before = Inches(1)

    def chapter(self, chapter: Chapter, first: bool) -> None:
        doc = self.document
        heading = doc.add_paragraph(style="Heading 1")
        if first and not self.options.front_matter:
            heading.paragraph_format.page_break_before = False
        if chapter.title_says_chapter:
            heading.add_run(chapter.title)
        else:
            heading.add_run(chapter.label)
            heading.add_run().add_break(WD_BREAK.LINE)
            heading.add_run(chapter.title)
        for piece in pieces(chapter, self.options.synopses):
            if piece.kind == "synopsis":
                doc.add_paragraph(piece.text, style="Synopsis")
            elif piece.kind == "break":
                doc.add_paragraph(self.symbol, style="Scene Break")
            elif piece.kind == "heading":
                level = min(3, piece.block.level + 1)
                self._runs(doc.add_paragraph(style=f"Heading {level}"), piece.block)
            else:
                style = "First Paragraph" if piece.first else "Normal"
                self._runs(doc.add_paragraph(style=style), piece.block)

    def end(self) -> None:
        if self.smf:
            self.document.add_paragraph("END", style="Scene Break")


def write_docx(doc: ExportDoc, out: Path, options: ExportOptions,
               progress: Progress | None = None) -> Path:
    """Write ``doc`` as a .docx at ``out`` (replaced only when complete); returns ``out``.

    Raises ExportFormatError for unknown chapters, nothing to export or an unwritable place;
    whatever ``progress`` raises (a cancel) leaves no file behind.
    """
    book = book_from(doc, options)
    writer = _Writer(book, options)
    total = len(book.chapters) + 1
    report(progress, 0, total)
    writer.header()
    writer.title_page()
    for index, chapter in enumerate(book.chapters):
        writer.chapter(chapter, first=index == 0)
        report(progress, index + 1, total)
    writer.end()
    out = Path(out)
    with atomic_output(out, "DOCX file") as tmp:
        writer.document.save(str(tmp))
    report(progress, total, total)
    return out


register_exporter(Exporter(
    id="docx", label="Word document (DOCX)", extension=".docx", write=write_docx,
    options=("chapters", "synopses", "scene_break", "front_matter", "standard_manuscript",
             "author")))
