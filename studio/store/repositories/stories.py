"""Stories, their modules and metadata in the database."""

from __future__ import annotations

import json
import uuid
from datetime import timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.domain.errors import NotFoundError
from studio.domain.modules import MODULES, is_filled, normalise_output
from studio.domain.story import ModuleState, StoryDetail, StoryFields, StorySummary
from studio.store.models import MetadataEntry, Module, Story, Version, utcnow


def aware(dt):
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


def get(session: Session, story_id: int) -> Story:
    story = session.get(Story, story_id)
    if story is None or story.deleted_at is not None:
        raise NotFoundError(f"There is no story with id {story_id}.")
    return story


def create(session: Session, fields: StoryFields, uid: str | None = None) -> Story:
    now = utcnow()
    story = Story(uid=uid or str(uuid.uuid4()), title=fields.title, logline=fields.logline,
                  genre=fields.genre, complete=fields.complete, created_at=now, updated_at=now)
    for spec in MODULES:
        story.modules.append(Module(name=spec.key, position=spec.order, input_text="",
                                    output_json=json.dumps(spec.empty_output()),
                                    created_at=now, updated_at=now))
    session.add(story)
    session.flush()
    return story


def summaries(session: Session) -> list[StorySummary]:
    counts = dict(session.execute(
        select(Version.story_id, func.count(Version.id)).group_by(Version.story_id)).all())
    from studio.store.repositories.branches import is_branch_clause

    # Branches are reached from their main story's switcher, not listed in the library.
    stories = session.scalars(
        select(Story).where(Story.deleted_at.is_(None), ~is_branch_clause())
        .order_by(Story.updated_at.desc())).all()
    modules = session.execute(
        select(Module.story_id, Module.input_text, Module.output_json, Module.name)).all()
    filled: dict[int, int] = {}
    for story_id, input_text, output_json, name in modules:
        if is_filled(input_text, json.loads(output_json), name):
            filled[story_id] = filled.get(story_id, 0) + 1
    return [
        StorySummary(id=s.id, uid=s.uid, title=s.title, logline=s.logline, genre=s.genre,
                     complete=s.complete, updated_at=aware(s.updated_at),
                     filled_modules=filled.get(s.id, 0), version_count=counts.get(s.id, 0))
        for s in stories
    ]


def module_row(session: Session, story_id: int, key: str) -> Module:
    row = session.scalar(select(Module).where(Module.story_id == story_id, Module.name == key))
    if row is None:
        raise NotFoundError(f"Story {story_id} has no module {key!r}.")
    return row


def to_module_state(row: Module) -> ModuleState:
    return ModuleState(key=row.name, input_text=row.input_text,
                       output=normalise_output(row.name, json.loads(row.output_json)),
                       updated_at=aware(row.updated_at))


def detail(session: Session, story_id: int) -> StoryDetail:
    story = get(session, story_id)
    modules = {row.name: to_module_state(row) for row in story.modules}
    return StoryDetail(
        id=story.id, uid=story.uid,
        fields=StoryFields(story.title, story.logline, story.genre, story.complete),
        modules=modules, metadata=get_metadata(session, "story", story.id),
        active_version=story.active_version, created_at=aware(story.created_at),
        updated_at=aware(story.updated_at),
    )


def get_metadata(session: Session, owner_type: str, owner_id: int) -> dict[str, Any]:
    rows = session.scalars(select(MetadataEntry).where(
        MetadataEntry.owner_type == owner_type, MetadataEntry.owner_id == owner_id)
        .order_by(MetadataEntry.key))
    return {r.key: json.loads(r.value_json) for r in rows}


def replace_metadata(session: Session, story_id: int, owner_type: str, owner_id: int,
                     values: dict[str, Any]) -> None:
    existing = {r.key: r for r in session.scalars(select(MetadataEntry).where(
        MetadataEntry.owner_type == owner_type, MetadataEntry.owner_id == owner_id))}
    for key, row in existing.items():
        if key not in values:
            session.delete(row)
    for key, value in values.items():
        encoded = json.dumps(value, ensure_ascii=False, sort_keys=True)
        if key in existing:
            existing[key].value_json = encoded
        else:
            session.add(MetadataEntry(story_id=story_id, owner_type=owner_type,
                                      owner_id=owner_id, key=key, value_json=encoded))


def touch(story: Story) -> None:
    story.updated_at = utcnow()
