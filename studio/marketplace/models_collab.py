"""ORM models of collaboration on a published story (migration 0006): collaborators with
roles, and proposals (a contributor's changed segment texts the owner or an editor accepts as
the story's next version, like a pull request).

- A story's owner is ``stories.owner_id`` and never a collaborator row.  A row is an
  invitation (``status = 'invited'``) until the invitee accepts it; a declined invitation and
  a removed (or leaving) member are deleted rows, so access ends with the row.
- A proposal keeps its texts as they were proposed (``segments``: ``{segment id: text}``,
  small: only the changed segments), against ``base_version``; accepting it rebases them onto
  the story's latest version (``routers/proposals.py``).

Row-level security of these tables on PostgreSQL: ``studio.marketplace.security_collab``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studio.marketplace.models import Base, UTCDateTime, _in, utcnow

COLLAB_ROLES = ("editor", "contributor", "viewer")
COLLAB_STATUSES = ("invited", "accepted")
PROPOSAL_STATUSES = ("open", "accepted", "partially_accepted", "declined", "withdrawn")
# Rank of a role on a story (``owner`` is the story's owner_id, never a row).
RANK = {"owner": 4, "editor": 3, "contributor": 2, "viewer": 1}


class StoryCollaborator(Base):
    __tablename__ = "story_collaborators"
    __table_args__ = (
        CheckConstraint(_in("role", COLLAB_ROLES), name="role"),
        CheckConstraint(_in("status", COLLAB_STATUSES), name="status"),
    )

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(10), default="invited")
    invited_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    base_version: Mapped[int] = mapped_column(Integer)
    segments: Mapped[Any] = mapped_column(JSON)  # {segment id: proposed text}
    scene_bible: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    accepted_segments: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    result_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
