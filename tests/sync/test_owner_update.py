"""The owner's side of optimistic publishing, end to end against a real marketplace process:
Alice publishes v1; Carol (editor) publishes v2 from her fork; Alice's next publish through the
outbox is refused with a sentence saying so (her text kept), she updates from collaborators
(one paragraph both changed: one conflict), and her publish, sent again, lands as v3 with both
their changes.  Without collaborators, publishes queued one after the other still land as
consecutive versions, each based on the one before.
"""

from __future__ import annotations

import pytest

from studio.services import (
    collaboration, collaboration_owner, manuscript, marketplace_outbox, publishing, pulling,
    versions,
)
from studio.services.collaboration_owner import OwnerUpdateError
from studio.store.repositories import history
from studio.store.repositories import outbox as outbox_repo
from studio.sync.outbox import OutboxDrainer
from tests.sync.helpers import run, run_db
from tests.sync.test_collaboration_flow import (  # noqa: F401 - local_db is a fixture
    HANDLERS, SCENES, Author, local_db, new_story, texts,
)

META = {"title": "Gull Rock", "licence": "CC-BY"}
ALICE_FATHER = "Her father was polishing the brass lens, humming."
CAROL_FATHER = "Her father was asleep in his chair."
ALICE_TIDE = "The tide had turned at seven."
CAROL_GLOVE = "A red glove, right hand."


def drain(author: Author) -> int:
    """One drain of the author's outbox, as the app runs it; how many entries landed."""
    async def go():
        return await OutboxDrainer(run_db, author.db, lambda _url: author.client,
                                   HANDLERS).drain()
    return go()


def entry_state(db, entry_id: int) -> tuple[str, str]:
    with db.session() as s:
        entry = outbox_repo.get(s, entry_id)
        return entry.state, entry.last_error


def server_texts(content: dict) -> dict[str, str]:
    return {seg["id"]: seg["text"] for ch in content["manuscript"]["chapters"]
            for sc in ch["scenes"] for seg in sc["segments"]}


def test_owner_updates_from_an_editor_and_publishes_on_top(mkt_sqlite, local_db):
    url = mkt_sqlite.base_url

    async def scenario():
        async with Author(url, "alice", local_db("alice")) as alice, \
                Author(url, "carol", local_db("carol")) as carol:
            await flow(alice, carol)

    run(scenario())


async def flow(alice: Author, carol: Author) -> None:
    story = new_story(alice.db)
    assert await alice.publish(story, "First version") == 1
    remote = pulling.publish_status(alice.db, story).remote_story_id
    s = list(texts(alice.db, story))
    await collaboration.invite(alice.client, remote, carol.username, "editor")
    await collaboration.accept_invitation(carol.client, remote)
    status = await collaboration_owner.owner_update_status(alice.db, alice.client, story,
                                                           run_db=run_db)
    assert (status.mine, status.latest, status.owner, status.update_available) == \
        (1, 1, alice.username, False)

    # --- Carol publishes v2 from her fork; Alice's publish on v1 is refused ----------------
    fork = await carol.fork(remote)
    manuscript.apply_segment_texts(carol.db, fork, {s[1]: CAROL_FATHER, s[4]: CAROL_GLOVE})
    assert await collaboration.publish_as_editor(carol.db, carol.client, fork, "Glove") == 2
    manuscript.apply_segment_texts(alice.db, story, {s[1]: ALICE_FATHER, s[5]: ALICE_TIDE})
    entry = publishing.enqueue_publish(alice.db, story, alice.client.base_url, META, "Tide")
    assert await drain(alice) == 0
    sentence = (f"Version 2 was published by {carol.username} since your version 1: use "
                "Update from Collaborators, then publish again.")
    assert entry_state(alice.db, entry) == ("failed", sentence)
    assert [i.label for i in marketplace_outbox.items(alice.db) if i.state == "failed"] == \
        ["Publish “Gull Rock”"]
    # sending it again as it is changes nothing: refused again, not retried on its own
    marketplace_outbox.retry(alice.db, entry)
    assert await drain(alice) == 0 and await drain(alice) == 0
    assert entry_state(alice.db, entry) == ("failed", sentence)
    assert len((await alice.client.versions(remote))["items"]) == 2
    mine = texts(alice.db, story)
    assert (mine[s[1]], mine[s[5]], mine[s[4]]) == \
        (ALICE_FATHER, ALICE_TIDE, SCENES["The ledger"][1])  # her text is kept

    # --- Alice updates from collaborators ----------------------------------------------------
    status = await collaboration_owner.owner_update_status(alice.db, alice.client, story,
                                                           run_db=run_db)
    assert (status.mine, status.latest, status.update_available) == (1, 2, True)
    plan = await collaboration_owner.plan_owner_update(alice.db, alice.client, story,
                                                       run_db=run_db)
    assert (plan.mine, plan.latest, plan.authors) == (1, 2, (carol.username,))
    assert plan.describe() == f"v2 by {carol.username}"
    assert [(c.segment_id, c.base, c.theirs, c.mine) for c in plan.conflicts] == \
        [(s[1], SCENES["Arrival"][1], CAROL_FATHER, ALICE_FATHER)]
    assert s[4] in plan.applied and s[5] in plan.kept_mine and not plan.part_conflicts
    with pytest.raises(OwnerUpdateError, match="1 conflict"):
        collaboration_owner.apply_owner_update(alice.db, plan, {})
    manuscript.apply_segment_texts(alice.db, story, {s[2]: "Gulls slept on the rail."})
    with pytest.raises(OwnerUpdateError, match="changed since this update was planned"):
        collaboration_owner.apply_owner_update(alice.db, plan, {s[1]: "both"})
    assert texts(alice.db, story)[s[4]] == SCENES["The ledger"][1]  # nothing was written
    plan = await collaboration_owner.plan_owner_update(alice.db, alice.client, story,
                                                       run_db=run_db)
    result = collaboration_owner.apply_owner_update(alice.db, plan, {s[1]: "both"})
    assert result.latest == 2 and result.rebased == (entry,)
    assert f"version {result.saved_version}" in result.message
    assert f"v2 by {carol.username}" in result.message
    [saved] = [v for v in versions.list_versions(alice.db, story)
               if v.number == result.saved_version]
    assert saved.label == "Before updating from collaborators (v2)"
    merged = texts(alice.db, story)
    assert merged[s[4]] == CAROL_GLOVE and merged[s[5]] == ALICE_TIDE
    assert merged[s[2]] == "Gulls slept on the rail."
    assert merged[s[1]] == CAROL_FATHER
    assert ALICE_FATHER in merged.values()  # "both": hers right after, as an alternate
    ids = list(merged)
    assert merged[ids[ids.index(s[1]) + 1]] == ALICE_FATHER
    assert pulling.publish_status(alice.db, story).remote_version == 2
    with alice.db.session() as session:
        [done] = [h for h in history.for_story(session, story)
                  if h.action == collaboration_owner.ACTION]
    assert (done.change["from"], done.change["to"], done.change["authors"],
            done.change["saved_version"]) == (1, 2, [carol.username], result.saved_version)
    with pytest.raises(OwnerUpdateError) as up_to_date:
        await collaboration_owner.plan_owner_update(alice.db, alice.client, story,
                                                    run_db=run_db)
    assert up_to_date.value.code == "up_to_date"

    # --- publish again: the refused entry sends the merged story as v3 -----------------------
    state, note = entry_state(alice.db, entry)
    assert state == "failed" and "version 2 from your collaborators" in note
    marketplace_outbox.retry(alice.db, entry)
    assert await drain(alice) == 1
    assert pulling.publish_status(alice.db, story).remote_version == 3
    listed = (await alice.client.versions(remote))["items"]
    assert [(v["number"], v["author"]) for v in listed] == \
        [(1, alice.username), (2, carol.username), (3, alice.username)]
    v3 = server_texts((await alice.client.version_content(remote, 3))["content"])
    assert v3[s[4]] == CAROL_GLOVE and v3[s[1]] == CAROL_FATHER  # Carol's
    assert v3[s[5]] == ALICE_TIDE and ALICE_FATHER in v3.values()  # Alice's
    assert v3[s[2]] == "Gulls slept on the rail."


def test_queued_publishes_land_as_consecutive_versions(mkt_sqlite, local_db):
    url = mkt_sqlite.base_url

    async def scenario():
        async with Author(url, "solo", local_db("solo")) as solo:
            story = new_story(solo.db)
            assert await solo.publish(story, "First version") == 1
            remote = pulling.publish_status(solo.db, story).remote_story_id
            s = list(texts(solo.db, story))
            manuscript.apply_segment_texts(solo.db, story, {s[0]: "Second, queued."})
            first = publishing.enqueue_publish(solo.db, story, url, META, "Two")
            second = publishing.enqueue_publish(solo.db, story, url, META, "Three")
            assert pulling.publish_status(solo.db, story).next_version == 4  # a third one
            assert await drain(solo) == 2
            with solo.db.session() as session:
                bases = [outbox_repo.payload(outbox_repo.get(session, e))["base_version"]
                         for e in (first, second)]
            assert bases == [1, 2]  # each based on the one before
            listed = (await solo.client.versions(remote))["items"]
            assert [(v["number"], v["changelog"]) for v in listed] == \
                [(1, "First version"), (2, "Two"), (3, "Three")]
            assert pulling.publish_status(solo.db, story).remote_version == 3
            latest = server_texts((await solo.client.version_content(remote, 3))["content"])
            assert latest[s[0]] == "Second, queued."
            with pytest.raises(OwnerUpdateError, match="up to date"):
                await collaboration_owner.plan_owner_update(solo.db, solo.client, story,
                                                            run_db=run_db)

    run(scenario())
