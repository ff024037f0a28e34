"""Publishing: the content format, the outbox entries, and the prepare/complete halves."""

from __future__ import annotations

import pytest

from studio.domain.errors import ValidationError
from studio.services import (
    bible, chapter_graph, forking, manuscript, marketplace_ops, portability, publishing,
    pulling, reference_cache, stories, versions,
)
from studio.services.publishing import PublishError
from studio.store.models import OutboxEntry

from tests.services._marketplace_content import (  # noqa: F401 (fixture)
    SERVER, content_texts, make_content, outbox_repo, sql, story_texts,
)

META = {"title": "The Lighthouse", "licence": "CC-BY", "tags": ["sea"]}


def sample(db) -> int:
    story = portability.import_sample(db)
    chapter_graph.add_chapter(db, story.id, "Arrival")
    return story.id


def scene_texts(db, story_id):
    return {sc.uid: manuscript.load_scene(db, story_id, sc.uid).text
            for ch in manuscript.outline(db, story_id).chapters for sc in ch.scenes}


def test_publish_content_round_trips_through_cache_and_fork(db):
    story_id = sample(db)
    manuscript.update_scene(db, story_id, manuscript.outline(db, story_id).chapters[0]
                            .scenes[0].uid, synopsis="Dawn.", status="final")
    content = publishing.publish_content(db, story_id)
    assert set(content) == {"modules", "manuscript", "scene_bible", "chapter_graph"}
    seg_ids = list(content_texts(content))
    assert seg_ids and all(i.startswith("seg_") for i in seg_ids)
    assert publishing.publish_content(db, story_id) == content  # stable ids and order

    ref = reference_cache.cache_version(db, SERVER, "st_light", 1, "", content)
    assert reference_cache.reference_content(db, ref) == content
    fork = forking.fork_reference(db, ref)
    assert story_texts(db, fork) == story_texts(db, story_id)
    assert scene_texts(db, fork) == scene_texts(db, story_id)  # blank lines too
    assert manuscript.outline(db, fork).chapters == manuscript.outline(db, story_id).chapters
    original, forked = stories.open_story(db, story_id), stories.open_story(db, fork)
    assert {k: (m.input_text, m.output) for k, m in forked.modules.items()} == \
        {k: (m.input_text, m.output) for k, m in original.modules.items()}
    assert bible.load(db, fork).story_data == bible.load(db, story_id).story_data
    assert chapter_graph.load(db, fork).graph == chapter_graph.load(db, story_id).graph
    assert publishing.publish_content(db, fork) == content
    # the fork shares every scene text the author's story already stored
    assert sql(db, "SELECT count(*) FROM segments WHERE story_id = ?", fork)[0][0] == 0


def test_excluded_parts_are_empty(db):
    story_id = sample(db)
    content = publishing.publish_content(db, story_id, {"manuscript"})
    assert content["modules"] == {} and content["scene_bible"] == {}
    assert content["chapter_graph"] == {}
    assert content["manuscript"]["chapters"]
    only_bible = publishing.publish_content(db, story_id, {"scene_bible"})
    assert only_bible["manuscript"] == {"chapters": []} and only_bible["scene_bible"]
    with pytest.raises(ValidationError, match="not a part"):
        publishing.publish_content(db, story_id, {"manuscript", "cover"})


def fake_publish_answer(remote: str, number: int) -> dict:
    return {"remote_story_id": remote, "remote_version": number,
            "story": {"id": remote, "latest_version": number}, "version": {"number": number}}


def test_offline_publishes_become_versions_of_one_story(db, outbox_repo):
    story_id = sample(db)
    first = publishing.enqueue_publish(db, story_id, SERVER, META, "First version")
    second = publishing.enqueue_publish(db, story_id, SERVER, META, "Typos")
    assert pulling.publish_status(db, story_id).next_version == 3
    with db.session() as s:
        entry = s.get(OutboxEntry, first)
        assert (entry.kind, entry.story_id, entry.state) == ("publish", story_id, "pending")

    spec = marketplace_ops.prepare_publish(db, first)
    assert spec["remote_story_id"] is None
    assert spec["meta"] == META and spec["changelog"] == "First version"
    assert spec["content"] == publishing.publish_content(db, story_id)
    # the author keeps writing; a retry of the same entry still sends the same request
    scene = manuscript.outline(db, story_id).chapters[0].scenes[0].uid
    manuscript.save_scene_text(db, story_id, scene, "Written after queueing.")
    assert marketplace_ops.prepare_publish(db, first) == spec
    assert [v.label for v in versions.list_versions(db, story_id)][0].startswith("Published")

    marketplace_ops.complete_publish(db, first, fake_publish_answer("st_new", 1))
    marketplace_ops.complete_publish(db, first, fake_publish_answer("st_new", 1))  # idempotent
    spec2 = marketplace_ops.prepare_publish(db, second)
    assert spec2["remote_story_id"] == "st_new" and spec2["update_meta"] is True
    assert content_texts(spec2["content"])  # built from the story as it is at send time
    assert "Written after queueing." in content_texts(spec2["content"]).values()
    marketplace_ops.complete_publish(db, second, fake_publish_answer("st_new", 2))
    status = pulling.publish_status(db, story_id)
    assert (status.remote_story_id, status.remote_version, status.source_title) == \
        ("st_new", 2, None)


def test_publish_refusals(db, outbox_repo):
    story_id = sample(db)
    with pytest.raises(ValidationError, match="licence"):
        publishing.enqueue_publish(db, story_id, SERVER, {"title": "X"}, "v1")
    with pytest.raises(ValidationError, match="not a field"):
        publishing.enqueue_publish(db, story_id, SERVER, {**META, "price": 3}, "v1")
    with pytest.raises(ValidationError, match="not a part"):
        publishing.enqueue_publish(db, story_id, SERVER, META, "v1", {"cover"})
    with pytest.raises(ValidationError, match="visibility.*public, unlisted, private"):
        publishing.enqueue_publish(db, story_id, SERVER, {**META, "visibility": "secret"}, "v1")
    with pytest.raises(PublishError, match="Only a fork"):
        publishing.enqueue_remix(db, story_id, SERVER, META, "Remix")
    assert sql(db, "SELECT count(*) FROM outbox")[0][0] == 0


def test_a_private_story_is_queued_as_private(db, outbox_repo):
    """"Private" (only the owner and the collaborators read it) goes to the server as is."""
    story_id = sample(db)
    entry_id = publishing.enqueue_publish(db, story_id, SERVER,
                                          {**META, "visibility": "private"}, "v1")
    with db.session() as s:
        payload = outbox_repo.payload(outbox_repo.get(s, entry_id))
    assert payload["meta"]["visibility"] == "private"


def forked(db, licence="CC-BY"):
    content = make_content(chapters=2, scenes=2, segments=3)
    reference_cache.cache_story(db, SERVER, {"id": "st_src", "title": "Source", "owner": "ann",
                                             "licence": licence, "latest_version": 1})
    ref = reference_cache.cache_version(db, SERVER, "st_src", 1, "", content)
    return forking.fork_reference(db, ref), content


def test_remix_sends_what_the_fork_changed(db, outbox_repo):
    story_id, content = forked(db)
    fork_entry = outbox_repo.enqueue  # the UI queues register_fork right after forking
    with db.session() as s:
        reg = fork_entry(s, SERVER, "register_fork", "Fork of “Source”",
                         {"story_id": "st_src", "version": 1}, story_id=story_id).id
    assert marketplace_ops.prepare_payload(db, reg) == {"story_id": "st_src", "version": 1}
    marketplace_ops.complete_register_fork(db, reg, {"fork_id": "fk_1", "fork": {"id": "fk_1"}})

    text = manuscript.load_scene(db, story_id, "scene_1_0").text.split("\n\n")
    text[2] = "A remixed ending."
    manuscript.save_scene_text(db, story_id, "scene_1_0", "\n\n".join(text))
    stories.save_module(db, story_id, "idea_spark", "A remix idea.",
                        stories.open_story(db, story_id).modules["idea_spark"].output)
    entry = publishing.enqueue_remix(db, story_id, SERVER, META, "My remix")
    assert pulling.publish_status(db, story_id).source_title == "Source"
    spec = marketplace_ops.prepare_publish_remix(db, entry)
    assert spec["source_story_id"] == "st_src" and spec["source_version"] == 1
    assert spec["remote_fork_id"] == "fk_1"
    assert spec["segments"] == {"seg_1_0_2": "A remixed ending."}
    assert set(spec["parts"]) == {"modules"}
    assert spec["parts"]["modules"]["idea_spark"]["input"] == "A remix idea."
    assert spec["structure"] == {"added": [], "removed": [], "moved": False}
    assert marketplace_ops.prepare_publish_remix(db, entry) == spec
    marketplace_ops.complete_publish_remix(db, entry, {"fork_id": "fk_1",
                                                       "remote_story_id": "st_remix",
                                                       "remote_version": 1,
                                                       "story": {"id": "st_remix"}})
    status = pulling.publish_status(db, story_id)
    assert (status.remote_story_id, status.remote_version) == ("st_remix", 1)


def test_remix_licence_rules(db, outbox_repo):
    story_id, _ = forked(db, licence="all-rights-reserved")
    with pytest.raises(PublishError, match="all-rights-reserved"):
        publishing.enqueue_remix(db, story_id, SERVER, META, "Remix")


def test_like_answers_refresh_the_cached_story(db, outbox_repo):
    reference_cache.cache_story(db, SERVER, {"id": "st_src", "title": "Source",
                                             "latest_version": 1,
                                             "stats": {"likes": 4, "views": 9}})
    with db.session() as s:
        entry = outbox_repo.enqueue(s, SERVER, "like", "Like", {"story_id": "st_src"}).id
    assert marketplace_ops.HANDLERS["like"][0](db, entry) == {"story_id": "st_src"}
    marketplace_ops.HANDLERS["like"][1](db, entry, {"story_id": "st_src", "liked": True,
                                                    "likes": 5})
    [cached] = reference_cache.list_cached(db)
    assert cached.detail["stats"] == {"likes": 5, "views": 9}
    assert cached.detail["liked_by_me"] is True


def test_every_sent_kind_has_local_halves():
    from studio.sync import operations

    assert set(operations.SENDERS) <= set(marketplace_ops.HANDLERS)
