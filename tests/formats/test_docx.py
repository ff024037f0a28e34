"""DOCX export: standard manuscript format checked through python-docx, the book draft look,
options, errors, and pictures to look at (/tmp/shots/export_docx_*.png)."""

from __future__ import annotations

import re
import shutil

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from studio.domain.manuscript import count_words
from studio.formats import registry
from studio.formats.book import ExportFormatError, approximate_words, book_from
from studio.formats.registry import ExportOptions
from tests.formats.export_helpers import (
    SHOTS, novel_doc, office_to_pdf, pdf_pages_to_png, sample_doc,
)

SMF = ExportOptions(standard_manuscript=True, author="Jane Q. Writer",
                    extra={"contact": "12 Harbour Lane\nSaltmarrow SM1 2AB\njane@example.com"})
PARAGRAPH_RE = re.compile(r"^Chapter (\d+), scene (\d+), paragraph (\d+)\.")


def export(doc, path, options):
    return registry.exporter("docx").write(doc, path, options)


def body_order(document) -> list[tuple[int, int, int]]:
    return [tuple(map(int, m.groups())) for p in document.paragraphs
            if (m := PARAGRAPH_RE.match(p.text))]


def theme_free(style) -> bool:
    fonts = style.element.find(qn("w:rPr")).find(qn("w:rFonts"))
    return not any(k.endswith("Theme") or k.endswith("theme") for k in fonts.attrib)


def test_approximate_word_counts_follow_the_manuscript_convention():
    assert approximate_words(12) == "about 100 words"
    assert approximate_words(2_549) == "about 2,500 words"
    assert approximate_words(2_550) == "about 2,600 words"
    assert approximate_words(17_499) == "about 17,500 words"
    assert approximate_words(84_499) == "about 84,000 words"
    assert approximate_words(84_500) == "about 85,000 words"


def test_standard_manuscript_styles_page_and_header(tmp_path):
    out = export(novel_doc(), tmp_path / "novel.docx", SMF)
    document = docx.Document(str(out))
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(12)
    assert normal.paragraph_format.line_spacing_rule == WD_LINE_SPACING.DOUBLE
    assert normal.paragraph_format.first_line_indent == Inches(0.5)
    assert normal.paragraph_format.space_after == 0
    for name in ("Normal", "Heading 1", "Scene Break", "Header"):
        style = document.styles[name]
        assert style.font.name == "Times New Roman" and theme_free(style), name
    assert document.styles["Heading 1"].font.size == Pt(12)
    assert not document.styles["Heading 1"].font.bold
    section = document.sections[0]
    assert (section.page_width, section.page_height) == (Inches(8.5), Inches(11))
    for margin in (section.top_margin, section.bottom_margin, section.left_margin,
                   section.right_margin):
        assert margin == Inches(1)
    # The header from the second page: surname / TITLE / a PAGE field; the title page has none.
    assert section.different_first_page_header_footer
    assert "".join(p.text for p in section.first_page_header.paragraphs) == ""
    header = section.header.paragraphs[0]
    assert header.text.startswith("Writer / THE LIGHTHOUSE KEEPER’S DAUGHTER / ")
    assert header.alignment is None and document.styles["Header"].paragraph_format.alignment \
        == WD_ALIGN_PARAGRAPH.RIGHT
    instructions = [e.text for e in header._p.iter(qn("w:instrText"))]
    assert [i.strip() for i in instructions] == ["PAGE"]
    kinds = [e.get(qn("w:fldCharType")) for e in header._p.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert document.core_properties.title == "The Lighthouse Keeper’s Daughter"
    assert document.core_properties.author == "Jane Q. Writer"


def test_standard_manuscript_title_page_chapters_breaks_and_end(tmp_path):
    doc = novel_doc()
    out = export(doc, tmp_path / "novel.docx", SMF)
    document = docx.Document(str(out))
    paragraphs = document.paragraphs
    # Title page: name and word count on the first line, the contact block, title and byline.
    words = sum(count_words(seg["text"].replace("#", "").replace("* * *", ""))
                for ch in doc.content["manuscript"]["chapters"] for sc in ch["scenes"]
                for seg in sc["segments"])
    assert book_from(doc, SMF).words == words
    assert paragraphs[0].text == f"Jane Q. Writer\t{approximate_words(words)}"
    assert re.fullmatch(r"Jane Q\. Writer\tabout \d{1,3},\d00 words", paragraphs[0].text)
    assert [p.text for p in paragraphs[1:6]] == [
        "12 Harbour Lane", "Saltmarrow SM1 2AB", "jane@example.com",
        "The Lighthouse Keeper’s Daughter", "by Jane Q. Writer"]
    assert paragraphs[4].style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert paragraphs[4].paragraph_format.space_before > Inches(2.5)
    # Chapters: on new pages a third down, "Chapter N" over the title, in order.
    headings = [p for p in paragraphs if p.style.name == "Heading 1"]
    assert [h.text for h in headings] == [
        "Chapter 1\nThe Glove", "Chapter 2\nThe Board’s Letter", "Chapter 3\nLow Water",
        "Chapter 4\nThe Oar", "Chapter 5\nStorm", "Chapter 6\nWhat the Sea Keeps"]
    heading_format = document.styles["Heading 1"].paragraph_format
    assert heading_format.page_break_before
    assert heading_format.space_before >= Inches(2.5)
    assert heading_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    # Every paragraph, in order, indented half an inch, none lost.
    order = body_order(document)
    assert order == sorted(order)
    assert len(order) == 6 * 2 * 12 - 1            # one paragraph of chapter 2 is the emphasis
    # Scene breaks: a centred "#" between scenes and for the break line inside chapter 2.
    breaks = [p for p in paragraphs if p.text == "#"]
    assert len(breaks) == 6 * 1 + 1
    assert all(p.style.name == "Scene Break" and p.style.paragraph_format.alignment
               == WD_ALIGN_PARAGRAPH.CENTER for p in breaks)
    assert paragraphs[-1].text == "END" and paragraphs[-1].style.name == "Scene Break"
    # Light formatting and headings inside the text.
    emphasis = next(p for p in paragraphs if p.text.startswith("She said it"))
    assert [(r.text, bool(r.italic), bool(r.bold)) for r in emphasis.runs] == [
        ("She said it ", False, False), ("very", True, False), (" quietly, and ", False, False),
        ("meant", False, True), (" it: ", False, False), ("nobody", True, False),
        (" keeps the sea’s books.", False, False)]
    ledger = next(p for p in paragraphs if p.text == "The Ledger")
    assert ledger.style.name == "Heading 2"
    assert not any("Synopsis" in p.text for p in paragraphs)


def test_standard_manuscript_without_front_matter_numbers_from_the_first_page(tmp_path):
    options = ExportOptions(standard_manuscript=True, front_matter=False, author="Ann Lee")
    document = docx.Document(str(export(novel_doc(chapters=1), tmp_path / "a.docx", options)))
    assert not document.sections[0].different_first_page_header_footer
    assert document.sections[0].header.paragraphs[0].text.startswith("Lee / ")
    first = document.paragraphs[0]
    assert first.text == "Chapter 1\nThe Glove" and first.paragraph_format.page_break_before \
        is False


def test_book_draft_look_with_synopses_symbol_and_chosen_chapters(tmp_path):
    options = ExportOptions(synopses=True, scene_break="* * *", chapters=("chap_4", "chap_2"),
                            author="Jane Q. Writer")
    document = docx.Document(str(export(novel_doc(), tmp_path / "draft.docx", options)))
    paragraphs = document.paragraphs
    assert [p.text for p in paragraphs[:2]] == ["The Lighthouse Keeper’s Daughter",
                                                "Jane Q. Writer"]
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == [
        "Chapter 2\nThe Board’s Letter", "Chapter 4\nThe Oar"]
    assert {c for c, _, _ in body_order(document)} == {2, 4}
    assert len([p for p in paragraphs if p.text == "* * *"]) == 3
    synopses = [p.text for p in paragraphs if p.style.name == "Synopsis"]
    assert "Synopsis of chapter 2." in synopses and "Synopsis of scene 4.2." in synopses
    assert document.styles["Synopsis"].font.italic
    assert document.styles["Normal"].font.name == "Georgia"
    assert paragraphs[-1].text != "END"
    # Page numbers in the footer (a PAGE field), none on the title page, no manuscript header.
    section = document.sections[0]
    assert section.different_first_page_header_footer
    assert "".join(p.text for p in section.header.paragraphs) == ""
    footer = section.footer.paragraphs[0]
    assert [e.text.strip() for e in footer._p.iter(qn("w:instrText"))] == ["PAGE"]
    assert document.styles["Footer"].paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    # First paragraph after a heading or break is flush, the rest indented.
    first = next(p for p in paragraphs if p.text.startswith("Chapter 2, scene 1, paragraph 1"))
    assert first.style.name == "First Paragraph"
    assert document.styles["First Paragraph"].paragraph_format.first_line_indent == 0


def test_sample_story_exports_every_paragraph(db, tmp_path):
    doc = sample_doc(db)
    out = export(doc, tmp_path / "sample.docx", SMF)
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    for chapter in doc.content["manuscript"]["chapters"]:
        for scene in chapter["scenes"]:
            for segment in scene["segments"]:
                assert segment["text"] in text
    assert text.index("No. 997") < text.index("The Board’s Letter") < text.index("END")


def test_bad_requests_are_refused_and_cancel_leaves_nothing(tmp_path):
    with pytest.raises(ExportFormatError, match="has no chapter chap_9"):
        export(novel_doc(), tmp_path / "x.docx", ExportOptions(chapters=("chap_9",)))
    with pytest.raises(ExportFormatError, match="has no chapters to export"):
        export(novel_doc(), tmp_path / "x.docx", ExportOptions(chapters=()))
    with pytest.raises(ExportFormatError, match="does not exist"):
        export(novel_doc(), tmp_path / "missing" / "x.docx", SMF)
    with pytest.raises(ExportFormatError, match="is a folder"):
        export(novel_doc(), tmp_path, SMF)

    def cancel(done, total):
        if done == 2:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        registry.exporter("docx").write(novel_doc(), tmp_path / "c.docx", SMF, cancel)
    assert list(tmp_path.iterdir()) == []


def test_screenshots_of_the_manuscript(tmp_path):
    """Pictures to look at: /tmp/shots/export_docx_smf-N.png and export_docx_book-N.png
    (LibreOffice's rendering when it is installed, else a text dump)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, options in (("smf", SMF), ("book", ExportOptions(author="Jane Q. Writer",
                                                               synopses=True))):
        out = export(novel_doc(chapters=3), tmp_path / f"export_docx_{name}.docx", options)
        shutil.copy(out, SHOTS / out.name)
        pdf = office_to_pdf(out, tmp_path)
        if pdf is None:
            (SHOTS / f"export_docx_{name}.txt").write_text(
                "\n".join(p.text for p in docx.Document(str(out)).paragraphs), encoding="utf-8")
            continue
        assert len(pdf_pages_to_png(pdf, f"export_docx_{name}", 1, 3)) == 3


def test_export_service_writes_the_sample_as_a_standard_manuscript(db, tmp_path):
    from studio.services import format_io, portability

    story = portability.import_sample(db)
    folder = tmp_path / "out"
    folder.mkdir()
    out = format_io.export(db, story.id, "docx", folder,
                           ExportOptions(standard_manuscript=True))
    assert out.suffix == ".docx" and out.parent == folder
    document = docx.Document(str(out))
    # The story's own metadata gives the author (the sample says "Story Studio").
    assert document.paragraphs[0].text.startswith("Story Studio\tabout ")
    assert document.sections[0].header.paragraphs[0].text.startswith(
        "Studio / THE LIGHTHOUSE KEEPER’S DAUGHTER / ")
    assert [p.name for p in folder.iterdir()] == [out.name]
