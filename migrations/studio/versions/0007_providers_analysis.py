"""Providers and analysis: configured AI providers (keys stay in the keyring), the default
provider per capability, a usage record per call, stored story analyses, image presets and
scene illustrations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "provider_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_configs")),
        sa.UniqueConstraint("name", name=op.f("uq_provider_configs_name")),
    )
    op.create_table(
        "provider_defaults",
        sa.Column("capability", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["provider_configs.id"], ondelete="CASCADE",
                                name=op.f("fk_provider_defaults_provider_id_provider_configs")),
        sa.PrimaryKeyConstraint("capability", name=op.f("pk_provider_defaults")),
    )
    op.create_table(
        "provider_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("capability", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["provider_id"], ["provider_configs.id"], ondelete="SET NULL",
                                name=op.f("fk_provider_usage_provider_id_provider_configs")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="SET NULL",
                                name=op.f("fk_provider_usage_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_usage")),
    )
    op.create_index("ix_provider_usage_at", "provider_usage", ["at"])
    op.create_index("ix_provider_usage_story_id_at", "provider_usage", ["story_id", "at"])
    op.create_table(
        "story_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("insights_version", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        _when("created_at"),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_story_analyses_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_analyses")),
        sa.UniqueConstraint("story_id", "content_hash", "insights_version",
                            name=op.f("uq_story_analyses_story_id")),
    )
    op.create_table(
        "image_presets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("settings_json", sa.Text(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["provider_id"], ["provider_configs.id"], ondelete="SET NULL",
                                name=op.f("fk_image_presets_provider_id_provider_configs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_presets")),
        sa.UniqueConstraint("name", name=op.f("uq_image_presets_name")),
    )
    op.create_table(
        "scene_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("scene_uid", sa.String(length=40), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("preset_name", sa.String(length=200), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=40), nullable=False),
        sa.Column("bytes_size", sa.Integer(), nullable=False),
        _when("created_at"),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_scene_images_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scene_images")),
    )
    op.create_index("ix_scene_images_story_id_scene_uid", "scene_images",
                    ["story_id", "scene_uid"])


def downgrade() -> None:
    op.drop_index("ix_scene_images_story_id_scene_uid", table_name="scene_images")
    op.drop_table("scene_images")
    op.drop_table("image_presets")
    op.drop_table("story_analyses")
    op.drop_index("ix_provider_usage_story_id_at", table_name="provider_usage")
    op.drop_index("ix_provider_usage_at", table_name="provider_usage")
    op.drop_table("provider_usage")
    op.drop_table("provider_defaults")
    op.drop_table("provider_configs")
