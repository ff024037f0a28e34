"""Twine stories in: Twine 2 HTML (``<tw-storydata>``) and Twee 3 files → a chapter graph.

The parsing lives in :mod:`studio.formats.twee` (the chapter issue's Twee 3 work, which reads
Twine 2 HTML too); this module puts both behind the format registry, with the preview the import
dialog shows ("12 passages → 12 chapters, 15 links") and file-named errors.

Passages become chapters, a link A → B makes A a prerequisite of B, positions on Twine's story
map are kept.  A chapter graph must have no cycles, but real Twine stories loop ("back to the
start", "ask again").  So the importer walks the links depth-first from the start passage and
leaves out each link that leads back to a passage still on the way there; the preview lists them
as warnings, so the author sees what was not made a prerequisite.  Twine's own start passage,
tags other than ``status-…``, story formats, scripts and stylesheets are not kept.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError
from studio.formats import twee
from studio.formats.registry import GRAPH, ImportPreview, Importer, Progress, register_importer

# A Twine story is a few hundred kilobytes; 64 MB is far beyond any real one and keeps a
# mistaken pick of a huge file from filling memory.
MAX_BYTES = 64 * 1024 * 1024
SNIFF_BYTES = 4 * 1024 * 1024
_STORYDATA = b"<tw-storydata"
_NUMBERED_RE = re.compile(r"^([0-9]+)\.\s+(\S.*)$")   # as in twee: "N. Title"
_TWINE1_RE = re.compile(r"<div\s+id=[\"']?storeArea", re.IGNORECASE)
MAX_WARNED_LINKS = 10


class TwineImportError(ImportFormatError):
    """A Twine HTML or Twee file that cannot become a chapter graph; the message names it."""


def _read(path: Path, what: str) -> str:
    """The file's UTF-8 text, refused with a sentence when missing, huge or not text."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TwineImportError(f"{path.name}: {size / 1024 / 1024:.0f} MB is too big for a "
                                   f"{what} (the limit is {MAX_BYTES // 1024 // 1024} MB).")
        data = path.read_bytes()
    except FileNotFoundError:
        raise TwineImportError(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise TwineImportError(f"{path.name} is a folder, not a {what}.") from None
    except OSError as exc:
        raise TwineImportError(f"{path.name} cannot be read: {exc.strerror}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TwineImportError(f"{path.name} is not UTF-8 text (byte {exc.start}); Twine saves "
                               f"UTF-8, so this is not a {what}.") from None


def sniff_twine_html(path: Path) -> bool:
    """True when the file's first megabytes hold a ``<tw-storydata`` element."""
    with open(path, "rb") as handle:
        return _STORYDATA in handle.read(SNIFF_BYTES).lower()


class _StoryScan(HTMLParser):
    """The story's attributes and its passages' (pid, name), nothing else: what the preview
    needs beyond the graph (how many passages, which one Twine starts at)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.story: dict[str, str] | None = None
        self.passages: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "tw-storydata" and self.story is None:
            self.story = values
        elif tag == "tw-passagedata":
            self.passages.append((values.get("pid", ""), values.get("name", "").strip()))


def _chapter_title(passage_name: str) -> str:
    """The title a passage's chapter gets: its name less an "N. " number prefix."""
    match = _NUMBERED_RE.match(passage_name)
    return match.group(2).strip() if match else passage_name


def _break_cycles(graph: dict[str, Any], start_title: str | None) -> list[str]:
    """Drop the links that close a cycle (depth-first from the start); their descriptions.

    Roots in order: the start passage's chapter, chapters no link reaches, then the rest by
    number, so every chapter is visited and the result is a DAG whatever the file holds.
    """
    chapters = graph["chapters"]
    by_id = {c["id"]: c for c in chapters}
    followers: dict[str, list[str]] = {c["id"]: [] for c in chapters}
    for chapter in sorted(chapters, key=lambda c: c["number"]):
        for prerequisite in chapter["prerequisites"]:
            followers[prerequisite].append(chapter["id"])
    roots = [c["id"] for c in chapters if start_title is not None and c["title"] == start_title]
    roots += [c["id"] for c in sorted(chapters, key=lambda c: c["number"])
              if not c["prerequisites"]]
    roots += [c["id"] for c in sorted(chapters, key=lambda c: c["number"])]
    state: dict[str, int] = {}      # 1 = on the current path, 2 = done
    dropped: list[tuple[str, str]] = []
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(followers[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                dropped.append((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(followers[child])))
    for source, target in dropped:
        by_id[target]["prerequisites"].remove(source)
    return [f"The link from “{by_id[s]['title']}” back to “{by_id[t]['title']}” closes a loop; "
            f"a chapter graph has none, so it is not a prerequisite." for s, t in dropped]


def _preview(format_id: str, graph: dict[str, Any], title: str, passages: int,
             start_title: str | None, source: Path) -> ImportPreview:
    links = sum(len(c["prerequisites"]) for c in graph["chapters"])
    warnings = _break_cycles(graph, start_title)
    dropped = len(warnings)
    if dropped > MAX_WARNED_LINKS:
        warnings = warnings[:MAX_WARNED_LINKS] + [
            f"…and {dropped - MAX_WARNED_LINKS} more links back."]
    chapters = len(graph["chapters"])
    summary = [f"{_plural(passages, 'passage')} → {_plural(chapters, 'chapter')}, "
               f"{_plural(links, 'link')}"]
    if passages > chapters:
        skipped = passages - chapters
        summary.append(f"{_plural(skipped, 'passage')} of scripts, styles or media skipped")
    if dropped:
        summary.append(f"{_plural(links - dropped, 'link')} become prerequisites; "
                       f"{dropped} that loop{'s' * (dropped == 1)} back "
                       f"{'does' if dropped == 1 else 'do'} not")
    placed = sum(1 for c in graph["chapters"] if c["position"] is not None)
    if placed:
        summary.append(f"story-map positions kept for {_plural(placed, 'chapter')}")
    return ImportPreview(format=format_id, kind=GRAPH, title=title or source.stem,
                         summary=tuple(summary), data=graph, warnings=tuple(warnings),
                         source=str(source))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def read_twine_html(path: str | Path, progress: Progress | None = None) -> ImportPreview:
    """A Twine 2 HTML story (published or archived) as a chapter-graph preview.

    Raises TwineImportError naming the file for HTML that is not a Twine 2 story (a Twine 1
    story is named as such), broken passages (duplicate names, links to passages that do not
    exist, positions that are not "x,y") or a file without story passages.
    """
    path = Path(path)
    if progress:
        progress(0, 2)
    text = _read(path, "Twine story")
    if "<tw-storydata" not in text.lower():
        if _TWINE1_RE.search(text):
            raise TwineImportError(f"{path.name} is a Twine 1 story; open it in Twine 2 (Library "
                                   f"> Import) and publish it again, or export it as Twee.")
        raise TwineImportError(f"{path.name} is not a Twine story: the HTML has no "
                               f"<tw-storydata> element (Twine 2 puts the story there).")
    try:
        graph, title = twee.import_twine_html(text)
    except twee.TweeError as exc:
        raise TwineImportError(f"{path.name}: {exc}") from None
    scan = _StoryScan()
    scan.feed(text)
    scan.close()
    start = (scan.story or {}).get("startnode", "")
    start_title = next((_chapter_title(name) for pid, name in scan.passages if pid == start),
                       None)
    if progress:
        progress(1, 2)
    preview = _preview("twine_html", graph, title, len(scan.passages), start_title, path)
    if progress:
        progress(2, 2)
    return preview


def read_twee_file(path: str | Path, progress: Progress | None = None) -> ImportPreview:
    """A Twee 3 (or Twee 2) file as a chapter-graph preview; TwineImportError names the file
    and the line of anything malformed."""
    path = Path(path)
    if progress:
        progress(0, 2)
    text = _read(path, "Twee file")
    try:
        passages = twee.parse_passages(text)
        graph, title = twee.import_twee(text)
    except twee.TweeError as exc:
        raise TwineImportError(f"{path.name}: {exc}") from None
    if progress:
        progress(1, 2)
    start_title = None
    data = next((p for p in passages if p.name == "StoryData"), None)
    if data is not None:
        start = _start_of(data.text)
        start_title = _chapter_title(start) if start else None
    story = [p for p in passages if p.name not in twee.SPECIAL_PASSAGES]
    preview = _preview("twee", graph, title, len(story), start_title, path)
    if progress:
        progress(2, 2)
    return preview


def _start_of(story_data: str) -> str | None:
    """StoryData's ``start`` passage name (import_twee has already checked the JSON)."""
    try:
        start = json.loads(story_data or "{}").get("start")
    except (ValueError, AttributeError):
        return None
    return start if isinstance(start, str) else None


register_importer(Importer(id="twine_html", label="Twine 2 story (HTML)",
                           extensions=(".html", ".htm"), read=read_twine_html,
                           sniff=sniff_twine_html))
register_importer(Importer(id="twee", label="Twee 3 (Twine source)", extensions=(".twee", ".tw"),
                           read=read_twee_file))
