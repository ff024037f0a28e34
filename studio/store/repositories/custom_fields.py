"""User-defined typed fields (text, number, boolean, list, JSON) and their values."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.store.models import CustomField, CustomFieldValue


def list_for(session: Session, story_id: int) -> list[CustomField]:
    return list(session.scalars(select(CustomField).where(CustomField.story_id == story_id)
                                .order_by(CustomField.applies_to, CustomField.position,
                                          CustomField.name)))


def as_dicts(session: Session, story_id: int) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "field_type": f.field_type, "applies_to": f.applies_to,
         "values": {v.target: json.loads(v.value_json) for v in f.values}}
        for f in list_for(session, story_id)
    ]


def replace_all(session: Session, story_id: int, fields: list[dict[str, Any]]) -> None:
    for existing in list_for(session, story_id):
        session.delete(existing)
    session.flush()
    for position, data in enumerate(fields):
        field = CustomField(story_id=story_id, name=data["name"], field_type=data["field_type"],
                            applies_to=data["applies_to"], position=position)
        for target, value in (data.get("values") or {}).items():
            field.values.append(CustomFieldValue(
                target=target, value_json=json.dumps(value, ensure_ascii=False)))
        session.add(field)


def upsert_field(session: Session, story_id: int, name: str, field_type: str,
                 applies_to: str) -> CustomField:
    field = session.scalar(select(CustomField).where(
        CustomField.story_id == story_id, CustomField.applies_to == applies_to,
        CustomField.name == name))
    if field is None:
        field = CustomField(story_id=story_id, name=name, field_type=field_type,
                            applies_to=applies_to, position=len(list_for(session, story_id)))
        session.add(field)
    else:
        field.field_type = field_type
    session.flush()
    return field


def set_value(session: Session, field: CustomField, target: str, value: Any) -> None:
    row = session.scalar(select(CustomFieldValue).where(
        CustomFieldValue.field_id == field.id, CustomFieldValue.target == target))
    encoded = json.dumps(value, ensure_ascii=False)
    if row is None:
        session.add(CustomFieldValue(field_id=field.id, target=target, value_json=encoded))
    else:
        row.value_json = encoded
