"""Who may do what on a story with collaborators (migration 0006): PostgreSQL policies and
their query-layer twins.

Roles: the story's owner (``stories.owner_id``), then the accepted collaborators' roles
``editor`` > ``contributor`` > ``viewer``; an invitation not accepted yet is ``invited``.

- stories and their versions: readable by every collaborator row's user (members, and
  invitees, who are shown what they are invited to) on top of the 0001 rules; editors may
  insert versions (as their author) and update the stories row (the publish moves
  ``latest_version``; the API keeps metadata changes owner only).  A restrictive policy
  keeps ``owner_id`` as it is on every update (else 0001's owner check, OR'd with the
  editors', would let an editor make themselves the owner).
- story_collaborators: a row is readable by its user and by the story's owner and members;
  only the owner invites (a row ``invited`` by themselves) and changes roles; the invitee
  accepts (their row's status, not its role); the owner removes anyone, a user removes
  themselves (decline, leave).
- private stories (``stories.members_only``, shown as visibility "private"): restrictive
  policies (``PRIVATE_0006``) keep them and their versions from everyone but the owner and
  the members, whatever else would admit them (the link, a fork).
- proposals: readable by their author and the story's owner and editors; contributors,
  editors and the owner propose (as themselves, ``open``); the owner and editors decide; the
  author may only withdraw.

The policies of ``stories`` read ``story_collaborators`` and the collaborators' policies need
to know who owns the story: read through plain policies that would recurse.  So the role is
computed by ``SECURITY DEFINER`` SQL functions owned by the migration's (table-owner) role,
with a fixed ``search_path`` (as ``app_is_moderator()`` reads ``users``):
``app_story_role(story)`` ('owner' / the accepted role / 'invited' / NULL, for
``app_user_id()``), ``app_story_owner(story)`` and ``app_collab_role(story)`` (the caller's
row's role whatever its status).  ``story_collaborators`` is ENABLE'd but not FORCE'd: the
functions read it as its owner without its policies (that is what ends the recursion); the app
role, which owns nothing, is always subject to them.  EXECUTE on the functions is revoked from
PUBLIC and granted to the app role only (``security.grant_statements``).

``RLS_0006`` is versioned like ``RLS_0001``: never edit it; a later change adds ``RLS_0007``.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from studio.marketplace.models import Story
from studio.marketplace.models_collab import StoryCollaborator

MEMBER_ROLES = ("editor", "contributor", "viewer")
FUNCTIONS_0006 = ["app_story_role(integer)", "app_story_owner(integer)",
                  "app_collab_role(integer)"]
APP_PRIVILEGES_0006 = {
    "story_collaborators": "SELECT, INSERT, UPDATE, DELETE",
    "proposals": "SELECT, INSERT, UPDATE",
}
SEQUENCES_0006 = ["proposals_id_seq"]

_DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public"
STORY_OWNER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION app_story_owner(sid integer) RETURNS integer
{_DEFINER} AS
$$ SELECT owner_id FROM stories WHERE id = sid $$
"""
COLLAB_ROLE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION app_collab_role(sid integer) RETURNS text
{_DEFINER} AS
$$ SELECT role FROM story_collaborators WHERE story_id = sid AND user_id = app_user_id() $$
"""
STORY_ROLE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION app_story_role(sid integer) RETURNS text
{_DEFINER} AS
$$ SELECT CASE
     WHEN EXISTS (SELECT 1 FROM stories WHERE id = sid AND owner_id = app_user_id())
       THEN 'owner'
     ELSE (SELECT CASE WHEN status = 'accepted' THEN role ELSE 'invited' END
           FROM story_collaborators WHERE story_id = sid AND user_id = app_user_id())
   END $$
"""

_ROLE = "app_story_role({col})"
_MEMBERS = "('owner', 'editor', 'contributor', 'viewer')"
_DECIDERS = "('owner', 'editor')"
_PROPOSERS = "('owner', 'editor', 'contributor')"


def _rls_0006() -> list[str]:
    role = _ROLE.format(col="story_id")
    ddl = [STORY_OWNER_FUNCTION, COLLAB_ROLE_FUNCTION, STORY_ROLE_FUNCTION]
    ddl += [f"REVOKE EXECUTE ON FUNCTION {f} FROM PUBLIC" for f in FUNCTIONS_0006]
    ddl += [
        "ALTER TABLE story_collaborators ENABLE ROW LEVEL SECURITY",  # not FORCE'd: see above
        "ALTER TABLE proposals ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE proposals FORCE ROW LEVEL SECURITY",
        # stories and versions: members (and invitees) read; editors publish
        "CREATE POLICY stories_member_read ON stories FOR SELECT USING (EXISTS (SELECT 1 "
        "FROM story_collaborators c WHERE c.story_id = stories.id "
        "AND c.user_id = app_user_id()))",
        "CREATE POLICY stories_editor_update ON stories FOR UPDATE "
        "USING (app_story_role(id) = 'editor') "
        "WITH CHECK (app_story_role(id) = 'editor' AND owner_id = app_story_owner(id))",
        # Permissive WITH CHECKs are OR'd: 0001's owner check would let an editor make
        # themselves the owner.  This one holds for every update (no one changes owner_id;
        # maintenance without a user, run by the tables' owner, is not concerned).
        "CREATE POLICY stories_owner_fixed ON stories AS RESTRICTIVE FOR UPDATE USING (true) "
        "WITH CHECK (app_user_id() IS NULL OR owner_id = app_story_owner(id))",
        "CREATE POLICY story_versions_editor_insert ON story_versions FOR INSERT "
        f"WITH CHECK (author_id = app_user_id() AND {role} = 'editor')",
        # collaborators
        "CREATE POLICY story_collaborators_read ON story_collaborators FOR SELECT "
        f"USING (user_id = app_user_id() OR {role} IN {_MEMBERS})",
        "CREATE POLICY story_collaborators_invite ON story_collaborators FOR INSERT "
        f"WITH CHECK ({role} = 'owner' AND invited_by = app_user_id() "
        "AND status = 'invited')",
        "CREATE POLICY story_collaborators_update ON story_collaborators FOR UPDATE "
        f"USING ({role} = 'owner' OR user_id = app_user_id()) "
        f"WITH CHECK ({role} = 'owner' OR (user_id = app_user_id() "
        "AND role = app_collab_role(story_id)))",
        "CREATE POLICY story_collaborators_delete ON story_collaborators FOR DELETE "
        f"USING ({role} = 'owner' OR user_id = app_user_id())",
        # proposals
        "CREATE POLICY proposals_read ON proposals FOR SELECT "
        f"USING (author_id = app_user_id() OR {role} IN {_DECIDERS})",
        "CREATE POLICY proposals_insert ON proposals FOR INSERT "
        f"WITH CHECK (author_id = app_user_id() AND status = 'open' "
        f"AND {role} IN {_PROPOSERS})",
        "CREATE POLICY proposals_update ON proposals FOR UPDATE "
        f"USING (author_id = app_user_id() OR {role} IN {_DECIDERS}) "
        f"WITH CHECK ({role} IN {_DECIDERS} OR (author_id = app_user_id() "
        "AND status IN ('open', 'withdrawn')))",
    ]
    return ddl + PRIVATE_0006


# Private stories (``stories.members_only``): RESTRICTIVE policies, AND'ed with every
# permissive one, so neither the link (``app.story_ref``), nor a fork of it, nor a
# public-looking row admits anyone but the owner and the collaborators.  The story row itself
# is shown to invitees too (``/v1/invitations`` shows what one is invited to); its versions
# (and through them its content) only to the owner and accepted members.  A removed member's
# fork no longer reaches the source.  ``NOT members_only`` comes first: the role function runs
# only for private rows; ``owner_id`` before it, because the function does not see a row
# being inserted (INSERT … RETURNING checks the SELECT policies on it).
PRIVATE_0006 = [
    "CREATE POLICY stories_private_read ON stories AS RESTRICTIVE FOR SELECT "
    "USING (NOT members_only OR owner_id = app_user_id() OR app_story_role(id) IS NOT NULL)",
    "CREATE POLICY story_versions_private_read ON story_versions AS RESTRICTIVE FOR SELECT "
    "USING (NOT EXISTS (SELECT 1 FROM stories s WHERE s.id = story_versions.story_id "
    f"AND s.members_only) OR app_story_role(story_id) IN {_MEMBERS})",
]


RLS_0006 = _rls_0006()
# The new tables' policies go with the tables; these go first, the functions last.
RLS_0006_DOWN = [
    "DROP POLICY IF EXISTS story_versions_private_read ON story_versions",
    "DROP POLICY IF EXISTS stories_private_read ON stories",
    "DROP POLICY IF EXISTS story_versions_editor_insert ON story_versions",
    "DROP POLICY IF EXISTS stories_owner_fixed ON stories",
    "DROP POLICY IF EXISTS stories_editor_update ON stories",
    "DROP POLICY IF EXISTS stories_member_read ON stories",
]
RLS_0006_DOWN_LAST = [f"DROP FUNCTION IF EXISTS {f}" for f in reversed(FUNCTIONS_0006)]


# --- the query layer ---------------------------------------------------------------------

def member_clause(user_id: int, invited: bool = False):
    """Stories ``user_id`` is an accepted member of (for ``visible_story_clause``); with
    ``invited``, also those they are invited to (the invitation routes only)."""
    terms = [StoryCollaborator.story_id == Story.id, StoryCollaborator.user_id == user_id]
    if not invited:
        terms.append(StoryCollaborator.status == "accepted")
    return exists(select(StoryCollaborator.story_id).where(and_(*terms)))


def role_of(session: Session, story: Story, user_id: int | None) -> str | None:
    """The twin of ``app_story_role``: 'owner', the accepted role, 'invited', or None."""
    if user_id is None:
        return None
    if story.owner_id == user_id:
        return "owner"
    row = session.get(StoryCollaborator, (story.id, user_id), populate_existing=True)
    if row is None:
        return None
    return row.role if row.status == "accepted" else "invited"
