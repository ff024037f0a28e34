"""Stories and their parts as the rest of the app sees them (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from studio.domain.modules import MODULES, is_filled

STORY_FIELDS = ("title", "logline", "genre", "complete")
UNTITLED = "Untitled story"


@dataclass
class ModuleState:
    key: str
    input_text: str = ""
    output: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    @property
    def filled(self) -> bool:
        return is_filled(self.input_text, self.output, self.key)


@dataclass
class StoryFields:
    title: str = UNTITLED
    logline: str = ""
    genre: str = ""
    complete: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in STORY_FIELDS}


@dataclass
class StorySummary:
    id: int
    uid: str
    title: str
    logline: str
    genre: str
    complete: bool
    updated_at: datetime
    filled_modules: int
    version_count: int


@dataclass
class StoryDetail:
    id: int
    uid: str
    fields: StoryFields
    modules: dict[str, ModuleState]
    metadata: dict[str, Any]
    active_version: int | None
    created_at: datetime
    updated_at: datetime

    @property
    def filled_modules(self) -> int:
        return sum(1 for m in self.modules.values() if m.filled)

    def ordered_modules(self) -> list[ModuleState]:
        return [self.modules[m.key] for m in MODULES if m.key in self.modules]


@dataclass
class VersionInfo:
    id: int
    number: int
    label: str
    summary: str
    created_at: datetime
    restored_from: int | None = None


def validate_story_fields(changes: dict[str, Any]) -> dict[str, Any]:
    """Check the types of story field changes; unknown fields are an error, not ignored."""
    from studio.domain.errors import ValidationError

    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in STORY_FIELDS:
            raise ValidationError("Story", [key], "is not a story field")
        if key == "complete":
            if not isinstance(value, bool):
                raise ValidationError("Story", [key], "must be true or false")
        elif not isinstance(value, str):
            raise ValidationError("Story", [key], "must be text")
        elif key == "title" and len(value) > 500:
            raise ValidationError("Story", [key], "is longer than 500 characters")
        clean[key] = value
    return clean
