"""Defining custom fields and setting their values."""

from __future__ import annotations

from typing import Any

from studio.domain.fields import check_definition, check_value
from studio.store.database import Database
from studio.store.repositories import custom_fields as repo
from studio.store.repositories import history
from studio.store.repositories import stories as stories_repo


def validate_field_definition(data: Any, path: list[str | int]) -> None:
    check_definition(data, path)


def define_field(db: Database, story_id: int, name: str, field_type: str,
                 applies_to: str) -> None:
    check_definition({"name": name, "field_type": field_type, "applies_to": applies_to}, [])
    with db.session() as s:
        stories_repo.get(s, story_id)
        repo.upsert_field(s, story_id, name.strip(), field_type, applies_to)
        history.record(s, story_id, "custom_field", name, "define",
                       {"field_type": field_type, "applies_to": applies_to})


def set_value(db: Database, story_id: int, name: str, applies_to: str, target: str,
              value: Any) -> None:
    with db.session() as s:
        field = next((f for f in repo.list_for(s, story_id)
                      if f.name == name and f.applies_to == applies_to), None)
        if field is None:
            from studio.domain.errors import NotFoundError
            raise NotFoundError(f"There is no custom field {name!r} for {applies_to}s.")
        check_value(field.field_type, value, [name, target])
        repo.set_value(s, field, target, value)
        history.record(s, story_id, "custom_field_value", f"{name}:{target}", "set",
                       {"value": value})


def list_fields(db: Database, story_id: int) -> list[dict[str, Any]]:
    with db.session() as s:
        return repo.as_dicts(s, story_id)
