"""Turning an importer's preview data into stored records: a whole new story, or bible
entries merged into the open story's scene bible.

Everything is validated *before* the unit of work writes anything, and everything is written in
that one unit of work, so a refused import creates nothing and leaves the open story untouched.

The data shapes (what importers produce) are described in ``services.format_io``.  Beyond the
scene-bible schema, a character or a location may carry two import-only keys, taken off before
the bible is validated:

- ``"custom": {field name: JSON value}`` — kept as the story's custom fields (JSON-typed
  fields applying to characters or locations; the target is the character's id or the
  location's name), so a card's unknown fields and ``extensions`` survive a round trip;
- ``"portrait_data": bytes`` (characters) — stored as an image file in the data folder and
  named by ``assets.portrait``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy.orm import Session

from studio.domain import bible as bible_rules
from studio.domain.errors import ValidationError
from studio.domain.manuscript import (
    CHAPTER_PREFIX, SCENE_PREFIX, STATUSES, assign_ids, content_hash, count_words, new_id,
)
from studio.domain.modules import normalise_output
from studio.domain.story import UNTITLED, StoryFields
from studio.services import snapshot
from studio.services.schemas import validate_bible
from studio.store.database import Database
from studio.store.models import Chapter, Scene
from studio.store.repositories import bibles as bibles_repo
from studio.store.repositories import chapter_graphs as graphs_repo
from studio.store.repositories import custom_fields as fields_repo
from studio.store.repositories import history
from studio.store.repositories import manuscript as manuscript_repo
from studio.store.repositories import stories as stories_repo

WHERE = "Imported story"
MAX_TITLE = 500
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")
UID_RE = re.compile(r"[a-z]+_[0-9a-z]{4,32}")
IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"),
               (b"GIF8", ".gif"), (b"RIFF", ".webp"))

Progress = Callable[[int, int], None]


# --- small checks ----------------------------------------------------------------------------

def _text(value: Any, path: list[str | int], limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(WHERE, path, "must be text")
    if limit is not None and len(value) > limit:
        raise ValidationError(WHERE, path, f"is longer than {limit} characters")
    return value


def _target(value: Any, path: list[str | int]) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(WHERE, path, "must be a positive whole number")
    return value


def _status(value: Any, path: list[str | int]) -> str:
    if value in (None, ""):
        return "draft"
    if value not in STATUSES:
        raise ValidationError(WHERE, path, f"must be one of {', '.join(STATUSES)}")
    return value


def _metadata(value: Any, path: list[str | int]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(WHERE, path, "must be an object of key → value")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValidationError(WHERE, path, "must hold JSON values only") from None
    return {str(k): v for k, v in value.items()}


def _fresh_uid(given: Any, prefix: str, taken: set[str]) -> str:
    """The importer's id when it looks like ours and is not taken yet, else a new one (ids
    of another tool's project do not survive, but a Story Studio export's do)."""
    if isinstance(given, str) and given.startswith(prefix) and UID_RE.fullmatch(given) \
            and given not in taken:
        taken.add(given)
        return given
    while True:
        uid = new_id(prefix)
        if uid not in taken:
            taken.add(uid)
            return uid


def scene_text(segments: Any, path: list[str | int]) -> str:
    """A scene's prose as the editor would hold it: paragraphs, one blank line between them
    (or the blank lines a segment's ``gap`` asks for)."""
    if segments is None:
        return ""
    if not isinstance(segments, list):
        raise ValidationError(WHERE, path, "must be a list of paragraphs")
    parts: list[str] = []
    for i, seg in enumerate(segments):
        if isinstance(seg, str):
            seg = {"text": seg}
        if not isinstance(seg, dict):
            raise ValidationError(WHERE, [*path, i], "must be a paragraph ({\"text\": …})")
        body = _text(seg.get("text"), [*path, i, "text"]).strip("\n")
        if not body.strip():
            continue
        gap = seg.get("gap", 1 if parts else 0)
        if not isinstance(gap, int) or isinstance(gap, bool) or not 0 <= gap <= 1000:
            gap = 1 if parts else 0
        parts.append("\n" * (gap + (1 if parts else 0)) + body)
    return "".join(parts)


# --- the manuscript --------------------------------------------------------------------------

@dataclass
class PlannedScene:
    uid: str
    title: str
    synopsis: str
    status: str
    metadata: dict[str, Any]
    text: str


@dataclass
class PlannedChapter:
    uid: str
    title: str
    synopsis: str
    status: str
    word_target: int | None
    metadata: dict[str, Any]
    scenes: list[PlannedScene] = field(default_factory=list)


def plan_manuscript(manuscript: Any) -> list[PlannedChapter]:
    """The chapters and scenes to create, every field checked (nothing is written here)."""
    if manuscript is None:
        return []
    if not isinstance(manuscript, dict) or not isinstance(manuscript.get("chapters", []), list):
        raise ValidationError(WHERE, ["manuscript"], "must be an object with a list of chapters")
    taken: set[str] = set()
    planned = []
    for i, ch in enumerate(manuscript.get("chapters", [])):
        where: list[str | int] = ["manuscript", "chapters", i]
        if not isinstance(ch, dict):
            raise ValidationError(WHERE, where, "must be an object")
        meta = ch.get("meta") if isinstance(ch.get("meta"), dict) else {}
        chapter = PlannedChapter(
            _fresh_uid(ch.get("id"), CHAPTER_PREFIX, taken),
            _text(ch.get("title"), [*where, "title"], MAX_TITLE).strip() or f"Chapter {i + 1}",
            _text(ch.get("synopsis", meta.get("synopsis")), [*where, "synopsis"]),
            _status(ch.get("status", meta.get("status")), [*where, "status"]),
            _target(ch.get("word_target", meta.get("word_target")), [*where, "word_target"]),
            _metadata(ch.get("metadata", meta.get("metadata")), [*where, "metadata"]))
        scenes = ch.get("scenes", [])
        if not isinstance(scenes, list):
            raise ValidationError(WHERE, [*where, "scenes"], "must be a list")
        for j, sc in enumerate(scenes):
            at: list[str | int] = [*where, "scenes", j]
            if not isinstance(sc, dict):
                raise ValidationError(WHERE, at, "must be an object")
            smeta = sc.get("meta") if isinstance(sc.get("meta"), dict) else {}
            chapter.scenes.append(PlannedScene(
                _fresh_uid(sc.get("id"), SCENE_PREFIX, taken),
                _text(sc.get("title"), [*at, "title"], MAX_TITLE).strip() or f"Scene {j + 1}",
                _text(sc.get("synopsis", smeta.get("synopsis")), [*at, "synopsis"]),
                _status(sc.get("status", smeta.get("status")), [*at, "status"]),
                _metadata(sc.get("metadata", smeta.get("metadata")), [*at, "metadata"]),
                scene_text(sc.get("segments"), [*at, "segments"])))
        planned.append(chapter)
    return planned


def write_manuscript(s: Session, story_id: int, chapters: list[PlannedChapter],
                     progress: Progress | None = None) -> int:
    """Create the planned chapters and scenes (and their prose); returns the words written."""
    total = sum(len(c.scenes) for c in chapters) or 1
    done = words = 0
    for ch_pos, ch in enumerate(chapters):
        row = Chapter(story_id=story_id, uid=ch.uid, title=ch.title, synopsis=ch.synopsis,
                      status=ch.status, word_target=ch.word_target, position=ch_pos)
        s.add(row)
        s.flush()
        if ch.metadata:
            stories_repo.replace_metadata(s, story_id, "chapter", row.id, ch.metadata)
        for sc_pos, sc in enumerate(ch.scenes):
            segments = assign_ids([], sc.text)
            srow = Scene(story_id=story_id, chapter_id=row.id, uid=sc.uid, title=sc.title,
                         synopsis=sc.synopsis, status=sc.status, position=sc_pos,
                         words=sum(count_words(seg.text) for seg in segments),
                         content_hash=content_hash(segments))
            s.add(srow)
            s.flush()
            manuscript_repo.write_segments(s, srow, segments)
            words += srow.words
            if sc.metadata:
                stories_repo.replace_metadata(s, story_id, "scene", srow.id, sc.metadata)
            done += 1
            if progress is not None:
                progress(done, total)
    return words


# --- the scene bible -------------------------------------------------------------------------

@dataclass
class BibleExtras:
    """What the bible schema cannot hold: custom field values and portrait images."""

    custom: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    portraits: dict[str, bytes] = field(default_factory=dict)  # char id → image bytes


def take_extras(bible: dict[str, Any], extras: BibleExtras,
                where: str = "Imported scene bible") -> None:
    """Move the import-only keys off ``bible``'s characters and locations into ``extras``
    (characters must have their final ids by now)."""
    for i, c in enumerate(bible_rules.characters(bible)):
        custom = c.pop("custom", None)
        portrait = c.pop("portrait_data", None)
        if custom:
            if not isinstance(custom, dict):
                raise ValidationError(where, ["characters", i, "custom"], "must be an object")
            extras.custom.setdefault(("character", c["id"]), {}).update(custom)
        if portrait:
            if not isinstance(portrait, (bytes, bytearray)):
                raise ValidationError(where, ["characters", i, "portrait_data"],
                                      "must be image bytes")
            extras.portraits[c["id"]] = bytes(portrait)
    for i, loc in enumerate(bible_rules.locations(bible)):
        custom = loc.pop("custom", None)
        if custom:
            if not isinstance(custom, dict):
                raise ValidationError(where, ["setting", "locations", i, "custom"],
                                      "must be an object")
            extras.custom.setdefault(("location", str(loc.get("name"))), {}).update(custom)
    try:
        json.dumps([v for v in extras.custom.values()])
    except (TypeError, ValueError):
        raise ValidationError(where, ["custom"], "must hold JSON values only") from None


def give_ids(bible: dict[str, Any]) -> dict[str, str]:
    """Give every character without a usable id a new ``char_`` id (and events and threads
    theirs); returns the importer's id → the stored id, for relationship targets."""
    renamed: dict[str, str] = {}
    chars = bible_rules.characters(bible)
    taken = {c["id"] for c in chars if isinstance(c, dict) and isinstance(c.get("id"), str)
             and re.fullmatch(r"char_[a-z0-9]+", c["id"])}
    seen: set[str] = set()
    for c in chars:
        if not isinstance(c, dict):
            continue
        old = c.get("id")
        if isinstance(old, str) and old in taken and old not in seen:
            seen.add(old)
            continue
        c["id"] = bible_rules.new_character_id(taken | seen)
        seen.add(c["id"])
        if isinstance(old, str):
            renamed[old] = c["id"]
        if isinstance(c.get("name"), str):
            renamed.setdefault(c["name"], c["id"])
    for c in chars:
        if isinstance(c, dict) and isinstance(c.get("relationships"), list):
            c["relationships"] = [dict(r, target=renamed.get(r.get("target"), r.get("target")))
                                  for r in c["relationships"] if isinstance(r, dict)]
    events = (bible.get("timeline") or {}).get("events") if isinstance(
        bible.get("timeline"), dict) else None
    for e in events or []:
        if isinstance(e, dict) and "id" not in e:
            e["id"] = bible_rules.new_event_id({x.get("id") for x in events
                                                if isinstance(x, dict)})
    threads = bible.get("plot_threads")
    for t in threads if isinstance(threads, list) else []:
        if isinstance(t, dict) and "id" not in t:
            t["id"] = bible_rules.new_thread_id({x.get("id") for x in threads
                                                 if isinstance(x, dict)})
    return renamed


def check_custom(s: Session, story_id: int | None, extras: BibleExtras) -> None:
    """Refuse a custom value an existing field of another type cannot hold (before writing)."""
    from studio.domain.fields import check_value

    if story_id is None:
        return
    types = {(f.applies_to, f.name): f.field_type for f in fields_repo.list_for(s, story_id)}
    for (applies_to, target), values in extras.custom.items():
        for name, value in values.items():
            kind = types.get((applies_to, str(name)))
            if kind is not None:
                check_value(kind, value, [str(name), target])


def write_extras(s: Session, db: Database, story_id: int, story_uid: str, bible: dict[str, Any],
                 extras: BibleExtras, overwrite: bool = True) -> list[str]:
    """Store custom values and portraits; set ``assets.portrait`` in ``bible`` (before the
    bible version is written).  Returns the image files written (undo removes them)."""
    from studio.services.files import write_bytes_atomically

    by_field: dict[tuple[str, str], Any] = {}
    for (applies_to, target), values in extras.custom.items():
        for name, value in values.items():
            key = (applies_to, str(name))
            if key not in by_field:
                existing = next((f for f in fields_repo.list_for(s, story_id)
                                 if (f.applies_to, f.name) == key), None)
                by_field[key] = existing or fields_repo.upsert_field(
                    s, story_id, str(name), "json", applies_to)
            row = by_field[key]
            if not overwrite and any(v.target == target for v in row.values):
                continue
            fields_repo.set_value(s, row, target, value)
    written: list[str] = []
    folder = Path(db.data_dir) / "portraits" / story_uid
    chars = {c["id"]: c for c in bible_rules.characters(bible)}
    for char_id, data in extras.portraits.items():
        ext = next((e for magic, e in IMAGE_TYPES if data.startswith(magic)), ".img")
        target = folder / f"{char_id}{ext}"
        write_bytes_atomically(target, data)
        written.append(str(target))
        char = chars.get(char_id)
        if char is not None:
            char.setdefault("assets", {})["portrait"] = str(target)
    return written


# --- the whole story -------------------------------------------------------------------------

def _check_language(value: Any) -> str:
    if value in (None, ""):
        return "en"
    if not isinstance(value, str) or not LANGUAGE_RE.fullmatch(value):
        raise ValidationError(WHERE, ["language"], "must be a language code such as en or fr")
    return value


def create_story_from_content(db: Database, content: dict[str, Any], title: str | None = None,
                              progress: Progress | None = None) -> int:
    """Create a new story from a StoryContent dict in one unit of work; returns its id.

    Refused (ValidationError naming the part and the reason, nothing created) when any part
    breaks the rules the editors enforce: story fields, module schemas, bible schema and
    semantics, the chapter graph's rules.
    """
    from studio.services import chapter_graph

    if not isinstance(content, dict):
        raise ValidationError(WHERE, [], "must be an object")
    name = title if title is not None else content.get("title")
    name = _text(name, ["title"], MAX_TITLE).strip() or UNTITLED
    fields = StoryFields(name, _text(content.get("logline"), ["logline"]),
                         _text(content.get("genre"), ["genre"], 200))
    language = _check_language(content.get("language"))
    story_target = _target(content.get("word_target"), ["word_target"])
    metadata = _metadata(content.get("metadata"), ["metadata"])
    modules = content.get("modules") or {}
    snapshot.validate({"modules": modules})
    chapters = plan_manuscript(content.get("manuscript"))
    bible = copy.deepcopy(content.get("scene_bible") or {})
    if not isinstance(bible, dict):
        raise ValidationError(WHERE, ["scene_bible"], "must be an object")
    give_ids(bible)
    extras = BibleExtras()
    take_extras(bible, extras)
    validate_bible(bible)
    graph = content.get("chapter_graph") or {}
    if graph and graph.get("chapters"):
        chapter_graph.check(graph, {c["id"] for c in bible_rules.characters(bible)})
    written: list[str] = []
    try:
        with db.session() as s:
            story = stories_repo.create(s, fields)
            story.language, story.word_target = language, story_target
            if metadata:
                stories_repo.replace_metadata(s, story.id, "story", story.id, metadata)
            for key, module in modules.items():
                row = stories_repo.module_row(s, story.id, key)
                row.input_text = module.get("input", "") or ""
                row.output_json = json.dumps(normalise_output(key, module.get("output") or {}),
                                             ensure_ascii=False)
            words = write_manuscript(s, story.id, chapters, progress)
            if bible or extras.custom or extras.portraits:
                written = write_extras(s, db, story.id, story.uid, bible, extras)
                validate_bible(bible)
                bibles_repo.add_version(s, "story", story.id, 1, bible, None, "imported")
            if graph and graph.get("chapters"):
                graphs_repo.write_graph(s, story.id, graph)
                history.record(s, story.id, "chapter_graph", story.id, "import",
                               {"chapters": len(graph["chapters"])})
            history.record(s, story.id, "story", story.id, "import",
                           {"title": name, "chapters": len(chapters), "words": words})
            s.flush()
            return story.id
    except BaseException:
        for path in written:
            Path(path).unlink(missing_ok=True)
        raise
