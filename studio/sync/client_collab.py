"""``CollaborationCalls``: the collaboration calls of ``MarketplaceClient`` (issue 11) —
collaborators and invitations, the stories I collaborate on, proposals and their decisions.

A mixin: it uses the client's ``_request`` (tokens, refresh, errors mapped to
``studio.sync.errors``: 409s such as ``version_moved``, ``proposal_conflict``,
``proposal_closed`` or ``already_collaborator`` are ``ConflictError``; 403 ``owner_only``,
``editor_only``, ``contributor_only`` and 404 ``unknown_user`` are ``Refused``; the code is in
``.code`` and the server's extra fields, such as ``conflicts``, in ``.body``).  Every call
needs a sign-in; mutating calls take the ``Idempotency-Key`` they send.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import quote

REQUIRED = "required"  # studio.sync.client.REQUIRED (not imported: that module imports this one)


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


class CollaborationCalls:
    """Mixed into ``MarketplaceClient``; see the API contract in ``routers/collaborators.py``
    and ``routers/proposals.py``."""

    _request: Callable[..., Awaitable[dict]]  # MarketplaceClient's

    # --- collaborators -------------------------------------------------------------------

    async def collaborators(self, story_id: str) -> dict:
        """``{"story_id", "items": [{"username", "role", "status", "invited_by",
        "created_at", "responded_at"}]}`` (owner and members only)."""
        return await self._request(
            "GET", f"/v1/stories/{_segment(story_id)}/collaborators", auth=REQUIRED)

    async def invite(self, story_id: str, username: str, role: str, key: str) -> dict:
        """Invite ``username`` as "editor", "contributor" or "viewer" (owner only)."""
        return await self._request(
            "POST", f"/v1/stories/{_segment(story_id)}/collaborators", auth=REQUIRED,
            key=key, body={"username": username, "role": role})

    async def change_role(self, story_id: str, username: str, role: str, key: str) -> dict:
        return await self._request(
            "PATCH", f"/v1/stories/{_segment(story_id)}/collaborators/{_segment(username)}",
            auth=REQUIRED, key=key, body={"role": role})

    async def remove_collaborator(self, story_id: str, username: str, key: str) -> dict:
        """Remove a collaborator (owner), or leave (``username`` is oneself)."""
        return await self._request(
            "DELETE", f"/v1/stories/{_segment(story_id)}/collaborators/{_segment(username)}",
            auth=REQUIRED, key=key)

    async def invitations(self) -> dict:
        """My pending invitations: ``items`` of ``{"story", "role", "invited_by",
        "created_at"}``."""
        return await self._request("GET", "/v1/invitations", auth=REQUIRED)

    async def accept_invitation(self, story_id: str, key: str) -> dict:
        return await self._request("POST", f"/v1/invitations/{_segment(story_id)}/accept",
                                   auth=REQUIRED, key=key)

    async def decline_invitation(self, story_id: str, key: str) -> dict:
        return await self._request("POST", f"/v1/invitations/{_segment(story_id)}/decline",
                                   auth=REQUIRED, key=key)

    async def collaborations(self) -> dict:
        """The stories I am an accepted member of: ``items`` of ``{"story", "role"}``."""
        return await self._request("GET", "/v1/collaborations", auth=REQUIRED)

    # --- proposals -----------------------------------------------------------------------

    async def propose(self, story_id: str, body: dict, key: str) -> dict:
        """``body``: ``title``, ``description``, ``base_version``, ``segments`` ({segment id:
        new text}) and optionally ``scene_bible``; answers the proposal summary."""
        return await self._request("POST", f"/v1/stories/{_segment(story_id)}/proposals",
                                   auth=REQUIRED, key=key, body=body)

    async def proposals(self, story_id: str, status: str = "open") -> dict:
        """``status``: "open", "accepted", "declined", "withdrawn" or "all"."""
        return await self._request("GET", f"/v1/stories/{_segment(story_id)}/proposals",
                                   auth=REQUIRED, params={"status": status})

    async def proposal(self, proposal_id: str) -> dict:
        """The summary with ``changes`` (base, proposed, current texts) and
        ``scene_bible``."""
        return await self._request("GET", f"/v1/proposals/{_segment(proposal_id)}",
                                   auth=REQUIRED)

    async def accept_proposal(self, proposal_id: str, segments: list[str] | None, key: str,
                              changelog: str | None = None, scene_bible: bool = False
                              ) -> dict:
        """Accept ``segments`` (None: all); answers ``{"proposal", "version"}``.  A
        ``ConflictError`` with code ``proposal_conflict`` lists the ids in
        ``.body["conflicts"]``."""
        body: dict[str, Any] = {"segments": None if segments is None else list(segments),
                                "scene_bible": bool(scene_bible)}
        if changelog:
            body["changelog"] = changelog
        return await self._request("POST", f"/v1/proposals/{_segment(proposal_id)}/accept",
                                   auth=REQUIRED, key=key, body=body)

    async def decline_proposal(self, proposal_id: str, key: str) -> dict:
        return await self._request("POST", f"/v1/proposals/{_segment(proposal_id)}/decline",
                                   auth=REQUIRED, key=key)

    async def withdraw_proposal(self, proposal_id: str, key: str) -> dict:
        return await self._request("POST", f"/v1/proposals/{_segment(proposal_id)}/withdraw",
                                   auth=REQUIRED, key=key)
