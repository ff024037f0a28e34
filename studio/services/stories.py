"""Creating, opening, editing and deleting stories and their five modules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from studio.domain.modules import MODULE_KEYS, normalise_output
from studio.domain.errors import ValidationError
from studio.domain.story import (
    UNTITLED, ModuleState, StoryDetail, StoryFields, StorySummary, validate_story_fields,
)
from studio.services.schemas import validate_module_output
from studio.store.database import Database
from studio.store.models import utcnow
from studio.store.repositories import history
from studio.store.repositories import stories as repo


@dataclass
class ModuleEdit:
    input_text: str
    output: dict[str, Any]


@dataclass
class StoryEdits:
    """Everything the author changed since the last save, saved as one unit of work."""

    story: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, ModuleEdit] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.story and not self.modules


def list_stories(db: Database) -> list[StorySummary]:
    with db.session() as s:
        return repo.summaries(s)


def create_story(db: Database, title: str = UNTITLED) -> StoryDetail:
    validate_story_fields({"title": title})
    with db.session() as s:
        story = repo.create(s, StoryFields(title=title or UNTITLED))
        history.record(s, story.id, "story", story.id, "create", {"title": title})
        s.flush()
        return repo.detail(s, story.id)


def open_story(db: Database, story_id: int) -> StoryDetail:
    with db.session() as s:
        return repo.detail(s, story_id)


def _check(edits: StoryEdits) -> None:
    validate_story_fields(edits.story)
    for key, edit in edits.modules.items():
        if key not in MODULE_KEYS:
            raise ValidationError("Modules", [key], "is not one of the five modules")
        if not isinstance(edit.input_text, str):
            raise ValidationError(key, ["input"], "must be text")
        validate_module_output(key, edit.output)


def save_edits(db: Database, story_id: int, edits: StoryEdits) -> None:
    """Store the author's pending edits in one transaction, recording each field change.

    Everything is validated before anything is written, so a refused edit changes nothing.
    """
    _check(edits)
    if edits.is_empty():
        return
    with db.session() as s:
        story = repo.get(s, story_id)
        changes = {k: {"old": getattr(story, k), "new": v}
                   for k, v in edits.story.items() if getattr(story, k) != v}
        for key, value in edits.story.items():
            setattr(story, key, value)
        if changes:
            history.record(s, story_id, "story", story_id, "update", changes)
        now = utcnow()
        for key, edit in edits.modules.items():
            row = repo.module_row(s, story_id, key)
            old_output = json.loads(row.output_json)
            new_output = normalise_output(key, edit.output)
            change: dict[str, Any] = {}
            if row.input_text != edit.input_text:
                change["input"] = {"old": row.input_text, "new": edit.input_text}
            for k in dict.fromkeys(list(new_output) + list(old_output)):
                if old_output.get(k) != new_output.get(k):
                    change.setdefault("output", {})[k] = {"old": old_output.get(k),
                                                          "new": new_output.get(k)}
            if not change:
                continue
            row.input_text = edit.input_text
            row.output_json = json.dumps(new_output, ensure_ascii=False)
            row.updated_at = now
            history.record(s, story_id, "module", key, "update", change)
        repo.touch(story)


def update_story(db: Database, story_id: int, **changes: Any) -> None:
    save_edits(db, story_id, StoryEdits(story=changes))


def save_module(db: Database, story_id: int, key: str, input_text: str,
                output: dict[str, Any]) -> ModuleState:
    save_edits(db, story_id, StoryEdits(modules={key: ModuleEdit(input_text, output)}))
    with db.session() as s:
        return repo.to_module_state(repo.module_row(s, story_id, key))


def set_metadata(db: Database, story_id: int, key: str, value: Any,
                 owner: str = "story", ref: str | int | None = None) -> None:
    """Attach ``key`` → JSON ``value`` to the story, one of its modules (``ref`` = module key)
    or one of its versions (``ref`` = version number).  ``None`` removes the key."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValidationError("Metadata", [key], "must be JSON (text, numbers, lists, objects)")
    with db.session() as s:
        repo.get(s, story_id)
        if owner == "story":
            owner_id = story_id
        elif owner == "module":
            owner_id = repo.module_row(s, story_id, str(ref)).id
        elif owner == "version":
            from studio.store.repositories import versions as versions_repo

            owner_id = versions_repo.version_id(s, story_id, int(ref))
        elif owner in ("chapter", "scene"):
            from studio.store.repositories import manuscript as manuscript_repo

            lookup = manuscript_repo.chapter if owner == "chapter" else manuscript_repo.scene
            owner_id = lookup(s, story_id, str(ref)).id
        else:
            raise ValidationError("Metadata", [owner], "belongs to a story, module, version, "
                                  "chapter or scene")
        meta = repo.get_metadata(s, owner, owner_id)
        old = meta.get(key)
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
        repo.replace_metadata(s, story_id, owner, owner_id, meta)
        history.record(s, story_id, "metadata", f"{owner}:{ref or story_id}:{key}", "set",
                       {"old": old, "new": value})


def get_metadata(db: Database, story_id: int, owner: str = "story",
                 ref: str | int | None = None) -> dict[str, Any]:
    with db.session() as s:
        if owner == "story":
            return repo.get_metadata(s, "story", story_id)
        if owner == "module":
            return repo.get_metadata(s, "module", repo.module_row(s, story_id, str(ref)).id)
        if owner in ("chapter", "scene"):
            from studio.store.repositories import manuscript as manuscript_repo

            lookup = manuscript_repo.chapter if owner == "chapter" else manuscript_repo.scene
            return repo.get_metadata(s, owner, lookup(s, story_id, str(ref)).id)
        from studio.store.repositories import versions as versions_repo

        return repo.get_metadata(s, "version", versions_repo.version_id(s, story_id, int(ref)))


def set_story_metadata(db: Database, story_id: int, key: str, value: Any) -> None:
    set_metadata(db, story_id, key, value)


def delete_story(db: Database, story_id: int) -> None:
    """Move a story to the trash (it stays in the database and can be brought back).  A main
    story takes its what-if branches with it (same moment, so undelete brings them back)."""
    from studio.store.repositories import branches as branches_repo

    with db.session() as s:
        story = repo.get(s, story_id)
        story.deleted_at = utcnow()
        history.record(s, story_id, "story", story_id, "delete", {"title": story.title})
        if branches_repo.get(s, story_id) is None:
            for row in branches_repo.of_trunk(s, story_id):
                branch = repo.get(s, row.story_id)
                branch.deleted_at = story.deleted_at
                history.record(s, branch.id, "story", branch.id, "delete",
                               {"title": branch.title, "with_main": story_id})


def undelete_story(db: Database, story_id: int) -> None:
    from studio.store.models import Story
    from studio.store.repositories import branches as branches_repo

    with db.session() as s:
        story = s.get(Story, story_id)
        if story is not None:
            when = repo.aware(story.deleted_at)
            story.deleted_at = None
            history.record(s, story_id, "story", story_id, "undelete", {"title": story.title})
            if when is not None and branches_repo.get(s, story_id) is None:
                for row in branches_repo.of_trunk(s, story_id, deleted=True):
                    branch = s.get(Story, row.story_id)
                    if repo.aware(branch.deleted_at) == when:  # deleted with the main story
                        branch.deleted_at = None
                        history.record(s, branch.id, "story", branch.id, "undelete",
                                       {"title": branch.title, "with_main": story_id})


def story_history(db: Database, story_id: int, limit: int = 500) -> list[history.HistoryEntry]:
    with db.session() as s:
        return history.for_story(s, story_id, limit)
