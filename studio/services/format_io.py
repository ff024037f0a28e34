"""Import and export through the format registry: the one door the UI and the CLI use.

Import is two steps so the author sees what will happen first: ``preview_import`` reads the file
(no database), ``apply_import`` stores the preview in one unit of work and returns an
``ImportOutcome`` whose ``undo`` data ``undo_import`` / ``redo_import`` use (one undoable step).

What an importer's ``ImportPreview.data`` holds, by kind:

- ``STORY``: a StoryContent dict — ``{"title", "logline"?, "genre"?, "language"?,
  "word_target"?, "metadata"?: {key: JSON}, "modules"?: {key: {"input", "output"}},
  "manuscript": {"chapters": [{"id"?, "title", "synopsis"?, "status"?, "word_target"?,
  "metadata"?, "scenes": [{"id"?, "title", "synopsis"?, "status"?, "metadata"?,
  "segments": [{"text", "gap"?}]}]}]}, "scene_bible"?, "chapter_graph"?}``.  Missing
  titles become "Chapter N" / "Scene N"; a segment is a paragraph.  (The ``json`` importer's
  data is the lossless portable dict instead; it goes through ``portability.import_story``.)
- ``BIBLE``: a partial scene bible in the schema's shape (``characters`` without ids allowed,
  ``setting.locations``, ``setting.world_rules``, ``timeline.events``, ``plot_threads``,
  ``style_guide``), merged by ``domain.bible_merge`` into the open story's bible as one new
  version: the author's text is never overwritten.  A character or location may carry
  ``"custom": {name: JSON}`` (kept as custom field values — a card's unknown fields and
  extensions) and a character ``"portrait_data": bytes`` (stored in the data folder,
  ``assets.portrait`` names the file).
- ``GRAPH``: a chapter graph ``{"chapters": [...]}``, appended after the story's own chapters
  (``services.chapter_import.merge_into``); character names are resolved through the bible.

``export`` builds an ``ExportDoc`` (story fields, ``publishing.collect_content``, and extras:
``portraits`` {char id: bytes}, ``custom_fields`` {"character"|"location": {target: {name:
value}}}, ``word_target``) and has the exporter write to a temporary file or folder beside the
target, renamed into place only when complete — a failed or cancelled export leaves nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.domain import bible as bible_rules
from studio.domain.bible_merge import merge_entries
from studio.domain.errors import ImportFormatError, NotFoundError, StudioError, ValidationError
from studio.formats import registry
from studio.formats.registry import (
    BIBLE, GRAPH, STORY, ExportDoc, ExportOptions, ImportPreview, Progress,
)
from studio.services import story_import
from studio.services.files import check_writable_folder
from studio.store.database import Database
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import custom_fields as fields_repo
from studio.store.repositories import history
from studio.store.repositories import stories as stories_repo

JSON_FORMAT = "json"


@dataclass(frozen=True)
class ImportOutcome:
    """What an applied import did: a new story (``created``) or a change to ``story_id``;
    ``undo`` is what ``undo_import`` / ``redo_import`` need (plain data, kept by the UI's
    undo command)."""

    kind: str
    story_id: int
    created: bool
    undo: dict[str, Any] = field(default_factory=dict)
    summary: tuple[str, ...] = ()


# --- import --------------------------------------------------------------------------------

def preview_import(path: Path, format_id: str | None = None, progress: Progress | None = None,
                   **options: Any) -> ImportPreview:
    """Read ``path`` with its importer (chosen by sniffing and extension, or ``format_id``);
    nothing is stored.  ``options`` go to the importer's ``read`` (e.g. heading levels)."""
    path = Path(path)
    imp = registry.importer(format_id) if format_id else registry.importer_for(path)
    if not path.exists():
        raise ImportFormatError(f"{path} does not exist.")
    _check_options(imp, options)
    try:
        return imp.read(path, progress=progress, **options)
    except OSError as exc:
        raise ImportFormatError(f"{path.name} cannot be read: {exc.strerror or exc}.") from exc


def _check_options(imp: registry.Importer, options: dict[str, Any]) -> None:
    """Refuse, in words, an option the importer does not take (not a TypeError later)."""
    import inspect

    if not options:
        return
    params = inspect.signature(imp.read).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise StudioError(f"The {imp.label} importer has no option "
                          f"{', '.join(u.replace('_', '-') for u in unknown)}.")


def apply_import(db: Database, preview: ImportPreview, story_id: int | None = None,
                 progress: Progress | None = None) -> ImportOutcome:
    """Store ``preview`` in one unit of work: a new story, or bible entries / a chapter graph
    merged into ``story_id``.  A refusal (a rule broken, a stale bible) stores nothing."""
    if preview.kind == STORY:
        if preview.format == JSON_FORMAT:
            from studio.services import portability

            new_id = portability.import_story(db, preview.data).id
        else:
            new_id = story_import.create_story_from_content(db, preview.data,
                                                            progress=progress)
        return ImportOutcome(STORY, new_id, True, {"story_id": new_id}, preview.summary)
    if story_id is None:
        raise StudioError(f"Open a story first: {preview.title or preview.source} goes into "
                          "an open story.")
    if preview.kind == BIBLE:
        return _apply_bible(db, preview, story_id)
    if preview.kind == GRAPH:
        return _apply_graph(db, preview, story_id)
    raise StudioError(f"An import of kind {preview.kind!r} cannot be applied.")


def _apply_bible(db: Database, preview: ImportPreview, story_id: int) -> ImportOutcome:
    from studio.services import bible as bible_service
    from studio.services.schemas import validate_bible

    if not isinstance(preview.data, dict):
        raise ValidationError("Imported bible entries", [], "must be an object")
    state = bible_service.load(db, story_id)
    merged, report = merge_entries(state.story_data, copy.deepcopy(preview.data))
    extras = story_import.BibleExtras()
    story_import.take_extras(merged, extras, "Imported bible entries")
    inherited = state.series_data if state.series else None
    validate_bible(merged, inherited)
    summary = _merge_summary(preview, report)
    written: list[str] = []
    try:
        with db.session() as s:
            story = stories_repo.get(s, story_id)
            latest, current = bibles_repo.latest_data(s, "story", story_id)
            if latest != state.story_version:
                raise bible_service.StaleBibleError("story", state.story_version, latest,
                                                    current, merged)
            story_import.check_custom(s, story_id, extras)
            custom_before = fields_repo.as_dicts(s, story_id)
            written = story_import.write_extras(s, db, story_id, story.uid, merged, extras,
                                                overwrite=False)
            validate_bible(merged, inherited)
            bibles_repo.add_version(s, "story", story_id, latest + 1, merged, None,
                                    summary[0][:500])
            s.flush()
            custom_after = fields_repo.as_dicts(s, story_id)
            history.record(s, story_id, "bible", story_id, "import",
                           {"source": Path(preview.source).name, "format": preview.format,
                            "version": latest + 1, "added": len(report.added),
                            "updated": len(report.updated)})
    except BaseException:
        for path in written:
            Path(path).unlink(missing_ok=True)
        raise
    undo = {"story_id": story_id, "before": state.story_data, "after": merged,
            "version": latest + 1, "custom_before": custom_before,
            "custom_after": custom_after, "files": written}
    return ImportOutcome(BIBLE, story_id, False, undo, summary)


def _merge_summary(preview: ImportPreview, report) -> tuple[str, ...]:
    name = Path(preview.source).name or preview.title
    head = f"imported from {name}: {len(report.added)} added, {len(report.updated)} updated"
    return (head, *(f"added {a}" for a in report.added),
            *(f"updated {u}" for u in report.updated))


def _apply_graph(db: Database, preview: ImportPreview, story_id: int) -> ImportOutcome:
    from studio.formats import chapter_markers
    from studio.services import bible as bible_service
    from studio.services import chapter_graph
    from studio.services.chapter_import import merge_into

    data = preview.data
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        raise ValidationError("Imported chapter graph", [], "must hold a list of chapters")
    view = chapter_graph.load(db, story_id)
    names: dict[str, str] = {}
    for char_id, name in view.characters:
        names[name] = char_id
    for c in bible_rules.characters(bible_service.effective_bible(db, story_id)):
        for alias in c.get("aliases", []):
            names.setdefault(alias, c["id"])
    resolved, unknown = chapter_markers.resolve_characters(copy.deepcopy(data), names)
    if unknown:
        where, name = unknown[0]
        raise ValidationError(f"Chapter graph in {Path(preview.source).name}",
                              [int(p) if p.isdigit() else p for p in where.split("/")],
                              f"no character “{name}” in the scene bible — add them to the "
                              "bible first, or fix the name")
    before = view.graph
    after = chapter_graph.replace_graph(db, story_id, merge_into(before, resolved), "import")
    undo = {"story_id": story_id, "before": before, "after": after}
    added = len(resolved["chapters"])
    summary = (f"{added} chapter{'s' * (added != 1)} added to the chapter graph",
               *preview.summary)
    return ImportOutcome(GRAPH, story_id, False, undo, summary)


def undo_import(db: Database, outcome: ImportOutcome) -> None:
    """Take an applied import back: a created story goes to the trash (``redo_import``
    brings it back); bible entries and graphs are restored as a new version."""
    _swap(db, outcome, "before", "after")


def redo_import(db: Database, outcome: ImportOutcome) -> None:
    _swap(db, outcome, "after", "before")


def _swap(db: Database, outcome: ImportOutcome, want: str, have: str) -> None:
    from studio.services import chapter_graph, stories

    undo = outcome.undo
    if outcome.kind == STORY:
        if want == "before":
            stories.delete_story(db, undo["story_id"])
        else:
            stories.undelete_story(db, undo["story_id"])
        return
    if outcome.kind == GRAPH:
        chapter_graph.replace_graph(db, undo["story_id"], undo[want],
                                    "undo import" if want == "before" else "redo import")
        return
    story_id = undo["story_id"]
    with db.session() as s:
        latest, current = bibles_repo.latest_data(s, "story", story_id)
        if latest != undo["version"] or current != undo[have]:
            raise StudioError("The scene bible changed after the import, so the import cannot "
                              "be taken back automatically; restore an earlier bible version "
                              "from its history instead.")
        bibles_repo.add_version(s, "story", story_id, latest + 1, undo[want], None,
                                "undo import" if want == "before" else "redo import")
        fields_repo.replace_all(s, story_id, undo[f"custom_{want}"])
        history.record(s, story_id, "bible", story_id,
                       "undo import" if want == "before" else "redo import",
                       {"version": latest + 1})
    undo["version"] = latest + 1


# --- export --------------------------------------------------------------------------------

def _filter_chapters(content: dict[str, Any], wanted: tuple[str, ...] | None) -> None:
    if wanted is None:
        return
    chapters = content["manuscript"]["chapters"]
    known = {c["id"] for c in chapters}
    for uid in wanted:
        if uid not in known:
            raise ValidationError("Export", ["chapters"], f"there is no chapter {uid!r} in "
                                  "this story")
    chosen = set(wanted)
    content["manuscript"]["chapters"] = [c for c in chapters if c["id"] in chosen]


def build_doc(db: Database, story_id: int,
              options: ExportOptions = ExportOptions()) -> tuple[ExportDoc, ExportOptions]:
    """The story as an exporter receives it, and the options with the story's own author and
    language filled in where the caller left the defaults."""
    from studio.services.publishing import collect_content

    with db.session() as s:
        story = stories_repo.get(s, story_id)
        content = collect_content(s, story_id)
        metadata = stories_repo.get_metadata(s, "story", story_id)
        custom: dict[str, dict[str, dict[str, Any]]] = {}
        for f in fields_repo.as_dicts(s, story_id):
            for target, value in f["values"].items():
                custom.setdefault(f["applies_to"], {}).setdefault(target, {})[f["name"]] = value
        title, logline, genre = story.title, story.logline, story.genre
        language, word_target = story.language or "en", story.word_target
    _filter_chapters(content, options.chapters)
    portraits: dict[str, bytes] = {}
    for c in bible_rules.characters(content.get("scene_bible") or {}):
        path = (c.get("assets") or {}).get("portrait")
        if path:
            try:
                portraits[c["id"]] = Path(path).read_bytes()
            except OSError:
                pass  # a moved portrait: the export goes on without it
    changes: dict[str, Any] = {}
    if not options.author and isinstance(metadata.get("author"), str):
        changes["author"] = metadata["author"]
    if options.language == ExportOptions.language and language != options.language:
        changes["language"] = language
    doc = ExportDoc(title=title, content=content, logline=logline, genre=genre,
                    language=language, metadata=metadata,
                    extras={"portraits": portraits, "custom_fields": custom,
                            "word_target": word_target})
    return doc, dataclasses.replace(options, **changes) if changes else options


def _safe_name(title: str) -> str:
    name = re.sub(r"[^\w\- ]+", "", title).strip().replace(" ", "-")
    return name[:80] or "story"


def target_path(out: Path, title: str, extension: str, folder: bool) -> Path:
    """Where an export goes: ``out`` itself, or a file named after the story inside ``out``
    when ``out`` is an existing folder (for a file format); the extension is added if missing."""
    out = Path(out)
    if folder:
        return out
    if out.is_dir():
        out = out / f"{_safe_name(title)}{extension}"
    elif extension and not out.suffix:
        out = out.with_name(out.name + extension)
    return out


def export(db: Database, story_id: int, format_id: str, out: Path,
           options: ExportOptions = ExportOptions(), progress: Progress | None = None) -> Path:
    """Write the story with exporter ``format_id`` to ``out``; returns the path written.

    The target folder is checked first (a clear StudioError naming it); the exporter writes
    a temporary file or folder beside the target, renamed over it only when complete.
    """
    exp = registry.exporter(format_id)
    doc, options = build_doc(db, story_id, options)
    if format_id == JSON_FORMAT:  # the lossless record, version history included
        from studio.services import portability

        doc = dataclasses.replace(doc, extras={**doc.extras,
                                               "portable": portability.export_story(db,
                                                                                    story_id)})
    target = target_path(Path(out), doc.title, exp.extension, exp.folder)
    check_writable_folder(target.parent)
    if exp.folder and target.exists() and not target.is_dir():
        raise StudioError(f"{target} is a file; choose a folder to export {exp.label} into.")
    token = secrets.token_hex(4)
    tmp = target.with_name(f".{target.stem}.{token}.tmp{target.suffix}")
    try:
        if exp.folder:
            tmp.mkdir()
        written = Path(exp.write(doc, tmp, options, progress=progress))
        if exp.folder:
            _move_folder(tmp, target)
            return target
        if written != tmp:  # the exporter chose its own name: keep it, beside the target
            final = target.with_name(written.name.replace(f".{target.stem}.{token}.tmp",
                                                          target.stem))
            os.replace(written, final)
            return final
        os.replace(tmp, target)
        return target
    except OSError as exc:
        raise StudioError(f"Could not write {target}: {exc.strerror or exc}.") from exc
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink(missing_ok=True)


def _move_folder(tmp: Path, target: Path) -> None:
    """A finished folder export into place: renamed when the target is new, else file by
    file (each replaced atomically; files of an earlier export that are not rewritten stay)."""
    if not target.exists():
        os.replace(tmp, target)
        return
    for item in sorted(tmp.rglob("*")):
        dest = target / item.relative_to(tmp)
        if item.is_dir():
            dest.mkdir(exist_ok=True)
        else:
            os.replace(item, dest)


def story_exists(db: Database, story_id: int) -> bool:
    try:
        with db.session() as s:
            stories_repo.get(s, story_id)
        return True
    except NotFoundError:
        return False
