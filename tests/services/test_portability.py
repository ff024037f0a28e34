"""Lossless JSON export/import, the sample story, and refusals that create nothing."""

from __future__ import annotations

import copy
import json

import pytest

from studio.domain.errors import ImportFormatError, ValidationError
from studio.services import portability, stories, versions


def test_round_trip_is_lossless(db):
    story = portability.import_sample(db)
    stories.set_story_metadata(db, story.id, "draft", {"pass": 2, "tags": ["sea", "grief"]})
    stories.set_metadata(db, story.id, "mood_board", ["storm", "lamp"], owner="module",
                         ref="world_seed")
    versions.save_version(db, story.id, "one")
    stories.set_metadata(db, story.id, "reviewed_by", "editor", owner="version", ref=1)
    stories.update_story(db, story.id, complete=True)
    versions.save_version(db, story.id, "two")
    versions.restore_version(db, story.id, 1)
    first = portability.export_story(db, story.id)
    again = portability.import_story(db, copy.deepcopy(first))
    second = portability.export_story(db, again.id)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert [v["number"] for v in second["versions"]] == [1, 2, 3]
    assert second["versions"][2]["restored_from"] == 1
    assert second["versions"][0]["metadata"] == {"reviewed_by": "editor"}
    assert second["modules"]["world_seed"]["metadata"] == {"mood_board": ["storm", "lamp"]}
    assert stories.get_metadata(db, again.id, "version", 1) == {"reviewed_by": "editor"}
    assert again.active_version == 3


def test_file_round_trip_and_sample_content(db, tmp_path):
    story = portability.import_sample(db)
    assert story.fields.title == "The Lighthouse Keeper’s Daughter"
    assert story.filled_modules == 5
    out = tmp_path / "story.json"
    portability.export_file(db, story.id, out)
    imported = portability.import_file(db, out)
    assert imported.modules["character_forge"].output == \
        story.modules["character_forge"].output


def test_first_run_imports_the_sample_once(db):
    assert portability.ensure_sample_on_first_run(db) is not None
    [only] = stories.list_stories(db)
    stories.delete_story(db, only.id)
    assert portability.ensure_sample_on_first_run(db) is None
    assert stories.list_stories(db) == []


@pytest.mark.parametrize("mutate, error, needle", [
    (lambda d: d.update(format="something-else"), ImportFormatError, "not a Story Studio story"),
    (lambda d: d.update(format_version=99), ImportFormatError, "format version 99"),
    (lambda d: d.pop("story"), ImportFormatError, "no “story” section"),
    (lambda d: d["modules"]["idea_spark"]["output"].update(themes="x"), ValidationError,
     "themes"),
    (lambda d: d["modules"].update(chapter_nine={}), ValidationError, "chapter_nine"),
    (lambda d: d["custom_fields"][1]["values"].update(Bad="high"), ValidationError,
     "number field"),
    (lambda d: d["versions"].append({"number": 1, "created_at": "yesterday", "snapshot": {}}),
     ValidationError, "yesterday"),
])
def test_bad_imports_are_refused_and_create_nothing(db, mutate, error, needle):
    data = json.loads(portability.sample_path().read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(error) as err:
        portability.import_story(db, data)
    assert needle in str(err.value)
    assert stories.list_stories(db) == []


def test_unreadable_files_are_clear_errors(db, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "story-studio.story", ', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        portability.import_file(db, bad)
    binary = tmp_path / "pic.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ImportFormatError, match="not a UTF-8"):
        portability.import_file(db, binary)
    with pytest.raises(ImportFormatError, match="does not exist"):
        portability.import_file(db, tmp_path / "missing.json")
    assert stories.list_stories(db) == []


def test_export_to_an_impossible_place_is_a_clear_error_and_keeps_the_old_file(db, tmp_path):
    from studio.domain.errors import StudioError

    story = portability.import_sample(db)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StudioError, match="Could not write"):
        portability.export_file(db, story.id, blocker / "story.json")
    target = tmp_path / "story.json"
    target.write_text("old", encoding="utf-8")
    portability.export_file(db, story.id, target)
    assert json.loads(target.read_text(encoding="utf-8"))["story"]["title"] == story.fields.title
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left
