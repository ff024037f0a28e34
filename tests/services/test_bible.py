"""Scene bibles on real SQLite files: versions, optimistic locking across two connections,
"as of" a scene, series, emotions, snapshots and the JSON export."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.exc import IntegrityError

from studio.domain.errors import ValidationError
from studio.services import bible, emotions, portability, stories, versions
from studio.services import manuscript as ms
from studio.services.bible import StaleBibleError
from studio.store.database import Database
from studio.store.repositories import bibles as bible_repo

ADA = {"id": "char_ada1", "name": "Ada Quill", "aliases": ["Ada"]}
TOM = {"id": "char_tom1", "name": "Tom Harrow",
       "relationships": [{"target": "char_ada1", "type": "friend"}]}


def story_with_prose(db):
    story = stories.create_story(db, "Gull Rock")
    ch1 = ms.add_chapter(db, story.id, "Arrival")
    ch2 = ms.add_chapter(db, story.id, "Storm")
    s1 = ms.add_scene(db, story.id, ch1.uid, "Quay", text="Ada stepped off the boat.")
    s2 = ms.add_scene(db, story.id, ch2.uid, "Lamp", text="Tom lit the lamp.\n\nWind.")
    return story, s1, s2


def segment_ids(db, story_id, scene_uid):
    return [seg.id for seg in ms.load_scene(db, story_id, scene_uid).segments]


def test_every_save_is_a_new_version_with_its_cause(db):
    story, s1, _ = story_with_prose(db)
    seg = segment_ids(db, story.id, s1.uid)[0]
    state = bible.save(db, story.id, "story", 0, {"characters": [ADA]}, cause_segment=seg)
    assert state.story_version == 1
    state = bible.save(db, story.id, "story", 1, {"characters": [ADA, TOM]})
    assert state.story_version == 2 and state.story_data["characters"][1]["name"] == "Tom Harrow"
    listed = bible.versions(db, story.id)
    assert [(v.number, v.cause_segment) for v in listed] == [(1, seg), (2, None)]
    assert listed[1].summary == "added character Tom Harrow"
    assert bible.version_data(db, story.id, 1) == {"characters": [ADA]}


def test_invalid_bibles_are_refused_and_nothing_is_stored(db):
    story, *_ = story_with_prose(db)
    with pytest.raises(ValidationError) as err:
        bible.save(db, story.id, "story", 0, {"characters": [TOM]})
    assert err.value.path == ["characters", "0", "relationships", "0", "target"]
    with pytest.raises(ValidationError) as err:
        bible.save(db, story.id, "story", 0, {"characters": [ADA, dict(ADA, name="Other")]})
    assert "already used" in err.value.reason
    assert bible.load(db, story.id).story_version == 0


def test_a_stale_save_from_a_second_connection_is_refused_with_both_versions(db, data_dir):
    story, *_ = story_with_prose(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA]})
    other = Database.open(data_dir)  # another window / process on the same file
    try:
        seen_here = bible.load(db, story.id).story_version
        seen_there = bible.load(other, story.id).story_version
        assert seen_here == seen_there == 1
        bible.save(other, story.id, "story", seen_there,
                   {"characters": [dict(ADA, description="from the other window")]})
        with pytest.raises(StaleBibleError) as err:
            bible.save(db, story.id, "story", seen_here, {"characters": [ADA, TOM]})
        assert err.value.base == 1 and err.value.latest == 2
        assert err.value.theirs["characters"][0]["description"] == "from the other window"
        assert err.value.yours["characters"][1]["id"] == "char_tom1"
        assert "version 2 has been saved since" in str(err.value)
        # Nothing was overwritten.
        assert bible.load(other, story.id).story_data["characters"][0]["description"] \
            == "from the other window"
        assert bible.load(db, story.id).story_version == 2
    finally:
        other.close()


def test_the_unique_version_number_is_the_lock_even_when_the_check_is_passed(db, data_dir):
    """Two writers that both read version 1 cannot both write version 2."""
    story, *_ = story_with_prose(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA]})
    other = Database.open(data_dir)
    try:
        with other.session() as s:
            bible_repo.add_version(s, "story", story.id, 2, {"characters": []}, None, "other")
        with pytest.raises(IntegrityError) as err, db.session() as s:
            bible_repo.add_version(s, "story", story.id, 2, {"characters": [ADA]}, None, "me")
        assert "UNIQUE" in str(err.value)
        assert bible.version_data(db, story.id, 2) == {"characters": []}
    finally:
        other.close()


def test_as_of_a_scene_uses_the_versions_saved_by_then(db):
    story, s1, s2 = story_with_prose(db)
    seg1 = segment_ids(db, story.id, s1.uid)[0]
    seg2 = segment_ids(db, story.id, s2.uid)[0]
    bible.save(db, story.id, "story", 0, {"characters": [dict(ADA, introduced_in=seg1)]},
               cause_segment=seg1)
    bible.save(db, story.id, "story", 1,
               {"characters": [dict(ADA, introduced_in=seg1),
                               dict(TOM, introduced_in=seg2)],
                "timeline": {"events": [{"id": "evt_storm", "event": "the storm",
                                         "segment": seg2}]}},
               cause_segment=seg2)
    early = bible.as_of_scene(db, story.id, s1.uid)
    assert early.story_version == 1 and [c["id"] for c in early.data["characters"]] == ["char_ada1"]
    late = bible.as_of_scene(db, story.id, s2.uid)
    assert late.story_version == 2
    assert [c["id"] for c in late.data["characters"]] == ["char_ada1", "char_tom1"]
    assert late.data["timeline"]["events"][0]["event"] == "the storm"


def test_series_bible_is_shared_and_each_book_adds_its_own(db):
    book1, *_ = story_with_prose(db)
    book2 = stories.create_story(db, "Book Two")
    state = bible.create_series(db, book1.id, "Gull Rock Chronicles")
    assert state.series.name == "Gull Rock Chronicles" and state.series.stories == 1
    bible.save(db, book1.id, "series", 0, {"characters": [ADA],
                                           "style_guide": {"tone": "brooding"}})
    uid = bible.list_series(db)[0].uid
    bible.join_series(db, book2.id, uid)
    # Book two may relate its own cast to the series cast.
    bible.save(db, book2.id, "story", 0, {"characters": [TOM]})
    effective = bible.effective_bible(db, book2.id)
    assert [c["name"] for c in effective["characters"]] == ["Ada Quill", "Tom Harrow"]
    assert effective["style_guide"] == {"tone": "brooding"}
    assert bible.effective_bible(db, book1.id)["characters"] == [ADA]
    # A series change that breaks a book is refused, naming the book.
    with pytest.raises(ValidationError) as err:
        bible.save(db, book1.id, "series", 1, {"characters": []})
    assert "Book Two" in err.value.reason
    # Leaving the series while depending on it is refused; nothing changes.
    with pytest.raises(ValidationError):
        bible.leave_series(db, book2.id)
    assert bible.load(db, book2.id).series is not None


def test_emotions_record_and_arcs(db):
    story, s1, s2 = story_with_prose(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA]})
    assert emotions.set_state(db, story.id, {"character_id": "char_ada1", "scene_uid": s2.uid,
                                             "primary": "fear", "intensity": 0.9}) is None
    emotions.set_state(db, story.id, {"character_id": "char_ada1", "scene_uid": s1.uid,
                                      "primary": "hope", "intensity": 0.3})
    old = emotions.set_state(db, story.id, {"character_id": "char_ada1", "scene_uid": s1.uid,
                                            "primary": "hope", "intensity": 0.4})
    assert old["intensity"] == 0.3
    arcs = emotions.arcs(db, story.id)
    assert [label for _, label in arcs.scenes] == ["1.1 Quay", "2.1 Lamp"]
    steps = arcs.arcs["char_ada1"]
    assert [(st.scene_uid, st.state.primary) for st in steps] == [(s1.uid, "hope"),
                                                                  (s2.uid, "fear")]
    with pytest.raises(ValidationError):
        emotions.set_state(db, story.id, {"character_id": "char_nobody", "scene_uid": s1.uid,
                                          "primary": "joy", "intensity": 0.5})


def test_versions_restore_the_bible_as_a_new_bible_version(db):
    story, s1, _ = story_with_prose(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA]})
    emotions.set_state(db, story.id, {"character_id": "char_ada1", "scene_uid": s1.uid,
                                      "primary": "joy", "intensity": 0.5})
    v1 = versions.save_version(db, story.id, "with Ada")
    bible.save(db, story.id, "story", 1, {"characters": [ADA, dict(TOM, relationships=[])]})
    emotions.delete_state(db, story.id, "char_ada1", s1.uid)
    diff = versions.diff_versions(db, story.id, v1.number, None)
    assert any("Bible: characters" in str(section) for section in diff)
    versions.restore_version(db, story.id, v1.number)
    state = bible.load(db, story.id)
    assert state.story_version == 3 and state.story_data == {"characters": [ADA]}
    assert [e.primary for e in emotions.list_states(db, story.id)] == ["joy"]
    assert bible.versions(db, story.id)[-1].summary.startswith("restored")


def test_export_and_import_keep_the_bible_history_and_the_series(db, data_dir, tmp_path):
    story, s1, _ = story_with_prose(db)
    bible.create_series(db, story.id, "Chronicles")
    bible.save(db, story.id, "series", 0, {"characters": [ADA]})
    seg = segment_ids(db, story.id, s1.uid)[0]
    bible.save(db, story.id, "story", 0, {"characters": [TOM]}, cause_segment=seg)
    bible.save(db, story.id, "story", 1, {"characters": [dict(TOM, traits=["steady"])]})
    path = tmp_path / "story.json"
    portability.export_file(db, story.id, path)
    exported = json.loads(path.read_text())
    assert [v["number"] for v in exported["bible_versions"]] == [1, 2]
    assert exported["series"]["name"] == "Chronicles"

    fresh = Database.open(tmp_path / "other")
    try:
        copy = portability.import_file(fresh, path)
        state = bible.load(fresh, copy.id)
        assert state.story_version == 2 and state.series.name == "Chronicles"
        assert state.series_data == {"characters": [ADA]}
        assert [(v.number, v.cause_segment) for v in bible.versions(fresh, copy.id)] == [
            (1, seg), (2, None)]
        # Importing the same book again joins the series that is now here, untouched.
        again = portability.import_file(fresh, path)
        assert bible.load(fresh, again.id).series.stories == 2
    finally:
        fresh.close()


def test_a_bad_bible_in_an_import_is_refused_and_creates_nothing(db, tmp_path):
    story, *_ = story_with_prose(db)
    bible.save(db, story.id, "story", 0, {"characters": [ADA]})
    data = portability.export_story(db, story.id)
    data["bible_versions"][0]["data"]["characters"][0]["id"] = "ADA"
    before = len(stories.list_stories(db))
    with pytest.raises(ValidationError) as err:
        portability.import_story(db, data)
    assert err.value.path[:3] == [0, "data", "characters"]
    assert len(stories.list_stories(db)) == before
