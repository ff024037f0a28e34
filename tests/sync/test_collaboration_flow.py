"""Co-authoring end to end through ``studio.services.collaboration``: three authors, each with
a local database of their own, against a real marketplace process (SQLite and PostgreSQL).

Alice publishes and invites Bob (contributor) and Carol (editor).  Bob forks, edits, proposes;
Alice accepts part of it (the version credits Bob, her local story gets his text after a
"Before accepting…" version).  Carol and Alice publish on the same base: Carol is told the
version moved, pulls, merges and publishes again.  A second proposal meets a conflict and a
paragraph Alice changed locally, which is kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.services import (
    collaboration, forking, manuscript, marketplace_ops, publishing, pulling, stories,
    versions,
)
from studio.services.collaboration import CollaborationError, VersionMoved
from studio.store.database import Database
from studio.store.repositories import history
from studio.sync.client import MarketplaceClient, TokenSource
from studio.sync.operations import SENDERS
from studio.sync.outbox import Handler, OutboxDrainer
from tests.sync.helpers import register, run, run_db

SCENES = {
    "Arrival": ["The lamp was dark when Wren climbed the stair.",
                "Her father was polishing the lens.",
                "Gulls argued on the gallery rail."],
    "The ledger": ["She wrote entry 997 in the ledger.",
                   "A blue glove, left hand, no name.",
                   "The tide had turned at six."],
}
HANDLERS = {kind: Handler(prepare, SENDERS[kind], complete)
            for kind, (prepare, complete) in marketplace_ops.HANDLERS.items()
            if kind in SENDERS}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request):
    """The module's SQLite marketplace, or the session's PostgreSQL one (its app role: row-level
    security applies) — shared with the marketplace tests rather than a process of its own."""
    return request.getfixturevalue("mkt_sqlite" if request.param == "sqlite"
                                   else "postgresql_server")


@pytest.fixture
def local_db(tmp_path: Path, _migrated_database: Path):
    """A fresh local database per author (a copy of the once-migrated one)."""
    opened = []

    def make(name: str) -> Database:
        folder = tmp_path / name
        folder.mkdir()
        shutil.copyfile(_migrated_database, folder / _migrated_database.name)
        opened.append(Database.open(folder))
        return opened[-1]

    yield make
    for database in opened:
        database.close()


class Author:
    def __init__(self, server_url: str, prefix: str, db: Database):
        self.username, self.password = register(server_url, prefix)
        self.client = MarketplaceClient(server_url, tokens=TokenSource(), timeout=30)
        self.db = db

    async def __aenter__(self) -> "Author":
        await self.client.login(self.username, self.password)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.aclose()

    async def publish(self, story_id: int, changelog: str) -> int:
        """Publish through the outbox, as the app does; returns the remote version."""
        publishing.enqueue_publish(self.db, story_id, self.client.base_url,
                                   {"title": "Gull Rock", "licence": "CC-BY"}, changelog)
        drainer = OutboxDrainer(run_db, self.db, lambda _url: self.client, HANDLERS)
        assert await drainer.drain() == 1
        return pulling.publish_status(self.db, story_id).remote_version

    async def fork(self, remote: str) -> int:
        ref = await collaboration.fetch_version(self.db, self.client, remote)
        return forking.fork_reference(self.db, ref)


def texts(db, story_id: int) -> dict[str, str]:
    out = {}
    for ch in manuscript.outline(db, story_id).chapters:
        for sc in ch.scenes:
            for seg in manuscript.load_scene(db, story_id, sc.uid).segments:
                out[seg.id] = seg.text
    return out


def new_story(db) -> int:
    story_id = stories.create_story(db, "Gull Rock").id
    chapter = manuscript.add_chapter(db, story_id, "One").uid
    for scene, paragraphs in SCENES.items():
        manuscript.add_scene(db, story_id, chapter, scene, text="\n\n".join(paragraphs))
    return story_id


async def refused(coro, code: str, needle: str) -> CollaborationError:
    with pytest.raises(CollaborationError) as caught:
        await coro
    assert caught.value.code == code, caught.value
    assert needle in str(caught.value), str(caught.value)
    return caught.value


def test_three_authors_co_write_a_story(server, local_db):
    url = server.base_url

    async def scenario():
        async with Author(url, "alice", local_db("alice")) as alice, \
                Author(url, "bob", local_db("bob")) as bob, \
                Author(url, "carol", local_db("carol")) as carol:
            await flow(alice, bob, carol)

    run(scenario())


async def flow(alice: Author, bob: Author, carol: Author) -> None:
    a_story = new_story(alice.db)
    assert await alice.publish(a_story, "First version") == 1
    remote = pulling.publish_status(alice.db, a_story).remote_story_id
    s = list(texts(alice.db, a_story))  # segment ids in reading order

    # --- invitations -----------------------------------------------------------------------
    await refused(collaboration.invite(alice.client, remote, "nobody-here", "editor"),
                  "unknown_user", "There is no user named “nobody-here”")
    invited = await collaboration.invite(alice.client, remote, bob.username, "contributor")
    assert (invited.username, invited.role, invited.status, invited.invited_by) == \
        (bob.username, "contributor", "invited", alice.username)
    await collaboration.invite(alice.client, remote, carol.username, "viewer")
    await collaboration.decline_invitation(carol.client, remote)
    assert await collaboration.my_invitations(carol.client) == []
    await collaboration.invite(alice.client, remote, carol.username, "viewer")  # again
    changed = await collaboration.change_role(alice.client, remote, carol.username, "editor")
    assert (changed.username, changed.role, changed.status) == \
        (carol.username, "editor", "invited")
    [invitation] = await collaboration.my_invitations(bob.client)
    assert (invitation.story_id, invitation.title, invitation.owner, invitation.role) == \
        (remote, "Gull Rock", alice.username, "contributor")
    await collaboration.accept_invitation(bob.client, remote)
    await collaboration.accept_invitation(carol.client, remote)
    assert await collaboration.my_invitations(bob.client) == []
    [membership] = await collaboration.my_collaborations(carol.client)
    assert (membership.story_id, membership.role, membership.owner,
            membership.latest_version) == (remote, "editor", alice.username, 1)
    people = await collaboration.list_collaborators(alice.client, remote)
    assert sorted((p.username, p.role, p.status) for p in people) == sorted(
        [(bob.username, "contributor", "accepted"), (carol.username, "editor", "accepted")])
    await refused(collaboration.change_role(bob.client, remote, carol.username, "viewer"),
                  "owner_only", "owner")

    # --- Bob proposes ----------------------------------------------------------------------
    b_fork = await bob.fork(remote)
    manuscript.apply_segment_texts(bob.db, b_fork, {
        s[0]: "The lamp was dark, and Wren climbed the stair slowly.",
        s[3]: "She wrote entry 998 in the ledger."})
    arrival = manuscript.outline(bob.db, b_fork).chapters[0].scenes[0].uid
    manuscript.save_scene_text(bob.db, b_fork, arrival, "\n\n".join(
        list(texts(bob.db, b_fork).values())[:3] + ["A new paragraph Bob wrote."]))
    changes = collaboration.proposal_changes(bob.db, b_fork)
    assert [c.segment_id for c in changes] == [s[0], s[3]]
    assert "1 paragraph(s) you added" in changes.warning
    await refused(collaboration.publish_as_editor(bob.db, bob.client, b_fork, "Mine"),
                  "editor_only", "editors")
    proposal = await collaboration.submit_proposal(bob.db, bob.client, b_fork,
                                                   "Sharper opening", "Two small fixes.")
    assert (proposal.author, proposal.base_version, proposal.status,
            proposal.segment_count) == (bob.username, 1, "open", 2)

    # --- Alice reviews and accepts one of the two -------------------------------------------
    [listed] = await collaboration.list_proposals(alice.client, remote)
    assert listed.id == proposal.id and listed.title == "Sharper opening"
    detail = await collaboration.load_proposal(alice.client, proposal.id)
    assert detail.title == "Sharper opening" and detail.description == "Two small fixes."
    assert [(c.segment_id, c.base, c.proposed, c.current, c.moved_on)
            for c in detail.changes] == [
        (s[0], SCENES["Arrival"][0], "The lamp was dark, and Wren climbed the stair slowly.",
         SCENES["Arrival"][0], False),
        (s[3], SCENES["The ledger"][0], "She wrote entry 998 in the ledger.",
         SCENES["The ledger"][0], False)]
    assert detail.changes[0].scene_title == "Arrival"
    result = await collaboration.accept_proposal(alice.db, alice.client, a_story, proposal.id,
                                                 [s[0]])
    assert (result.version, result.accepted, result.written, result.kept_local) == \
        (2, [s[0]], [s[0]], [])
    assert f"by {bob.username}, who is credited" in result.message
    server_versions = (await alice.client.versions(remote))["items"]
    assert server_versions[-1]["number"] == 2
    assert server_versions[-1]["credits"] == [bob.username]
    local = texts(alice.db, a_story)
    assert local[s[0]] == "The lamp was dark, and Wren climbed the stair slowly."
    assert local[s[3]] == SCENES["The ledger"][0]
    [saved] = [v for v in versions.list_versions(alice.db, a_story)
               if v.number == result.saved_version]
    assert saved.label == f"Before accepting proposal 'Sharper opening' by {bob.username}"
    assert pulling.publish_status(alice.db, a_story).remote_version == 2
    with alice.db.session() as session:
        entries = history.for_story(session, a_story)
    entry = next(h for h in entries if h.action == "accept_proposal")
    assert entry.actor == bob.username
    assert (entry.change["proposal"], entry.change["segments"], entry.change["version"]) == \
        (proposal.id, [s[0]], 2)
    [scene_entry] = [h for h in entries if h.entity_type == "scene_text"
                     and h.change.get("proposal") == proposal.id]
    assert [(r["id"], r["old"], r["new"]) for r in scene_entry.change["replaced"]] == [
        (s[0], SCENES["Arrival"][0], "The lamp was dark, and Wren climbed the stair slowly.")]
    assert manuscript.search(alice.db, a_story, "slowly").total == 1  # the index follows
    [done] = await collaboration.list_proposals(bob.client, remote, "accepted")
    assert (done.status, done.accepted_segments, done.result_version) == \
        ("partially_accepted", (s[0],), 2)

    # --- Carol and Alice publish on the same base -----------------------------------------
    c_fork = await carol.fork(remote)
    assert pulling.update_status(carol.db, c_fork).base == 2
    manuscript.apply_segment_texts(carol.db, c_fork, {s[4]: "A red glove, right hand."})
    manuscript.apply_segment_texts(alice.db, a_story, {s[5]: "The tide had turned at seven."})
    assert await alice.publish(a_story, "Tide") == 3
    with pytest.raises(VersionMoved) as moved:
        await collaboration.publish_as_editor(carol.db, carol.client, c_fork, "Glove")
    assert moved.value.latest == 3 and moved.value.base == 2
    assert "Version 3 was published by" in str(moved.value)
    assert "pull it, merge, and publish again" in str(moved.value)
    assert "Nothing was published" in str(moved.value)
    assert len((await carol.client.versions(remote))["items"]) == 3

    target = await collaboration.fetch_version(carol.db, carol.client, remote, moved.value.latest)
    plan = pulling.plan_pull(carol.db, c_fork, target)
    assert plan.clean and s[5] in plan.applied
    pulling.apply_pull(carol.db, c_fork, plan)
    assert await collaboration.publish_as_editor(carol.db, carol.client, c_fork, "Glove") == 4
    assert pulling.update_status(carol.db, c_fork).base == 4
    v4 = (await carol.client.version_content(remote, 4))["content"]
    landed = {seg["id"]: seg["text"] for ch in v4["manuscript"]["chapters"]
              for sc in ch["scenes"] for seg in sc["segments"]}
    assert landed[s[0]] == "The lamp was dark, and Wren climbed the stair slowly."  # Bob's
    assert landed[s[5]] == "The tide had turned at seven."  # Alice's
    assert landed[s[4]] == "A red glove, right hand."  # Carol's
    assert (await carol.client.versions(remote))["items"][-1]["author"] == carol.username
    assert collaboration.proposal_changes(carol.db, c_fork) == []  # the base is v4 now

    # --- a second proposal: a conflict, and a paragraph Alice changed locally ---------------
    manuscript.apply_segment_texts(bob.db, b_fork, {s[5]: "The tide had turned at five."})
    second = await collaboration.submit_proposal(bob.db, bob.client, b_fork, "Tides")
    detail = await collaboration.load_proposal(alice.client, second.id)
    moved_on = {c.segment_id: c.moved_on for c in detail.changes}
    assert moved_on == {s[0]: True, s[3]: False, s[5]: True}
    conflict = await refused(
        collaboration.accept_proposal(alice.db, alice.client, a_story, second.id, [s[5]]),
        "proposal_conflict", "changed since the proposal was made")
    assert conflict.conflicts == [s[5]]
    manuscript.apply_segment_texts(alice.db, a_story, {s[3]: "Entry 997, in Alice's hand."})
    result = await collaboration.accept_proposal(alice.db, alice.client, a_story, second.id,
                                                 [s[0], s[3]], "Bob's ledger line")
    assert (result.version, result.written, result.kept_local) == (5, [], [s[3]])
    assert result.saved_version is None and "kept as you have them" in result.message
    assert "v4 came from collaborators after your last publish (v3)" in result.message
    assert texts(alice.db, a_story)[s[3]] == "Entry 997, in Alice's hand."
    assert "use Update from Collaborators before you publish again" in result.message
    # v4 (carol's) is not in Alice's story: her studio still starts from v3, so her next
    # publish is refused rather than silently undoing v4.
    assert pulling.publish_status(alice.db, a_story).remote_version == 3

    # --- an editor accepts from her fork; withdrawing; leaving --------------------------------
    manuscript.apply_segment_texts(bob.db, b_fork, {s[1]: "Her father was asleep."})
    third = await collaboration.submit_proposal(bob.db, bob.client, b_fork, "Father")
    before = texts(carol.db, c_fork)
    result = await collaboration.accept_proposal(carol.db, carol.client, c_fork, third.id,
                                                 [s[1]])
    assert (result.version, result.written, result.saved_version) == (6, [], None)
    assert "Pull v6 into your copy" in result.message
    assert texts(carol.db, c_fork) == before  # her copy pulls it later
    fourth = await collaboration.submit_proposal(bob.db, bob.client, b_fork, "Once more")
    await collaboration.withdraw_proposal(bob.client, fourth.id)
    assert [p.id for p in await collaboration.list_proposals(alice.client, remote, "withdrawn")
            ] == [fourth.id]
    await refused(collaboration.decline_proposal(alice.client, proposal.id),
                  "proposal_closed", "already")
    await collaboration.remove(alice.client, remote, carol.username)
    await refused(collaboration.publish_as_editor(carol.db, carol.client, c_fork, "Again"),
                  "editor_only", "editors")


def test_an_unreachable_marketplace_is_said_plainly(closed_port_url, local_db):
    async def scenario():
        signed_in = TokenSource({"access_token": "a-token", "refresh_token": "r"})
        async with MarketplaceClient(closed_port_url, tokens=signed_in, timeout=5) as client:
            error = await refused(collaboration.list_proposals(client, "st_x"), "offline",
                                  f"The marketplace at {closed_port_url} cannot be reached; "
                                  "nothing was sent.")
            assert not isinstance(error, VersionMoved)

    run(scenario())
