"""Request bodies of community chapters, voice templates, moderation and quotas: every field
typed and bounded like ``studio.marketplace.schemas`` (a bad field is a 422 naming it).

A community chapter is validated against ``definitions/chapter`` of
``resources/schemas/chapter_graph.schema.json`` (the desktop's chapter graph), then stored as
sent.  Voice template parameters are an object of at most 50 finite numbers with names of at
most 40 characters.
"""

from __future__ import annotations

import json
import math
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
from pydantic import AfterValidator, Field, Strict as StrictType, WithJsonSchema, \
    model_validator

from studio.marketplace.models_community import FLAG_ITEM_KINDS, FLAG_REASONS
from studio.marketplace.quotas import TIERS
from studio.marketplace.schemas import (
    Changelog, Description, Licence, Strict, Text, Title, Version, Visibility, check_json,
)
from studio.marketplace.settings import MAX_TAGS

CHAPTER_ID_RE = r"^ch_[A-Za-z0-9_-]{1,28}$"
TEMPLATE_ID_RE = r"^vt_[A-Za-z0-9_-]{1,28}$"
FLAG_ID_RE = r"^fl_[A-Za-z0-9_-]{1,28}$"
ITEM_ID_RE = r"^(st|ch|vt)_[A-Za-z0-9_-]{1,28}$"
ITEM_PREFIXES = {"story": "st_", "chapter": "ch_", "voice_template": "vt_"}

MAX_CHAPTER_BYTES = 1024 * 1024
MAX_PARAMETERS = 50
MAX_PARAMETER_NAME = 40
MAX_PARAMETER_VALUE = 1e9
MAX_FLAG_NOTE = 2000
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _schema_path() -> Path:
    """The chapter-graph schema: PyInstaller bundle, installed wheel or source tree."""
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates += [_PACKAGE_DIR / "_resources", _PACKAGE_DIR.parent / "resources"]
    for folder in candidates:
        path = folder / "schemas" / "chapter_graph.schema.json"
        if path.is_file():
            return path
    raise FileNotFoundError("chapter_graph.schema.json is missing (looked in: "
                            + ", ".join(map(str, candidates)) + "); reinstall the package")


@lru_cache(maxsize=1)
def _graph_schema() -> dict:
    return json.loads(_schema_path().read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def chapter_validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": "#/definitions/chapter",
                                       "definitions": _graph_schema()["definitions"]})


def chapter_json_schema() -> dict:
    """The chapter definition with its references inlined, for the OpenAPI document."""
    definitions = _graph_schema()["definitions"]

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/definitions/"):
                return inline(definitions[ref.rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {**inline(definitions["chapter"]),
            "description": "A chapter of a chapter graph (chapter_graph.schema.json, "
                           "definitions/chapter)."}


def _finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("holds a number JSON cannot represent (NaN or infinity)")
    if isinstance(value, dict):
        for item in value.values():
            _finite(item)
    elif isinstance(value, list):
        for item in value:
            _finite(item)


def validate_chapter(chapter: dict[str, Any]) -> dict[str, Any]:
    _finite(chapter)
    errors = sorted(chapter_validator().iter_errors(chapter),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(the chapter)"
        message = first.message.replace("Additional properties are not allowed",
                                        "unknown field(s)")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValueError(f"is not a chapter-graph chapter: {where}: {message[:300]}{more}")
    size = len(json.dumps(chapter, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_CHAPTER_BYTES:
        raise ValueError(f"is {size} bytes of JSON; the limit is {MAX_CHAPTER_BYTES}")
    return chapter


ChapterDoc = Annotated[dict[str, Any], AfterValidator(check_json),
                      AfterValidator(validate_chapter), WithJsonSchema(chapter_json_schema())]
# Tags and emotions: letters (either case; stored lower-case), digits, space, _ and -.
Tag = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$"),
                AfterValidator(str.lower)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]


# --- community chapters --------------------------------------------------------------

class ChapterMeta(Strict):
    title: Title
    description: Description = ""
    tags: Tags = []
    licence: Licence
    visibility: Visibility = "public"


class PublishChapter(ChapterMeta):
    changelog: Changelog = "First version"
    chapter: ChapterDoc


class NewChapterVersion(Strict):
    changelog: Changelog
    chapter: ChapterDoc


class UpdateChapter(Strict):
    title: Title | None = None
    description: Description | None = None
    tags: Tags | None = None
    licence: Licence | None = None
    visibility: Visibility | None = None


class ForkChapter(Strict):
    """Defaults: the source's latest version, title, description, tags, licence and
    visibility."""

    version: Version | None = None
    title: Title | None = None
    description: Description | None = None
    tags: Tags | None = None
    licence: Licence | None = None
    visibility: Visibility | None = None


# --- voice templates -----------------------------------------------------------------

ParameterName = Annotated[Text, Field(min_length=1, max_length=MAX_PARAMETER_NAME)]
ParameterValue = (
    Annotated[int, StrictType(), Field(ge=-MAX_PARAMETER_VALUE, le=MAX_PARAMETER_VALUE)]
    | Annotated[float, StrictType(), Field(ge=-MAX_PARAMETER_VALUE, le=MAX_PARAMETER_VALUE,
                                           allow_inf_nan=False)])
Emotion = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9 _-]{0,39}$",
                               description='e.g. "fear" (stored lower-case)'),
                    AfterValidator(str.lower)]


class PublishVoiceTemplate(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    description: Description = ""
    emotion: Emotion
    parameters: Annotated[dict[ParameterName, ParameterValue],
                          Field(min_length=1, max_length=MAX_PARAMETERS)]
    tags: Tags = []
    licence: Licence
    visibility: Visibility = "public"
    supersedes: Annotated[str, Field(pattern=TEMPLATE_ID_RE)] | None = None


# --- moderation and quotas -----------------------------------------------------------

FlagNote = Annotated[Text, Field(max_length=MAX_FLAG_NOTE)]


class ReportItem(Strict):
    item_type: Literal[FLAG_ITEM_KINDS]
    item_id: Annotated[str, Field(pattern=ITEM_ID_RE)]
    reason: Literal[FLAG_REASONS]
    note: FlagNote = ""

    @model_validator(mode="after")
    def _prefix_matches(self) -> "ReportItem":
        prefix = ITEM_PREFIXES[self.item_type]
        if not self.item_id.startswith(prefix):
            raise ValueError(f"item_id of a {self.item_type.replace('_', ' ')} starts with "
                             f"{prefix!r}")
        return self


class ResolveFlag(Strict):
    action: Literal["dismiss", "hide"]
    note: FlagNote = ""


class SetTier(Strict):
    tier: Literal[TIERS]
