"""Stories and modules through the services, on a real SQLite file."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event

from studio.domain.errors import NotFoundError, ValidationError
from studio.services import custom_fields, stories
from studio.services.stories import ModuleEdit, StoryEdits
from studio.store.database import Database, DiskFullError


def test_create_edit_and_reopen(db, data_dir):
    story = stories.create_story(db, "The Salt Road")
    assert story.fields.title == "The Salt Road"
    assert set(story.modules) == {"idea_spark", "world_seed", "character_forge",
                                  "plot_skeleton", "wordsmith_lab"}
    assert story.filled_modules == 0
    stories.save_edits(db, story.id, StoryEdits(
        story={"logline": "A caravan guard must cross the salt flats.", "complete": True},
        modules={"idea_spark": ModuleEdit("caravans, thirst", {
            "premise": "Salt is money.", "themes": ["greed", "loyalty"]})}))
    db.close()
    reopened = Database.open(data_dir)
    try:
        detail = stories.open_story(reopened, story.id)
        assert detail.fields.logline == "A caravan guard must cross the salt flats."
        assert detail.fields.complete is True
        idea = detail.modules["idea_spark"]
        assert idea.input_text == "caravans, thirst"
        assert idea.output["themes"] == ["greed", "loyalty"]
        assert idea.output["logline"] == ""  # missing fields are filled with empties
        assert idea.filled and detail.filled_modules == 1
        [summary] = stories.list_stories(reopened)
        assert summary.filled_modules == 1 and summary.version_count == 0
    finally:
        reopened.close()


def test_invalid_module_output_is_refused_with_field_and_reason(db):
    story = stories.create_story(db)
    stories.save_module(db, story.id, "idea_spark", "kept", {"premise": "kept premise"})
    with pytest.raises(ValidationError) as err:
        stories.save_edits(db, story.id, StoryEdits(
            story={"title": "should not land"},
            modules={"idea_spark": ModuleEdit("new", {"themes": "not a list"})}))
    assert err.value.path == ["themes"]
    assert "is not of type 'array'" in err.value.reason
    assert "themes" in str(err.value)
    detail = stories.open_story(db, story.id)  # nothing of the refused edit was written
    assert detail.fields.title != "should not land"
    assert detail.modules["idea_spark"].input_text == "kept"


def test_nested_schema_error_names_the_deep_path(db):
    story = stories.create_story(db)
    with pytest.raises(ValidationError) as err:
        stories.save_module(db, story.id, "plot_skeleton", "", {
            "template": "three_act",
            "acts": [{"name": "I", "beats": [{"name": "Hook", "summary": 42}]}]})
    assert err.value.path == ["acts", 0, "beats", 0, "summary"]


def test_unknown_story_field_and_bad_types_are_refused(db):
    story = stories.create_story(db)
    with pytest.raises(ValidationError):
        stories.update_story(db, story.id, colour="red")
    with pytest.raises(ValidationError):
        stories.update_story(db, story.id, complete="yes")


def test_edit_history_records_who_what_and_the_old_text(db):
    story = stories.create_story(db, "First title")
    stories.update_story(db, story.id, title="Second title")
    stories.save_module(db, story.id, "world_seed", "", {"era": "Bronze age"})
    entries = stories.story_history(db, story.id)
    actions = [(e.entity_type, e.action) for e in entries]
    assert ("story", "create") in actions
    title_change = next(e for e in entries if e.entity_type == "story" and e.action == "update")
    assert title_change.change == {"title": {"old": "First title", "new": "Second title"}}
    module_change = next(e for e in entries if e.entity_type == "module")
    assert module_change.entity_id == "world_seed"
    assert module_change.change["output"]["era"] == {"old": "", "new": "Bronze age"}
    assert title_change.actor


def test_delete_moves_to_trash_and_undelete_brings_back(db):
    keep = stories.create_story(db, "Keep")
    gone = stories.create_story(db, "Gone")
    stories.delete_story(db, gone.id)
    assert [s.title for s in stories.list_stories(db)] == ["Keep"]
    with pytest.raises(NotFoundError):
        stories.open_story(db, gone.id)
    stories.undelete_story(db, gone.id)
    assert {s.title for s in stories.list_stories(db)} == {"Keep", "Gone"}
    assert stories.open_story(db, keep.id).fields.title == "Keep"


def test_custom_fields_are_typed(db):
    story = stories.create_story(db)
    custom_fields.define_field(db, story.id, "Eye colour", "text", "character")
    custom_fields.define_field(db, story.id, "Danger", "number", "location")
    custom_fields.set_value(db, story.id, "Eye colour", "character", "Wren", "grey")
    custom_fields.set_value(db, story.id, "Danger", "location", "The Neck", 4)
    with pytest.raises(ValidationError):
        custom_fields.set_value(db, story.id, "Danger", "location", "The Neck", "very")
    with pytest.raises(ValidationError):
        custom_fields.define_field(db, story.id, "Mood", "colour", "scene")
    fields = {f["name"]: f for f in custom_fields.list_fields(db, story.id)}
    assert fields["Eye colour"]["values"] == {"Wren": "grey"}
    assert fields["Danger"]["values"] == {"The Neck": 4}


def test_disk_full_is_a_clear_error_and_loses_nothing_saved(db):
    story = stories.create_story(db, "Tight disk")
    stories.save_module(db, story.id, "idea_spark", "saved before the disk filled", {})
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    # Cap the file at its current size: SQLite then fails exactly as on a full disk.
    event.listen(db.engine, "connect",
                 lambda c, _r: c.execute(f"PRAGMA max_page_count={pages + 1}"))
    db.engine.dispose()
    with pytest.raises(DiskFullError) as err:
        stories.save_module(db, story.id, "wordsmith_lab", "x" * 200_000, {})
    assert "disk is full" in str(err.value)
    detail = stories.open_story(db, story.id)
    assert detail.modules["idea_spark"].input_text == "saved before the disk filled"
    assert detail.modules["wordsmith_lab"].input_text == ""
    assert db.integrity_check() == []
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
