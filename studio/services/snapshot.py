"""The one extension point through which every feature adds its data to a story snapshot.

A version is a full snapshot of a story; the JSON export is the same snapshot plus the version
history.  Each feature registers a *part* with three functions — collect the live state, restore
it, render it as titled plain-text sections for the diff view — so versions, restore, diff and
export/import learn about a new feature's data without being edited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session

from studio.domain.modules import MODULES, normalise_output
from studio.domain.story import StoryFields
from studio.domain.versions import render_modules_part, render_story_part
from studio.services.schemas import validate_module_output
from studio.store.repositories import custom_fields as custom_fields_repo
from studio.store.repositories import stories as stories_repo


@dataclass(frozen=True)
class SnapshotPart:
    name: str
    collect: Callable[[Session, int], Any]
    restore: Callable[[Session, int, Any], None]
    render: Callable[..., dict[str, str]]
    validate: Callable[[Any], None] = lambda data: None
    #: render takes (data, session) instead of (data): for parts that store text by reference.
    render_needs_session: bool = False


_PARTS: dict[str, SnapshotPart] = {}


def register_part(part: SnapshotPart) -> None:
    _PARTS[part.name] = part


def registered_parts() -> list[SnapshotPart]:
    return list(_PARTS.values())


def take(session: Session, story_id: int) -> dict[str, Any]:
    return {name: part.collect(session, story_id) for name, part in _PARTS.items()}


def validate(snapshot: dict[str, Any]) -> None:
    for name, part in _PARTS.items():
        if name in snapshot:
            part.validate(snapshot[name])


def apply(session: Session, story_id: int, snapshot: dict[str, Any]) -> None:
    """Make the live story equal to ``snapshot``; parts it lacks are left as they are."""
    validate(snapshot)
    for name, part in _PARTS.items():
        if name in snapshot:
            part.restore(session, story_id, snapshot[name])


def render(snapshot: dict[str, Any], session: Session) -> dict[str, str]:
    sections: dict[str, str] = {}
    for name, part in _PARTS.items():
        if name in snapshot:
            if part.render_needs_session:
                sections.update(part.render(snapshot[name], session))
            else:
                sections.update(part.render(snapshot[name]))
    return sections


# --- the foundation's own parts: story fields, the five modules, custom fields -------------

def _collect_story(session: Session, story_id: int) -> dict[str, Any]:
    story = stories_repo.get(session, story_id)
    data = StoryFields(story.title, story.logline, story.genre, story.complete).as_dict()
    data["metadata"] = stories_repo.get_metadata(session, "story", story_id)
    return data


def _restore_story(session: Session, story_id: int, data: dict[str, Any]) -> None:
    story = stories_repo.get(session, story_id)
    story.title = data.get("title", story.title)
    story.logline = data.get("logline", "")
    story.genre = data.get("genre", "")
    story.complete = bool(data.get("complete", False))
    stories_repo.replace_metadata(session, story_id, "story", story_id, data.get("metadata") or {})
    stories_repo.touch(story)


def _collect_modules(session: Session, story_id: int) -> dict[str, Any]:
    result = {}
    for row in stories_repo.get(session, story_id).modules:
        result[row.name] = {
            "input": row.input_text,
            "output": normalise_output(row.name, json.loads(row.output_json)),
            "metadata": stories_repo.get_metadata(session, "module", row.id),
        }
    return result


def _validate_modules(data: dict[str, Any]) -> None:
    from studio.domain.errors import ValidationError

    if not isinstance(data, dict):
        raise ValidationError("Modules", [], "must be an object keyed by module name")
    for key, module in data.items():
        if key not in {m.key for m in MODULES}:
            raise ValidationError("Modules", [key], "is not one of the five modules")
        if not isinstance(module, dict):
            raise ValidationError("Modules", [key], "must be an object")
        if not isinstance(module.get("input", ""), str):
            raise ValidationError("Modules", [key, "input"], "must be text")
        validate_module_output(key, module.get("output") or {})


def _restore_modules(session: Session, story_id: int, data: dict[str, Any]) -> None:
    for spec in MODULES:
        module = data.get(spec.key) or {}
        row = stories_repo.module_row(session, story_id, spec.key)
        row.input_text = module.get("input", "")
        row.output_json = json.dumps(normalise_output(spec.key, module.get("output") or {}),
                                     ensure_ascii=False)
        row.updated_at = stories_repo.utcnow()
        stories_repo.replace_metadata(session, story_id, "module", row.id,
                                      module.get("metadata") or {})


def _render_custom_fields(data: list[dict[str, Any]]) -> dict[str, str]:
    if not data:
        return {}
    lines = []
    for f in data:
        lines.append(f"{f['name']} ({f['field_type']}, for {f['applies_to']}s)")
        lines += [f"  {target}: {value!r}" for target, value in sorted(f["values"].items())]
    return {"Custom fields": "\n".join(lines)}


def _validate_custom_fields(data: Any) -> None:
    from studio.services.custom_fields import validate_field_definition

    if not isinstance(data, list):
        from studio.domain.errors import ValidationError
        raise ValidationError("Custom fields", [], "must be a list")
    for i, f in enumerate(data):
        validate_field_definition(f, [i])


register_part(SnapshotPart("story", _collect_story, _restore_story, render_story_part))
register_part(SnapshotPart("modules", _collect_modules, _restore_modules, render_modules_part,
                           _validate_modules))
register_part(SnapshotPart("custom_fields", custom_fields_repo.as_dicts,
                           custom_fields_repo.replace_all, _render_custom_fields,
                           _validate_custom_fields))


# Later features register their parts when imported; importing them here makes every snapshot
# complete whichever service module was imported first.
from studio.services import manuscript_snapshot  # noqa: E402,F401
from studio.services import bible_snapshot  # noqa: E402,F401
from studio.services import chapter_graph_snapshot  # noqa: E402,F401
