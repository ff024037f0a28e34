"""The manuscript: chapters, scenes, segments with a full-text index; writing days; targets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FTS_DDL = [
    # External-content FTS5: the index holds no second copy of the prose.
    "CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN "
    "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES('delete', old.id, old.text); END",
    "CREATE TRIGGER segments_au AFTER UPDATE OF text ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES('delete', old.id, old.text); "
    "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END",
]


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("word_target", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=False,
                                   server_default="en"))
    op.create_table(
        "chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("synopsis", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("word_target", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_chapters_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapters")),
        sa.UniqueConstraint("story_id", "uid", name=op.f("uq_chapters_story_id")),
    )
    op.create_index(op.f("ix_chapters_story_id"), "chapters", ["story_id"])
    op.create_table(
        "scenes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("synopsis", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_scenes_story_id_stories")),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE",
                                name=op.f("fk_scenes_chapter_id_chapters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenes")),
        sa.UniqueConstraint("story_id", "uid", name=op.f("uq_scenes_story_id")),
    )
    op.create_index(op.f("ix_scenes_story_id"), "scenes", ["story_id"])
    op.create_index("ix_scenes_chapter_position", "scenes", ["chapter_id", "position"])
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("gap", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_segments_story_id_stories")),
        sa.ForeignKeyConstraint(["scene_id"], ["scenes.id"], ondelete="CASCADE",
                                name=op.f("fk_segments_scene_id_scenes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("story_id", "uid", name=op.f("uq_segments_story_id")),
    )
    op.create_index("ix_segments_scene_position", "segments", ["scene_id", "position"])
    op.create_table(
        "text_blobs",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_text_blobs")),
    )
    op.create_table(
        "writing_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_writing_days_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writing_days")),
        sa.UniqueConstraint("story_id", "day", name=op.f("uq_writing_days_story_id")),
    )
    for statement in FTS_DDL:
        op.execute(statement)


def downgrade() -> None:
    for name in ("segments_au", "segments_ad", "segments_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS segments_fts")
    op.drop_table("writing_days")
    op.drop_table("text_blobs")
    op.drop_table("segments")
    op.drop_table("scenes")
    op.drop_table("chapters")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("language")
        batch.drop_column("word_target")
