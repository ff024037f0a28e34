"""Forking a cached version: a story that refers to the reference's prose (copy-on-write)."""

from __future__ import annotations

import pytest

from studio.domain.errors import ValidationError
from studio.services import (
    bible, chapter_graph, forking, manuscript, portability, reference_cache, stories, versions,
)
from studio.store.repositories import manuscript as manuscript_repo

from tests.services._marketplace_content import (
    SERVER, content_texts, make_content, materialised_scenes, segment_rows, sql, story_texts,
)

BIBLE = {"characters": [{"id": "char_wren", "name": "Wren", "aliases": ["the keeper's girl"]}],
         "setting": {"primary_location": "Gull Rock"}}
GRAPH = {"chapters": [{"id": "gch_1", "number": 1, "title": "Arrival"},
                      {"id": "gch_2", "number": 2, "title": "Storm", "prerequisites": ["gch_1"]}]}


def cached(db, content=None, **detail) -> int:
    reference_cache.cache_story(db, SERVER, {"id": "st_lamp", "title": "The Lamp",
                                             "owner": "ann", "licence": "CC-BY",
                                             "latest_version": 1, "genre": "mystery",
                                             **detail})
    return reference_cache.cache_version(db, SERVER, "st_lamp", 1, "First",
                                         content or make_content(chapters=3, scenes=2))


def test_a_fork_stores_no_prose_and_reads_the_reference(db):
    content = make_content(chapters=3, scenes=2, segments=4)
    content["modules"] = {"idea_spark": {"input": "A lamp that lies.",
                                         "output": {"logline": "A keeper doubts her lamp."}}}
    content["scene_bible"] = BIBLE
    content["chapter_graph"] = GRAPH
    content["manuscript"]["chapters"][1]["meta"] = {"synopsis": "The storm.", "status": "final"}
    story_id = forking.fork_reference(db, cached(db, content))

    detail = stories.open_story(db, story_id)
    assert detail.fields.title == "The Lamp (fork)"
    assert detail.fields.genre == "mystery"
    assert detail.modules["idea_spark"].input_text == "A lamp that lies."
    assert detail.modules["idea_spark"].output["logline"] == "A keeper doubts her lamp."
    assert bible.load(db, story_id).story_data == BIBLE
    assert [c["id"] for c in chapter_graph.load(db, story_id).graph["chapters"]] == \
        ["gch_1", "gch_2"]

    assert segment_rows(db, story_id) == 0
    assert sql(db, "SELECT count(*) FROM scenes WHERE story_id = ? AND shared_blob IS NULL",
               story_id)[0][0] == 0
    assert story_texts(db, story_id) == content_texts(content)
    outline = manuscript.outline(db, story_id)
    assert outline.chapters[1].synopsis == "The storm." and outline.chapters[1].status == "final"
    assert sum(sc.words for ch in outline.chapters for sc in ch.scenes) == 3 * 2 * 4 * 12
    assert manuscript.load_scene(db, story_id, "scene_0_0").text.count("\n\n") == 3
    with db.session() as s:
        order = manuscript_repo.reading_order(s, story_id)
    assert [r[0] for r in order] == list(content_texts(content))


def test_editing_one_segment_materialises_that_scene_only(db):
    story_id = forking.fork_reference(db, cached(db), title="My lamp")
    assert stories.open_story(db, story_id).fields.title == "My lamp"
    scene = manuscript.load_scene(db, story_id, "scene_1_0")
    paragraphs = scene.text.split("\n\n")
    paragraphs[1] = "Wren did not trust the lamp."
    manuscript.save_scene_text(db, story_id, "scene_1_0", "\n\n".join(paragraphs))

    assert materialised_scenes(db, story_id) == {"scene_1_0"}
    assert segment_rows(db, story_id) == 3
    after = manuscript.load_scene(db, story_id, "scene_1_0")
    assert [s.id for s in after.segments] == [s.id for s in scene.segments]
    assert after.segments[1].text == "Wren did not trust the lamp."
    texts = story_texts(db, story_id)
    assert texts["seg_1_0_1"] == "Wren did not trust the lamp."
    assert texts["seg_2_1_2"] == content_texts(make_content(chapters=3, scenes=2))["seg_2_1_2"]
    assert manuscript.search(db, story_id, "trust").total == 1


def test_versions_and_export_of_a_fork(db):
    story_id = forking.fork_reference(db, cached(db))
    before = story_texts(db, story_id)
    versions.save_version(db, story_id, "as forked")
    manuscript.save_scene_text(db, story_id, "scene_0_1", "Only this now.")
    versions.restore_version(db, story_id, 1)
    assert story_texts(db, story_id) == before
    exported = portability.export_story(db, story_id)
    copy_ = portability.import_story(db, exported)
    assert story_texts(db, copy_.id) == before


def test_two_forks_share_the_reference_blobs(db):
    ref = cached(db)
    blobs = sql(db, "SELECT count(*) FROM text_blobs")[0][0]
    a = forking.fork_reference(db, ref)
    b = forking.fork_reference(db, ref)
    assert sql(db, "SELECT count(*) FROM text_blobs")[0][0] == blobs
    manuscript.save_scene_text(db, a, "scene_0_0", "Changed in A.")
    assert story_texts(db, b)["seg_0_0_0"] != "Changed in A."
    assert sql(db, "SELECT count(*) FROM story_links WHERE source_version_id = ?", ref)[0][0] == 2


def test_an_invalid_reference_creates_nothing(db):
    content = make_content()
    content["scene_bible"] = {"characters": [{"id": "not a char id", "name": "X"}]}
    ref = cached(db, content)
    with pytest.raises(ValidationError):
        forking.fork_reference(db, ref)
    assert stories.list_stories(db) == []


def test_fork_outline_is_independent_of_words(db):
    """Stored bytes of a fork: rows per chapter and scene, none per word."""
    small = make_content(chapters=4, scenes=5, segments=2, words=5, seed=3, prefix="a")
    large = make_content(chapters=4, scenes=5, segments=40, words=60, seed=4, prefix="b")
    sizes = []
    for content, number in ((small, 1), (large, 2)):
        ref = reference_cache.cache_version(db, SERVER, "st_size", number, "", content)
        before = sql(db, "SELECT sum(pgsize) FROM dbstat WHERE name NOT LIKE 'sqlite_%' "
                         "AND name != 'text_blobs'")[0][0]
        story_id = forking.fork_reference(db, ref)
        after = sql(db, "SELECT sum(pgsize) FROM dbstat WHERE name NOT LIKE 'sqlite_%' "
                        "AND name != 'text_blobs'")[0][0]
        sizes.append(after - before)
        assert segment_rows(db, story_id) == 0
    # 480× the words, (within page granularity) the same bytes
    assert sizes[1] <= sizes[0] + 4 * 4096


def test_setting_texts_by_id_in_a_forked_scene_not_edited_yet_lands(db):
    """Replace-all's undo/redo (and any by-id edit) must reach a scene that still shares its
    reference blob: it gets its own rows first, and the edit is not silently dropped."""
    story_id = forking.fork_reference(db, cached(db))
    scene = manuscript.outline(db, story_id).chapters[0].scenes[0].uid
    first = manuscript.load_scene(db, story_id, scene).segments[0]
    manuscript.apply_segment_texts(db, story_id, {first.id: "A brand new opening."})
    segments = manuscript.load_scene(db, story_id, scene).segments
    assert segments[0].text == "A brand new opening." and segments[1:]  # the rest is kept
    assert materialised_scenes(db, story_id) == {scene}


def test_search_and_replace_reach_forked_scenes_not_edited_yet(db):
    """A fork's unedited scenes are not in the full-text index (no rows): search still finds
    their prose, in reading order with the edited ones, and replace-all rewrites it."""
    story_id = forking.fork_reference(db, cached(db))
    outline = manuscript.outline(db, story_id)
    scenes = [sc.uid for ch in outline.chapters for sc in ch.scenes]
    first = manuscript.load_scene(db, story_id, scenes[0]).segments
    word = first[0].text.split()[0].strip(".,")
    manuscript.apply_segment_texts(db, story_id, {first[1].id: f"{word} appears here too."})
    assert len(materialised_scenes(db, story_id)) == 1  # one scene edited, the rest shared

    everywhere = [seg for uid in scenes for seg in manuscript.load_scene(db, story_id, uid)
                  .segments if manuscript_repo.HIT_START not in seg.text]
    expected = [seg.id for seg in everywhere
                if word.casefold() in [w.strip(".,").casefold() for w in seg.text.split()]]
    found = manuscript.search(db, story_id, word.upper())
    assert [h.segment_uid for h in found.hits] == expected and found.total == len(expected)
    assert len({h.scene_uid for h in found.hits}) > 1  # shared scenes included
    assert all(manuscript_repo.HIT_START in h.snippet for h in found.hits)

    changes = manuscript.replace_all(db, story_id, word, "ZEBRA", whole_word=True)
    assert len(changes) >= len(expected)
    assert not manuscript.search(db, story_id, word).hits
    assert manuscript.search(db, story_id, "zebra").total == len(changes)
