"""Request bodies of collaboration (issue 11): invitations, roles, proposals and their
decisions.  Bounded and typed like ``schemas.py``: bad input is a 422 naming the field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from studio.marketplace.schemas import (
    Changelog, Description, JsonObject, SegmentId, SegmentText, Strict, Text, Title, Version,
)
from studio.marketplace.settings import MAX_SEGMENTS

PROPOSAL_ID_RE = r"^pr_[A-Za-z0-9_-]{1,28}$"
CollabRole = Literal["editor", "contributor", "viewer"]


class Invite(Strict):
    # looked up as typed (trimmed, lower-cased): a name no account has is a 404 unknown_user
    # that says so, rather than a pattern error
    username: Annotated[Text, Field(min_length=1, max_length=100)]
    role: CollabRole


class ChangeCollabRole(Strict):
    role: CollabRole


class Propose(Strict):
    title: Title
    description: Description = ""
    base_version: Version
    segments: Annotated[dict[SegmentId, SegmentText], Field(min_length=1,
                                                             max_length=MAX_SEGMENTS)]
    scene_bible: JsonObject | None = None


class AcceptProposal(Strict):
    """``segments``: the ids to accept (null: all of the proposal's); ``scene_bible``: take
    the proposal's scene bible too."""

    segments: Annotated[list[SegmentId], Field(max_length=MAX_SEGMENTS)] | None = None
    scene_bible: bool = False
    changelog: Changelog | None = None
