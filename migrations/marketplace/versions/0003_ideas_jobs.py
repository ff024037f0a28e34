"""The ideas board, the analysis job queue and reference analyses, story deletion.

Also story search: ``story_search`` holds each story's words (back-filled here for the
stories that exist), with a generated ``tsvector`` and a GIN index on PostgreSQL.  On
PostgreSQL, ``RLS_0003`` below: ideas that are not approved are private to their author and
the moderators (``app_is_moderator()``, from 0002), and an idea's tags and a story's search
words follow their parent row; the app role's privileges are ``security_ops.APP_PRIVILEGES_0003``, granted by
``studio-marketplace migrate --grant-to``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# ``app_is_moderator()`` comes from 0002; as a sub-select it is evaluated once per statement.
_MOD = "(SELECT app_is_moderator())"
_IDEA_VISIBLE = "EXISTS (SELECT 1 FROM ideas i WHERE i.id = idea_tags.idea_id)"
_IDEA_OWNED = ("EXISTS (SELECT 1 FROM ideas i WHERE i.id = idea_tags.idea_id "
               f"AND (i.author_id = app_user_id() OR {_MOD}))")
_STORY_VISIBLE = "EXISTS (SELECT 1 FROM stories s WHERE s.id = story_search.story_id)"
_STORY_OWNED = ("EXISTS (SELECT 1 FROM stories s WHERE s.id = story_search.story_id "
                "AND s.owner_id = app_user_id())")
RLS_TABLES_0003 = ["ideas", "idea_tags", "story_search"]
RLS_0003 = [
    f"ALTER TABLE {t} {what} ROW LEVEL SECURITY" for t in RLS_TABLES_0003
    for what in ("ENABLE", "FORCE")
] + [
    # Approved ideas are public; the others are their author's and the moderators'.
    "CREATE POLICY ideas_read ON ideas FOR SELECT "
    f"USING (status = 'approved' OR author_id = app_user_id() OR {_MOD})",
    "CREATE POLICY ideas_insert ON ideas FOR INSERT "
    "WITH CHECK (author_id = app_user_id() AND status = 'pending')",
    # Authors edit their own (which sends them back to review); moderators review.
    "CREATE POLICY ideas_update ON ideas FOR UPDATE "
    f"USING (author_id = app_user_id() OR {_MOD}) "
    f"WITH CHECK ({_MOD} OR (author_id = app_user_id() AND status = 'pending'))",
    "CREATE POLICY ideas_delete ON ideas FOR DELETE "
    f"USING (author_id = app_user_id() OR {_MOD})",
    f"CREATE POLICY idea_tags_read ON idea_tags FOR SELECT USING ({_IDEA_VISIBLE})",
    f"CREATE POLICY idea_tags_insert ON idea_tags FOR INSERT WITH CHECK ({_IDEA_OWNED})",
    f"CREATE POLICY idea_tags_delete ON idea_tags FOR DELETE USING ({_IDEA_OWNED})",
    f"CREATE POLICY story_search_read ON story_search FOR SELECT USING ({_STORY_VISIBLE})",
    f"CREATE POLICY story_search_insert ON story_search FOR INSERT WITH CHECK ({_STORY_OWNED})",
    f"CREATE POLICY story_search_update ON story_search FOR UPDATE USING ({_STORY_OWNED}) "
    f"WITH CHECK ({_STORY_OWNED})",
    f"CREATE POLICY story_search_delete ON story_search FOR DELETE USING ({_STORY_OWNED})",
]
# The tables' policies and grants go with the tables.
RLS_0003_DOWN = [f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY" for t in RLS_TABLES_0003]

_WORD = re.compile(r"[^\W_]+")


def _document(title: str, description: str) -> str:
    """Frozen copy of ``models_ops.search_document`` as of this revision."""
    normal = unicodedata.normalize("NFKC", f"{title or ''} {description or ''}").lower()
    return " ".join(dict.fromkeys(w[:60] for w in _WORD.findall(normal)))


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    for table, name_length in (("idea_categories", 80), ("idea_topics", 120)):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("slug", sa.String(length=40), nullable=False),
            sa.Column("name", sa.String(length=name_length), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            *_timestamps(),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("slug", name=op.f(f"uq_{table}_slug")),
        )
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_ideas_status")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"],
                                name=op.f("fk_ideas_author_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["category_id"], ["idea_categories.id"],
                                name=op.f("fk_ideas_category_id_idea_categories")),
        sa.ForeignKeyConstraint(["topic_id"], ["idea_topics.id"],
                                name=op.f("fk_ideas_topic_id_idea_topics")),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"],
                                name=op.f("fk_ideas_reviewed_by_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("public_id", name=op.f("uq_ideas_public_id")),
    )
    op.create_index(op.f("ix_ideas_author_id"), "ideas", ["author_id"])
    op.create_index(op.f("ix_ideas_category_id"), "ideas", ["category_id"])
    op.create_index(op.f("ix_ideas_topic_id"), "ideas", ["topic_id"])
    op.create_index("ix_ideas_status_created_at", "ideas", ["status", "created_at", "id"])
    op.create_table(
        "idea_tags",
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"],
                                name=op.f("fk_idea_tags_idea_id_ideas"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("idea_id", "tag", name=op.f("pk_idea_tags")),
    )
    op.create_index(op.f("ix_idea_tags_tag"), "idea_tags", ["tag"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("stage", sa.String(length=60), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("locked_by", sa.String(length=100), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        *_timestamps(),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('analysis')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f("ck_jobs_status")),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name=op.f("ck_jobs_progress")),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_jobs_story_id_stories"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"],
                                name=op.f("fk_jobs_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("public_id", name=op.f("uq_jobs_public_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_jobs_idempotency_key")),
    )
    op.create_index(op.f("ix_jobs_owner_id"), "jobs", ["owner_id"])
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_index("ix_jobs_story_id_version", "jobs", ["story_id", "version"])
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("analyser_version", sa.String(length=40), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_analyses_story_id_stories"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyses")),
        sa.UniqueConstraint("story_id", "version", "analyser_version",
                            name=op.f("uq_analyses_story_id")),
    )
    vector = ("array_to_tsvector(string_to_array(document, ' '::text))" if is_pg else "NULL")
    op.create_table(
        "story_search",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("tsv", postgresql.TSVECTOR() if is_pg else sa.Text(),
                  sa.Computed(vector, persisted=True), nullable=True),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_story_search_story_id_stories"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_search")),
    )
    op.create_index("ix_story_search_tsv", "story_search", ["tsv"], postgresql_using="gin")
    op.create_table(
        "story_deletions",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_story_deletions_story_id_stories"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["deleted_by"], ["users.id"],
                                name=op.f("fk_story_deletions_deleted_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_story_deletions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_story_deletions_public_id")),
    )
    # Index the stories that already exist (before row-level security is switched on).
    bind = op.get_bind()
    stories = bind.execute(sa.text("SELECT id, title, description FROM stories")).all()
    search = sa.table("story_search", sa.column("story_id"), sa.column("document"))
    for start in range(0, len(stories), 1000):
        bind.execute(search.insert(), [{"story_id": s.id, "document": _document(s.title,
                                                                                 s.description)}
                                       for s in stories[start:start + 1000]])
    if is_pg:
        for statement in RLS_0003:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in RLS_0003_DOWN:
            op.execute(statement)
    op.drop_table("story_deletions")
    op.drop_index("ix_story_search_tsv", table_name="story_search")
    op.drop_table("story_search")
    op.drop_table("analyses")
    op.drop_index("ix_jobs_story_id_version", table_name="jobs")
    op.drop_index("ix_jobs_status_run_after", table_name="jobs")
    op.drop_index(op.f("ix_jobs_owner_id"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_idea_tags_tag"), table_name="idea_tags")
    op.drop_table("idea_tags")
    op.drop_index("ix_ideas_status_created_at", table_name="ideas")
    op.drop_index(op.f("ix_ideas_topic_id"), table_name="ideas")
    op.drop_index(op.f("ix_ideas_category_id"), table_name="ideas")
    op.drop_index(op.f("ix_ideas_author_id"), table_name="ideas")
    op.drop_table("ideas")
    op.drop_table("idea_topics")
    op.drop_table("idea_categories")
