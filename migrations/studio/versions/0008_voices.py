"""Voices: permanent voice templates (a trigger refuses their deletion), the author's voice
samples (files in the data folder; rows hold metadata and checksums), emotion voices cloned by
a provider, narrations and roleplays that refer to a story, and rendered audio reused by key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PERMANENT_TRIGGER = """
CREATE TRIGGER voice_templates_are_permanent BEFORE DELETE ON voice_templates
BEGIN
    SELECT RAISE(ABORT, 'voice templates are permanent: supersede or hide them instead');
END
"""


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "voice_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("emotion", sa.String(length=40), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("sample_line", sa.Text(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=40), nullable=True),
        sa.Column("superseded_by", sa.String(length=64), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_templates")),
        sa.UniqueConstraint("uid", name=op.f("uq_voice_templates_uid")),
    )
    op.execute(PERMANENT_TRIGGER)
    op.create_table(
        "voice_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("template_uid", sa.String(length=64), nullable=True),
        sa.Column("emotion", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("original_name", sa.String(length=500), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("bytes_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("peaks_json", sa.Text(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_samples")),
        sa.UniqueConstraint("uid", name=op.f("uq_voice_samples_uid")),
    )
    op.create_index(op.f("ix_voice_samples_template_uid"), "voice_samples", ["template_uid"])
    op.create_table(
        "emotion_voices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("emotion", sa.String(length=40), nullable=False),
        sa.Column("template_uid", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("provider_voice_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("sample_uids_json", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _fk("emotion_voices", "provider_id", "provider_configs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emotion_voices")),
        sa.UniqueConstraint("uid", name=op.f("uq_emotion_voices_uid")),
    )
    op.create_table(
        "narrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("reference_version_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("narrator_json", sa.Text(), nullable=False),
        sa.Column("voice_type", sa.String(length=40), nullable=False),
        sa.Column("voices_json", sa.Text(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _fk("narrations", "story_id", "stories", "SET NULL"),
        _fk("narrations", "reference_version_id", "reference_versions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_narrations")),
        sa.UniqueConstraint("uid", name=op.f("uq_narrations_uid")),
    )
    op.create_index(op.f("ix_narrations_story_id"), "narrations", ["story_id"])
    op.create_table(
        "narration_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("narration_id", sa.Integer(), nullable=False),
        sa.Column("segment_uid", sa.String(length=40), nullable=False),
        sa.Column("voice", sa.String(length=64), nullable=False),
        sa.Column("template_uid", sa.String(length=64), nullable=True),
        sa.Column("emotion", sa.String(length=40), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        _fk("narration_segments", "narration_id", "narrations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_narration_segments")),
        sa.UniqueConstraint("narration_id", "segment_uid",
                            name=op.f("uq_narration_segments_narration_id")),
    )
    op.create_table(
        "voice_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("render_key", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=40), nullable=False),
        sa.Column("bytes_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_renders")),
        sa.UniqueConstraint("render_key", name=op.f("uq_voice_renders_render_key")),
    )
    op.create_table(
        "roleplays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=40), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("reference_version_id", sa.Integer(), nullable=True),
        sa.Column("character_id", sa.String(length=64), nullable=False),
        sa.Column("character_name", sa.String(length=200), nullable=False),
        sa.Column("player", sa.String(length=200), nullable=False),
        sa.Column("voice_json", sa.Text(), nullable=False),
        _when("created_at"),
        _fk("roleplays", "story_id", "stories", "SET NULL"),
        _fk("roleplays", "reference_version_id", "reference_versions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplays")),
        sa.UniqueConstraint("uid", name=op.f("uq_roleplays_uid")),
    )
    op.create_index(op.f("ix_roleplays_story_id"), "roleplays", ["story_id"])
    op.create_table(
        "roleplay_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roleplay_id", sa.Integer(), nullable=False),
        sa.Column("segment_uid", sa.String(length=40), nullable=False),
        sa.Column("line_index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("voice_json", sa.Text(), nullable=False),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("sample_uid", sa.String(length=40), nullable=True),
        sa.Column("render_key", sa.String(length=64), nullable=True),
        _fk("roleplay_lines", "roleplay_id", "roleplays", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_lines")),
        sa.UniqueConstraint("roleplay_id", "segment_uid", "line_index",
                            name=op.f("uq_roleplay_lines_roleplay_id")),
    )
    op.create_index("ix_roleplay_lines_roleplay_id", "roleplay_lines", ["roleplay_id"])


def downgrade() -> None:
    op.drop_index("ix_roleplay_lines_roleplay_id", table_name="roleplay_lines")
    op.drop_table("roleplay_lines")
    op.drop_index(op.f("ix_roleplays_story_id"), table_name="roleplays")
    op.drop_table("roleplays")
    op.drop_table("voice_renders")
    op.drop_table("narration_segments")
    op.drop_index(op.f("ix_narrations_story_id"), table_name="narrations")
    op.drop_table("narrations")
    op.drop_table("emotion_voices")
    op.drop_index(op.f("ix_voice_samples_template_uid"), table_name="voice_samples")
    op.drop_table("voice_samples")
    op.execute("DROP TRIGGER IF EXISTS voice_templates_are_permanent")
    op.drop_table("voice_templates")
