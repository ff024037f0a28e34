"""Markdown and plain text: a manuscript in, a manuscript out (one file or a folder).

Import.  Headings become chapters and scenes (``chapter_level`` 1 and ``scene_level`` 2 by
default: ``#`` a chapter, ``##`` a scene); a heading above the chapter level names the story
(first) or a part (kept as the next chapter's ``part`` metadata); deeper headings stay in the
prose as written.  ``***``, ``---``, ``___``, ``* * *`` and ``#`` alone on a line are scene
breaks.  Paragraphs (blank-line separated, soft-wrapped lines joined) become segments; a hard
line break (two trailing spaces or a backslash) starts a new segment.  Inline Markdown stays
as typed: the editor shows ``*emphasis*`` as the author wrote it, and the book exporters read it.
Front matter (``---`` … ``---``) gives title, author, language, logline and genre; other keys
go to the story's metadata.  Plain text (``.txt``): blank lines separate paragraphs, "Chapter N"
(and Prologue/Epilogue) lines start chapters.  A folder reads its ``.md``/``.markdown``/``.txt``
files in natural order; a file without chapter headings is one chapter named after the file.

Export.  One ``.md`` file (front matter, ``# chapter`` and ``## scene`` headings or the
scene-break symbol, synopses as ``> *Synopsis:*`` blockquotes) or a folder of one file per
chapter (``01-title.md``), which import reads back to the same story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError
from studio.domain.manuscript import count_words
from studio.formats import front_matter
from studio.formats.registry import (
    STORY, Exporter, Importer, ImportPreview, Progress, register_exporter, register_importer,
)
from studio.formats.text_files import MAX_TEXT_BYTES, read_text

EXTENSIONS = (".md", ".markdown", ".txt")
MAX_FOLDER_BYTES = 2 * MAX_TEXT_BYTES
TICK_LINES = 20000  # progress (and a chance to cancel) every so many lines of a big file
STORY_KEYS = ("title", "author", "language", "logline", "genre")
KEY_ALIASES = {"lang": "language", "description": "logline", "subtitle": "logline"}
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")

HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
BREAK_RE = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|\\?#|⁂|§)$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
SYNOPSIS_RE = re.compile(r"^ {0,3}>[ \t]?(?:\*{1,2}|_)Synopsis:?(?:\*{1,2}|_):?[ \t]*(.*)$",
                         re.IGNORECASE)
QUOTE_RE = re.compile(r"^ {0,3}>[ \t]?(.*)$")
ESCAPED_RE = re.compile(r"^\\([#>*\-_`=+~\\])")
CHAPTER_RE = re.compile(
    r"^\s*(?:(?:chapter|chapitre|cap[ií]tulo|kapitel|capitolo|hoofdstuk)\s+"
    r"(?:\d+|[ivxlcdm]+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"[a-z]+teen|twenty|thirty|forty|fifty)\b|prologue|epilogue|prolog|epilog)"
    r"[\s.:—–-]*(.*)$", re.IGNORECASE)


class MarkdownError(ImportFormatError):
    """A Markdown or text file (or folder) that cannot be imported; names it and says why."""


# --- building the story while reading ----------------------------------------------------

@dataclass
class _Scene:
    title: str
    synopsis: str = ""
    paragraphs: list[tuple[int, str]] = field(default_factory=list)  # (gap, text)


@dataclass
class _Chapter:
    title: str
    synopsis: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    scenes: list[_Scene] = field(default_factory=list)


class _Builder:
    """Chapters and scenes as the reader meets headings, breaks and paragraphs."""

    def __init__(self) -> None:
        self.chapters: list[_Chapter] = []
        self.title: str | None = None
        self.default_title: str | None = None   # the next file-opened chapter's title
        self.need_chapter = False
        self.pending_break = False
        self.part: str | None = None

    def _open_chapter(self, title: str) -> _Chapter:
        ch = _Chapter(title)
        if self.part:
            ch.metadata["part"], self.part = self.part, None
        self.chapters.append(ch)
        self.need_chapter = self.pending_break = False
        return ch

    def chapter(self, title: str) -> None:
        self._open_chapter(title)

    def scene(self, title: str) -> None:
        if self.need_chapter or not self.chapters:
            self._open_chapter(self.default_title or f"Chapter {len(self.chapters) + 1}")
        self.chapters[-1].scenes.append(_Scene(title))
        self.pending_break = False

    def scene_break(self) -> None:
        self.pending_break = True

    def _current_scene(self) -> _Scene:
        if self.need_chapter or not self.chapters:
            self._open_chapter(self.default_title or f"Chapter {len(self.chapters) + 1}")
        ch = self.chapters[-1]
        if not ch.scenes or (self.pending_break and ch.scenes[-1].paragraphs):
            ch.scenes.append(_Scene(f"Scene {len(ch.scenes) + 1}"))
        self.pending_break = False
        return ch.scenes[-1]

    def paragraph(self, text: str, gap: int = 1) -> None:
        scene = self._current_scene()
        scene.paragraphs.append((gap if scene.paragraphs else 0, text))

    def synopsis(self, text: str) -> bool:
        """A synopsis right after a heading (before any prose); False if it is too late."""
        if self.need_chapter or not self.chapters:
            return False
        ch = self.chapters[-1]
        if self.pending_break and ch.scenes and ch.scenes[-1].paragraphs:
            ch.scenes.append(_Scene(f"Scene {len(ch.scenes) + 1}"))
            self.pending_break = False
        target: _Scene | _Chapter = ch.scenes[-1] if ch.scenes else ch
        if ch.scenes and ch.scenes[-1].paragraphs:
            return False
        target.synopsis = (target.synopsis + " " + text).strip()
        return True

    def has_prose(self) -> bool:
        return any(sc.paragraphs for ch in self.chapters for sc in ch.scenes)


# --- reading -------------------------------------------------------------------------------

def _unescape(text: str) -> str:
    return ESCAPED_RE.sub(r"\1", text)


def _parse_markdown(text: str, b: _Builder, chapter_level: int, scene_level: int | None,
                    breaks: tuple[str, ...] = (), tick: Progress | None = None) -> None:
    lines: list[str] = []        # the paragraph being read
    hard = False                 # its previous line ended in a hard break
    gap = 1
    fence: str | None = None
    in_synopsis = False

    def flush() -> None:
        nonlocal lines, gap
        if lines:
            b.paragraph(_unescape(" ".join(line.strip() for line in lines)), gap)
            lines, gap = [], 1

    all_lines = text.split("\n")
    for number, raw in enumerate(all_lines):
        if tick is not None and number % TICK_LINES == 0:
            tick(number, len(all_lines))
        line = raw.rstrip("\n")
        if fence is not None:
            b.paragraph(line if line.strip() else " ", 0)
            if line.strip().startswith(fence):
                fence = None
            continue
        stripped = line.strip()
        if in_synopsis:
            quote = QUOTE_RE.match(line)
            if quote and quote.group(1).strip():
                b.synopsis(quote.group(1).strip())
                continue
            in_synopsis = False
        if not stripped:
            flush()
            hard = False
            continue
        if hard:  # the previous line ended with a hard break: a paragraph of its own
            last = lines[-1].rstrip(" ")
            lines[-1] = last[:-1] if last.endswith("\\") else last
            flush()
            gap = 0
            hard = False
        if not lines:
            opened = FENCE_RE.match(line)
            if opened:
                fence = opened.group(1)[0] * 3
                b.paragraph(stripped, 1)
                continue
            heading = HEADING_RE.match(line)
            if heading and _heading(b, len(heading.group(1)), heading.group(2).strip(), line,
                                    chapter_level, scene_level):
                continue
            if BREAK_RE.match(line) or stripped in breaks:
                b.scene_break()
                continue
            synopsis = SYNOPSIS_RE.match(line)
            if synopsis and b.synopsis(synopsis.group(1).strip()):
                in_synopsis = True
                continue
        elif HEADING_RE.match(line) or BREAK_RE.match(line):
            flush()  # a heading or break right under a line of prose still ends it
            heading = HEADING_RE.match(line)
            if heading and _heading(b, len(heading.group(1)), heading.group(2).strip(), line,
                                    chapter_level, scene_level):
                continue
            if not heading:
                b.scene_break()
                continue
        hard = raw.endswith("  ") or (raw.endswith("\\") and not raw.endswith("\\\\"))
        lines.append(line)
    flush()


def _heading(b: _Builder, level: int, title: str, line: str, chapter_level: int,
             scene_level: int | None) -> bool:
    """Act on a heading; False when it is deeper than chapters and scenes (kept as prose)."""
    title = _unescape(title)[:500]
    if level == chapter_level:
        b.chapter(title)
    elif scene_level and level == scene_level:
        b.scene(title)
    elif level < chapter_level:
        if b.title is None and not b.chapters:
            b.title = title
        else:
            b.part = title
    else:
        return False
    return True


def _parse_text(text: str, b: _Builder, tick: Progress | None = None) -> None:
    blocks = [blk for blk in re.split(r"\n[ \t]*\n", text) if blk.strip()]
    single = len(blocks) == 1 and blocks[0].count("\n") > 0
    for number, block in enumerate(blocks):
        if tick is not None and number % TICK_LINES == 0:
            tick(number, len(blocks))
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if single:  # no blank lines anywhere: one paragraph a line
            for ln in lines:
                _text_paragraph(b, [ln])
            continue
        _text_paragraph(b, lines)


def _text_paragraph(b: _Builder, lines: list[str]) -> None:
    if len(lines) == 1 and BREAK_RE.match(lines[0]):
        b.scene_break()
        return
    match = CHAPTER_RE.match(lines[0]) if len(lines[0]) <= 120 else None
    if match:
        rest = lines[1:]
        title = lines[0]
        if len(rest) == 1 and len(rest[0]) <= 100:  # "CHAPTER I." / "Down the Rabbit-Hole"
            title, rest = f"{title} {rest[0]}", []
        b.chapter(title[:500])
        if rest:
            b.paragraph(" ".join(rest))
        return
    b.paragraph(" ".join(lines))


def _apply_front(meta: dict[str, Any], story: dict[str, Any], metadata: dict[str, Any],
                 warnings: list[str], name: str) -> None:
    for key, value in meta.items():
        key = KEY_ALIASES.get(key.lower(), key) if key.lower() in KEY_ALIASES else key
        low = key.lower()
        if low in STORY_KEYS and low not in story:
            if low == "author" and isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            if value is None:
                continue
            value = str(value)
            if low == "language" and not LANGUAGE_RE.fullmatch(value):
                warnings.append(f"{name}: the language {value!r} is not a language code such "
                                "as en or fr; it was left out.")
                continue
            story[low] = value[:500] if low == "title" else value
            if low == "author":
                metadata.setdefault("author", value)
        elif low not in STORY_KEYS:
            metadata.setdefault(key, value)


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", path.name)]


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"^\d+[\s._-]*", "", path.stem)
    stem = re.sub(r"[_-]+", " ", stem).strip() or path.stem
    return stem[:1].upper() + stem[1:]


def _files_of(folder: Path) -> list[Path]:
    try:
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                 and p.suffix.lower() in EXTENSIONS]
    except OSError as exc:
        raise MarkdownError(f"{folder.name} cannot be read: {exc.strerror or exc}.") from None
    if not files:
        raise MarkdownError(f"The folder {folder.name} holds no Markdown or text files "
                            f"({', '.join(EXTENSIONS)}).")
    total = sum(p.stat().st_size for p in files)
    if total > MAX_FOLDER_BYTES:
        raise MarkdownError(f"The folder {folder.name} holds {total / 1024 / 1024:.0f} MB of "
                            f"text; Story Studio imports up to {MAX_FOLDER_BYTES >> 20} MB at "
                            "once.")
    return sorted(files, key=_natural_key)


def _content(b: _Builder) -> dict[str, Any]:
    chapters = []
    for ch in b.chapters:
        scenes = [{"title": sc.title, "synopsis": sc.synopsis,
                   "segments": [{"text": t, "gap": g} for g, t in sc.paragraphs]}
                  for sc in ch.scenes]
        chapters.append({"title": ch.title, "synopsis": ch.synopsis,
                         "metadata": ch.metadata, "scenes": scenes})
    return {"chapters": chapters}


def read(path: Path, progress: Progress | None = None, chapter_level: int = 1,
         scene_level: int | None = 2, mode: str = "auto") -> ImportPreview:
    """A Markdown/text file or a folder of them as a new story's preview.

    ``mode``: ``"markdown"``, ``"text"`` or ``"auto"`` (``.txt`` files are plain text).
    """
    path = Path(path)
    if not isinstance(chapter_level, int) or not 1 <= chapter_level <= 6:
        raise MarkdownError(f"{path.name}: the chapter heading level must be 1 to 6.")
    if scene_level is not None and (not isinstance(scene_level, int)
                                    or not chapter_level < scene_level <= 6):
        raise MarkdownError(f"{path.name}: the scene heading level must be deeper than the "
                            "chapter level (and at most 6), or none.")
    files = _files_of(path) if path.is_dir() else [path]
    b = _Builder()
    story: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    warnings: list[str] = []
    breaks: tuple[str, ...] = ()
    for i, file in enumerate(files):
        text, notes = read_text(file, MarkdownError)
        warnings += notes
        plain = mode == "text" or (mode == "auto" and file.suffix.lower() == ".txt")
        meta, body, _skipped = front_matter.split(text, file.name, MarkdownError,
                                                  strict=not plain)
        if len(files) > 1:
            b.need_chapter = True
            b.pending_break = False
            b.default_title = _title_from_name(file)
            if i > 0 and isinstance(meta.get("title"), str):
                b.default_title = meta.pop("title")[:500]
        if i == 0 or len(files) == 1:
            _apply_front(meta, story, metadata, warnings, file.name)
        else:
            for key, value in meta.items():
                metadata.setdefault(key, value)
        symbol = meta.pop("scene_break", None)
        if isinstance(symbol, str) and symbol.strip():
            breaks = (*breaks, symbol.strip())
        tick = progress if len(files) == 1 else None  # a big file: by lines (cancellable)
        if plain:
            _parse_text(body, b, tick)
        else:
            _parse_markdown(body, b, chapter_level, scene_level, breaks, tick)
        if progress is not None:
            progress(i + 1, len(files))
    if not b.has_prose() and not b.chapters:
        raise MarkdownError(f"{path.name} is empty: there is no text to import.")
    title = story.get("title") or b.title or _title_from_name(path)
    content: dict[str, Any] = {"title": title, "manuscript": _content(b)}
    for key in ("language", "logline", "genre"):
        if story.get(key):
            content[key] = story[key]
    if metadata:
        content["metadata"] = metadata
    return ImportPreview("markdown", STORY, title, _summary(content, story, path, len(files)),
                         content, tuple(warnings), str(path))


def _summary(content: dict[str, Any], story: dict[str, Any], path: Path,
             files: int) -> tuple[str, ...]:
    chapters = content["manuscript"]["chapters"]
    scenes = sum(len(c["scenes"]) for c in chapters)
    words = sum(count_words(s["text"]) for c in chapters for sc in c["scenes"]
                for s in sc["segments"])
    lines = [f"A new story “{content['title']}”",
             f"{len(chapters)} chapter{'s' * (len(chapters) != 1)}, "
             f"{scenes} scene{'s' * (scenes != 1)}, {words:,} words"
             + (f" from {files} files" if path.is_dir() else "")]
    if story.get("author"):
        lines.append(f"Author: {story['author']}")
    if story.get("language"):
        lines.append(f"Language: {story['language']}")
    extra = sorted(k for k in content.get("metadata", {}) if k != "author")
    if extra:
        lines.append("Metadata: " + ", ".join(extra))
    return tuple(lines)


def sniff(path: Path) -> bool:
    return path.is_dir() and any(p.suffix.lower() in EXTENSIONS for p in path.iterdir()
                                 if p.is_file())


from studio.formats import markdown_write  # noqa: E402  (the exporters, registered below)

register_importer(Importer("markdown", "Markdown or plain text", EXTENSIONS, read))
register_importer(Importer("markdown-folder", "A folder of Markdown or text files", (), read,
                           sniff=sniff, folders=True))
register_exporter(Exporter("markdown", "Markdown (one file)", ".md", markdown_write.write_file,
                           ("chapters", "synopses", "scene_break", "front_matter", "author")))
register_exporter(Exporter("markdown-folder", "Markdown (a file per chapter)", "",
                           markdown_write.write_folder,
                           ("chapters", "synopses", "scene_break", "front_matter", "author"),
                           folder=True))
