"""Scene bibles: series, versioned bibles, character emotions, dismissed continuity findings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("uid", name=op.f("uq_series_uid")),
    )
    op.create_table(
        "series_members",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_series_members_story_id_stories")),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], ondelete="CASCADE",
                                name=op.f("fk_series_members_series_id_series")),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_series_members")),
    )
    op.create_index(op.f("ix_series_members_series_id"), "series_members", ["series_id"])
    op.create_table(
        "bible_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("cause_segment", sa.String(length=40), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        _created(),
        sa.CheckConstraint("(story_id IS NULL) <> (series_id IS NULL)",
                           name=op.f("ck_bible_versions_one_owner")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_bible_versions_story_id_stories")),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], ondelete="CASCADE",
                                name=op.f("fk_bible_versions_series_id_series")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bible_versions")),
        sa.UniqueConstraint("story_id", "number", name=op.f("uq_bible_versions_story_id")),
        sa.UniqueConstraint("series_id", "number", name=op.f("uq_bible_versions_series_id")),
    )
    op.create_table(
        "character_emotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("character_id", sa.String(length=64), nullable=False),
        sa.Column("scene_uid", sa.String(length=40), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_character_emotions_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_character_emotions")),
        sa.UniqueConstraint("story_id", "character_id", "scene_uid",
                            name=op.f("uq_character_emotions_story_id")),
    )
    op.create_table(
        "continuity_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_continuity_dismissals_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_continuity_dismissals")),
        sa.UniqueConstraint("story_id", "key", name=op.f("uq_continuity_dismissals_story_id")),
    )


def downgrade() -> None:
    op.drop_table("continuity_dismissals")
    op.drop_table("character_emotions")
    op.drop_table("bible_versions")
    op.drop_index(op.f("ix_series_members_series_id"), table_name="series_members")
    op.drop_table("series_members")
    op.drop_table("series")
