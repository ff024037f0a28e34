"""The marketplace schema: accounts and tokens, reference stories with immutable versions
(segment texts stored once by content hash), forks and their overrides, likes, counters and
idempotency keys; on PostgreSQL, the row-level security policies of ``security.RLS_0001``.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa

from studio.marketplace.security import RLS_0001, RLS_0001_DOWN

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures"))
    )
    op.create_index("ix_login_failures_username_client", "login_failures", ["username", "client", "at"])
    op.create_table(
        "segment_texts",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_segment_texts"))
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('user', 'moderator', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username"))
    )
    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=16), nullable=True),
        sa.CheckConstraint("kind IN ('access', 'refresh')", name=op.f("ck_auth_tokens_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash"))
    )
    op.create_index(op.f("ix_auth_tokens_session_id"), "auth_tokens", ["session_id"])
    op.create_index(op.f("ix_auth_tokens_user_id"), "auth_tokens", ["user_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotency_keys_user_id"))
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("genre", sa.String(length=60), nullable=False),
        sa.Column("licence", sa.String(length=24), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("forked_from_story_id", sa.Integer(), nullable=True),
        sa.Column("forked_from_version", sa.Integer(), nullable=True),
        sa.Column("forked_from_owner_id", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("licence IN ('CC-BY', 'CC-BY-NC', 'all-rights-reserved')", name=op.f("ck_stories_licence")),
        sa.CheckConstraint("visibility IN ('public', 'unlisted')", name=op.f("ck_stories_visibility")),
        sa.ForeignKeyConstraint(["forked_from_owner_id"], ["users.id"], name=op.f("fk_stories_forked_from_owner_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["forked_from_story_id"], ["stories.id"], name=op.f("fk_stories_forked_from_story_id_stories"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_stories_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
        sa.UniqueConstraint("public_id", name=op.f("uq_stories_public_id"))
    )
    op.create_index(op.f("ix_stories_forked_from_story_id"), "stories", ["forked_from_story_id"])
    op.create_index(op.f("ix_stories_genre"), "stories", ["genre"])
    op.create_index(op.f("ix_stories_owner_id"), "stories", ["owner_id"])
    op.create_index(op.f("ix_stories_updated_at"), "stories", ["updated_at"])
    op.create_table(
        "likes",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_likes_story_id_stories"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_likes_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "story_id", name=op.f("pk_likes"))
    )
    op.create_index(op.f("ix_likes_story_id"), "likes", ["story_id"])
    op.create_table(
        "story_daily_stats",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_story_daily_stats_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", "day", name=op.f("pk_story_daily_stats"))
    )
    op.create_index(op.f("ix_story_daily_stats_day"), "story_daily_stats", ["day"])
    op.create_table(
        "story_stats",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("forks", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_story_stats_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_stats"))
    )
    op.create_table(
        "story_tags",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_story_tags_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", "tag", name=op.f("pk_story_tags"))
    )
    op.create_index(op.f("ix_story_tags_tag"), "story_tags", ["tag"])
    op.create_table(
        "story_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("segment_count", sa.Integer(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("modules", sa.JSON(), nullable=False),
        sa.Column("scene_bible", sa.JSON(), nullable=False),
        sa.Column("chapter_graph", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_story_versions_author_id_users")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], name=op.f("fk_story_versions_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_versions")),
        sa.UniqueConstraint("story_id", "number", name=op.f("uq_story_versions_story_id"))
    )
    op.create_index(op.f("ix_story_versions_story_id"), "story_versions", ["story_id"])
    op.create_table(
        "forks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("source_story_id", sa.Integer(), nullable=False),
        sa.Column("source_version_id", sa.Integer(), nullable=False),
        sa.Column("synced_version", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=10), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=True),
        sa.Column("modules", sa.JSON(), nullable=True),
        sa.Column("scene_bible", sa.JSON(), nullable=True),
        sa.Column("chapter_graph", sa.JSON(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("remix_story_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("strategy IN ('reference', 'delta', 'full')", name=op.f("ck_forks_strategy")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_forks_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["remix_story_id"], ["stories.id"], name=op.f("fk_forks_remix_story_id_stories"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_story_id"], ["stories.id"], name=op.f("fk_forks_source_story_id_stories")),
        sa.ForeignKeyConstraint(["source_version_id"], ["story_versions.id"], name=op.f("fk_forks_source_version_id_story_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_forks_public_id"))
    )
    op.create_index(op.f("ix_forks_owner_id"), "forks", ["owner_id"])
    op.create_index(op.f("ix_forks_source_story_id"), "forks", ["source_story_id"])
    op.create_table(
        "fork_overrides",
        sa.Column("fork_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.String(length=100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["fork_id"], ["forks.id"], name=op.f("fk_fork_overrides_fork_id_forks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_fork_overrides_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["text_hash"], ["segment_texts.hash"], name=op.f("fk_fork_overrides_text_hash_segment_texts")),
        sa.PrimaryKeyConstraint("fork_id", "segment_id", name=op.f("pk_fork_overrides"))
    )
    op.create_index(op.f("ix_fork_overrides_owner_id"), "fork_overrides", ["owner_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in RLS_0001:
            op.execute(statement)



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in RLS_0001_DOWN:
            op.execute(statement)
    op.drop_index(op.f("ix_fork_overrides_owner_id"), table_name="fork_overrides")
    op.drop_table("fork_overrides")
    op.drop_index(op.f("ix_forks_source_story_id"), table_name="forks")
    op.drop_index(op.f("ix_forks_owner_id"), table_name="forks")
    op.drop_table("forks")
    op.drop_index(op.f("ix_story_versions_story_id"), table_name="story_versions")
    op.drop_table("story_versions")
    op.drop_index(op.f("ix_story_tags_tag"), table_name="story_tags")
    op.drop_table("story_tags")
    op.drop_table("story_stats")
    op.drop_index(op.f("ix_story_daily_stats_day"), table_name="story_daily_stats")
    op.drop_table("story_daily_stats")
    op.drop_index(op.f("ix_likes_story_id"), table_name="likes")
    op.drop_table("likes")
    op.drop_index(op.f("ix_stories_updated_at"), table_name="stories")
    op.drop_index(op.f("ix_stories_owner_id"), table_name="stories")
    op.drop_index(op.f("ix_stories_genre"), table_name="stories")
    op.drop_index(op.f("ix_stories_forked_from_story_id"), table_name="stories")
    op.drop_table("stories")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_auth_tokens_user_id"), table_name="auth_tokens")
    op.drop_index(op.f("ix_auth_tokens_session_id"), table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_table("users")
    op.drop_table("segment_texts")
    op.drop_index("ix_login_failures_username_client", table_name="login_failures")
    op.drop_table("login_failures")
