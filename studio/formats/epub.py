"""EPUB 3 export (ebooklib): a reflowable e-book that passes epubcheck.

The package holds the title, author, language, a stable identifier (the story's uid, else one
derived from title and author, so re-exports of a book keep their identity in a reader's
library) and ``dcterms:modified``; an optional cover image (PNG, JPEG, GIF or WebP — the
formats EPUB readers must show — checked by its bytes, not its name) with a cover page; a title
page; the navigation document (``epub:type="toc"``, one entry per chapter, plus an NCX for older
readers); one XHTML file per chapter; and a small stylesheet: serif text, indented paragraphs
except after headings and breaks, centred scene breaks, chapters on a new page.

Kept: chapters and their titles in order, scene breaks (the chosen symbol), ``# headings`` in
the text, italics and bold, optional synopses, the logline on the title page.  Not kept: scene
titles, the bible, the chapter graph, fonts (readers choose their own; embedding one would
need its licence), page numbers (an EPUB reflows).
"""

from __future__ import annotations

import uuid
from html import escape
from pathlib import Path

from ebooklib import epub

from studio.formats.book import (
    Block, Book, Chapter, ExportFormatError, atomic_output, book_from, pieces, report,
)
from studio.formats.registry import (
    ExportDoc, ExportOptions, Exporter, Progress, register_exporter,
)

MAX_COVER_BYTES = 20 * 1024 * 1024
# Story Studio's own namespace for identifiers made from title and author (uuid5).
IDENTIFIER_NAMESPACE = uuid.UUID("8d4f2a86-1f0c-5b5e-9d1e-6c7a3f9b2e41")

CSS = """\
body { font-family: Georgia, "Times New Roman", serif; line-height: 1.45; margin: 0 4%; }
section { page-break-before: always; break-before: page; }
header { margin: 3em 0 2em; }
h1 { text-align: center; font-weight: normal; font-size: 1.5em; margin: 0; }
p.label { text-align: center; text-indent: 0; font-size: 0.8em; letter-spacing: 0.2em;
          text-transform: uppercase; margin: 0 0 0.8em; }
h2, h3 { text-align: center; font-size: 1.1em; margin: 1.5em 0 1em; }
p { margin: 0; text-indent: 1.5em; text-align: justify; }
p.first { text-indent: 0; }
p.scene-break { text-align: center; text-indent: 0; margin: 1em 0; }
p.synopsis { font-style: italic; text-indent: 0; margin: 0 0 1.2em; font-size: 0.9em; }
section.titlepage { text-align: center; margin-top: 25%; }
section.titlepage h1 { font-size: 2em; margin: 0 0 1em; }
section.titlepage p { text-indent: 0; text-align: center; }
p.author { font-size: 1.2em; margin-top: 1em; }
p.logline { font-style: italic; margin: 3em 10% 0; }
div.cover { text-align: center; }
div.cover img { max-width: 100%; max-height: 100%; }
"""


def cover_media_type(data: bytes) -> tuple[str, str]:
    """(extension, media type) of a cover image judged by its first bytes, or (“”, “”)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg", "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif", "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return "", ""


def read_cover(path: Path) -> tuple[bytes, str]:
    """The cover's bytes and file extension; ExportFormatError names the file and why not."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_COVER_BYTES:
            raise ExportFormatError(f"The cover {path.name} is {size / 1024 / 1024:.0f} MB; "
                                    f"e-book readers need one under "
                                    f"{MAX_COVER_BYTES // 1024 // 1024} MB.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportFormatError(f"The cover image {path} does not exist.") from None
    except OSError as exc:
        raise ExportFormatError(f"The cover image {path.name} cannot be read: "
                                f"{exc.strerror or exc}.") from None
    extension, _ = cover_media_type(data)
    if not extension:
        raise ExportFormatError(f"The cover {path.name} is not a PNG, JPEG, GIF or WebP image "
                                f"(the kinds every EPUB reader shows).")
    return data, extension


def identifier(doc: ExportDoc, book: Book, options: ExportOptions) -> str:
    """``urn:uuid:…``: the story's uid when given, else stable for this title and author."""
    given = options.extra.get("identifier") or doc.metadata.get("uid") or doc.extras.get("uid")
    if given:
        try:
            return f"urn:uuid:{uuid.UUID(str(given))}"
        except ValueError:
            return str(given)
    name = "\n".join((book.title, book.author))
    return f"urn:uuid:{uuid.uuid5(IDENTIFIER_NAMESPACE, name)}"


def _inline(block: Block) -> str:
    parts = []
    for run in block.runs:
        text = escape(run.text, quote=False)
        if run.bold:
            text = f"<strong>{text}</strong>"
        if run.italic:
            text = f"<em>{text}</em>"
        parts.append(text)
    return "".join(parts)


def chapter_html(chapter: Chapter, options: ExportOptions) -> str:
    """The body of one chapter's XHTML: heading, optional synopses, paragraphs, breaks."""
    symbol = escape(options.scene_break.strip() or "#")
    title = escape(chapter.title)
    if chapter.title_says_chapter:
        heading = f"<header><h1>{title}</h1></header>"
    else:   # the label as its own line, so it shows even where a reader ignores the CSS
        heading = (f'<header><p class="label">{chapter.label}</p>\n'
                   f"<h1>{title}</h1></header>")
    out = [f'<section epub:type="chapter" id="chapter-{chapter.number}">', heading]
    for piece in pieces(chapter, options.synopses):
        if piece.kind == "synopsis":
            out.append(f'<p class="synopsis">{escape(piece.text)}</p>')
        elif piece.kind == "break":
            out.append(f'<p class="scene-break" role="separator">{symbol}</p>')
        elif piece.kind == "heading":
            level = min(3, piece.block.level + 1)
            out.append(f"<h{level}>{_inline(piece.block)}</h{level}>")
        else:
            out.append(f'<p class="first">{_inline(piece.block)}</p>' if piece.first
                       else f"<p>{_inline(piece.block)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _title_page(book: Book) -> str:
    out = ['<section epub:type="titlepage" class="titlepage">',
           f"<h1>{escape(book.title)}</h1>"]
    if book.author:
        out.append(f'<p class="author">{escape(book.author)}</p>')
    if book.logline:
        out.append(f'<p class="logline">{escape(book.logline)}</p>')
    out.append("</section>")
    return "\n".join(out)


def _page(uid: str, file_name: str, title: str, body: str, language: str,
          css: epub.EpubItem) -> epub.EpubHtml:
    page = epub.EpubHtml(uid=uid, file_name=file_name, title=title, lang=language)
    page.content = f"<html><head><title>{escape(title)}</title></head><body>{body}</body></html>"
    page.add_item(css)
    return page


def write_epub(doc: ExportDoc, out: Path, options: ExportOptions,
               progress: Progress | None = None) -> Path:
    """Write ``doc`` as an EPUB 3 at ``out`` (replaced only when complete); returns ``out``.

    Raises ExportFormatError for unknown chapters, nothing to export, a cover that is missing
    or not an image, or an unwritable place; a cancel (``progress`` raising) leaves no file.
    """
    book = book_from(doc, options)
    cover = read_cover(options.cover) if options.cover is not None else None
    total = len(book.chapters) + 1
    report(progress, 0, total)

    package = epub.EpubBook()
    package.set_identifier(identifier(doc, book, options))
    package.set_title(book.title)
    package.set_language(book.language)
    if book.author:
        package.add_author(book.author, role="aut")
    if book.logline:
        package.add_metadata("DC", "description", book.logline)
    if doc.genre:
        package.add_metadata("DC", "subject", doc.genre)
    package.add_metadata("DC", "publisher", "Story Studio")
    css = epub.EpubItem(uid="style", file_name="styles/book.css", media_type="text/css",
                        content=CSS.encode("utf-8"))
    package.add_item(css)

    spine: list = []
    if cover is not None:
        data, extension = cover
        package.set_cover(f"images/cover{extension}", data)
        cover_page = package.get_item_with_id("cover")
        cover_page.is_linear = True
        cover_page.lang = book.language
        cover_page.add_item(css)
        spine.append(cover_page)
    if options.front_matter:
        title_page = _page("titlepage", "titlepage.xhtml", book.title, _title_page(book),
                           book.language, css)
        package.add_item(title_page)
        spine.append(title_page)
    package.add_item(epub.EpubNcx())
    nav = epub.EpubNav(title="Contents")
    nav.add_item(css)
    package.add_item(nav)
    spine.append("nav")

    toc = []
    for index, chapter in enumerate(book.chapters):
        name = f"chapter-{chapter.number:03d}.xhtml"
        page = _page(f"chapter-{chapter.number:03d}", name, chapter.title,
                     chapter_html(chapter, options), book.language, css)
        package.add_item(page)
        spine.append(page)
        toc.append(epub.Link(name, chapter.title, f"toc-{chapter.number:03d}"))
        report(progress, index + 1, total)
    package.toc = toc
    package.spine = spine

    out = Path(out)
    with atomic_output(out, "EPUB file") as tmp:
        epub.write_epub(str(tmp), package, {"raise_exceptions": True, "epub3_pages": False})
    report(progress, total, total)
    return out


register_exporter(Exporter(
    id="epub", label="E-book (EPUB 3)", extension=".epub", write=write_epub,
    options=("chapters", "synopses", "scene_break", "front_matter", "author", "language",
             "cover")))
