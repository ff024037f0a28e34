"""Who may see which rows: PostgreSQL row-level security, and the same rules for SQLite.

Every request runs in a transaction that starts with ``set_config('app.user_id', …, true)``
(``studio.marketplace.db``), plus ``app.token_hash`` while a bearer token is looked up and
``app.story_ref`` when a request names a story by id.  On PostgreSQL the policies below make
the database itself refuse other users' private rows; the tables are FORCE'd so even their
owner is subject to them (superusers still bypass RLS: never run the server as one).  On SQLite
the query layer applies the same rules (``visible_story_clause`` and explicit owner filters), and
on PostgreSQL it applies them too, so the two backends answer alike.

The DDL is versioned: migration 0001 runs ``RLS_0001``.  Never edit it; a later migration that
changes a policy adds ``RLS_0002`` (collaborators: ``security_collab.RLS_0006``).
"""

from __future__ import annotations

import re

from sqlalchemy import and_, exists, or_, select

from studio.marketplace.models import Fork, Story
from studio.marketplace.security_collab import member_clause

UID_FUNCTION = """
CREATE OR REPLACE FUNCTION app_user_id() RETURNS integer
LANGUAGE sql STABLE AS
$$ SELECT NULLIF(current_setting('app.user_id', true), '')::integer $$
"""

_OWN = "{col} = app_user_id()"
_STORY_VISIBLE = (
    "visibility = 'public' OR owner_id = app_user_id() "
    "OR public_id = current_setting('app.story_ref', true) "
    "OR EXISTS (SELECT 1 FROM forks f WHERE f.source_story_id = stories.id)"
)
_PARENT_VISIBLE = "EXISTS (SELECT 1 FROM stories s WHERE s.id = {table}.story_id)"
_PARENT_OWNED = ("EXISTS (SELECT 1 FROM stories s WHERE s.id = {table}.story_id "
                 "AND s.owner_id = app_user_id())")

PRIVATE_TABLES = {  # table → column naming the user who owns the row (as of 0001;
    # fork_overrides was dropped by 0004: a fork's own texts now live in its forks row)
    "forks": "owner_id",
    "fork_overrides": "owner_id",
    "likes": "user_id",
    "idempotency_keys": "user_id",
}
RLS_TABLES = ["auth_tokens", *PRIVATE_TABLES, "stories", "story_tags", "story_versions"]


def _rls_0001() -> list[str]:
    ddl = [UID_FUNCTION]
    for table in RLS_TABLES:
        ddl.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        ddl.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # A token row is visible to its user, or to the request presenting that very token.
    ddl.append(
        "CREATE POLICY auth_tokens_own ON auth_tokens "
        "USING (user_id = app_user_id() OR token_hash = current_setting('app.token_hash', true))"
        " WITH CHECK (user_id = app_user_id())")
    for table, col in PRIVATE_TABLES.items():
        own = _OWN.format(col=col)
        ddl.append(f"CREATE POLICY {table}_own ON {table} USING ({own}) WITH CHECK ({own})")
    # Stories: public ones to all; unlisted ones to their owner, to a request naming them by
    # id (the link is the capability) and to users holding a fork of them.
    ddl += [
        f"CREATE POLICY stories_read ON stories FOR SELECT USING ({_STORY_VISIBLE})",
        "CREATE POLICY stories_insert ON stories FOR INSERT WITH CHECK (owner_id = app_user_id())",
        "CREATE POLICY stories_update ON stories FOR UPDATE "
        "USING (owner_id = app_user_id()) WITH CHECK (owner_id = app_user_id())",
        "CREATE POLICY stories_delete ON stories FOR DELETE USING (owner_id = app_user_id())",
    ]
    for table in ("story_tags", "story_versions"):
        visible = _PARENT_VISIBLE.format(table=table)
        owned = _PARENT_OWNED.format(table=table)
        ddl.append(f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({visible})")
        ddl.append(f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({owned})")
    # Tags may be replaced by the owner; versions are immutable (no UPDATE/DELETE policy).
    ddl.append("CREATE POLICY story_tags_delete ON story_tags FOR DELETE "
               f"USING ({_PARENT_OWNED.format(table='story_tags')})")
    return ddl


RLS_0001 = _rls_0001()
RLS_0001_DOWN = [f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY" for t in RLS_TABLES] + [
    "DROP FUNCTION IF EXISTS app_user_id() CASCADE"]

READ_WRITE_TABLES = ["users", "auth_tokens", "login_failures", "stories", "story_tags",
                     "story_stats", "story_daily_stats", "forks", "likes",
                     "idempotency_keys"]
APPEND_ONLY_TABLES = ["story_versions", "segment_texts"]
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_statements(role: str) -> list[str]:
    """What the app's (non-owner, non-superuser) role may do: no DDL, and versions and segment
    texts are append-only."""
    if not ROLE_RE.match(role):
        raise ValueError(f"{role!r} is not a plain PostgreSQL role name (a-z, 0-9, _)")
    quoted = f'"{role}"'
    return [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(READ_WRITE_TABLES)} TO {quoted}",
        f"GRANT SELECT, INSERT ON {', '.join(APPEND_ONLY_TABLES)} TO {quoted}",
        f"GRANT SELECT ON alembic_version TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"GRANT EXECUTE ON FUNCTION app_user_id() TO {quoted}",
    ] + _later_grants(quoted)


def _later_grants(quoted: str) -> list[str]:
    """The app role's privileges on the tables of migrations 0002 and 0003 (imported here, not
    at the top: those modules import this one)."""
    from studio.marketplace.security_collab import (
        APP_PRIVILEGES_0006, FUNCTIONS_0006, SEQUENCES_0006,
    )
    from studio.marketplace.security_community import APP_PRIVILEGES_0002, NEW_SEQUENCES
    from studio.marketplace.security_ops import APP_PRIVILEGES_0003, SEQUENCES_0003

    grants = [f"GRANT {privileges} ON {table} TO {quoted}"
              for table, privileges in {**APP_PRIVILEGES_0002, **APP_PRIVILEGES_0003,
                                        **APP_PRIVILEGES_0006}.items()]
    grants.append(f"GRANT USAGE, SELECT ON SEQUENCE "
                  f"{', '.join(NEW_SEQUENCES + SEQUENCES_0003 + SEQUENCES_0006)} TO {quoted}")
    grants.append(f"GRANT EXECUTE ON FUNCTION app_is_moderator() TO {quoted}")
    grants += [f"GRANT EXECUTE ON FUNCTION {f} TO {quoted}" for f in FUNCTIONS_0006]
    return grants


def visible_story_clause(user_id: int | None, ref: str | None = None, *,
                         invited: bool = False):
    """The query-layer twin of the ``stories_read`` policy (and of 0006's
    ``stories_member_read``: accepted collaborators read the story, and of its
    ``stories_private_read``: a private story only for its owner and members; ``invited``
    admits invitees too, for the invitation routes)."""
    open_terms = [Story.visibility == "public"]
    if ref is not None:
        open_terms.append(Story.public_id == ref)
    if user_id is not None:
        open_terms.append(exists(select(Fork.id).where(
            and_(Fork.source_story_id == Story.id, Fork.owner_id == user_id))))
    terms = [and_(Story.members_only.is_(False), or_(*open_terms))]
    if user_id is not None:
        terms.append(Story.owner_id == user_id)
        terms.append(member_clause(user_id, invited))
    return or_(*terms)


def listed_story_clause():
    """Browse lists public stories only; unlisted ones are reachable by id, never listed."""
    return and_(Story.visibility == "public", Story.hidden.is_(False))
