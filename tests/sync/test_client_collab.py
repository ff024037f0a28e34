"""``CollaborationCalls`` (mixed into ``MarketplaceClient``) against a real SQLite
marketplace: every call reaches its route, and the server's refusals arrive as the client's
exceptions with their codes (the matrix itself is tests/marketplace/test_collaborators.py)."""

from __future__ import annotations

import pytest

from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.errors import ConflictError, Refused, SignInRequired
from tests.sync.helpers import register, run, story_body, unique


async def _signed_in(url: str, prefix: str) -> MarketplaceClient:
    username, password = register(url, prefix)
    client = MarketplaceClient(url, tokens=TokenSource())
    await client.login(username, password)
    return client


def test_every_collaboration_call_reaches_the_server(mkt_sqlite):
    url = mkt_sqlite.base_url

    async def scenario():
        owner, writer = await _signed_in(url, "own"), await _signed_in(url, "wr")
        me = writer.tokens.username
        try:
            made = await owner.publish_story({**story_body(["one", "two"]),
                                              "visibility": "unlisted"}, key=unique("k"))
            sid = made["story"]["id"]
            invited = await owner.invite(sid, me, "viewer", key=unique("k"))
            assert (invited["username"], invited["status"]) == (me, "invited")
            with pytest.raises(Refused) as refused:
                await owner.invite(sid, "nobody_at_all", "viewer", key=unique("k"))
            assert refused.value.code == "unknown_user" and "nobody_at_all" in str(refused.value)
            with pytest.raises(ConflictError) as conflict:
                await owner.invite(sid, me, "editor", key=unique("k"))
            assert conflict.value.code == "already_collaborator"
            (pending,) = (await writer.invitations())["items"]
            assert pending["story"]["id"] == sid
            assert (await writer.accept_invitation(sid, key=unique("k")))["status"] == "accepted"
            assert (await writer.collaborations())["items"][0]["role"] == "viewer"
            with pytest.raises(Refused) as refused:
                await writer.change_role(sid, me, "editor", key=unique("k"))
            assert (refused.value.status, refused.value.code) == (403, "owner_only")
            changed = await owner.change_role(sid, me, "contributor", key=unique("k"))
            assert changed["role"] == "contributor"
            listed = await writer.collaborators(sid)
            assert [c["username"] for c in listed["items"]] == [me]
            # proposals
            proposal = await writer.propose(sid, {"title": "Better", "base_version": 1,
                                                  "segments": {"seg_0": "ONE"}}, key=unique("k"))
            assert proposal["id"].startswith("pr_") and proposal["status"] == "open"
            assert [p["id"] for p in (await owner.proposals(sid))["items"]] == [proposal["id"]]
            detail = await owner.proposal(proposal["id"])
            assert detail["changes"][0]["proposed"] == "ONE"
            done = await owner.accept_proposal(proposal["id"], None, key=unique("k"),
                                               changelog="thanks")
            assert done["version"]["credits"] == [me] and done["version"]["number"] == 2
            with pytest.raises(ConflictError) as conflict:
                await owner.decline_proposal(proposal["id"], key=unique("k"))
            assert conflict.value.code == "proposal_closed"
            second = await writer.propose(sid, {"title": "Again", "base_version": 2,
                                                "segments": {"seg_1": "TWO"}}, key=unique("k"))
            assert (await writer.withdraw_proposal(second["id"], key=unique("k")))[
                "status"] == "withdrawn"
            third = await writer.propose(sid, {"title": "Third", "base_version": 2,
                                               "segments": {"seg_1": "2"}}, key=unique("k"))
            assert (await owner.decline_proposal(third["id"], key=unique("k")))[
                "status"] == "declined"
            assert len((await writer.proposals(sid, status="all"))["items"]) == 3
            # publishing: contributors propose; an editor's stale base is refused
            body = {"changelog": "x", "content": story_body(["1", "2"])["content"]}
            with pytest.raises(Refused) as refused:
                await writer.publish_version(sid, body, key=unique("k"))
            assert refused.value.code == "editor_only"
            with pytest.raises(ConflictError) as conflict:
                await owner.publish_version(sid, body, key=unique("k"), base_version=1)
            assert conflict.value.code == "version_moved"
            assert conflict.value.body["latest_version"] == 2
            made = await owner.publish_version(sid, body, key=unique("k"), base_version=2)
            assert made["version"]["number"] == 3
            # leaving, then a second invitation declined
            assert (await writer.remove_collaborator(sid, me, key=unique("k")))[
                "removed"] == me
            await owner.invite(sid, me, "viewer", key=unique("k"))
            assert (await writer.decline_invitation(sid, key=unique("k")))["declined"] is True
            assert (await owner.collaborators(sid))["items"] == []
        finally:
            await owner.aclose()
            await writer.aclose()
        async with MarketplaceClient(url) as anonymous:  # every call needs a sign-in
            with pytest.raises(SignInRequired):
                await anonymous.collaborations()

    run(scenario())
