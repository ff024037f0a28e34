"""Request bodies: every field typed and bounded, so bad input is a 422 that names the field.

Strings refuse NUL characters and lone surrogates (PostgreSQL cannot store them); free JSON
objects (modules, scene bible, chapter graph) are limited in depth and key length.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator,
)

from studio.marketplace.models import LICENCES, ROLES, STORY_VISIBILITIES, VISIBILITIES
from studio.marketplace.settings import MAX_SEGMENT_CHARS, MAX_SEGMENTS, MAX_TAGS

SEGMENT_ID_RE = r"^seg_[A-Za-z0-9_-]{1,96}$"
CONTAINER_ID_RE = r"^[A-Za-z0-9_-]{1,80}$"
STORY_ID_RE = r"^st_[A-Za-z0-9_-]{1,28}$"
FORK_ID_RE = r"^fk_[A-Za-z0-9_-]{1,28}$"
USERNAME_RE = r"^[a-z0-9_.-]{3,40}$"
MAX_JSON_DEPTH = 32
MAX_JSON_KEY = 200


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it holds a lone surrogate)") from None
    return value


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        clean_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if len(key) > MAX_JSON_KEY:
                raise ValueError(f"has a key longer than {MAX_JSON_KEY} characters")
            clean_text(key)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, float) and value != value:  # NaN cannot be stored as JSON
        raise ValueError("holds NaN, which JSON cannot represent")


def check_json(value: Any) -> Any:
    _check_json(value)
    return value


Text = Annotated[str, AfterValidator(clean_text)]
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
Title = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[Text, Field(max_length=5000)]
Changelog = Annotated[Text, Field(max_length=5000)]
SegmentId = Annotated[str, Field(pattern=SEGMENT_ID_RE)]
ContainerId = Annotated[str, Field(pattern=CONTAINER_ID_RE)]
SegmentText = Annotated[Text, Field(max_length=MAX_SEGMENT_CHARS)]
Tag = Annotated[str, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
                Field(pattern=r"^[a-z0-9][a-z0-9 _-]{0,39}$")]
Licence = Literal[LICENCES]
Visibility = Literal[VISIBILITIES]  # community chapters and voice templates
# a story's: "private" = only its owner and collaborators read it (0006)
StoryVisibility = Literal[STORY_VISIBILITIES]
Version = Annotated[int, Field(ge=1, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Segment(Strict):
    id: SegmentId
    text: SegmentText


class Scene(Strict):
    id: ContainerId | None = None
    title: Annotated[Text, Field(max_length=500)] = ""
    meta: JsonObject | None = None
    segments: Annotated[list[Segment], Field(max_length=MAX_SEGMENTS)] = []


class Chapter(Strict):
    id: ContainerId | None = None
    title: Annotated[Text, Field(max_length=500)] = ""
    meta: JsonObject | None = None
    scenes: Annotated[list[Scene], Field(max_length=10_000)] = []


class Manuscript(Strict):
    chapters: Annotated[list[Chapter], Field(max_length=10_000)] = []

    @model_validator(mode="before")
    @classmethod
    def _count_segments(cls, data: Any) -> Any:
        """Refuse absurd sizes before building 100 000 models."""
        if isinstance(data, dict) and isinstance(data.get("chapters"), list):
            total = 0
            for chapter in data["chapters"]:
                scenes = chapter.get("scenes") if isinstance(chapter, dict) else None
                for scene in scenes if isinstance(scenes, list) else []:
                    segs = scene.get("segments") if isinstance(scene, dict) else None
                    total += len(segs) if isinstance(segs, list) else 0
            if total > MAX_SEGMENTS:
                raise ValueError(f"holds {total} segments; the limit is {MAX_SEGMENTS}")
        return data


class StoryContent(Strict):
    modules: JsonObject = {}
    manuscript: Manuscript = Manuscript()
    scene_bible: JsonObject = {}
    chapter_graph: JsonObject = {}


class StoryMeta(Strict):
    title: Title
    description: Description = ""
    genre: Annotated[Text, Field(max_length=60)] = ""
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    licence: Licence
    visibility: StoryVisibility = "public"


class PublishStory(StoryMeta):
    changelog: Changelog = "First version"
    content: StoryContent


class NewVersion(Strict):
    changelog: Changelog
    content: StoryContent
    # the version the publisher's copy is based on: refused (409 version_moved) when the
    # story moved on meanwhile; omitted, the new version goes on top whatever happened
    base_version: Version | None = None


class UpdateStory(Strict):
    title: Title | None = None
    description: Description | None = None
    genre: Annotated[Text, Field(max_length=60)] | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None
    licence: Licence | None = None
    visibility: StoryVisibility | None = None


class CreateFork(Strict):
    version: Version | None = None
    title: Annotated[Text, Field(max_length=200)] | None = None


class EditSegments(Strict):
    segments: Annotated[dict[SegmentId, SegmentText], Field(min_length=1,
                                                             max_length=MAX_SEGMENTS)]


class EditParts(Strict):
    """Present fields replace the fork's part; ``null`` makes it follow the source again."""

    modules: JsonObject | None = None
    scene_bible: JsonObject | None = None
    chapter_graph: JsonObject | None = None


class CustomText(Strict):
    text: SegmentText


class CustomValue(Strict):
    value: Any

    @model_validator(mode="after")
    def _check(self) -> "CustomValue":
        check_json(self.value)
        return self


Resolution = Literal["theirs", "mine", "both"] | CustomText | CustomValue
ConflictKey = Annotated[str, Field(min_length=1, max_length=400), AfterValidator(clean_text)]


class ApplySync(Strict):
    to_version: Version | None = None
    resolutions: Annotated[dict[ConflictKey, Resolution], Field(max_length=MAX_SEGMENTS)] = {}


class PublishRemix(StoryMeta):
    changelog: Changelog = "Remix"


Username = Annotated[str, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str)
                                          else v), Field(pattern=USERNAME_RE)]
Password = Annotated[Text, Field(min_length=8, max_length=256)]


class Register(Strict):
    username: Username
    password: Password


class Login(Strict):
    username: Annotated[Text, Field(min_length=1, max_length=100)]
    password: Annotated[Text, Field(min_length=1, max_length=256)]


class Refresh(Strict):
    refresh_token: Annotated[Text, Field(min_length=1, max_length=200)]


class ChangeRole(Strict):
    role: Literal[ROLES]
