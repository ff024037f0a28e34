"""Collaborators with roles and proposals (issue 11).

- ``story_collaborators``: (story, user) → role (editor, contributor, viewer) and status
  (invited, accepted); declined invitations and removed members are deleted rows.
- ``proposals``: a contributor's changed segment texts against a base version, decided by the
  owner or an editor (accepted, partially accepted, declined) or withdrawn by its author.
- ``story_versions.credits``: the user ids a version credits besides its author (the author of
  the proposal it accepted).
- ``stories.members_only``: the API's visibility "private" (stored as 'unlisted' plus this
  flag): readable only by the owner and the accepted collaborators.  A flag rather than a third
  value of ``ck_stories_visibility``: changing a CHECK on SQLite means rebuilding ``stories``,
  which a dozen tables reference; adding a column is one ALTER TABLE on both backends, and
  code that knows only public/unlisted sees an unlisted story, never lists it.  (Downgrading
  drops the flag: private stories become unlisted ones, readable by their link.)

On PostgreSQL, ``security_collab.RLS_0006``: the role functions (``SECURITY DEFINER``, owned by
the role running this migration, which must own the tables), the new tables' policies and the
members' policies on stories and versions; the app role's privileges are
``security_collab.APP_PRIVILEGES_0006`` and EXECUTE on the functions, granted by
``studio-marketplace migrate --grant-to``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from studio.marketplace.security_collab import RLS_0006, RLS_0006_DOWN, RLS_0006_DOWN_LAST

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "story_collaborators",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('editor', 'contributor', 'viewer')",
                           name=op.f("ck_story_collaborators_role")),
        sa.CheckConstraint("status IN ('invited', 'accepted')",
                           name=op.f("ck_story_collaborators_status")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_story_collaborators_story_id_stories"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_story_collaborators_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"],
                                name=op.f("fk_story_collaborators_invited_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("story_id", "user_id", name=op.f("pk_story_collaborators")),
    )
    op.create_index(op.f("ix_story_collaborators_user_id"), "story_collaborators",
                    ["user_id"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("scene_bible", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("accepted_segments", sa.JSON(), nullable=True),
        sa.Column("result_version", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'accepted', 'partially_accepted', 'declined', "
                           "'withdrawn')", name=op.f("ck_proposals_status")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_proposals_story_id_stories"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_proposals_author_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_proposals_decided_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("public_id", name=op.f("uq_proposals_public_id")),
    )
    op.create_index(op.f("ix_proposals_story_id"), "proposals", ["story_id"])
    op.create_index(op.f("ix_proposals_author_id"), "proposals", ["author_id"])
    with op.batch_alter_table("story_versions") as batch:
        batch.add_column(sa.Column("credits", sa.JSON(), nullable=True))
    # not in batch mode: a plain ALTER TABLE ADD COLUMN on SQLite too (no rebuild of stories)
    op.add_column("stories", sa.Column("members_only", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    if _postgresql():
        for statement in RLS_0006:
            op.execute(statement)


def downgrade() -> None:
    if _postgresql():
        for statement in RLS_0006_DOWN:
            op.execute(statement)
        op.drop_column("stories", "members_only")
    else:  # SQLite ≥ 3.35 drops a plain column in place (batch mode would rebuild stories)
        op.execute("ALTER TABLE stories DROP COLUMN members_only")
    with op.batch_alter_table("story_versions") as batch:
        batch.drop_column("credits")
    op.drop_index(op.f("ix_proposals_author_id"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_story_id"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_index(op.f("ix_story_collaborators_user_id"), table_name="story_collaborators")
    op.drop_table("story_collaborators")
    if _postgresql():
        for statement in RLS_0006_DOWN_LAST:
            op.execute(statement)
