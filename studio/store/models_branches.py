"""ORM model of local what-if branches (migration 0009).

A branch is a story row of its own — so the editor, bible, chapter graph, versions and exports
work on it unchanged — plus one row here saying whose branch it is.  Its scenes share the
parent's scene blobs until first edited (``scenes.shared_blob``, the copy-on-write forks use),
so a branch of a 1M-word novel writes a row per chapter and per scene and nothing per word.

``base_version`` is the parent's version number the branch was made from: the merge base when
the branch is merged back.  ``trunk_id`` is the family's main story (a branch of a branch keeps
it), which is how the toolbar switcher lists a family from any of its members.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studio.store.models import Base, utcnow


class StoryBranch(Base):
    __tablename__ = "story_branches"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          primary_key=True)
    trunk_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    base_version: Mapped[int] = mapped_column(Integer)
    branch_chapter: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
