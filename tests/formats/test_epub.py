"""EPUB 3 export: a structural validation of the package (what epubcheck checks first),
epubcheck itself when installed, covers, options, errors, and a picture of a chapter
(/tmp/shots/export_epub_*.png)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET

import pytest

from studio.formats import registry
from studio.formats.book import ExportFormatError
from studio.formats.epub import CSS
from studio.formats.registry import ExportOptions
from tests.formats.export_helpers import SHOTS, novel_doc, sample_doc

NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def export(doc, path, options=ExportOptions(author="Jane Q. Writer")):
    return registry.exporter("epub").write(doc, path, options)


def tiny_png(width: int = 4, height: int = 6) -> bytes:
    """A valid RGB PNG made by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x20\x40\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def check_structure(path: Path) -> dict:
    """Validate the EPUB's container, package document, manifest, spine, nav and XHTML;
    returns what a test wants to look at further."""
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("mimetype") == b"application/epub+zip" and first.extra == b""
        names = set(z.namelist())
        container = ET.fromstring(z.read("META-INF/container.xml"))
        rootfile = container.find("c:rootfiles/c:rootfile", NS)
        assert rootfile.get("media-type") == "application/oebps-package+xml"
        opf_path = PurePosixPath(rootfile.get("full-path"))
        assert str(opf_path) in names
        opf = ET.fromstring(z.read(str(opf_path)))
        assert opf.get("version") == "3.0"
        metadata = opf.find("opf:metadata", NS)
        identifier = metadata.find("dc:identifier", NS)
        assert identifier.get("id") == opf.get("unique-identifier") and identifier.text
        title = metadata.find("dc:title", NS).text
        language = metadata.find("dc:language", NS).text
        assert title and language
        modified = [m.text for m in metadata.findall("opf:meta", NS)
                    if m.get("property") == "dcterms:modified"]
        assert len(modified) == 1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", modified[0])
        base = opf_path.parent
        manifest = {}
        for item in opf.find("opf:manifest", NS):
            href = str(base / item.get("href"))
            assert href in names, f"manifest item {href} is not in the zip"
            manifest[item.get("id")] = (href, item.get("media-type"),
                                        (item.get("properties") or "").split())
        navs = [i for i, (_, _, props) in manifest.items() if "nav" in props]
        assert len(navs) == 1
        spine = [ref.get("idref") for ref in opf.find("opf:spine", NS)]
        assert all(ref in manifest for ref in spine)
        xhtml = {}
        for href, media_type, _ in manifest.values():
            if media_type == "application/xhtml+xml":
                root = ET.fromstring(z.read(href))          # well-formed XML or it raises
                assert root.tag == "{http://www.w3.org/1999/xhtml}html"
                assert root.get("lang") == language
                xhtml[href] = root
        nav_root = xhtml[manifest[navs[0]][0]]
        toc = [n for n in nav_root.iter("{http://www.w3.org/1999/xhtml}nav")
               if n.get(EPUB_TYPE) == "toc"]
        assert len(toc) == 1
        links = [(a.get("href"), "".join(a.itertext()).strip())
                 for a in toc[0].iter("{http://www.w3.org/1999/xhtml}a")]
        nav_dir = PurePosixPath(manifest[navs[0]][0]).parent
        for href, _ in links:
            assert str(nav_dir / href.split("#")[0]) in names
        return {"title": title, "language": language, "identifier": identifier.text,
                "manifest": manifest, "spine": [manifest[i][0] for i in spine],
                "toc": links, "xhtml": xhtml, "metadata": metadata, "names": names}


def text_of(root) -> str:
    return "\n".join(" ".join("".join(p.itertext()).split())
                     for p in root.iter() if p.tag.split("}")[-1] in ("p", "h1", "h2", "h3"))


def test_package_is_structurally_valid_with_toc_spine_and_chapters_in_order(tmp_path):
    doc = novel_doc()
    info = check_structure(export(doc, tmp_path / "novel.epub"))
    assert (info["title"], info["language"]) == ("The Lighthouse Keeper’s Daughter", "en")
    assert info["identifier"].startswith("urn:uuid:")
    creator = info["metadata"].find("dc:creator", NS)
    assert creator.text == "Jane Q. Writer"
    chapters = [h for h in info["spine"] if "chapter-" in h]
    assert chapters == [f"EPUB/chapter-{n:03d}.xhtml" for n in range(1, 7)]
    assert info["spine"][:2] == ["EPUB/titlepage.xhtml", "EPUB/nav.xhtml"]
    assert [label for _, label in info["toc"]] == [
        "The Glove", "The Board’s Letter", "Low Water", "The Oar", "Storm",
        "What the Sea Keeps"]
    assert [href for href, _ in info["toc"]] == [f"chapter-{n:03d}.xhtml" for n in range(1, 7)]
    # Every paragraph, in order, in its own chapter's file.
    for n in range(1, 7):
        root = info["xhtml"][f"EPUB/chapter-{n:03d}.xhtml"]
        text = text_of(root)
        found = [tuple(map(int, m)) for m in re.findall(r"Chapter (\d), scene (\d), "
                                                        r"paragraph (\d+)\.", text)]
        expected = sorted((n, s, p) for s in (1, 2) for p in range(1, 13)
                          if not (n, s, p) == (2, 1, 2))
        assert found == expected
        sections = [s for s in root.iter("{http://www.w3.org/1999/xhtml}section")]
        assert sections[0].get(EPUB_TYPE) == "chapter"
        links = [lnk.get("href") for lnk in root.iter("{http://www.w3.org/1999/xhtml}link")]
        assert links == ["styles/book.css"]
    chapter2 = info["xhtml"]["EPUB/chapter-002.xhtml"]
    body = ET.tostring(chapter2, encoding="unicode")
    assert "<html:em>very</html:em>" in body and "<html:strong>meant</html:strong>" in body
    breaks = [p for p in chapter2.iter("{http://www.w3.org/1999/xhtml}p")
              if p.get("class") == "scene-break"]
    assert [p.text for p in breaks] == ["#", "#"]
    assert "<html:h2>The Ledger</html:h2>" in body
    titlepage = text_of(info["xhtml"]["EPUB/titlepage.xhtml"])
    assert "The Lighthouse Keeper’s Daughter\nJane Q. Writer" in titlepage


def test_identifier_is_stable_and_taken_from_the_story_uid(tmp_path):
    first = check_structure(export(novel_doc(), tmp_path / "a.epub"))["identifier"]
    again = check_structure(export(novel_doc(), tmp_path / "b.epub"))["identifier"]
    assert first == again
    doc = novel_doc()
    doc = type(doc)(**{**doc.__dict__, "metadata": {**doc.metadata,
                                                    "uid": "b1d1bc39-46df-43a9-b798-027c6f017947"}})
    assert check_structure(export(doc, tmp_path / "c.epub"))["identifier"] == \
        "urn:uuid:b1d1bc39-46df-43a9-b798-027c6f017947"


def test_cover_synopses_symbol_language_and_chapter_choice(tmp_path):
    cover = tmp_path / "cover.dat"               # judged by its bytes, not its name
    cover.write_bytes(tiny_png())
    options = ExportOptions(author="Jane Q. Writer", cover=cover, synopses=True,
                            scene_break="⁂", language="en-GB", chapters=("chap_3", "chap_1"),
                            front_matter=False)
    info = check_structure(export(novel_doc(), tmp_path / "c.epub", options))
    assert info["language"] == "en-GB"
    [(href, media_type, props)] = [v for v in info["manifest"].values()
                                   if "cover-image" in v[2]]
    assert (href, media_type) == ("EPUB/images/cover.png", "image/png")
    assert info["spine"] == ["EPUB/cover.xhtml", "EPUB/nav.xhtml", "EPUB/chapter-001.xhtml",
                             "EPUB/chapter-003.xhtml"]
    assert "EPUB/titlepage.xhtml" not in info["names"]
    chapter = info["xhtml"]["EPUB/chapter-003.xhtml"]
    text = text_of(chapter)
    assert text.startswith("Chapter 3\nLow Water\nSynopsis of chapter 3.\nSynopsis of scene 3.1.")
    assert "\n⁂\nSynopsis of scene 3.2.\n" in text
    cover_page = ET.tostring(info["xhtml"]["EPUB/cover.xhtml"], encoding="unicode")
    assert 'src="images/cover.png"' in cover_page


def test_sample_story(db, tmp_path):
    doc = sample_doc(db)
    info = check_structure(export(doc, tmp_path / "sample.epub"))
    assert [label for _, label in info["toc"]] == ["No. 997", "The Board’s Letter"]
    text = text_of(info["xhtml"]["EPUB/chapter-001.xhtml"])
    assert "The sea returned a glove on the first morning of August" in text
    assert info["metadata"].find("dc:description", NS).text == doc.logline


def test_bad_covers_and_places_are_refused(tmp_path):
    not_image = tmp_path / "cover.png"
    not_image.write_text("not an image", encoding="utf-8")
    with pytest.raises(ExportFormatError, match=r"The cover cover\.png is not a PNG, JPEG, GIF "
                                                r"or WebP image"):
        export(novel_doc(), tmp_path / "x.epub", ExportOptions(cover=not_image))
    with pytest.raises(ExportFormatError, match="The cover image .*missing.png does not exist"):
        export(novel_doc(), tmp_path / "x.epub", ExportOptions(cover=tmp_path / "missing.png"))
    with pytest.raises(ExportFormatError, match="does not exist"):
        export(novel_doc(), tmp_path / "no" / "x.epub")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.png"]

    def cancel(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        registry.exporter("epub").write(novel_doc(), tmp_path / "x.epub", ExportOptions(),
                                        cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cover.png"]


def _epubcheck() -> list[str] | None:
    found = shutil.which("epubcheck")
    if found is None:
        return None
    real = Path(found).resolve()
    # Debian installs the jar itself as /usr/bin/epubcheck (run through binfmt when it is set up).
    # The quick-start JIT and GC halve its run time (it is a short-lived JVM).
    quick = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    return ["java", *quick, "-jar", str(real)] if real.suffix == ".jar" else [found]


def test_epubcheck_finds_no_errors_or_warnings(tmp_path, db):
    assert _epubcheck() is not None, "epubcheck is missing (.ci/run installs it)"
    cover = tmp_path / "cover.png"
    cover.write_bytes(tiny_png(60, 90))
    books = [export(novel_doc(), tmp_path / "full.epub",
                    ExportOptions(author="Jane Q. Writer", cover=cover, synopses=True)),
             export(sample_doc(db), tmp_path / "sample.epub",
                    ExportOptions(front_matter=False))]
    # One JVM each, side by side: a run takes seconds, mostly Java warming up.
    runs = [subprocess.Popen([*_epubcheck(), str(book)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for book in books]
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
        assert "No errors or warnings detected" in output, output


def test_screenshot_of_a_chapter_rendered(qapp, tmp_path):
    """Pictures to look at: /tmp/shots/export_epub_title.png and export_epub_chapter.png,
    the XHTML and stylesheet rendered with QTextDocument (a rough stand-in for a reader)."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QTextDocument

    cover = tmp_path / "cover.png"
    cover.write_bytes(tiny_png())
    doc = novel_doc(chapters=2, paragraphs=7)
    out = export(doc, tmp_path / "shot.epub", ExportOptions(author="Jane Q. Writer"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out) as z:
        for name, member in (("title", "EPUB/titlepage.xhtml"),
                             ("chapter", "EPUB/chapter-002.xhtml")):
            document = QTextDocument()
            # Qt's rich text knows text-indent in px only: the reader's 1.5em at 16 px.
            document.setDefaultStyleSheet(CSS.replace("text-indent: 1.5em", "text-indent: 24px")
                                          .replace("text-indent: 0;", "text-indent: 0px;"))
            document.setDefaultFont(QFont("serif", 12))
            document.setHtml(z.read(member).decode("utf-8"))
            document.setTextWidth(560)
            height = min(1000, int(document.size().height()) + 40)
            image = QImage(600, height, QImage.Format.Format_RGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            painter.translate(20, 20)
            document.drawContents(painter, QRectF(0, 0, 560, height - 40))
            painter.end()
            assert image.save(str(SHOTS / f"export_epub_{name}.png"))


def test_export_service_writes_the_sample_as_an_epub(db, tmp_path):
    from studio.services import format_io, portability

    story = portability.import_sample(db)
    chapter = sample_doc(db).content["manuscript"]["chapters"][1]["id"]
    folder = tmp_path / "out"
    folder.mkdir()
    out = format_io.export(db, story.id, "epub", folder / "book",
                           ExportOptions(chapters=(chapter,)))
    assert out.name == "book.epub"
    info = check_structure(out)
    assert [label for _, label in info["toc"]] == ["The Board’s Letter"]
    assert info["metadata"].find("dc:creator", NS).text == "Story Studio"
    assert [p.name for p in folder.iterdir()] == ["book.epub"]
