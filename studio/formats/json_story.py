"""The lossless Story Studio JSON (``services.portability``) behind the format registry.

The importer only reads and checks the file's header here — the formats layer sits below the
services — and hands the whole dict on as a ``STORY`` preview; ``services.format_io`` gives
that dict to ``portability.import_story``, which validates every part before creating
anything.  The exporter writes the dict ``format_io`` puts in ``ExportDoc.extras["portable"]``
(the story with its version history: the chapter choice and other options do not apply).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from studio.domain.errors import ImportFormatError, StudioError
from studio.formats.registry import (
    STORY, ExportDoc, ExportOptions, Exporter, Importer, ImportPreview, Progress,
    register_exporter, register_importer,
)
from studio.formats.text_files import MAX_TEXT_BYTES, read_text, write_text

# The same values as services.portability.FORMAT / FORMAT_VERSION (a test keeps them equal).
FORMAT = "story-studio.story"
FORMAT_VERSION = 1
_HEADER_RE = re.compile(r'"format"\s*:\s*"story-studio\.story"')
MAX_BYTES = 4 * MAX_TEXT_BYTES  # a long novel with its whole version history


class StoryJsonError(ImportFormatError):
    """A file that is not a Story Studio story JSON (names the file and the reason)."""


def sniff(path: Path) -> bool:
    with Path(path).open("rb") as fh:
        head = fh.read(65536).decode("utf-8", "replace")
    return bool(_HEADER_RE.search(head))


def read(path: Path, progress: Progress | None = None, **_options: Any) -> ImportPreview:
    path = Path(path)
    text, _warnings = read_text(path, StoryJsonError, MAX_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoryJsonError(f"{path.name} is not valid JSON (line {exc.lineno}, column "
                             f"{exc.colno}: {exc.msg}).") from None
    except RecursionError:
        raise StoryJsonError(f"{path.name} is nested too deeply to be a story.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StoryJsonError(f"{path.name} is not a Story Studio story (no “format”: "
                             f"“{FORMAT}” header).")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise StoryJsonError(f"{path.name} has story format version {version!r}; this Story "
                             f"Studio reads up to {FORMAT_VERSION}. Update Story Studio to "
                             "import it.")
    story = data.get("story")
    if not isinstance(story, dict):
        raise StoryJsonError(f"{path.name} has no “story” section.")
    title = story.get("title") if isinstance(story.get("title"), str) else ""
    manuscript = data.get("manuscript") if isinstance(data.get("manuscript"), dict) else {}
    chapters = [c for c in manuscript.get("chapters") or [] if isinstance(c, dict)]
    scenes = sum(len(c.get("scenes") or []) for c in chapters
                 if isinstance(c.get("scenes") or [], list))
    versions = data.get("versions") if isinstance(data.get("versions"), list) else []
    summary = (f"A new story “{title or 'Untitled'}” (Story Studio JSON)",
               f"{len(chapters)} chapters, {scenes} scenes, {len(versions)} saved versions")
    if progress is not None:
        progress(1, 1)
    return ImportPreview("json", STORY, title or path.stem, summary, data, (), str(path))


def write(doc: ExportDoc, out: Path, options: ExportOptions = ExportOptions(),
          progress: Progress | None = None) -> Path:
    data = doc.extras.get("portable")
    if not isinstance(data, dict):
        raise StudioError("The Story Studio JSON export needs the story's whole record; "
                          "export it through the Export dialog or `studio export`.")
    write_text(Path(out), json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    if progress is not None:
        progress(1, 1)
    return Path(out)


register_importer(Importer("json", "Story Studio story (JSON)", (".json",), read, sniff=sniff))
register_exporter(Exporter("json", "Story Studio story (JSON, lossless)", ".json", write))
