"""The studio meets the marketplace: servers, the outbox, cached reference data, story links.

- ``marketplace_servers``: marketplace URLs the author uses (one is the default) and who is
  signed in there.  Tokens are never stored here: they live in the OS keyring.
- ``outbox``: every marketplace operation (publish, fork, like, report, resolutions…) waits
  here with its idempotency key until the server has accepted it exactly once.
- ``reference_stories`` / ``reference_versions``: what the author opened or forked, cached
  read-only for offline use; a version is stored once, its scenes' segments as content-addressed
  blobs in ``text_blobs`` (the same blobs version snapshots use).
- ``story_links``: a local story's tie to the marketplace (forked from a reference version, or
  published as a remote story).
- ``scenes.shared_blob``: copy-on-write for local forks — while set, the scene's segments are
  that blob (no segment rows); its first edit writes rows and clears it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "marketplace_servers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=True),
        _when("signed_in_at", nullable=True),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_servers")),
        sa.UniqueConstraint("url", name=op.f("uq_marketplace_servers_url")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.CheckConstraint("state IN ('pending', 'sending', 'done', 'failed', 'cancelled')",
                           name=op.f("ck_outbox_state")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="SET NULL",
                                name=op.f("fk_outbox_story_id_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index("ix_outbox_state_id", "outbox", ["state", "id"])
    op.create_table(
        "reference_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("licence", sa.String(length=40), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        _when("fetched_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_stories")),
        sa.UniqueConstraint("server_url", "public_id",
                            name=op.f("uq_reference_stories_server_url")),
    )
    op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference_story_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("modules_json", sa.Text(), nullable=False),
        sa.Column("scene_bible_json", sa.Text(), nullable=False),
        sa.Column("chapter_graph_json", sa.Text(), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        _when("fetched_at"),
        sa.ForeignKeyConstraint(["reference_story_id"], ["reference_stories.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_reference_versions_reference_story_id_reference_stories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_versions")),
        sa.UniqueConstraint("reference_story_id", "number",
                            name=op.f("uq_reference_versions_reference_story_id")),
    )
    op.create_table(
        "story_links",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("server_url", sa.String(length=500), nullable=False),
        sa.Column("source_version_id", sa.Integer(), nullable=True),
        sa.Column("remote_story_id", sa.String(length=40), nullable=True),
        sa.Column("remote_version", sa.Integer(), nullable=True),
        sa.Column("remote_fork_id", sa.String(length=40), nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE",
                                name=op.f("fk_story_links_story_id_stories")),
        sa.ForeignKeyConstraint(["source_version_id"], ["reference_versions.id"],
                                name=op.f("fk_story_links_source_version_id_reference_versions")),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_links")),
    )
    with op.batch_alter_table("scenes") as batch:
        batch.add_column(sa.Column("shared_blob", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenes") as batch:
        batch.drop_column("shared_blob")
    op.drop_table("story_links")
    op.drop_table("reference_versions")
    op.drop_table("reference_stories")
    op.drop_index("ix_outbox_state_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("marketplace_servers")
