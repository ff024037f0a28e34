"""The local half of proposals: what a fork proposes against its base version (no network),
and the refusals made before anything is sent.  The end-to-end flow against a real
marketplace is in ``tests/sync/test_collaboration_flow.py``."""

from __future__ import annotations

import asyncio

import pytest

from studio.services import collaboration, forking, manuscript, reference_cache, stories
from studio.services.collaboration import CollaborationError
from studio.store.repositories import marketplace as marketplace_repo

from tests.services._marketplace_content import SERVER, make_content


def fork_of_cached(db) -> tuple[int, dict]:
    content = make_content(chapters=2, scenes=2, segments=3)
    reference_cache.cache_story(db, SERVER, {"id": "st_lamp", "title": "The Lamp",
                                             "owner": "ann", "licence": "CC-BY",
                                             "latest_version": 3})
    ref = reference_cache.cache_version(db, SERVER, "st_lamp", 3, "Third", content)
    return forking.fork_reference(db, ref), content


def test_a_fork_proposes_the_paragraphs_it_changed(db):
    fork, content = fork_of_cached(db)
    scene = content["manuscript"]["chapters"][1]["scenes"][0]
    base_texts = [seg["text"] for seg in scene["segments"]]
    manuscript.apply_segment_texts(db, fork, {"seg_1_0_2": "The keeper lied.",
                                              "seg_0_1_0": "Fog, everywhere."})
    # a paragraph added and one removed in another scene: they cannot be proposed
    other = manuscript.load_scene(db, fork, "scene_0_0").segments
    manuscript.save_scene_text(db, fork, "scene_0_0",
                               "\n\n".join([other[0].text, other[2].text, "A new line."]))

    changes = collaboration.proposal_changes(db, fork)

    assert [(c.segment_id, c.chapter_title, c.scene_title) for c in changes] == [
        ("seg_0_1_0", "Chapter 1", "Scene 1.2"), ("seg_1_0_2", "Chapter 2", "Scene 2.1")]
    assert changes[1].base == base_texts[2] and changes[1].proposed == "The keeper lied."
    assert changes[0].proposed == "Fog, everywhere."
    assert (changes.remote_story_id, changes.base_version, changes.server_url) == \
        ("st_lamp", 3, SERVER)
    assert changes.source_title == "The Lamp"
    assert changes.removed == ["seg_0_0_1"]
    [added] = changes.added
    assert added.startswith("seg_") and added not in {"seg_0_0_1"}
    assert "1 paragraph(s) you added and 1 paragraph(s) you removed cannot be proposed" in \
        changes.warning


def test_an_untouched_fork_proposes_nothing(db):
    fork, _ = fork_of_cached(db)
    changes = collaboration.proposal_changes(db, fork)
    assert list(changes) == [] and changes.warning is None and changes.base_version == 3


def test_a_story_that_is_not_a_fork_cannot_propose(db):
    story = stories.create_story(db, "Gull Rock").id
    with pytest.raises(CollaborationError, match="“Gull Rock” is not a copy of a marketplace "
                       "story: fork it from the Marketplace panel first"):
        collaboration.proposal_changes(db, story)
    with db.session() as s:  # published from here: told to publish it the usual way
        marketplace_repo.ensure_link(s, story, SERVER).remote_story_id = "st_gull"
    with pytest.raises(CollaborationError, match="“Gull Rock” is the story you published: "
                       "publish its next version with Publish"):
        asyncio.run(collaboration.publish_as_editor(db, Unreachable(), story, "v2"))


class Unreachable:
    """A client whose every call would fail the test: what is refused here never leaves."""

    base_url = SERVER

    def __getattr__(self, name):
        raise AssertionError(f"{name} was called: the refusal should come first")


def test_refusals_made_before_anything_is_sent(db):
    fork, _ = fork_of_cached(db)
    client = Unreachable()
    cases = [
        (collaboration.invite(client, "st_lamp", "bob", "owner"), "not a role"),
        (collaboration.invite(client, "st_lamp", "  ", "editor"), "Type the marketplace"),
        (collaboration.change_role(client, "st_lamp", "bob", "admin"), "not a role"),
        (collaboration.list_proposals(client, "st_lamp", "maybe"), "not a list of proposals"),
        (collaboration.submit_proposal(db, client, fork, "  "), "Give the proposal a title"),
        (collaboration.submit_proposal(db, client, fork, "Fix"), "Nothing to propose"),
        (collaboration.accept_proposal(db, client, fork, "pr_x", []), "at least one change"),
        (collaboration.publish_as_editor(db, client, fork, 7), "Say what changed"),
    ]
    for coro, needle in cases:
        with pytest.raises(CollaborationError, match=needle):
            asyncio.run(coro)


def test_a_fork_of_another_marketplace_is_refused(db):
    fork, _ = fork_of_cached(db)
    manuscript.apply_segment_texts(db, fork, {"seg_0_0_0": "Changed."})

    class Elsewhere(Unreachable):
        base_url = "https://other.example"

    with pytest.raises(CollaborationError, match="copy of a story on https://market.example"):
        asyncio.run(collaboration.submit_proposal(db, Elsewhere(), fork, "Fix"))
    with pytest.raises(CollaborationError, match="sign in there"):
        asyncio.run(collaboration.publish_as_editor(db, Elsewhere(), fork, "Fix"))
