"""What every part of the collaboration services shares: the errors an author is shown,
turning a client failure into one of them, reading the server's values, and finding a local
fork's marketplace source.  The API is ``studio.services.collaboration``; this module exists so
that its two halves (``collaboration`` and ``collaboration_proposals``) import it rather than
each other.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, Awaitable, Callable, Iterable

from studio.domain.errors import StudioError
from studio.services import forking
from studio.store.repositories import marketplace as repo
from studio.store.repositories import stories as stories_repo
from studio.sync.errors import MarketplaceError, Offline, SignInRequired

RunDb = Callable[..., Awaitable[Any]]


class CollaborationError(StudioError):
    """A collaboration step that did not happen; the message says why and what to do.

    ``code`` is the server's error code when it refused ("owner_only", "version_moved"…;
    "offline" when it could not be reached, "sign_in_required" when the sign-in is missing
    or over, "" for a refusal made here); ``conflicts`` the segment ids a proposal could not
    be accepted for (``proposal_conflict``)."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None,
                 conflicts: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.conflicts = list(conflicts)


class VersionMoved(CollaborationError):
    """A publish against a base that is no longer the story's latest version: ``latest`` is
    the number published meanwhile; pull it, merge, and publish again."""

    def __init__(self, message: str, latest: int | None, base: int | None = None, **kw: Any):
        super().__init__(message, code="version_moved", **kw)
        self.latest = latest
        self.base = base


# --- reading the server's values --------------------------------------------------------------

def parse_time(value: Any) -> datetime | None:
    """A server timestamp (ISO 8601) as a datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def int_of(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- turning refusals into sentences ----------------------------------------------------------

def key(kind: str) -> str:
    """A fresh Idempotency-Key: these calls are made while the author waits, not queued, so a
    retry is a new request the author asked for."""
    return f"collab-{kind}-{uuid.uuid4().hex}"


def failure(exc: MarketplaceError, url: str, *, username: str = "", base: int | None = None
            ) -> CollaborationError:
    """The ``CollaborationError`` a client failure means, with a sentence for the author."""
    code, detail, body = exc.code or "", exc.detail or "", exc.body or {}
    said = detail or str(exc)
    kw = {"code": code, "status": exc.status}
    if isinstance(exc, Offline):
        return CollaborationError(f"The marketplace at {url} cannot be reached; nothing was "
                                  "sent. Check your internet connection and try again.",
                                  code="offline")
    if isinstance(exc, SignInRequired):
        return CollaborationError(str(exc), code="sign_in_required", status=exc.status)
    if code == "version_moved":
        latest = body.get("latest_version")
        latest = latest if isinstance(latest, int) else None
        return VersionMoved(f"{said} Nothing was published.".strip()
                            if detail else
                            f"Version {latest} was published since your version {base}; "
                            "pull it, merge, and publish again. Nothing was published.",
                            latest, base, status=exc.status)
    if code == "proposal_conflict":
        conflicts = [c for c in body.get("conflicts") or [] if isinstance(c, str)]
        return CollaborationError(said, conflicts=conflicts, **kw)
    if code == "unknown_user":
        who = f"“{username}”" if username else "that name"
        return CollaborationError(f"There is no user named {who} on {url}. Check the spelling: "
                                  "they need an account on this marketplace first.", **kw)
    if code == "owner_is_member":
        return CollaborationError("You own this story, so you cannot invite yourself: an owner "
                                  "has every right already.", **kw)
    if code == "already_collaborator":
        return CollaborationError(said or f"“{username}” is already invited or a collaborator "
                                  "of this story; change their role instead.", **kw)
    if code == "owner_only":
        return CollaborationError(said or "Only the story's owner can do that.", **kw)
    if code == "editor_only":
        return CollaborationError(said or "Only the story's owner and its editors can do "
                                  "that; contributors propose changes.", **kw)
    if code == "contributor_only":
        return CollaborationError(said or "Only the story's contributors, editors and owner "
                                  "can propose changes: ask the owner to invite you as a "
                                  "contributor.", **kw)
    if code == "proposal_closed":
        return CollaborationError(said or "This proposal was already accepted, declined or "
                                  "withdrawn; refresh the list of proposals.", **kw)
    return CollaborationError(str(exc), **kw)


async def call(client, coro: Awaitable[dict], **context: Any) -> dict:
    """Await a client call, its failures turned into ``CollaborationError``."""
    try:
        return await coro
    except MarketplaceError as exc:
        raise failure(exc, client.base_url, **context) from exc


async def default_run_db(fn: Callable[..., Any], *args: Any) -> Any:
    """``run_db`` when the caller gives none (tests, the CLI): the call in a worker thread."""
    return await asyncio.to_thread(fn, *args)


# --- a local fork's source --------------------------------------------------------------------

def same_server(a: str, b: str) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


def fork_base(s, story_id: int) -> tuple[Any, Any, Any]:
    """(story row, cached base version, cached story) of a local fork; refused with a sentence
    for a story that is not a fork of a marketplace story."""
    story = stories_repo.get(s, story_id)
    base = forking.base_version(s, story_id)
    if base is None:
        link = repo.link(s, story_id)
        if link is not None and link.remote_story_id:
            raise CollaborationError(f"“{story.title}” is the story you published: publish its "
                                     "next version with Publish in the Marketplace panel "
                                     "(proposals and editors' versions are made from a fork).")
        raise CollaborationError(f"“{story.title}” is not a copy of a marketplace story: fork "
                                 "it from the Marketplace panel first.")
    return story, base, repo.reference_story_by_id(s, base.reference_story_id)


def fork_source(s, story_id: int, server_url: str) -> tuple[Any, Any]:
    """The base version (cached) of a local fork and its cached story; refused with a sentence
    when the story is not a fork of a story of ``server_url``."""
    story, base, ref = fork_base(s, story_id)
    if not same_server(ref.server_url, server_url):
        raise CollaborationError(f"“{story.title}” is a copy of a story on {ref.server_url}; "
                                 f"sign in there to do this (you are using {server_url}).")
    return base, ref
