"""Versions: full snapshots, what changed, diffs, restore as a new version."""

from __future__ import annotations

from studio.services import portability, stories, versions


def test_save_list_diff_restore(db):
    story = stories.create_story(db, "Draft")
    stories.save_module(db, story.id, "idea_spark", "", {"logline": "Version one logline"})
    v1 = versions.save_version(db, story.id, "first")
    assert (v1.number, v1.label, v1.summary) == (1, "first", "First version")

    stories.save_module(db, story.id, "idea_spark", "a note",
                        {"logline": "Version two logline", "themes": ["hope"]})
    stories.update_story(db, story.id, title="Draft II")
    v2 = versions.save_version(db, story.id)
    assert v2.number == 2
    assert v2.summary == "Story: title; Idea Spark: notes, logline, themes"
    assert [v.number for v in versions.list_versions(db, story.id)] == [2, 1]

    diffs = {d.title: d for d in versions.diff_versions(db, story.id, 1, 2)}
    assert diffs["Idea Spark"].changed and not diffs["World Seed"].changed
    removed = [l.text for l in diffs["Idea Spark"].lines if l.kind == "removed"]
    added = [l.text for l in diffs["Idea Spark"].lines if l.kind == "added"]
    assert "Logline: Version one logline" in removed
    assert "Logline: Version two logline" in added
    assert "  • hope" in added

    now = {d.title: d for d in versions.diff_versions(db, story.id, 2, None)}
    assert not any(d.changed for d in now.values())

    v3 = versions.restore_version(db, story.id, 1)
    assert (v3.number, v3.restored_from) == (3, 1)
    assert v3.label == "Restored from version 1"
    detail = stories.open_story(db, story.id)
    assert detail.fields.title == "Draft"
    assert detail.modules["idea_spark"].output["logline"] == "Version one logline"
    assert detail.modules["idea_spark"].input_text == ""
    assert detail.active_version == 3
    # History is never rewritten: version 2 is still there, unchanged.
    assert versions.version_snapshot(db, story.id, 2)["story"]["title"] == "Draft II"
    assert [v.number for v in versions.list_versions(db, story.id)] == [3, 2, 1]


def test_snapshot_holds_metadata_and_custom_fields(db):
    story = portability.import_sample(db)
    stories.set_story_metadata(db, story.id, "series", "Gull Rock #1")
    snap = versions.version_snapshot(db, story.id, versions.save_version(db, story.id).number)
    assert snap["story"]["metadata"]["series"] == "Gull Rock #1"
    assert {f["name"] for f in snap["custom_fields"]} == {"Eye colour", "Importance"}
    assert set(snap["modules"]) == {"idea_spark", "world_seed", "character_forge",
                                    "plot_skeleton", "wordsmith_lab"}


def test_live_snapshot_round_trip_for_undo_of_restore(db):
    story = stories.create_story(db, "A")
    before = versions.live_snapshot(db, story.id)
    stories.update_story(db, story.id, title="B")
    versions.apply_live_snapshot(db, story.id, before)
    assert stories.open_story(db, story.id).fields.title == "A"


def test_two_hundred_versions_list_without_loading_snapshots(db):
    story = portability.import_sample(db)
    for i in range(200):
        stories.update_story(db, story.id, logline=f"logline {i}")
        versions.save_version(db, story.id, f"v{i}")
    listed = versions.list_versions(db, story.id)
    assert len(listed) == 200 and listed[0].number == 200
    assert listed[0].summary == "Story: logline"
