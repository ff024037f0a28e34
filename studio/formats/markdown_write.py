"""Writing a story as Markdown: one file, or a folder of one file per chapter.

The output reads back (``formats.markdown``) as the same story: chapter and scene titles as
``#`` / ``##`` headings, paragraphs one to a block, synopses as ``> *Synopsis:*`` blockquotes
right under their heading, and every paragraph that Markdown would take for structure (a line
starting with ``#``, a lone ``***``, a ``>`` quote, a code fence) escaped with a backslash.
With ``extra={"scene_headings": False}`` scenes are separated by ``options.scene_break``
instead (their titles are not written); a symbol Markdown does not know as a break is named in
the front matter (``scene_break``) so the import knows it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from studio.formats import front_matter
from studio.formats.registry import ExportDoc, ExportOptions, Progress
from studio.formats.text_files import write_text as write_text_atomically

_NEEDS_ESCAPE = re.compile(r"^(?:#|>|`{3}|~{3}|\\[#>*\-_`=+~\\]|[*\-_+] |=+$|-{3}|\d+[.)] )")
_BREAK_RE = re.compile(r"^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,}|\\?#|⁂|§)$")
_STORY_KEYS = ("title", "author", "language", "logline", "genre")


def escape_paragraph(text: str) -> str:
    """``text`` as one Markdown paragraph that reads back as exactly ``text`` (trimmed)."""
    text = " ".join(text.split("\n")).strip()
    if _NEEDS_ESCAPE.match(text) or _BREAK_RE.match(text):
        return "\\" + text
    return text


def _title(text: Any, fallback: str) -> str:
    return " ".join(str(text or "").split()) or fallback


def _synopsis(container: Mapping[str, Any]) -> str:
    meta = container.get("meta") or {}
    return " ".join(str(meta.get("synopsis") or container.get("synopsis") or "").split())


def _break_line(symbol: str) -> str:
    symbol = symbol.strip() or "* * *"
    return "\\#" if symbol == "#" else symbol


def chapters_of(doc: ExportDoc, options: ExportOptions) -> list[Mapping[str, Any]]:
    chapters = list((doc.content.get("manuscript") or {}).get("chapters") or [])
    if options.chapters is not None:
        wanted = set(options.chapters)
        chapters = [c for c in chapters if c.get("id") in wanted]
    return chapters


def front(doc: ExportDoc, options: ExportOptions, scene_headings: bool) -> str:
    if not options.front_matter:
        return ""
    data: dict[str, Any] = {"title": doc.title}
    author = options.author or doc.metadata.get("author")
    if author:
        data["author"] = author
    # format_io fills options.language from the story; called directly, the doc decides
    data["language"] = doc.language if options.language in ("", "en") else options.language
    if doc.logline:
        data["logline"] = doc.logline
    if doc.genre:
        data["genre"] = doc.genre
    if not scene_headings and not _BREAK_RE.match(options.scene_break.strip() or "*"):
        data["scene_break"] = options.scene_break.strip()
    for key, value in doc.metadata.items():
        if key not in _STORY_KEYS and key not in data:
            data[key] = value
    return front_matter.dump(data)


def chapter_text(chapter: Mapping[str, Any], number: int, options: ExportOptions,
                 scene_headings: bool) -> str:
    out = [f"# {_title(chapter.get('title'), f'Chapter {number}')}", ""]
    if options.synopses and _synopsis(chapter):
        out += [f"> *Synopsis:* {_synopsis(chapter)}", ""]
    for i, scene in enumerate(chapter.get("scenes") or []):
        if scene_headings:
            out += [f"## {_title(scene.get('title'), f'Scene {i + 1}')}", ""]
        elif i:
            out += [_break_line(options.scene_break), ""]
        if options.synopses and _synopsis(scene):
            out += [f"> *Synopsis:* {_synopsis(scene)}", ""]
        for seg in scene.get("segments") or []:
            text = escape_paragraph(str(seg.get("text") or ""))
            if text:
                out += [text, ""]
    return "\n".join(out)


def _headings(options: ExportOptions) -> bool:
    return bool((options.extra or {}).get("scene_headings", True))


def render(doc: ExportDoc, options: ExportOptions = ExportOptions(),
           progress: Progress | None = None) -> str:
    """The whole story as one Markdown text."""
    headings = _headings(options)
    parts = [front(doc, options, headings)]
    chapters = chapters_of(doc, options)
    for n, chapter in enumerate(chapters, 1):
        parts.append(chapter_text(chapter, n, options, headings))
        if progress is not None:
            progress(n, len(chapters))
    return "\n".join(p for p in parts if p).rstrip("\n") + "\n"


def write_file(doc: ExportDoc, out: Path, options: ExportOptions = ExportOptions(),
               progress: Progress | None = None) -> Path:
    out = Path(out)
    write_text_atomically(out, render(doc, options, progress))
    return out


def slug(title: str, fallback: str = "chapter") -> str:
    text = re.sub(r"[^\w]+", "-", title.casefold(), flags=re.UNICODE).strip("-_")
    return text[:60].strip("-") or fallback


def file_names(titles: Iterable[str]) -> list[str]:
    titles = list(titles)
    width = max(2, len(str(len(titles))))
    return [f"{n:0{width}d}-{slug(t)}.md" for n, t in enumerate(titles, 1)]


def write_folder(doc: ExportDoc, out: Path, options: ExportOptions = ExportOptions(),
                 progress: Progress | None = None) -> Path:
    """One file per chapter in ``out`` (made if missing); the front matter in the first."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    headings = _headings(options)
    head = front(doc, options, headings)
    chapters = chapters_of(doc, options)
    if not chapters:
        write_text_atomically(out / "01-story.md", head or f"# {doc.title}\n")
        return out
    names = file_names(_title(c.get("title"), f"Chapter {n}")
                       for n, c in enumerate(chapters, 1))
    for n, (chapter, name) in enumerate(zip(chapters, names), 1):
        text = chapter_text(chapter, n, options, headings).rstrip("\n") + "\n"
        write_text_atomically(out / name, (head + "\n" + text) if n == 1 and head else text)
        if progress is not None:
            progress(n, len(chapters))
    return out
