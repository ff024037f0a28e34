"""The one small registry every importer and exporter sits behind (UI and CLI use only this).

An **importer** reads a file (or a folder) into an ``ImportPreview``: what will be created,
in words for the preview dialog, and the data itself — a whole story as a StoryContent-shaped
dict (``{"title", "modules", "manuscript": {"chapters": [{"id"?, "title", "synopsis",
"scenes": [{"id"?, "title", "synopsis", "segments": [{"text"}]}]}]}, "scene_bible",
"chapter_graph", "metadata"}``), or bible entries to merge into the open story, or a chapter
graph.  Reading never touches the database: ``services.format_io`` applies a preview in one
undoable step, after the author has seen it.  A bad file raises the format's own error (a
subclass of ``ImportFormatError``) naming the file and the reason; nothing is created.

An **exporter** writes an ``ExportDoc`` (the story's fields and content, read by the service)
to a file or folder with ``ExportOptions``.  Both report ``progress(done, total)`` and stop when
it raises (that is how the UI cancels).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from studio.domain.errors import ImportFormatError, StudioError

Progress = Callable[[int, int], None]

# What an import creates.
STORY, BIBLE, GRAPH = "story", "bible", "graph"


@dataclass(frozen=True)
class ImportPreview:
    format: str                 # the importer's id
    kind: str                   # STORY, BIBLE or GRAPH
    title: str                  # what it is called ("The Lighthouse", "Seraphina")
    summary: tuple[str, ...]    # lines for the preview ("12 chapters, 48 scenes", …)
    data: Any                   # the story content / bible entries / graph
    warnings: tuple[str, ...] = ()
    source: str = ""            # the file or folder read


@dataclass(frozen=True)
class ExportOptions:
    chapters: tuple[str, ...] | None = None   # chapter uids; None = all
    synopses: bool = False                    # include chapter/scene synopses
    scene_break: str = "#"                    # between scenes
    front_matter: bool = True                 # title page / front matter
    standard_manuscript: bool = False         # DOCX: standard manuscript format
    author: str = ""
    language: str = "en"
    cover: Path | None = None                 # EPUB cover image
    character_id: str | None = None           # character-card export
    card_spec: str = "v3"                     # character card: "v2" or "v3"
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportDoc:
    """What an exporter gets: the story's fields and its StoryContent (services/publishing
    ``collect_content``: modules, manuscript, scene_bible, chapter_graph) plus extras such as
    portraits (character id → image bytes)."""

    title: str
    content: Mapping[str, Any]
    logline: str = ""
    genre: str = ""
    language: str = "en"
    metadata: Mapping[str, Any] = field(default_factory=dict)
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Importer:
    id: str
    label: str
    extensions: tuple[str, ...]            # lower-case, with the dot (".md"); () for folders
    read: Callable[..., ImportPreview]     # read(path, progress=None) -> ImportPreview
    sniff: Callable[[Path], bool] | None = None  # a closer look than the extension
    folders: bool = False                  # reads a folder (novelWriter, Markdown folder)


@dataclass(frozen=True)
class Exporter:
    id: str
    label: str
    extension: str                         # ".docx"; "" for a folder
    write: Callable[..., Path]             # write(doc, out, options, progress=None) -> Path
    options: tuple[str, ...] = ()          # which ExportOptions fields the dialog offers
    folder: bool = False                   # writes a folder (Markdown as files)


class UnknownFormat(ImportFormatError):
    """No importer or exporter for that file or name."""


_importers: dict[str, Importer] = {}
_exporters: dict[str, Exporter] = {}
_loaded = False

# Format modules register themselves on import; a missing one (not written yet) is skipped.
BUILTIN_MODULES = ("studio.formats.markdown", "studio.formats.novelwriter",
                   "studio.formats.cards", "studio.formats.lorebooks", "studio.formats.twine",
                   "studio.formats.docx", "studio.formats.epub", "studio.formats.pdf",
                   "studio.formats.html", "studio.formats.json_story")


def register_importer(importer: Importer) -> None:
    _importers[importer.id] = importer


def register_exporter(exporter: Exporter) -> None:
    _exporters[exporter.id] = exporter


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def importers() -> list[Importer]:
    _load()
    return list(_importers.values())


def exporters() -> list[Exporter]:
    _load()
    return list(_exporters.values())


def exporter(format_id: str) -> Exporter:
    _load()
    try:
        return _exporters[format_id]
    except KeyError:
        known = ", ".join(sorted(_exporters))
        raise UnknownFormat(f"There is no export format “{format_id}” (known: {known}).") \
            from None


def importer(format_id: str) -> Importer:
    _load()
    try:
        return _importers[format_id]
    except KeyError:
        raise UnknownFormat(f"There is no import format “{format_id}”.") from None


def importer_for(path: Path) -> Importer:
    """The importer that reads ``path``: by sniffing first, then by extension."""
    _load()
    path = Path(path)
    if not path.exists():
        raise UnknownFormat(f"{path} does not exist.")
    candidates = [i for i in _importers.values()
                  if (i.folders if path.is_dir() else path.suffix.lower() in i.extensions)]
    for imp in candidates:
        if imp.sniff is not None:
            try:
                if imp.sniff(path):
                    return imp
            except (OSError, StudioError):
                continue
    plain = [i for i in candidates if i.sniff is None]
    if plain:
        return plain[0]
    if candidates:
        return candidates[0]  # its read() names what is wrong with the file
    raise UnknownFormat(f"{path.name}: Story Studio cannot import this kind of "
                        f"{'folder' if path.is_dir() else 'file'}.")
