"""PDF export: pages, numbers, chapter starts and order read back with poppler's pdftotext and
pdfinfo (CI installs poppler-utils), options and errors, and the first pages as pictures
(/tmp/shots/export_pdf-N.png)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

from studio.formats import registry
from studio.formats.book import ExportFormatError
from studio.formats.registry import ExportOptions
from tests.formats.export_helpers import (
    novel_doc, pdf_pages, pdf_pages_to_png, pdf_text, sample_doc,
)

PARAGRAPH_RE = re.compile(r"Chapter (\d+), scene (\d+), paragraph (\d+)\.")
TITLES = ("The Glove", "The Board’s Letter", "Low Water", "The Oar", "Storm",
          "What the Sea Keeps")


def export(doc, path, options=ExportOptions(author="Jane Q. Writer"), progress=None):
    return registry.exporter("pdf").write(doc, path, options, progress)


def page_lines(pdf, page: int) -> list[str]:
    return [line.strip() for line in pdf_text(pdf, page).splitlines() if line.strip()]


def pdf_info(pdf) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    return {k.strip(): v.strip() for k, _, v in
            (line.partition(":") for line in out.stdout.splitlines())}


def test_novel_has_a_title_page_numbered_pages_and_chapters_on_new_pages(qapp, tmp_path):
    seen: list[tuple[int, int]] = []
    out = export(novel_doc(), tmp_path / "novel.pdf",
                 progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 100) and seen[-1] == (100, 100)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    pages = pdf_pages(out)
    assert pages > 12
    info = pdf_info(out)
    assert info["Title"] == "The Lighthouse Keeper’s Daughter"
    assert info["Page size"].endswith("(A5)")
    assert info["Creator"] == "Story Studio"
    # Title page: title, author, logline; no page number.
    first = page_lines(out, 1)
    assert first[:2] == ["The Lighthouse Keeper’s Daughter", "Jane Q. Writer"]
    assert not any(line.isdigit() for line in first)
    # Every later page carries its own number at the bottom.
    starts = {}
    for page in range(2, pages + 1):
        lines = page_lines(out, page)
        assert lines[-1] == str(page), (page, lines[-3:])
        if lines[0].startswith("CHAPTER "):
            starts[int(lines[0].split()[1])] = (page, lines[1])
    # Widows, orphans, headings and breaks: every paragraph here runs to four lines or more
    # and ends "…paid for it.", so a page that starts with such an ending (not a whole
    # paragraph) has a widow, and one that ends with a paragraph's opening has an orphan.
    for page in range(2, pages + 1):
        body = page_lines(out, page)[:-1]
        assert not (body[0].endswith("paid for it.") and not PARAGRAPH_RE.match(body[0])), page
        assert not PARAGRAPH_RE.match(body[-1]), page
        assert body[-1] not in ("#", "The Ledger"), page
    # Each chapter opens a page with "CHAPTER N" and its title, in order.
    assert sorted(starts) == [1, 2, 3, 4, 5, 6]
    assert [title for _, title in (starts[n] for n in range(1, 7))] == list(TITLES)
    assert [page for page, _ in (starts[n] for n in range(1, 7))] == sorted(
        page for page, _ in starts.values())
    assert starts[1][0] == 2
    # All the text, in order; scene breaks and emphasis made it too.
    text = pdf_text(out)
    found = [tuple(map(int, m)) for m in PARAGRAPH_RE.findall(text)]
    assert len(found) == 6 * 2 * 12 - 1 and found == sorted(found)
    assert "She said it very quietly, and meant it: nobody keeps the sea’s" in \
        " ".join(text.split())
    assert len(re.findall(r"^\s*#\s*$", text, flags=re.MULTILINE)) == 6 + 1
    assert "The Ledger" in text


def test_fonts_are_embedded_and_serif(qapp, tmp_path):
    out = export(novel_doc(chapters=1), tmp_path / "f.pdf")
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts and all(" yes " in line for line in fonts)
    assert all(re.search(r"Serif|Times|Georgia|Palatino|Charter|Antiqua", line)
               for line in fonts), fonts


def test_letter_pages_chosen_chapters_synopses_and_no_front_matter(qapp, tmp_path):
    options = ExportOptions(front_matter=False, synopses=True, scene_break="* * *",
                            chapters=("chap_5", "chap_3"), extra={"page_size": "letter"})
    out = export(novel_doc(), tmp_path / "letter.pdf", options)
    assert pdf_info(out)["Page size"].startswith("612 x 792")
    first = page_lines(out, 1)
    assert first[:4] == ["CHAPTER 3", "Low Water", "Synopsis of chapter 3.",
                         "Synopsis of scene 3.1."]
    assert first[-1] == "1"
    text = pdf_text(out)
    assert {int(c) for c, _, _ in PARAGRAPH_RE.findall(text)} == {3, 5}
    assert len(re.findall(r"^\s*\*\s*\*\s*\*\s*$", text, flags=re.MULTILINE)) == 2
    assert "CHAPTER 5" in text and "CHAPTER 1\n" not in text


def test_sample_story_reads_in_order(qapp, db, tmp_path):
    out = export(sample_doc(db), tmp_path / "sample.pdf")
    text = " ".join(pdf_text(out).split())
    assert text.index("The Lighthouse Keeper’s Daughter") < text.index("CHAPTER 1 No. 997") \
        < text.index("The sea returned a glove on the first morning of August") \
        < text.index("CHAPTER 2 The Board’s Letter") < text.index("The letter came on a Tuesday")


def test_bad_requests_are_refused_and_cancel_leaves_nothing(qapp, tmp_path):
    with pytest.raises(ExportFormatError, match="no page size “b5”.*a5, a4, letter"):
        export(novel_doc(), tmp_path / "x.pdf", ExportOptions(extra={"page_size": "b5"}))
    with pytest.raises(ExportFormatError, match="has no chapter chap_0"):
        export(novel_doc(), tmp_path / "x.pdf", ExportOptions(chapters=("chap_0",)))
    with pytest.raises(ExportFormatError, match="does not exist"):
        export(novel_doc(), tmp_path / "gone" / "x.pdf")

    def cancel(done, total):
        if done > 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(novel_doc(), tmp_path / "x.pdf", progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_works_in_a_fresh_process_without_an_application(tmp_path):
    """A CLI run has no QGuiApplication: the exporter makes one (offscreen here)."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from PySide6.QtGui import QGuiApplication
        from studio.formats.pdf import write_pdf
        from studio.formats.registry import ExportOptions
        from tests.formats.export_helpers import novel_doc
        assert QGuiApplication.instance() is None
        write_pdf(novel_doc(chapters=1), Path({str(tmp_path / 'cli.pdf')!r}), ExportOptions())
        print(type(QGuiApplication.instance()).__name__)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=os.getcwd(), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "QGuiApplication"
    assert pdf_pages(tmp_path / "cli.pdf") >= 2


def test_works_on_a_worker_thread_once_the_application_exists(qapp, tmp_path):
    """The app exports off the UI thread: Qt's text layout and PDF writer allow that."""
    import threading

    errors: list[BaseException] = []

    def work():
        try:
            export(novel_doc(chapters=2), tmp_path / "thread.pdf")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(120)
    assert not errors and pdf_pages(tmp_path / "thread.pdf") > 3


def test_screenshots_of_the_first_pages(qapp, tmp_path):
    """Pictures to look at: /tmp/shots/export_pdf-1..3.png (A5) and export_pdf_letter-1..3."""
    out = export(novel_doc(chapters=2), tmp_path / "shot.pdf",
                 ExportOptions(author="Jane Q. Writer", synopses=False))
    assert len(pdf_pages_to_png(out, "export_pdf", 1, 3)) == 3
    out = export(novel_doc(chapters=2), tmp_path / "shot_letter.pdf",
                 ExportOptions(author="Jane Q. Writer", extra={"page_size": "letter"}))
    assert len(pdf_pages_to_png(out, "export_pdf_letter", 1, 3)) == 3


def test_export_service_writes_the_sample_as_a_pdf(qapp, db, tmp_path):
    from studio.services import format_io, portability

    story = portability.import_sample(db)
    folder = tmp_path / "out"
    folder.mkdir()
    out = format_io.export(db, story.id, "pdf", folder / "sample.pdf",
                           ExportOptions(extra={"page_size": "letter"}))
    assert pdf_info(out)["Page size"].startswith("612 x 792")
    assert page_lines(out, 1)[:2] == ["The Lighthouse Keeper’s Daughter", "Story Studio"]
    assert [p.name for p in folder.iterdir()] == ["sample.pdf"]
