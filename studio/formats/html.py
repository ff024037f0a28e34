"""One self-contained HTML file of the story, for reading on a phone or sending to a reader.

No scripts, no web fonts, no external files: the CSS is inline, the page scales to the screen
(viewport meta), the body is a serif column of about 36em, and it follows the reader's light or
dark setting (``prefers-color-scheme``).  A title page, a table of contents linking to every
chapter (``id="chapter-N"``), scene breaks as a centred symbol (or scene titles with
``extra={"scene_headings": True}``), optional synopses.  Every piece of the author's text is
escaped; the light inline Markdown the editor shows (``*emphasis*``, ``_emphasis_``,
``**strong**``) becomes ``<em>``/``<strong>``.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any, Mapping

from studio.formats.registry import (
    ExportDoc, ExportOptions, Exporter, Progress, register_exporter,
)
from studio.formats.text_files import write_text

# Emphasis never spans its own marker, so each pattern stays linear on stray asterisks.
_STRONG_RE = re.compile(r"\*\*([^\s*](?:[^*]*[^\s*])?)\*\*")
_EM_STAR_RE = re.compile(r"(?<![*\w])\*([^\s*](?:[^*]*[^\s*])?)\*(?![*\w])")
_EM_UNDERSCORE_RE = re.compile(r"(?<!\w)_([^\s_](?:[^_]*[^\s_])?)_(?!\w)")
_BREAK_RE = re.compile(r"^\s*(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,}|#|~~~|⁂)\s*$")

CSS = """
:root { color-scheme: light dark; --bg: #fbf8f1; --fg: #1f1c17; --muted: #6b6358;
        --rule: #d8cfbf; --accent: #8a4b1c; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #17161a; --fg: #e8e3d8; --muted: #a39c90; --rule: #3a3733;
          --accent: #e0a36a; }
}
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font-family: "Iowan Old Style", "Palatino Linotype", Palatino, Georgia, Cambria,
                    "Times New Roman", serif;
       font-size: 1.15rem; line-height: 1.65; }
header, nav, main { max-width: 36em; margin: 0 auto; padding: 0 1.25rem; }
header { padding-top: 18vh; padding-bottom: 12vh; text-align: center; }
header h1 { font-size: 2.2em; line-height: 1.2; margin: 0 0 .5em; font-weight: normal; }
.author { font-size: 1.2em; margin: 0; }
.logline { color: var(--muted); font-style: italic; margin-top: 2em; }
nav { padding-bottom: 3em; }
nav h2 { font-size: 1em; text-transform: uppercase; letter-spacing: .12em;
         color: var(--muted); font-weight: normal; }
nav ol { padding-left: 1.5em; }
nav li { margin: .35em 0; }
a { color: var(--accent); text-decoration: none; }
a:hover, a:focus { text-decoration: underline; }
section.chapter { padding-top: 3em; }
section.chapter > h2 { font-size: 1.6em; font-weight: normal; text-align: center;
                       margin: 0 0 1.5em; line-height: 1.3; }
h3 { font-size: 1.1em; font-style: italic; font-weight: normal; margin: 2em 0 1em; }
p { margin: 0; text-indent: 1.5em; hyphens: auto; -webkit-hyphens: auto; }
h2 + p, h3 + p, .scene-break + p, .synopsis + p, p.first { text-indent: 0; }
.synopsis { color: var(--muted); font-style: italic; text-indent: 0; margin: 0 0 1.5em;
            border-left: 3px solid var(--rule); padding-left: 1em; }
.scene-break { text-align: center; text-indent: 0; margin: 1.5em 0; color: var(--muted);
               letter-spacing: .5em; }
footer { max-width: 36em; margin: 4em auto 3em; padding: 0 1.25rem; text-align: center;
         color: var(--muted); font-size: .9em; }
@media print { nav { page-break-after: always; } section.chapter { page-break-before: always; } }
"""


def inline(text: str) -> str:
    """Escaped ``text`` with the editor's light Markdown as ``<em>``/``<strong>``."""
    out = escape(text, quote=False)
    out = _STRONG_RE.sub(r"<strong>\1</strong>", out)
    out = _EM_STAR_RE.sub(r"<em>\1</em>", out)
    return _EM_UNDERSCORE_RE.sub(r"<em>\1</em>", out)


def _synopsis(container: Mapping[str, Any]) -> str:
    meta = container.get("meta") or {}
    return " ".join(str(meta.get("synopsis") or container.get("synopsis") or "").split())


def _title(value: Any, fallback: str) -> str:
    return " ".join(str(value or "").split()) or fallback


def chapters_of(doc: ExportDoc, options: ExportOptions) -> list[Mapping[str, Any]]:
    chapters = list((doc.content.get("manuscript") or {}).get("chapters") or [])
    if options.chapters is not None:
        wanted = set(options.chapters)
        chapters = [c for c in chapters if c.get("id") in wanted]
    return chapters


def _chapter(chapter: Mapping[str, Any], n: int, options: ExportOptions,
             scene_headings: bool) -> str:
    symbol = escape(options.scene_break.strip() or "* * *")
    out = [f'<section class="chapter" id="chapter-{n}">',
           f"<h2>{inline(_title(chapter.get('title'), f'Chapter {n}'))}</h2>"]
    if options.synopses and _synopsis(chapter):
        out.append(f'<p class="synopsis">{inline(_synopsis(chapter))}</p>')
    for i, scene in enumerate(chapter.get("scenes") or []):
        if scene_headings:
            out.append(f"<h3 id=\"chapter-{n}-scene-{i + 1}\">"
                       f"{inline(_title(scene.get('title'), f'Scene {i + 1}'))}</h3>")
        elif i:
            out.append(f'<p class="scene-break" role="separator">{symbol}</p>')
        if options.synopses and _synopsis(scene):
            out.append(f'<p class="synopsis">{inline(_synopsis(scene))}</p>')
        for seg in scene.get("segments") or []:
            text = " ".join(str(seg.get("text") or "").split("\n")).strip()
            if not text:
                continue
            if _BREAK_RE.match(text):
                out.append(f'<p class="scene-break" role="separator">{symbol}</p>')
            else:
                out.append(f"<p>{inline(text)}</p>")
    out.append("</section>")
    return "\n".join(out)


def render(doc: ExportDoc, options: ExportOptions = ExportOptions(),
           progress: Progress | None = None) -> str:
    """The whole page as text."""
    scene_headings = bool((options.extra or {}).get("scene_headings", False))
    chapters = chapters_of(doc, options)
    title = escape(_title(doc.title, "Untitled"))
    author = options.author or str(doc.metadata.get("author") or "")
    language = escape((doc.language if options.language in ("", "en") else options.language)
                      or "en")
    head = ['<!DOCTYPE html>', f'<html lang="{language}">', "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            '<meta name="generator" content="Story Studio">']
    if author:
        head.append(f'<meta name="author" content="{escape(author)}">')
    head += [f"<style>{CSS}</style>", "</head>", "<body>"]
    body: list[str] = []
    if options.front_matter:
        body += ["<header>", f"<h1>{title}</h1>"]
        if author:
            body.append(f'<p class="author">{escape(author)}</p>')
        if doc.logline:
            body.append(f'<p class="logline">{inline(doc.logline)}</p>')
        body.append("</header>")
    if chapters:
        body += ['<nav id="contents" aria-label="Contents">', "<h2>Contents</h2>", "<ol>"]
        body += [f'<li><a href="#chapter-{n}">'
                 f"{inline(_title(c.get('title'), f'Chapter {n}'))}</a></li>"
                 for n, c in enumerate(chapters, 1)]
        body += ["</ol>", "</nav>"]
    body.append("<main>")
    for n, chapter in enumerate(chapters, 1):
        body.append(_chapter(chapter, n, options, scene_headings))
        if progress is not None:
            progress(n, len(chapters))
    body += ["</main>", f"<footer>{title}</footer>", "</body>", "</html>"]
    return "\n".join(head + body) + "\n"


def write(doc: ExportDoc, out: Path, options: ExportOptions = ExportOptions(),
          progress: Progress | None = None) -> Path:
    write_text(Path(out), render(doc, options, progress))
    return Path(out)


register_exporter(Exporter("html", "HTML (one page, for phones and browsers)", ".html", write,
                           ("chapters", "synopses", "scene_break", "front_matter", "author")))
