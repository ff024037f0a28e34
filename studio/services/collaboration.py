"""Co-authoring a published story: collaborators and their roles, invitations, proposals, and
publishing as an editor.

The marketplace decides who may do what (owner > editor > contributor > viewer); these
functions are the desktop's side of it, the only API the UI calls.  Every network function is
a coroutine taking a signed-in ``MarketplaceClient``; every refusal, of the server or of the
network, arrives as a ``CollaborationError`` whose message is a sentence an author can act on
(the server's ``code`` is kept on it for code that needs more).  Work on the local database
runs through ``run_db`` (the app passes its service runner, so the UI thread never waits on
SQLite; by default a worker thread).

Proposals (``collaboration_proposals``, re-exported here) work on local forks: a contributor
forks the story, edits paragraphs, and proposes what differs from the version forked; the
owner accepts all or some of them, which the server turns into the next version crediting the
contributor, and the accepted texts land in the owner's local story too.  An editor publishes
from a fork with ``publish_as_editor``: optimistic — when somebody published since the fork's
base, ``VersionMoved`` says so and nothing is published; the editor pulls, merges, publishes
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from studio.domain.errors import StudioError
from studio.services import forking, publishing, reference_cache
from studio.services.collaboration_common import (
    CollaborationError, RunDb, VersionMoved, call, default_run_db, fork_source, int_of, key,
    parse_time, text_of,
)
# The proposals half lives in its own module (size); it is part of this API.
from studio.services.collaboration_proposals import (
    AcceptResult, ProposalChange, ProposalDetail, ProposalSummary, ProposedChange,
    ProposedChanges, accept_proposal, decline_proposal, list_proposals, load_proposal,
    proposal_changes, submit_proposal, withdraw_proposal,
)
from studio.store.database import Database
from studio.store.repositories import history
from studio.store.repositories import marketplace as repo

ROLES = ("editor", "contributor", "viewer")
MAX_USERNAME = 80


# --- what the UI shows -------------------------------------------------------------------------

@dataclass(frozen=True)
class Collaborator:
    username: str
    role: str  # editor | contributor | viewer
    status: str  # invited | accepted
    invited_by: str
    created_at: datetime | None
    responded_at: datetime | None = None


@dataclass(frozen=True)
class Invitation:
    story_id: str
    title: str
    owner: str
    role: str
    invited_by: str
    created_at: datetime | None


@dataclass(frozen=True)
class Membership:
    story_id: str
    title: str
    owner: str
    role: str
    latest_version: int


def collaborator_of(item: dict) -> Collaborator:
    return Collaborator(text_of(item.get("username")), text_of(item.get("role")),
                        text_of(item.get("status")), text_of(item.get("invited_by")),
                        parse_time(item.get("created_at")), parse_time(item.get("responded_at")))


def _story_of(item: dict) -> dict:
    story = item.get("story")
    return story if isinstance(story, dict) else {}


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise CollaborationError(f"“{role}” is not a role a collaborator can have: choose "
                                 "editor (may publish new versions), contributor (may propose "
                                 "changes) or viewer (may read).")
    return role


def _check_username(username: Any) -> str:
    name = username.strip() if isinstance(username, str) else ""
    if not name or len(name) > MAX_USERNAME:
        raise CollaborationError("Type the marketplace username of the person to invite.")
    return name


# --- collaborators -----------------------------------------------------------------------------

async def list_collaborators(client, story_id: str) -> list[Collaborator]:
    """The story's collaborators, invited and accepted (the owner is not among them)."""
    data = await call(client, client.collaborators(story_id))
    return [collaborator_of(i) for i in data.get("items") or [] if isinstance(i, dict)]


async def invite(client, story_id: str, username: str, role: str) -> Collaborator:
    """Invite a marketplace user with a role (owner only); they accept or decline it."""
    username, role = _check_username(username), _check_role(role)
    data = await call(client, client.invite(story_id, username, role, key("invite")),
                      username=username)
    return collaborator_of(data)


async def change_role(client, story_id: str, username: str, role: str) -> Collaborator:
    username, role = _check_username(username), _check_role(role)
    data = await call(client, client.change_role(story_id, username, role, key("role")),
                      username=username)
    return collaborator_of(data)


async def remove(client, story_id: str, username: str) -> None:
    """Remove a collaborator (owner), or leave the story (its collaborator, naming oneself)."""
    username = _check_username(username)
    await call(client, client.remove_collaborator(story_id, username, key("remove")),
               username=username)


# --- invitations and memberships ---------------------------------------------------------------

async def my_invitations(client) -> list[Invitation]:
    data = await call(client, client.invitations())
    out = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        story = _story_of(item)
        out.append(Invitation(text_of(story.get("id")), text_of(story.get("title")),
                              text_of(story.get("owner")), text_of(item.get("role")),
                              text_of(item.get("invited_by")),
                              parse_time(item.get("created_at"))))
    return out


async def accept_invitation(client, story_id: str) -> None:
    await call(client, client.accept_invitation(story_id, key("accept")))


async def decline_invitation(client, story_id: str) -> None:
    await call(client, client.decline_invitation(story_id, key("decline")))


async def my_collaborations(client) -> list[Membership]:
    """The stories I am an accepted collaborator of, with my role."""
    data = await call(client, client.collaborations())
    out = []
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        story = _story_of(item)
        out.append(Membership(text_of(story.get("id")), text_of(story.get("title")),
                              text_of(story.get("owner")), text_of(item.get("role")),
                              int_of(story.get("latest_version"))))
    return out


# --- fetching a version (to fork, or to pull after VersionMoved) -------------------------------

async def fetch_version(db: Database, client, story_id: str, number: int | None = None, *,
                        progress=None, run_db: RunDb | None = None) -> int:
    """Cache version ``number`` (None: the latest) of a marketplace story locally, once;
    returns its ``reference_versions`` id — what ``forking.fork_reference`` and
    ``pulling.plan_pull`` take."""
    run_db = run_db or default_run_db
    detail = await call(client, client.story(story_id))
    await run_db(reference_cache.cache_story, db, client.base_url, detail)
    number = number or int_of(detail.get("latest_version"))
    if number < 1:
        raise CollaborationError(f"“{detail.get('title') or story_id}” has no version yet.")
    cached = await run_db(reference_cache.find_cached_version, db, client.base_url, story_id,
                          number)
    if cached is not None:
        return cached
    versions = (await call(client, client.versions(story_id))).get("items") or []
    changelog = next((text_of(v.get("changelog")) for v in versions
                      if isinstance(v, dict) and v.get("number") == number), "")
    content = await call(client, client.version_content(story_id, number, progress=progress))
    return await run_db(reference_cache.cache_version, db, client.base_url, story_id, number,
                        changelog, content.get("content", content))


# --- publishing as an editor -------------------------------------------------------------------

@dataclass(frozen=True)
class _Fork:
    story_id: int
    server_url: str
    remote_id: str
    title: str
    base: int


def _editor_content(db: Database, story_id: int, server_url: str) -> tuple[_Fork, dict]:
    with db.session() as s:
        base, ref = fork_source(s, story_id, server_url)
        fork = _Fork(story_id, ref.server_url, ref.public_id, ref.title or ref.public_id,
                     base.number)
        return fork, publishing.collect_content(s, story_id)


def _record_published(db: Database, fork: _Fork, number: int, changelog: str,
                      content: dict) -> None:
    """The new version is cached (as a pull would cache it) and becomes the fork's base, so the
    next pull or publish starts there; a local version remembers the moment."""
    with db.session() as s:
        ref = repo.reference_story(s, fork.server_url, fork.remote_id)
        version = reference_cache.store_content(s, ref.id, number, changelog, content)
        ref.latest_version = max(ref.latest_version, number)
        forking.set_base(s, fork.story_id, version)
        saved = publishing.save_version_in(s, fork.story_id,
                                           f"Published as v{number} of “{fork.title}”")
        history.record(s, fork.story_id, "story", fork.story_id, "publish_as_editor",
                       {"server": fork.server_url, "story": fork.remote_id, "base": fork.base,
                        "version": number, "saved_version": saved})


async def publish_as_editor(db: Database, client, local_story_id: int, changelog: str, *,
                            run_db: RunDb | None = None) -> int:
    """Publish a local fork of a story I edit as the story's next version; returns its number.

    Optimistic: the server refuses when a version was published since the fork's base
    (``VersionMoved``, nothing published): pull it, merge, and publish again.  On success the
    new version becomes the fork's base (cached locally, as a pull target would be)."""
    run_db = run_db or default_run_db
    if not isinstance(changelog, str) or len(changelog) > publishing.MAX_CHANGELOG:
        raise CollaborationError("Say what changed in this version (at most "
                                 f"{publishing.MAX_CHANGELOG} characters).")
    changelog = changelog.strip() or "New version"
    fork, content = await run_db(_editor_content, db, local_story_id, client.base_url)
    answer = await call(client, client.publish_version(
        fork.remote_id, {"changelog": changelog, "content": content}, key("publish"),
        base_version=fork.base), base=fork.base)
    version = answer.get("version")
    number = int_of(version.get("number") if isinstance(version, dict) else version)
    if number < 1:
        raise CollaborationError(f"The marketplace at {client.base_url} answered the publish "
                                 "without a version number; check the story there.")
    try:
        await run_db(_record_published, db, fork, number, changelog, content)
    except StudioError as exc:
        raise CollaborationError(f"Version {number} of “{fork.title}” is published, but your "
                                 f"copy could not be moved onto it: {exc} Pull v{number} "
                                 "before you publish again.") from exc
    return number


__all__ = [
    "AcceptResult", "CollaborationError", "Collaborator", "Invitation", "Membership",
    "ProposalChange", "ProposalDetail", "ProposalSummary", "ProposedChange", "ProposedChanges",
    "VersionMoved", "accept_invitation", "accept_proposal", "change_role", "decline_invitation",
    "decline_proposal", "fetch_version", "invite", "list_collaborators", "list_proposals",
    "load_proposal", "my_collaborations", "my_invitations", "proposal_changes",
    "publish_as_editor", "remove", "submit_proposal", "withdraw_proposal",
]
