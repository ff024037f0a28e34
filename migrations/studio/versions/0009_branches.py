"""Local what-if branches: one row per branch story, naming its family's main story (trunk),
the story it was branched from (parent) and the parent's version that is the merge base.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _story_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["stories.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_story_branches_{column}_stories"))


def upgrade() -> None:
    op.create_table(
        "story_branches",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("trunk_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("branch_chapter", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True),
        _story_fk("story_id"),
        _story_fk("trunk_id"),
        _story_fk("parent_id"),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_branches")),
    )
    op.create_index(op.f("ix_story_branches_trunk_id"), "story_branches", ["trunk_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_story_branches_trunk_id"), table_name="story_branches")
    op.drop_table("story_branches")
