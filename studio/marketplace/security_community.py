"""Who may see which community rows (migration 0002): PostgreSQL policies and their query-layer
twins, and the moderation rules (who is a moderator, what ``hidden`` hides).

Privacy (row-level security, as in ``studio.marketplace.security``):

- community chapters and voice templates: public ones to all; unlisted ones to their owner, to
  a request naming them by id (``app.story_ref`` holds the id the request names — chapter and
  template ids have their own prefixes, so they never match a story) and to moderators.  Their
  versions and tags follow their parent.  Templates are never deleted and never changed but
  for ``hidden``, which only moderators set (the app role may update no other column).
- moderation flags: to their reporter and to moderators; only moderators resolve them.
- user_usage: to its user.
- stories: 0002 adds that moderators read every story and may set its ``hidden`` flag.

Moderation (query layer only, as ``hidden`` is not a privacy matter): a hidden item is left
out of every list and answers 404 by id, except to its owner (who sees it marked) and to
moderators.

``RLS_0002`` is versioned like ``RLS_0001``: never edit it; a later change adds ``RLS_0003``.

Grants: ``security.grant_statements`` (run by ``studio-marketplace migrate --grant-to``)
grants ``APP_PRIVILEGES_0002`` to the app role only; no other role gets anything.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from studio.marketplace.errors import not_found
from studio.marketplace.models_community import ModerationFlag

MODERATOR_ROLES = ("moderator", "admin")

IS_MODERATOR_FUNCTION = """
CREATE OR REPLACE FUNCTION app_is_moderator() RETURNS boolean
LANGUAGE sql STABLE AS
$$ SELECT EXISTS (SELECT 1 FROM users WHERE id = app_user_id()
                  AND role IN ('moderator', 'admin') AND NOT disabled) $$
"""
_MOD = "(SELECT app_is_moderator())"  # a sub-select: evaluated once per statement
_REF = "current_setting('app.story_ref', true)"


def _item_visible() -> str:
    return f"visibility = 'public' OR owner_id = app_user_id() OR public_id = {_REF} OR {_MOD}"


def _parent(table: str, parent: str, fk: str, owned: bool) -> str:
    extra = " AND p.owner_id = app_user_id()" if owned else ""
    return f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = {table}.{fk}{extra})"


NEW_RLS_TABLES = ["community_chapters", "community_chapter_tags", "community_chapter_versions",
                  "voice_templates", "voice_template_tags", "moderation_flags", "user_usage"]

# Privileges of the app role on the 0002 tables (SELECT and INSERT only: append-only).
APP_PRIVILEGES_0002 = {
    "community_chapters": "SELECT, INSERT, UPDATE",
    "community_chapter_tags": "SELECT, INSERT, DELETE",
    "community_chapter_versions": "SELECT, INSERT",
    "community_chapter_stats": "SELECT, INSERT, UPDATE",
    "voice_templates": "SELECT, INSERT, UPDATE (hidden)",
    "voice_template_tags": "SELECT, INSERT",
    "voice_template_stats": "SELECT, INSERT, UPDATE",
    "moderation_flags": "SELECT, INSERT, UPDATE",
    "user_usage": "SELECT, INSERT, UPDATE",
}
NEW_SEQUENCES = ["community_chapters_id_seq", "community_chapter_versions_id_seq",
                 "voice_templates_id_seq", "moderation_flags_id_seq"]


def _rls_0002() -> list[str]:
    ddl = [IS_MODERATOR_FUNCTION]
    for table in NEW_RLS_TABLES:
        ddl.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        ddl.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    # Moderators read every story (flags may name unlisted ones) and set ``hidden``.
    ddl += [
        f"CREATE POLICY stories_moderator_read ON stories FOR SELECT USING ({_MOD})",
        f"CREATE POLICY stories_moderate ON stories FOR UPDATE USING ({_MOD}) "
        f"WITH CHECK ({_MOD})",
    ]
    for table, editable_by_owner in (("community_chapters", True), ("voice_templates", False)):
        updater = f"owner_id = app_user_id() OR {_MOD}" if editable_by_owner else _MOD
        ddl += [
            f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({_item_visible()})",
            f"CREATE POLICY {table}_insert ON {table} FOR INSERT "
            "WITH CHECK (owner_id = app_user_id())",
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({updater}) "
            f"WITH CHECK ({updater})",
        ]
    for table, parent, fk, deletable in (
            ("community_chapter_tags", "community_chapters", "chapter_id", True),
            ("community_chapter_versions", "community_chapters", "chapter_id", False),
            ("voice_template_tags", "voice_templates", "template_id", False)):
        visible, owned = _parent(table, parent, fk, False), _parent(table, parent, fk, True)
        ddl.append(f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({visible})")
        ddl.append(f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({owned})")
        if deletable:
            ddl.append(f"CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({owned})")
    ddl += [
        "CREATE POLICY moderation_flags_read ON moderation_flags FOR SELECT "
        f"USING (reporter_id = app_user_id() OR {_MOD})",
        "CREATE POLICY moderation_flags_insert ON moderation_flags FOR INSERT "
        "WITH CHECK (reporter_id = app_user_id())",
        "CREATE POLICY moderation_flags_resolve ON moderation_flags FOR UPDATE "
        f"USING ({_MOD}) WITH CHECK ({_MOD})",
        "CREATE POLICY user_usage_own ON user_usage "
        "USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id())",
    ]
    return ddl


RLS_0002 = _rls_0002()
# The new tables' own policies go with the tables; the stories ones and the function do not.
RLS_0002_DOWN = [
    "DROP POLICY IF EXISTS stories_moderate ON stories",
    "DROP POLICY IF EXISTS stories_moderator_read ON stories",
]
RLS_0002_DOWN_LAST = ["DROP FUNCTION IF EXISTS app_is_moderator()"]


# --- the query layer ---------------------------------------------------------------------

def is_moderator(user) -> bool:
    return user is not None and user.role in MODERATOR_ROLES and not user.disabled


def visible_item_clause(model, user, ref: str | None = None):
    """Twin of the ``*_read`` policies of community chapters and voice templates."""
    if is_moderator(user):
        return true()
    terms = [model.visibility == "public"]
    if ref is not None:
        terms.append(model.public_id == ref)
    if user is not None:
        terms.append(model.owner_id == user.id)
    return or_(*terms)


def unhidden_item_clause(model, user):
    """Hidden items only for their owner and moderators."""
    if is_moderator(user):
        return true()
    if user is None:
        return model.hidden.is_(False)
    return or_(model.hidden.is_(False), model.owner_id == user.id)


def readable_item_clause(model, user, ref: str | None = None):
    """Visible (privacy) and not hidden from this user (moderation)."""
    return and_(visible_item_clause(model, user, ref), unhidden_item_clause(model, user))


def listed_item_clause(model):
    """Lists show public, unhidden items only; unlisted ones are reachable by id."""
    return and_(model.visibility == "public", model.hidden.is_(False))


def visible_flag_clause(user):
    if user is None:
        return false()
    if is_moderator(user):
        return true()
    return ModerationFlag.reporter_id == user.id


def check_not_hidden(user, item, what: str, ident: str) -> None:
    """A hidden item is 404 to everyone but its owner and moderators."""
    if item.hidden and not (is_moderator(user) or (user is not None
                                                   and item.owner_id == user.id)):
        raise not_found(what, ident)


HIDDEN_NOTE = ("Hidden by moderation: only its owner and moderators can see it; it is left "
               "out of every list.")


def moderation_marker(item) -> dict:
    """What the owner (or a moderator) sees on a hidden item."""
    return {"hidden": True, "moderation": HIDDEN_NOTE} if item.hidden else {"hidden": False}

