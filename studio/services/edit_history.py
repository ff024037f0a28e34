"""The edit history as the author reads it: who changed what and when, filtered, paged, and
"restore this" for any text an edit replaced.

Entries come from ``store.repositories.history``; this module gives them names the author
recognises (“Scene “The harbour””, “Chapter 3 “Storm””), a one-line summary and before/after
pairs (``domain.history_text``), and puts old text back.  A restore is itself an entry (action
"restore", naming the entry it restored, in the same shape as an edit) so it can be restored
back in turn.  Prose goes back through the manuscript service's own save path, paragraph by
paragraph under the paragraphs' own ids, so word counts, the search index and bibles that point
at a paragraph stay right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import select

from studio.domain.errors import NotFoundError, StudioError, ValidationError
from studio.domain.history_sessions import session_of
from studio.domain.history_text import (
    RESTORABLE_FIELDS, RESTORE_NOTE, ChangeDetail, Choice, Facets, HistoryItem, action_label,
    as_text, describe, field_pairs, plural, quote, type_label,
)
from studio.domain.manuscript import STATUSES, Segment
from studio.domain.modules import MODULE_KEYS, module_spec, normalise_output
from studio.domain.story import validate_story_fields
from studio.services import manuscript
from studio.services.schemas import validate_module_output
from studio.store.database import Database
from studio.store.models import Chapter, Scene, Story, utcnow
from studio.store.repositories import history
from studio.store.repositories import manuscript as ms_repo
from studio.store.repositories import stories as stories_repo

PAGE = 200


class RestoreError(StudioError):
    """"Restore this" cannot apply; the message says why, and nothing was changed."""


# --- names the author recognises ----------------------------------------------------------

@dataclass
class _Names:
    """Titles of everything entries point at, read once per query (a thousand small rows for
    a long novel; no prose)."""

    story_id: int
    story_title: str
    chapters: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # uid → title, no.
    scenes: dict[str, tuple[str, bool, str]] = field(default_factory=dict)  # title, gone, chapter
    chapter_scenes: dict[str, list[str]] = field(default_factory=dict)

    def label(self, entity_type: str, entity_id: str, change: dict[str, Any]) -> tuple[str, bool]:
        """(label, whether the item is still in the story)."""
        if entity_type in ("scene", "scene_text"):
            if entity_id in self.scenes:
                title, gone, _chapter = self.scenes[entity_id]
                return f"Scene {quote(title)}" + (" (deleted)" if gone else ""), not gone
            return f"Scene {quote(change.get('title'))} (no longer in the story)" \
                if change.get("title") else "A scene no longer in the story", False
        if entity_type == "chapter":
            if entity_id in self.chapters:
                title, number = self.chapters[entity_id]
                if number is None:
                    return f"Chapter {quote(title)} (deleted)", False
                return f"Chapter {number} {quote(title)}", True
            return "A chapter no longer in the story", False
        if entity_type == "module":
            try:
                return f"Module {module_spec(entity_id).title}", True
            except KeyError:
                return f"Module {entity_id}", False
        if entity_type == "story":
            return f"Story {quote(self.story_title)}", True
        if entity_type == "bible":
            return ("Series bible" if change.get("scope") == "series" else "Scene bible"), True
        if entity_type == "version":
            return f"Version {entity_id}", True
        if entity_type in ("chapter_graph", "manuscript", "emotion"):
            return type_label(entity_type), True
        if entity_type == "metadata":
            owner, _, rest = entity_id.partition(":")
            key = rest.partition(":")[2] or rest
            return f"Metadata {quote(key)} of the {owner}", True
        if entity_type in ("custom_field", "custom_field_value"):
            return f"Custom field {quote(entity_id.partition(':')[0])}", True
        if entity_type in ("series", "playthrough"):
            name = change.get("name")
            return f"{type_label(entity_type)} {quote(name)}" if name else \
                type_label(entity_type), True
        return f"{type_label(entity_type)} {entity_id}", True

    def matching_ids(self, text: str) -> list[str]:
        """Ids of the items whose label contains ``text`` (the search box)."""
        needle = text.casefold()
        found = [uid for uid in self.scenes if needle in self.label("scene", uid, {})[0].casefold()]
        found += [uid for uid in self.chapters
                  if needle in self.label("chapter", uid, {})[0].casefold()]
        found += [key for key in MODULE_KEYS
                  if needle in f"module {module_spec(key).title}".casefold()]
        if needle in f"story {self.story_title}".casefold():
            found.append(str(self.story_id))
        return found


def _names(s, story_id: int) -> _Names:
    story = s.get(Story, story_id)
    if story is None or story.deleted_at is not None:
        raise NotFoundError(f"There is no story with id {story_id}.")
    names = _Names(story_id, story.title)
    number = 0
    for uid, title, deleted in s.execute(
            select(Chapter.uid, Chapter.title, Chapter.deleted_at)
            .where(Chapter.story_id == story_id).order_by(Chapter.position)):
        if deleted is None:
            number += 1
        names.chapters[uid] = (title, None if deleted is not None else number)
    chapter_uid = {uid: (cuid, cdel) for uid, cuid, cdel in s.execute(
        select(Chapter.id, Chapter.uid, Chapter.deleted_at).where(Chapter.story_id == story_id))}
    for uid, title, deleted, chapter_id in s.execute(
            select(Scene.uid, Scene.title, Scene.deleted_at, Scene.chapter_id)
            .where(Scene.story_id == story_id)):
        cuid, cdel = chapter_uid.get(chapter_id, ("", None))
        names.scenes[uid] = (title, deleted is not None or cdel is not None, cuid)
        names.chapter_scenes.setdefault(cuid, []).append(uid)
    return names


def _module_fields(entity_type: str, entity_id: str) -> dict[str, str]:
    if entity_type != "module":
        return {}
    try:
        return {f.key: f.label for f in module_spec(entity_id).fields}
    except KeyError:
        return {}


def _item(entry: history.HistoryEntry, names: _Names) -> HistoryItem:
    label, exists = names.label(entry.entity_type, entry.entity_id, entry.change)
    described = describe(entry.entity_type, entry.action, entry.change,
                         _module_fields(entry.entity_type, entry.entity_id))
    restorable, why = described.restorable, described.why_not
    if restorable and not exists:
        restorable, why = False, f"{label}: it is no longer in the story, so there is " \
            "nothing to put the text back into. Bring it back first (Undo or a saved version)."
    return HistoryItem(entry.id, entry.at, entry.actor, entry.entity_type, entry.entity_id,
                       label, entry.action, action_label(entry.action, entry.entity_type),
                       described.summary, tuple(described.details), restorable, why, exists,
                       _delta(entry.change) if entry.entity_type == "scene_text" else 0)


def _delta(change: dict[str, Any]) -> int:
    try:
        return int(change.get("delta", 0) or 0)
    except (TypeError, ValueError):
        return 0


# --- reading ------------------------------------------------------------------------------

def query(db: Database, story_id: int, *, entity_type: str | None = None,
          entity_id: str | None = None, actor: str | None = None, action: str | None = None,
          text: str | None = None, limit: int = PAGE, before_id: int | None = None,
          include_children: bool = True) -> list[HistoryItem]:
    """The story's history, newest first.  ``entity_id`` narrows to one item (a chapter also
    shows its scenes' edits unless ``include_children`` is off); ``text`` searches the item
    labels, actions and the changes themselves; ``before_id`` pages on from an entry."""
    text = (text or "").strip()
    with db.session() as s:
        names = _names(s, story_id)
        ids = None
        if entity_id:
            ids = [str(entity_id)]
            if include_children:
                ids += names.chapter_scenes.get(str(entity_id), [])
        text_actions = text_types = text_ids = ()
        if text:
            needle, present = text.casefold(), _present(s, story_id)
            text_ids = names.matching_ids(text)
            text_actions = [a for a in present["actions"]
                            if needle in action_label(a).casefold()
                            or needle in action_label(a, "scene_text").casefold()]
            text_types = [t for t in present["entity_types"]
                          if needle in type_label(t).casefold()]
        entries = history.query(
            s, story_id, entity_types=[entity_type] if entity_type else None,
            entity_ids=ids, actor=actor or None, action=action or None, text=text or None,
            text_entity_ids=text_ids, text_actions=text_actions, text_types=text_types,
            limit=limit, before_id=before_id)
        return [_item(e, names) for e in entries]


def _present(s, story_id: int) -> dict[str, list[str]]:
    return history.distinct_values(s, story_id)


def facets(db: Database, story_id: int) -> Facets:
    """The filter choices: the item types, people and actions this story's history holds."""
    with db.session() as s:
        present = _present(s, story_id)
    types = sorted((Choice(t, type_label(t)) for t in present["entity_types"]),
                   key=lambda c: c.label)
    actions = {}
    for a in present["actions"]:
        actions.setdefault(action_label(a), a)
    return Facets(tuple(types), tuple(present["actors"]),
                  tuple(Choice(key, label) for label, key in sorted(actions.items())))


def item(db: Database, story_id: int, entry_id: int) -> HistoryItem:
    with db.session() as s:
        entry = history.get(s, story_id, entry_id)
        if entry is None:
            raise RestoreError(f"There is no entry #{entry_id} in this story's history.")
        return _item(entry, _names(s, story_id))


# --- restoring ----------------------------------------------------------------------------

@dataclass
class RestorePlan:
    """What a restore would do: ``changes`` pairs what stands now (old) with what comes back
    (new), for the confirmation; ``apply`` writes it inside the planning session."""

    item: HistoryItem
    what: str  # "paragraph 3 of Scene “The harbour”"
    changes: list[ChangeDetail]
    apply: Callable[[dict[str, Any]], None] | None = None
    before: str = "this edit"  # "this typing session"

    @property
    def sentence(self) -> str:
        return f"Restore {self.what} as it was before {self.before}?"


def _refuse_unless_restorable(item_: HistoryItem) -> None:
    if not item_.restorable:
        raise RestoreError(item_.why_not or f"{item_.item}: this change cannot be restored.")


def _plan_text(s, story_id: int, entry: history.HistoryEntry, item_: HistoryItem,
               which: str | None) -> RestorePlan:
    chosen = [r for r in entry.change["replaced"] if which is None or r["id"] == which]
    if not chosen:
        raise RestoreError("That paragraph is not one this edit replaced.")
    return _plan_paragraphs(s, story_id, entry.entity_id, item_, chosen)


def _plan_paragraphs(s, story_id: int, scene_uid: str, item_: HistoryItem,
                     chosen: list[dict[str, Any]]) -> RestorePlan:
    """Put each ``replaced`` record of ``chosen`` back (its ``old`` text, under its own id, in
    its old place when it is gone): one edit's or a whole typing session's."""
    row = s.scalar(select(Scene).where(Scene.story_id == story_id, Scene.uid == scene_uid))
    if row is None or row.deleted_at is not None or \
            s.get(Chapter, row.chapter_id).deleted_at is not None:
        raise RestoreError(f"{item_.item} is no longer in the story; bring it back first "
                           "(Undo or a saved version), then restore this.")
    current = ms_repo.segments_of(s, row.id)
    new = list(current)
    changes: list[ChangeDetail] = []
    for r in sorted(chosen, key=lambda r: r.get("position", 0)):
        at = next((i for i, seg in enumerate(new) if seg.id == r["id"]), None)
        if at is not None:
            if new[at].text == r["old"]:
                continue
            changes.append(ChangeDetail(f"Paragraph {at + 1}", new[at].text, r["old"],
                                        r["id"], "text", True))
            new[at] = Segment(r["id"], r["old"], new[at].gap)
            continue
        anchor = r.get("after")
        where = next((i + 1 for i, seg in enumerate(new) if seg.id == anchor), None) \
            if anchor else (0 if r.get("position", 0) == 0 else None)
        if where is None:
            where = min(int(r.get("position", len(new))), len(new))
        new.insert(where, Segment(r["id"], r["old"], int(r.get("gap", 0) or 0)))
        changes.append(ChangeDetail(f"Paragraph {where + 1} (put back)", None, r["old"],
                                    r["id"], "text", True))
    if len(chosen) == 1:
        what = f"paragraph {int(chosen[0].get('position', 0)) + 1} of {item_.item}"
    else:
        what = f"{plural(len(chosen), 'paragraph')} of {item_.item}"

    def apply(note: dict[str, Any]) -> None:
        manuscript.store_segments(s, story_id, row, new, old=current, action="restore",
                                  note=note)

    return RestorePlan(item_, what, changes, apply)


def _check_field(entity_type: str, key: str, value: Any) -> None:
    if entity_type == "story" and key != "word_target":
        validate_story_fields({key: value})
    elif key == "status" and value not in STATUSES:
        raise ValidationError(type_label(entity_type), [key],
                              f"must be one of {', '.join(STATUSES)}")
    elif key == "word_target" and value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValidationError(type_label(entity_type), [key], "must be a positive whole number")
    elif key in ("title", "synopsis") and not isinstance(value, str):
        raise ValidationError(type_label(entity_type), [key], "must be text")


def _plan_fields(s, story_id: int, entry: history.HistoryEntry, item_: HistoryItem,
                 which: str | None) -> RestorePlan:
    kind = entry.entity_type
    if kind == "chapter":
        row = ms_repo.chapter(s, story_id, entry.entity_id)
    elif kind == "scene":
        row = ms_repo.scene(s, story_id, entry.entity_id)
    else:
        row = stories_repo.get(s, story_id)
    allowed = RESTORABLE_FIELDS[kind]
    pairs = {k: v for k, v in field_pairs(entry.change).items()
             if k in allowed and (which is None or k == which)}
    if not pairs:
        raise RestoreError(f"{item_.item}: “{which}” is not a field this edit changed."
                           if which else f"{item_.item}: nothing here can be put back.")
    values = {k: v["old"] for k, v in pairs.items() if getattr(row, k) != v["old"]}
    for key, value in values.items():
        _check_field(kind, key, value)
    labels = {d.key: d.label for d in item_.details}
    changes = [ChangeDetail(labels.get(k, k), as_text(getattr(row, k)), as_text(v), k,
                            "text", True) for k, v in values.items()]
    names = [labels.get(k, k).lower() for k in pairs]
    what = f"the {' and '.join(names)} of {item_.item}"

    def apply(note: dict[str, Any]) -> None:
        change = {k: {"old": getattr(row, k), "new": v} for k, v in values.items()}
        for key, value in values.items():
            setattr(row, key, value)
        if kind == "scene":
            ms_repo.touch_scene(row)
        elif kind == "chapter":
            row.updated_at = utcnow()
        else:
            stories_repo.touch(row)
        history.record(s, story_id, kind, entry.entity_id, "restore", {**change, **note})

    return RestorePlan(item_, what, changes, apply)


def _plan_module(s, story_id: int, entry: history.HistoryEntry, item_: HistoryItem,
                 which: str | None) -> RestorePlan:
    key = entry.entity_id
    row = stories_repo.module_row(s, story_id, key)
    output = normalise_output(key, json.loads(row.output_json))
    labels = {d.key: d.label for d in item_.details}
    input_pair = entry.change.get("input") if which in (None, "input") else None
    out_pairs = {k: v for k, v in (entry.change.get("output") or {}).items()
                 if which is None or which == f"output.{k}"}
    if not input_pair and not out_pairs:
        raise RestoreError(f"{item_.item}: that is not a field this edit changed.")
    new_input = input_pair["old"] if input_pair else row.input_text
    new_output = dict(output)
    for k, pair in out_pairs.items():
        if pair.get("old") is None:
            new_output.pop(k, None)
        else:
            new_output[k] = pair["old"]
    new_output = normalise_output(key, new_output)
    validate_module_output(key, new_output)
    if not isinstance(new_input, str):
        raise ValidationError(key, ["input"], "must be text")
    change: dict[str, Any] = {}
    changes: list[ChangeDetail] = []
    if new_input != row.input_text:
        change["input"] = {"old": row.input_text, "new": new_input}
        changes.append(ChangeDetail("Notes", row.input_text, new_input, "input", "text", True))
    for k in dict.fromkeys(list(output) + list(new_output)):
        if output.get(k) != new_output.get(k):
            change.setdefault("output", {})[k] = {"old": output.get(k), "new": new_output.get(k)}
            changes.append(ChangeDetail(labels.get(f"output.{k}", k), as_text(output.get(k)),
                                        as_text(new_output.get(k)), f"output.{k}", "text",
                                        True))
    names = [labels.get(k, k).lower() for k in
             (["input"] if input_pair else []) + [f"output.{k}" for k in out_pairs]]
    what = f"{', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]} " \
           f"of {item_.item}"

    def apply(note: dict[str, Any]) -> None:
        row.input_text = new_input
        row.output_json = json.dumps(new_output, ensure_ascii=False)
        row.updated_at = utcnow()
        stories_repo.touch(stories_repo.get(s, story_id))
        history.record(s, story_id, "module", key, "restore", {**change, **note})

    return RestorePlan(item_, what, changes, apply)


def _plan(s, story_id: int, entry_id: int, which: str | None) -> RestorePlan:
    entry = history.get(s, story_id, entry_id)
    if entry is None:
        raise RestoreError(f"There is no entry #{entry_id} in this story's history.")
    item_ = _item(entry, _names(s, story_id))
    _refuse_unless_restorable(item_)
    if entry.entity_type == "scene_text":
        return _plan_text(s, story_id, entry, item_, which)
    if entry.entity_type == "module":
        return _plan_module(s, story_id, entry, item_, which)
    if entry.entity_type in RESTORABLE_FIELDS:
        return _plan_fields(s, story_id, entry, item_, which)
    raise RestoreError(item_.why_not or f"{item_.item}: this change cannot be restored.")


def preview_restore(db: Database, story_id: int, entry_id: int,
                    which: str | None = None) -> RestorePlan:
    """What ``restore`` would replace, for the confirmation (nothing is written)."""
    with db.session() as s:
        plan = _plan(s, story_id, entry_id, which)
        plan.apply = None
        return plan


def restore(db: Database, story_id: int, entry_id: int, which: str | None = None) -> str:
    """Put back what entry ``entry_id`` replaced (all of it, or only ``which``: a paragraph id,
    a field name, "input" or "output.<field>" of a module).  Returns what was done, as a
    sentence; raises ``RestoreError`` (nothing written) when it cannot apply."""
    return restore_entry(db, story_id, entry_id, which)[0]


def restore_entry(db: Database, story_id: int, entry_id: int,
                  which: str | None = None) -> tuple[str, int | None]:
    """``restore``, also giving the id of the history entry the restore wrote (None when
    there was nothing to restore): restoring that entry undoes the restore."""
    with db.session() as s:
        plan = _plan(s, story_id, entry_id, which)
        if not plan.changes:
            return (f"Nothing to restore: {plan.what} already reads as it did before this "
                    "edit.", None)
        entry = history.get(s, story_id, entry_id)
        plan.apply({RESTORE_NOTE: {"entry": entry_id, "action": entry.action,
                                   "at": entry.at.isoformat()}})
        s.flush()
        written = history.query(s, story_id, entity_ids=[entry.entity_id], action="restore",
                                limit=1)
        return (f"Restored {plan.what} as it was before edit #{entry_id}.",
                written[0].id if written else None)


# --- typing sessions -------------------------------------------------------------------------

def _plan_session(s, story_id: int, entry_ids: list[int] | tuple[int, ...],
                  which: str | None) -> tuple[RestorePlan, list[history.HistoryEntry]]:
    """Every paragraph the session replaced, back to its text before the session's first save
    (the ``old`` of the earliest save that replaced it); paragraphs the session added stay."""
    ids = list(dict.fromkeys(int(i) for i in entry_ids))
    if not ids:
        raise RestoreError("No typing session was chosen to restore.")
    entries = []
    for entry_id in ids:
        entry = history.get(s, story_id, entry_id)
        if entry is None:
            raise RestoreError(f"There is no entry #{entry_id} in this story's history.")
        entries.append(entry)
    entries.sort(key=lambda e: (e.at, e.id), reverse=True)  # newest first, as listed
    if any(e.entity_type != "scene_text" or e.action != "update" or
           e.entity_id != entries[0].entity_id for e in entries):
        raise RestoreError("Those entries are not one typing session: a session is saves of "
                           "one scene's text.")
    names = _names(s, story_id)
    items = [_item(e, names) for e in entries]
    session = session_of(items) if len(items) > 1 else None
    newest = session or items[0]
    if not newest.item_exists:
        raise RestoreError(f"{newest.item} is no longer in the story; bring it back first "
                           "(Undo or a saved version), then restore this.")
    wanted = {d.key for d in (session.details if session else items[0].details)
              if d.restorable and (which is None or d.key == which)}
    if which is not None and not wanted:
        raise RestoreError("That paragraph is not one this typing session replaced.")
    if not wanted:
        raise RestoreError(f"Nothing to restore: this typing session of {newest.item} only "
                           "added text, or its changes cancel out.")
    chosen: dict[str, dict[str, Any]] = {}
    for entry in reversed(entries):  # the earliest save that replaced each paragraph
        for r in entry.change.get("replaced", ()):
            if r["id"] in wanted:
                chosen.setdefault(r["id"], r)
    plan = _plan_paragraphs(s, story_id, entries[0].entity_id, newest, list(chosen.values()))
    plan.before = "this typing session"
    return plan, entries


def preview_session(db: Database, story_id: int, entry_ids: list[int] | tuple[int, ...],
                    which: str | None = None) -> RestorePlan:
    """What ``restore_session`` would replace, for the confirmation (nothing is written)."""
    with db.session() as s:
        plan, _entries = _plan_session(s, story_id, entry_ids, which)
        plan.apply = None
        return plan


def restore_session(db: Database, story_id: int, entry_ids: list[int] | tuple[int, ...],
                    which: str | None = None) -> str:
    """Put every paragraph a typing session (its saves' ids) replaced back to its text before
    the session, as one restore and one history entry naming the saves.  Paragraphs the session
    only added are left as they are.  Raises ``RestoreError`` (nothing written) when the scene
    is gone or nothing would change."""
    return restore_session_entry(db, story_id, entry_ids, which)[0]


def restore_session_entry(db: Database, story_id: int, entry_ids: list[int] | tuple[int, ...],
                          which: str | None = None) -> tuple[str, int]:
    """``restore_session``, also giving the id of the entry it wrote: restoring that entry
    (``restore_entry``) undoes it, exactly as for a single restore."""
    with db.session() as s:
        plan, entries = _plan_session(s, story_id, entry_ids, which)
        if not plan.changes:
            raise RestoreError(f"Nothing to restore: {plan.what} already reads as it did "
                               "before this typing session.")
        newest = entries[0]
        plan.apply({RESTORE_NOTE: {"entry": newest.id, "entries": [e.id for e in entries],
                                   "action": newest.action, "at": newest.at.isoformat(),
                                   "from": entries[-1].at.isoformat()}})
        s.flush()
        written = history.query(s, story_id, entity_ids=[newest.entity_id], action="restore",
                                limit=1)
        first, last = entries[-1].id, newest.id
        return (f"Restored {plan.what} as it was before the typing session "
                f"(#{first}–#{last}, {plural(len(entries), 'save')}).", written[0].id)
