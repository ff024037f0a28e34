"""Request bodies and parameters of the ideas board, jobs and browse cursors; documented
answers (browse pages, errors).

Bodies follow ``studio.marketplace.schemas``: strict (unknown fields are a 422), every string
bounded and free of NUL characters and lone surrogates.  Cursors are opaque to clients: URL-safe
base64 of a small JSON array (what the list was sorted by, and the last item's sort key and
id); anything that does not decode to the expected shape is a 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from studio.marketplace.errors import ApiError
from studio.marketplace.schemas import Strict, Tag, Text
from studio.marketplace.settings import BROWSE_TOTAL_CAP

SLUG_RE = r"^[a-z0-9][a-z0-9-]{0,39}$"
IDEA_ID_RE = r"^idea_[A-Za-z0-9_-]{1,27}$"
JOB_ID_RE = r"^jb_[A-Za-z0-9_-]{1,29}$"
MAX_IDEA_TAGS = 10
MAX_CURSOR = 500

Slug = Annotated[str, Field(pattern=SLUG_RE)]
IdeaTitle = Annotated[Text, Field(min_length=1, max_length=200)]
Prompt = Annotated[Text, Field(min_length=1, max_length=4000)]
IdeaTags = Annotated[list[Tag], Field(max_length=MAX_IDEA_TAGS)]
Reason = Annotated[Text, Field(min_length=1, max_length=1000)]


class NewCategory(Strict):
    slug: Slug
    name: Annotated[Text, Field(min_length=1, max_length=80)]
    description: Annotated[Text, Field(max_length=1000)] = ""


class UpdateCategory(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=80)] | None = None
    description: Annotated[Text, Field(max_length=1000)] | None = None


class NewTopic(Strict):
    slug: Slug
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    description: Annotated[Text, Field(max_length=2000)] = ""


class UpdateTopic(Strict):
    name: Annotated[Text, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[Text, Field(max_length=2000)] | None = None


class NewIdea(Strict):
    title: IdeaTitle
    prompt: Prompt
    category: Slug
    topic: Slug | None = None
    tags: IdeaTags = []


class UpdateIdea(Strict):
    """The author's changes; any change sends the idea back to review."""

    title: IdeaTitle | None = None
    prompt: Prompt | None = None
    category: Slug | None = None
    topic: Slug | None = None  # null: no topic
    tags: IdeaTags | None = None


class Review(Strict):
    decision: Literal["approve", "reject"]
    reason: Reason | None = None  # required to reject; seen by the author and moderators

    @model_validator(mode="after")
    def _reason_to_reject(self) -> "Review":
        if self.decision == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason (shown to the author)")
        return self


# --- documented answers (``responses=`` of the routes) --------------------------------------

class ErrorOut(BaseModel):
    detail: str
    code: str


class StoryStatsOut(BaseModel):
    views: int
    likes: int
    forks: int
    downloads: int


class ForkedFromOut(BaseModel):
    story_id: str | None = Field(description="null when the source is not visible to you "
                                 "(unlisted, or deleted)")
    version: int
    owner: str | None


class StoryOut(BaseModel):
    id: str
    title: str
    description: str
    genre: str
    tags: list[str]
    licence: str
    visibility: str
    owner: str | None
    latest_version: int
    created_at: datetime
    updated_at: datetime
    stats: StoryStatsOut | None
    forked_from: ForkedFromOut | None
    liked_by_me: bool | None = Field(description="null when not logged in")


class StoryPage(BaseModel):
    """A page of ``GET /v1/stories``."""

    items: list[StoryOut]
    total: int = Field(description="the stories matching the filters, counted up to "
                       f"{BROWSE_TOTAL_CAP:,}: when more match, this is {BROWSE_TOTAL_CAP:,} "
                       "and total_is_lower_bound is true.  A cursor page repeats the count "
                       "of the first page of its walk")
    total_is_lower_bound: bool = Field(description=f"true when more than {BROWSE_TOTAL_CAP:,} "
                                       "stories match (show it as \"1,000+\")")
    limit: int
    offset: int
    next_offset: int | None = Field(description="the offset of the next page; null on the "
                                    "last page and on cursor pages")
    next_cursor: str | None = Field(description="pass it as cursor for the next page; null "
                                    "on the last page")
    sort: Literal["popular", "recent", "trending"]


class AnalysisPending(BaseModel):
    story_id: str
    version: int
    status: str
    stage: str
    progress: float
    job: dict


# --- cursors -----------------------------------------------------------------------------

def encode_cursor(kind: str, keys: list[Any]) -> str:
    plain = [kind, *[k.isoformat() if isinstance(k, datetime) else k for k in keys]]
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _bad_cursor(why: str) -> ApiError:
    return ApiError(422, f"Invalid cursor ({why}): pass back the next_cursor of a previous "
                    "page unchanged, with the same sort.", "invalid_cursor")


def decode_cursor(cursor: str, kind: str, shape: tuple[type, ...]) -> list[Any]:
    """The keys of a cursor made by ``encode_cursor(kind, …)``; ``shape`` gives each key's
    type (``datetime`` keys travel as ISO strings, with a time zone)."""
    if len(cursor) > MAX_CURSOR:
        raise _bad_cursor("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw.decode("ascii"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor("not one of ours") from None
    if not isinstance(plain, list) or len(plain) != len(shape) + 1 or plain[0] != kind:
        raise _bad_cursor(f"it was not made for sort {kind!r}" if isinstance(plain, list)
                          and plain and isinstance(plain[0], str) else "wrong shape")
    keys = []
    for value, expected in zip(plain[1:], shape):
        if expected is datetime:
            try:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if value is None or value.tzinfo is None:
                raise _bad_cursor("bad time")
        elif expected is int:
            if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
                raise _bad_cursor("bad number")
        keys.append(value)
    return keys
