"""The manuscript as a book: what the DOCX, EPUB and PDF exporters lay out.

Every exporter needs the same reading of a story: which chapters (``ExportOptions.chapters``),
each scene's prose split into paragraphs, ``# heading`` lines and scene-break lines, the light
inline formatting (``*emphasis*``, ``_emphasis_``, ``**strong**``) as runs, the author, a word
count rounded the way manuscripts state it.  Doing it once here keeps the three looking alike
and lets each writer be only about its file format.

Nothing here knows a file format or touches Qt: writers get plain frozen dataclasses.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.domain.errors import StudioError
from studio.domain.manuscript import count_words
from studio.formats.registry import ExportDoc, ExportOptions, Progress

# The same marks the manuscript editor shows (ui/widgets/prose_highlighter.py): emphasis never
# spans its own marker, so every regex is linear even over a paragraph of stray asterisks.
_STRONG_RE = re.compile(r"\*\*([^\s*](?:(?:[^*]|\*(?!\*))*?[^\s*])?)\*\*")
_EM_STAR_RE = re.compile(r"(?<![*\w])\*([^\s*](?:[^*]*[^\s*])?)\*(?![*\w])")
_EM_UNDERSCORE_RE = re.compile(r"(?<!\w)_([^\s_](?:[^_]*[^\s_])?)_(?!\w)")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(\S.*?)\s*#*\s*$")
_SCENE_BREAK_RE = re.compile(r"^\s*(?:\*\*\*|\* \* \*|---|#|~~~)\s*$")
# Manuscripts state length as "about N words": to the nearest hundred for short fiction, to the
# nearest thousand from novelette length up (SFWA's 17,500-word line), as Shunn's format has it.
SHORT_FICTION_WORDS = 17_500


class ExportFormatError(StudioError):
    """An export that cannot be made as asked (an unknown chapter, a cover that is not an image,
    a file that cannot be written); the message says which and why.  Nothing is left behind."""


@dataclass(frozen=True)
class Run:
    text: str
    italic: bool = False
    bold: bool = False


@dataclass(frozen=True)
class Block:
    """One paragraph-level piece: ``para`` (runs), ``heading`` (runs, level 1–6) or ``break``
    (a scene break inside a scene's own text)."""

    kind: str
    runs: tuple[Run, ...] = ()
    level: int = 0

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass(frozen=True)
class Scene:
    id: str
    title: str
    synopsis: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Chapter:
    id: str
    number: int           # 1-based place in the whole manuscript
    title: str
    synopsis: str
    scenes: tuple[Scene, ...]

    @property
    def label(self) -> str:
        """"Chapter 3" — left out by writers when the title already says it."""
        return f"Chapter {self.number}"

    @property
    def title_says_chapter(self) -> bool:
        return self.title.strip().lower().startswith("chapter")


@dataclass(frozen=True)
class Piece:
    """One thing a writer lays out, in order: ``synopsis`` (text), ``break`` (a scene break),
    ``heading`` or ``para`` (block); ``first`` marks a paragraph that opens the chapter or
    follows a heading or break (set flush, by book convention)."""

    kind: str
    block: Block | None = None
    text: str = ""
    first: bool = False


def pieces(chapter: Chapter, synopses: bool) -> list[Piece]:
    """The chapter's body as writers lay it out: a break between scenes that have text (never
    two in a row, never at an edge), synopses when asked for."""
    out: list[Piece] = []
    if synopses and chapter.synopsis:
        out.append(Piece("synopsis", text=chapter.synopsis))
    first, started = True, False
    for scene in chapter.scenes:
        if started and scene.blocks:
            out.append(Piece("break"))
            first = True
        if synopses and scene.synopsis:
            out.append(Piece("synopsis", text=scene.synopsis))
        for block in scene.blocks:
            if block.kind == "para":
                out.append(Piece("para", block, first=first))
                first = False
            else:
                out.append(Piece(block.kind, block if block.kind == "heading" else None))
                first = True
        started = started or bool(scene.blocks)
    return out


@dataclass(frozen=True)
class Book:
    title: str
    author: str
    language: str
    logline: str
    genre: str
    chapters: tuple[Chapter, ...]
    words: int
    contact: tuple[str, ...] = ()    # the author's address lines for a manuscript title page

    @property
    def surname(self) -> str:
        """The header's surname: the author's last word ("Le Guin" stays whole if given so)."""
        words = self.author.split()
        return words[-1] if words else ""

    @property
    def approximate_words(self) -> str:
        return approximate_words(self.words)


def approximate_words(words: int) -> str:
    """"about 2,600 words" / "about 84,000 words": rounded half up, never "about 0"."""
    step = 100 if words < SHORT_FICTION_WORDS else 1000
    rounded = max(step, (words + step // 2) // step * step)
    return f"about {rounded:,} words"


def parse_inline(text: str) -> tuple[Run, ...]:
    """``*em*`` / ``_em_`` → italic, ``**strong**`` → bold (emphasis inside strong is both);
    markers that do not pair up stay as typed."""
    runs: list[Run] = []
    pos = 0
    for match in _STRONG_RE.finditer(text):
        runs.extend(_emphasis(text[pos:match.start()], bold=False))
        runs.extend(_emphasis(match.group(1), bold=True))
        pos = match.end()
    runs.extend(_emphasis(text[pos:], bold=False))
    merged: list[Run] = []
    for run in runs:
        if merged and (merged[-1].italic, merged[-1].bold) == (run.italic, run.bold):
            merged[-1] = Run(merged[-1].text + run.text, run.italic, run.bold)
        elif run.text:
            merged.append(run)
    return tuple(merged)


def _emphasis(text: str, bold: bool) -> list[Run]:
    spans = sorted([*_EM_STAR_RE.finditer(text), *_EM_UNDERSCORE_RE.finditer(text)],
                   key=lambda m: m.start())
    runs: list[Run] = []
    pos = 0
    for match in spans:
        if match.start() < pos:          # overlaps an earlier span: left as typed
            continue
        runs.append(Run(text[pos:match.start()], bold=bold))
        runs.append(Run(match.group(1), italic=True, bold=bold))
        pos = match.end()
    runs.append(Run(text[pos:], bold=bold))
    return runs


def parse_blocks(segments: list[Mapping[str, Any]]) -> tuple[Block, ...]:
    """A scene's segments as blocks: every non-blank line a paragraph, heading or break."""
    blocks: list[Block] = []
    for segment in segments:
        for line in str(segment.get("text") or "").split("\n"):
            if not line.strip():
                continue
            if _SCENE_BREAK_RE.match(line):
                if blocks and blocks[-1].kind != "break":
                    blocks.append(Block("break"))
                continue
            heading = _HEADING_RE.match(line)
            if heading:
                blocks.append(Block("heading", parse_inline(heading.group(2)),
                                    len(heading.group(1))))
            else:
                blocks.append(Block("para", parse_inline(line.strip())))
    while blocks and blocks[-1].kind == "break":
        blocks.pop()
    return tuple(blocks)


def _synopsis(item: Mapping[str, Any]) -> str:
    meta = item.get("meta") or {}
    value = meta.get("synopsis", item.get("synopsis", "")) if isinstance(meta, Mapping) else ""
    return value.strip() if isinstance(value, str) else ""


def plain_words(blocks: tuple[Block, ...]) -> int:
    return sum(count_words(block.text) for block in blocks)


def book_from(doc: ExportDoc, options: ExportOptions) -> Book:
    """The book ``doc`` makes with ``options``: the chosen chapters in story order.

    Raises ExportFormatError when ``options.chapters`` names a chapter the story does not have
    or when nothing is left to export.
    """
    chapters = list((doc.content.get("manuscript") or {}).get("chapters") or [])
    # Chapters keep their number in the whole manuscript: exporting chapters 2 and 4 for an
    # editor gives "Chapter 2" and "Chapter 4", as the author knows them.
    numbered = list(enumerate(chapters, start=1))
    if options.chapters is not None:
        known = {c.get("id") for c in chapters}
        missing = [uid for uid in options.chapters if uid not in known]
        if missing:
            raise ExportFormatError(f"“{doc.title}” has no chapter {', '.join(missing)}; "
                                    f"choose the chapters to export again.")
        wanted = set(options.chapters)
        numbered = [(n, c) for n, c in numbered if c.get("id") in wanted]
    if not numbered:
        raise ExportFormatError(f"“{doc.title}” has no chapters to export; write one first "
                                f"(or choose at least one).")
    built: list[Chapter] = []
    words = 0
    for number, chapter in numbered:
        scenes = []
        for scene in chapter.get("scenes") or []:
            blocks = parse_blocks(list(scene.get("segments") or []))
            words += plain_words(blocks)
            scenes.append(Scene(str(scene.get("id", "")), str(scene.get("title") or ""),
                                _synopsis(scene), blocks))
        built.append(Chapter(str(chapter.get("id", "")), number,
                             str(chapter.get("title") or "").strip() or f"Chapter {number}",
                             _synopsis(chapter), tuple(scenes)))
    metadata = doc.metadata or {}
    contact = options.extra.get("contact", metadata.get("contact", ""))
    if isinstance(contact, str):
        contact = contact.split("\n")
    return Book(title=doc.title.strip() or "Untitled",
                author=(options.author or str(metadata.get("author") or "")).strip(),
                language=(options.language or doc.language or "en").strip() or "en",
                logline=doc.logline, genre=doc.genre, chapters=tuple(built), words=words,
                contact=tuple(str(line).strip() for line in contact if str(line).strip()))


def report(progress: Progress | None, done: int, total: int) -> None:
    """Tell the caller how far along we are; the caller cancels by raising from it."""
    if progress is not None:
        progress(done, total)


@contextmanager
def atomic_output(out: Path, what: str) -> Iterator[Path]:
    """A temporary path beside ``out`` to write to; it replaces ``out`` only when the block
    ends without an error (a cancelled or failed export leaves no half-written file)."""
    out = Path(out)
    if out.is_dir():
        raise ExportFormatError(f"{out} is a folder; choose a file name for the {what}.")
    folder = out.parent
    if not folder.is_dir():
        raise ExportFormatError(f"The folder {folder} does not exist; choose another for the "
                                f"{what}.")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
    except OSError as exc:
        raise ExportFormatError(f"The {what} cannot be written to {folder}: "
                                f"{exc.strerror or exc}.") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportFormatError(f"The {what} could not be written to {out}: "
                                f"{exc.strerror or exc}.") from None
    finally:
        tmp.unlink(missing_ok=True)
