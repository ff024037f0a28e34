"""Marketplace stories cached locally: stored once, read back as given, shared blobs."""

from __future__ import annotations

import copy

import pytest

from studio.domain.errors import ValidationError
from studio.services import reference_cache

from tests.services._marketplace_content import SERVER, make_content, sql, with_texts


def detail(**changes):
    base = {"id": "st_lamp", "title": "The Lamp", "owner": "ann", "licence": "CC-BY",
            "latest_version": 1, "genre": "mystery", "description": "A keeper's year."}
    base.update(changes)
    return base


def test_cache_story_upserts_and_never_forgets_a_newer_version(db):
    first = reference_cache.cache_story(db, SERVER, detail())
    again = reference_cache.cache_story(db, SERVER, detail(title="The Lamp (2nd ed.)",
                                                           latest_version=3))
    assert again.id == first.id
    assert (again.title, again.latest_version, again.owner) == ("The Lamp (2nd ed.)", 3, "ann")
    stale = reference_cache.cache_story(db, SERVER, detail(latest_version=2))
    assert stale.latest_version == 3
    assert stale.detail["genre"] == "mystery"
    assert sql(db, "SELECT count(*) FROM reference_stories")[0][0] == 1
    other = reference_cache.cache_story(db, "https://other.example", detail())
    assert other.id != first.id


def test_cache_version_twice_is_stored_once(db):
    content = make_content(chapters=2, scenes=3, segments=4)
    reference_cache.cache_story(db, SERVER, detail())
    first = reference_cache.cache_version(db, SERVER, "st_lamp", 1, "First", content)
    blobs = sql(db, "SELECT count(*) FROM text_blobs")[0][0]
    assert blobs == 6
    again = reference_cache.cache_version(db, SERVER, "st_lamp", 1, "First", content)
    assert again == first
    assert sql(db, "SELECT count(*) FROM reference_versions")[0][0] == 1
    assert sql(db, "SELECT count(*) FROM text_blobs")[0][0] == blobs
    [info] = reference_cache.cached_versions(db, SERVER, "st_lamp")
    assert (info.id, info.number, info.changelog) == (first, 1, "First")
    assert info.words == 2 * 3 * 4 * 12


def test_a_new_version_stores_only_the_scenes_that_changed(db):
    v1 = make_content(chapters=2, scenes=3, segments=4)
    v2 = with_texts(v1, {"seg_0_1_2": "A new ending for this scene."})
    reference_cache.cache_version(db, SERVER, "st_lamp", 1, "", v1)
    before = sql(db, "SELECT count(*) FROM text_blobs")[0][0]
    reference_cache.cache_version(db, SERVER, "st_lamp", 2, "Fix", v2)
    assert sql(db, "SELECT count(*) FROM text_blobs")[0][0] == before + 1
    assert [v.number for v in reference_cache.cached_versions(db, SERVER, "st_lamp")] == [1, 2]
    [story] = reference_cache.list_cached(db)
    assert story.cached_versions == (1, 2) and story.latest_version == 2


def test_reference_content_gives_the_content_back(db):
    content = make_content(chapters=2, scenes=2, segments=3)
    chapter = content["manuscript"]["chapters"][0]
    chapter["meta"] = {"synopsis": "It starts.", "status": "final", "word_target": 3000,
                       "mood": "grey"}
    scene = chapter["scenes"][1]
    scene["meta"] = {"synopsis": "Fog.", "gaps": {scene["segments"][2]["id"]: 3}}
    content["modules"] = {"idea_spark": {"input": "a lamp", "output": {"logline": "x"}}}
    content["scene_bible"] = {"characters": [{"id": "char_wren", "name": "Wren"}]}
    content["chapter_graph"] = {"chapters": []}
    ref_id = reference_cache.cache_version(db, SERVER, "st_lamp", 1, "", copy.deepcopy(content))
    assert reference_cache.reference_content(db, ref_id) == content


def test_lookups(db):
    assert reference_cache.find_cached_version(db, SERVER, "st_lamp", 1) is None
    ref_id = reference_cache.cache_version(db, SERVER, "st_lamp", 1, "", make_content())
    assert reference_cache.find_cached_version(db, SERVER, "st_lamp", 1) == ref_id
    assert reference_cache.find_cached_version(db, SERVER, "st_lamp", 2) is None
    assert reference_cache.cached_story(db, ref_id).public_id == "st_lamp"
    assert reference_cache.cached_versions(db, SERVER, "st_nothing") == []


@pytest.mark.parametrize("breakage, needle", [
    (lambda c: c["manuscript"]["chapters"][0]["scenes"][0]["segments"].append(
        {"id": "seg_0_0_0", "text": "again"}), "appears twice"),
    (lambda c: c["manuscript"]["chapters"][0]["scenes"][0]["segments"][0].pop("text"),
     "must have an id and a text"),
    (lambda c: c.update(scene_bible=["not", "an", "object"]), "must be an object"),
])
def test_bad_content_is_refused_and_nothing_is_stored(db, breakage, needle):
    content = make_content()
    breakage(content)
    with pytest.raises(ValidationError, match=needle):
        reference_cache.cache_version(db, SERVER, "st_lamp", 1, "", content)
    assert sql(db, "SELECT count(*) FROM reference_versions")[0][0] == 0
    assert sql(db, "SELECT count(*) FROM text_blobs")[0][0] == 0
