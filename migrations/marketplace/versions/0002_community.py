"""Community chapters (immutable numbered versions, forks with lineage), voice templates
(permanent reference data, superseded but never deleted), moderation flags and ``hidden``,
per-user storage counters for quotas; on PostgreSQL, the row-level security policies of
``security_community.RLS_0002``; the app role's privileges (``APP_PRIVILEGES_0002``) are granted
by ``studio-marketplace migrate --grant-to``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from studio.marketplace.security_community import (
    RLS_0002, RLS_0002_DOWN, RLS_0002_DOWN_LAST,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "community_chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("licence", sa.String(length=24), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("forked_from_chapter_id", sa.Integer(), nullable=True),
        sa.Column("forked_from_version", sa.Integer(), nullable=True),
        sa.Column("forked_from_owner_id", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("licence IN ('CC-BY', 'CC-BY-NC', 'all-rights-reserved')", name=op.f("ck_community_chapters_licence")),
        sa.CheckConstraint("visibility IN ('public', 'unlisted')", name=op.f("ck_community_chapters_visibility")),
        sa.ForeignKeyConstraint(["forked_from_chapter_id"], ["community_chapters.id"], name=op.f("fk_community_chapters_forked_from_chapter_id_community_chapters"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["forked_from_owner_id"], ["users.id"], name=op.f("fk_community_chapters_forked_from_owner_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_community_chapters_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_chapters")),
        sa.UniqueConstraint("public_id", name=op.f("uq_community_chapters_public_id"))
    )
    op.create_index(op.f("ix_community_chapters_forked_from_chapter_id"), "community_chapters", ["forked_from_chapter_id"])
    op.create_index(op.f("ix_community_chapters_owner_id"), "community_chapters", ["owner_id"])
    op.create_index(op.f("ix_community_chapters_updated_at"), "community_chapters", ["updated_at"])
    op.create_table(
        "user_usage",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("storage_bytes", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_usage_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_usage"))
    )
    op.create_table(
        "voice_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("emotion", sa.String(length=40), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("licence", sa.String(length=24), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("licence IN ('CC-BY', 'CC-BY-NC', 'all-rights-reserved')", name=op.f("ck_voice_templates_licence")),
        sa.CheckConstraint("visibility IN ('public', 'unlisted')", name=op.f("ck_voice_templates_visibility")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_voice_templates_owner_id_users")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["voice_templates.id"], name=op.f("fk_voice_templates_supersedes_id_voice_templates")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_templates")),
        sa.UniqueConstraint("public_id", name=op.f("uq_voice_templates_public_id")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_voice_templates_supersedes_id"))
    )
    op.create_index(op.f("ix_voice_templates_created_at"), "voice_templates", ["created_at"])
    op.create_index(op.f("ix_voice_templates_emotion"), "voice_templates", ["emotion"])
    op.create_index(op.f("ix_voice_templates_owner_id"), "voice_templates", ["owner_id"])
    op.create_table(
        "community_chapter_stats",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("forks", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["community_chapters.id"], name=op.f("fk_community_chapter_stats_chapter_id_community_chapters"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chapter_id", name=op.f("pk_community_chapter_stats"))
    )
    op.create_table(
        "community_chapter_tags",
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["community_chapters.id"], name=op.f("fk_community_chapter_tags_chapter_id_community_chapters"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chapter_id", "tag", name=op.f("pk_community_chapter_tags"))
    )
    op.create_index(op.f("ix_community_chapter_tags_tag"), "community_chapter_tags", ["tag"])
    op.create_table(
        "community_chapter_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chapter_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("chapter", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_community_chapter_versions_author_id_users")),
        sa.ForeignKeyConstraint(["chapter_id"], ["community_chapters.id"], name=op.f("fk_community_chapter_versions_chapter_id_community_chapters"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_chapter_versions")),
        sa.UniqueConstraint("chapter_id", "number", name=op.f("uq_community_chapter_versions_chapter_id"))
    )
    op.create_index(op.f("ix_community_chapter_versions_chapter_id"), "community_chapter_versions", ["chapter_id"])
    op.create_table(
        "moderation_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_public_id", sa.String(length=32), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("chapter_id", sa.Integer(), nullable=True),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("open_item", sa.String(length=32), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(item_kind = 'story' AND story_id IS NOT NULL AND chapter_id IS NULL AND template_id IS NULL) OR (item_kind = 'chapter' AND story_id IS NULL AND chapter_id IS NOT NULL AND template_id IS NULL) OR (item_kind = 'voice_template' AND story_id IS NULL AND chapter_id IS NULL AND template_id IS NOT NULL)", name=op.f("ck_moderation_flags_one_item")),
        sa.CheckConstraint("item_kind IN ('story', 'chapter', 'voice_template')", name=op.f("ck_moderation_flags_item_kind")),
        sa.CheckConstraint("reason IN ('spam', 'abuse', 'copyright', 'other')", name=op.f("ck_moderation_flags_reason")),
        sa.CheckConstraint("status IN ('open', 'dismissed', 'hidden')", name=op.f("ck_moderation_flags_status")),
        sa.ForeignKeyConstraint(["chapter_id"], ["community_chapters.id"], name=op.f("fk_moderation_flags_chapter_id_community_chapters"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name=op.f("fk_moderation_flags_reporter_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["users.id"], name=op.f("fk_moderation_flags_resolved_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_moderation_flags_story_id_stories"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["template_id"], ["voice_templates.id"], name=op.f("fk_moderation_flags_template_id_voice_templates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_flags")),
        sa.UniqueConstraint("public_id", name=op.f("uq_moderation_flags_public_id")),
        sa.UniqueConstraint("reporter_id", "open_item", name=op.f("uq_moderation_flags_reporter_id"))
    )
    op.create_index(op.f("ix_moderation_flags_chapter_id"), "moderation_flags", ["chapter_id"])
    op.create_index(op.f("ix_moderation_flags_reporter_id"), "moderation_flags", ["reporter_id"])
    op.create_index(op.f("ix_moderation_flags_status"), "moderation_flags", ["status"])
    op.create_index(op.f("ix_moderation_flags_story_id"), "moderation_flags", ["story_id"])
    op.create_index(op.f("ix_moderation_flags_template_id"), "moderation_flags", ["template_id"])
    op.create_table(
        "voice_template_stats",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["voice_templates.id"], name=op.f("fk_voice_template_stats_template_id_voice_templates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("template_id", name=op.f("pk_voice_template_stats"))
    )
    op.create_table(
        "voice_template_tags",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["template_id"], ["voice_templates.id"], name=op.f("fk_voice_template_tags_template_id_voice_templates"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("template_id", "tag", name=op.f("pk_voice_template_tags"))
    )
    op.create_index(op.f("ix_voice_template_tags_tag"), "voice_template_tags", ["tag"])
    if _postgresql():
        for statement in RLS_0002:
            op.execute(statement)


def downgrade() -> None:
    if _postgresql():
        for statement in RLS_0002_DOWN:
            op.execute(statement)
    op.drop_index(op.f("ix_voice_template_tags_tag"), table_name="voice_template_tags")
    op.drop_table("voice_template_tags")
    op.drop_table("voice_template_stats")
    op.drop_index(op.f("ix_moderation_flags_template_id"), table_name="moderation_flags")
    op.drop_index(op.f("ix_moderation_flags_story_id"), table_name="moderation_flags")
    op.drop_index(op.f("ix_moderation_flags_status"), table_name="moderation_flags")
    op.drop_index(op.f("ix_moderation_flags_reporter_id"), table_name="moderation_flags")
    op.drop_index(op.f("ix_moderation_flags_chapter_id"), table_name="moderation_flags")
    op.drop_table("moderation_flags")
    op.drop_index(op.f("ix_community_chapter_versions_chapter_id"), table_name="community_chapter_versions")
    op.drop_table("community_chapter_versions")
    op.drop_index(op.f("ix_community_chapter_tags_tag"), table_name="community_chapter_tags")
    op.drop_table("community_chapter_tags")
    op.drop_table("community_chapter_stats")
    op.drop_index(op.f("ix_voice_templates_owner_id"), table_name="voice_templates")
    op.drop_index(op.f("ix_voice_templates_emotion"), table_name="voice_templates")
    op.drop_index(op.f("ix_voice_templates_created_at"), table_name="voice_templates")
    op.drop_table("voice_templates")
    op.drop_table("user_usage")
    op.drop_index(op.f("ix_community_chapters_updated_at"), table_name="community_chapters")
    op.drop_index(op.f("ix_community_chapters_owner_id"), table_name="community_chapters")
    op.drop_index(op.f("ix_community_chapters_forked_from_chapter_id"), table_name="community_chapters")
    op.drop_table("community_chapters")
    if _postgresql():
        for statement in RLS_0002_DOWN_LAST:
            op.execute(statement)
