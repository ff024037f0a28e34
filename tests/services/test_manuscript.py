"""The manuscript on a real SQLite file: structure, prose, search, replace, versions, export."""

from __future__ import annotations

import json
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.services import manuscript as ms
from studio.services import portability, stories, versions


def make_story(db):
    story = stories.create_story(db, "The Salt Road")
    ch1 = ms.add_chapter(db, story.id, "Departure")
    ch2 = ms.add_chapter(db, story.id, "The Flats")
    s1 = ms.add_scene(db, story.id, ch1.uid, "Market",
                      text="Mara counted the lanterns.\n\nThe old lantern swung.")
    s2 = ms.add_scene(db, story.id, ch1.uid, "Gate", text="Guards at the gate.")
    s3 = ms.add_scene(db, story.id, ch2.uid, "Thirst", text="Salt, and more salt.")
    return story, ch1, ch2, s1, s2, s3


def test_outline_counts_and_targets(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    out = ms.outline(db, story.id)
    assert [c.title for c in out.chapters] == ["Departure", "The Flats"]
    assert [s.title for s in out.chapters[0].scenes] == ["Market", "Gate"]
    assert out.chapters[0].words == 8 + 4 and out.words == 16
    assert out.today_words == 16  # everything was written today
    ms.set_story_target(db, story.id, 80_000)
    ms.update_chapter(db, story.id, ch1.uid, word_target=3000, synopsis="They leave.")
    out = ms.outline(db, story.id)
    assert out.word_target == 80_000 and out.chapters[0].word_target == 3000
    assert out.chapters[0].synopsis == "They leave."


def test_segment_ids_survive_editing_in_the_database(db):
    story, ch1, _, s1, *_ = make_story(db)
    before = ms.load_scene(db, story.id, s1.uid)
    assert before.text == "Mara counted the lanterns.\n\nThe old lantern swung."
    saved = ms.save_scene_text(
        db, story.id, s1.uid,
        "Mara counted the lanterns.\n\nA gull cried.\n\nThe old lantern swung, creaking.")
    assert (saved.inserted, saved.updated, saved.deleted) == (1, 1, 0)
    after = ms.load_scene(db, story.id, s1.uid)
    assert after.segments[0].id == before.segments[0].id
    assert after.segments[2].id == before.segments[1].id  # edited, kept its id
    assert after.segments[1].id not in {s.id for s in before.segments}
    unchanged = ms.save_scene_text(db, story.id, s1.uid, after.text)
    assert (unchanged.inserted, unchanged.updated, unchanged.deleted) == (0, 0, 0)


def test_search_words_and_phrases_in_manuscript_order(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    found = ms.search(db, story.id, "lantern")
    assert found.total == 1 and found.hits[0].scene_uid == s1.uid
    assert "\x02lantern\x03" in found.hits[0].snippet
    assert ms.search(db, story.id, "lanterns").total == 1
    phrase = ms.search(db, story.id, '"old lantern"')
    assert [h.scene_title for h in phrase.hits] == ["Market"]
    assert ms.search(db, story.id, '"lantern old"').total == 0
    assert ms.search(db, story.id, "salt").hits[0].chapter_title == "The Flats"
    assert ms.search(db, story.id, "AND (").total == 1  # "and" is a word, not an operator
    assert ms.search(db, story.id, "( * \"").total == 0  # odd input is not an error


def test_search_index_follows_every_edit_and_deletion(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    ms.save_scene_text(db, story.id, s2.uid, "Soldiers at the portcullis.")
    assert ms.search(db, story.id, "guards").total == 0
    assert ms.search(db, story.id, "portcullis").total == 1
    ms.delete_chapter(db, story.id, ch2.uid)
    assert ms.search(db, story.id, "salt").total == 0
    ms.restore_chapter(db, story.id, ch2.uid, 1)
    assert ms.search(db, story.id, "salt").total == 1
    assert ms.verify_search_index(db) is True


def test_move_delete_and_restore_scenes(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    was = ms.move_scene(db, story.id, s1.uid, ch2.uid, 1)
    assert was == (ch1.uid, 0)
    out = ms.outline(db, story.id)
    assert [s.title for s in out.chapter(ch1.uid).scenes] == ["Gate"]
    assert [s.title for s in out.chapter(ch2.uid).scenes] == ["Thirst", "Market"]
    ms.move_scene(db, story.id, s1.uid, *was)  # undo
    assert [s.title for s in ms.outline(db, story.id).chapter(ch1.uid).scenes] == \
        ["Market", "Gate"]
    ms.delete_scene(db, story.id, s2.uid)
    assert ms.outline(db, story.id).words == 12
    ms.restore_scene(db, story.id, s2.uid, ch1.uid, 1)
    assert [s.title for s in ms.outline(db, story.id).chapter(ch1.uid).scenes] == \
        ["Market", "Gate"]
    assert ms.move_chapter(db, story.id, ch2.uid, 0) == 1
    assert [c.title for c in ms.outline(db, story.id).chapters] == ["The Flats", "Departure"]


def test_replace_across_the_project_and_undo(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    changes = ms.replace_all(db, story.id, "salt", "sand", whole_word=True)
    assert len(changes) == 1
    assert ms.load_scene(db, story.id, s3.uid).text == "sand, and more sand."
    assert ms.search(db, story.id, "salt").total == 0
    assert ms.search(db, story.id, "sand").total == 1
    ms.apply_segment_texts(db, story.id, {c.segment_uid: c.old for c in changes})
    assert ms.load_scene(db, story.id, s3.uid).text == "Salt, and more salt."
    assert ms.search(db, story.id, "sand").total == 0


def test_versions_keep_the_manuscript_and_restore_it(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    v1 = versions.save_version(db, story.id, "three scenes")
    ms.save_scene_text(db, story.id, s3.uid, "Water at last.")
    ms.delete_chapter(db, story.id, ch1.uid)
    versions.save_version(db, story.id, "cut")
    diffs = {d.title: d for d in versions.diff_versions(db, story.id, 1, 2)}
    assert diffs["Manuscript: The Flats"].changed
    assert diffs["Manuscript: Departure"].changed  # gone in version 2
    versions.restore_version(db, story.id, v1.number)
    out = ms.outline(db, story.id)
    assert [c.title for c in out.chapters] == ["Departure", "The Flats"]
    assert ms.load_scene(db, story.id, s3.uid).text == "Salt, and more salt."
    assert ms.load_scene(db, story.id, s1.uid).text.startswith("Mara counted")
    assert ms.search(db, story.id, "water").total == 0
    with sqlite3.connect(db.path) as conn:  # one blob per distinct scene text, shared
        assert conn.execute("SELECT count(*) FROM text_blobs").fetchone()[0] == 4


def test_export_import_round_trip_with_manuscript(db):
    story, ch1, ch2, s1, s2, s3 = make_story(db)
    stories.set_metadata(db, story.id, "pov", "Mara", owner="scene", ref=s1.uid)
    stories.set_metadata(db, story.id, "act", 1, owner="chapter", ref=ch1.uid)
    versions.save_version(db, story.id, "one")
    ms.save_scene_text(db, story.id, s2.uid, "Guards, bored.")
    first = portability.export_story(db, story.id)
    assert len(first["blobs"]) == 4
    copy = portability.import_story(db, json.loads(json.dumps(first)))
    second = portability.export_story(db, copy.id)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert ms.load_scene(db, copy.id, s2.uid).text == "Guards, bored."
    assert ms.search(db, copy.id, "bored").total == 1
    assert stories.get_metadata(db, copy.id, "scene", s1.uid) == {"pov": "Mara"}
    assert stories.get_metadata(db, copy.id, "chapter", ch1.uid) == {"act": 1}


def test_import_refuses_altered_scene_text(db):
    story, *_ = make_story(db)
    data = portability.export_story(db, story.id)
    digest = next(iter(data["blobs"]))
    data["blobs"][digest][0]["text"] = "tampered"
    before = len(stories.list_stories(db))
    try:
        portability.import_story(db, data)
    except Exception as exc:
        assert "does not match its hash" in str(exc)
    else:
        raise AssertionError("an altered file was imported")
    assert len(stories.list_stories(db)) == before


words = st.sampled_from(["lamp", "sea", "gull", "salt", "ledger", "tide", "glove", "oar"])
para = st.lists(words, min_size=1, max_size=6).map(" ".join)
scene_text = st.lists(para, max_size=6).map("\n".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), scene_text), min_size=1, max_size=12))
def test_search_index_matches_the_text_after_random_edits(db, edits):
    story = stories.create_story(db, "Fuzz")
    chapter = ms.add_chapter(db, story.id)
    scenes = [ms.add_scene(db, story.id, chapter.uid).uid for _ in range(3)]
    for which, text in edits:
        ms.save_scene_text(db, story.id, scenes[which], text)
    texts = [ms.load_scene(db, story.id, uid).text for uid in scenes]
    for word in ["lamp", "sea", "gull", "salt", "ledger", "tide", "glove", "oar"]:
        expected = sum(line.split().count(word) > 0 for t in texts for line in t.split("\n"))
        assert ms.search(db, story.id, word).total == expected, word
    assert ms.verify_search_index(db) is True
