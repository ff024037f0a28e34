"""Custom fields: typed fields an author adds to characters, locations or scenes."""

from __future__ import annotations

from typing import Any

from studio.domain.errors import ValidationError

FIELD_TYPES = ("text", "number", "boolean", "list", "json")
APPLIES_TO = ("character", "location", "scene")


def check_value(field_type: str, value: Any, path: list[str | int]) -> None:
    ok = {
        "text": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "json": lambda v: True,
    }[field_type](value)
    if not ok:
        raise ValidationError("Custom field", path, f"a {field_type} field cannot hold {value!r}")


def check_definition(data: Any, path: list[str | int]) -> None:
    if not isinstance(data, dict):
        raise ValidationError("Custom field", path, "must be an object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Custom field", path + ["name"], "must be a non-empty name")
    if data.get("field_type") not in FIELD_TYPES:
        raise ValidationError("Custom field", path + ["field_type"],
                              f"must be one of {', '.join(FIELD_TYPES)}")
    if data.get("applies_to") not in APPLIES_TO:
        raise ValidationError("Custom field", path + ["applies_to"],
                              f"must be one of {', '.join(APPLIES_TO)}")
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise ValidationError("Custom field", path + ["values"], "must map targets to values")
    for target, value in values.items():
        check_value(data["field_type"], value, path + ["values", target])
