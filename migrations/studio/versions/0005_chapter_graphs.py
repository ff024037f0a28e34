"""Chapter graphs: graph chapters, chapter versions, playthroughs and their divergence log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _story_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_story_id_stories"))


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "graph_chapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        _when("updated_at"),
        _story_fk("graph_chapters"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graph_chapters")),
        sa.UniqueConstraint("story_id", "uid", name=op.f("uq_graph_chapters_story_id")),
    )
    op.create_table(
        "chapter_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("chapter_uid", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        _when("created_at"),
        _story_fk("chapter_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chapter_versions")),
        sa.UniqueConstraint("story_id", "chapter_uid", "number",
                            name=op.f("uq_chapter_versions_story_id")),
    )
    op.create_table(
        "playthroughs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("progress_json", sa.Text(), nullable=False),
        sa.Column("turns_json", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _story_fk("playthroughs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playthroughs")),
        sa.UniqueConstraint("story_id", "uid", name=op.f("uq_playthroughs_story_id")),
    )
    op.create_table(
        "divergence_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playthrough_id", sa.Integer(), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("chapter_uid", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(["playthrough_id"], ["playthroughs.id"], ondelete="CASCADE",
                                name=op.f("fk_divergence_log_playthrough_id_playthroughs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_divergence_log")),
    )
    op.create_index(op.f("ix_divergence_log_playthrough_id"), "divergence_log",
                    ["playthrough_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_divergence_log_playthrough_id"), table_name="divergence_log")
    op.drop_table("divergence_log")
    op.drop_table("playthroughs")
    op.drop_table("chapter_versions")
    op.drop_table("graph_chapters")
