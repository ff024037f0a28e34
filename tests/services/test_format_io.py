"""Import and export through ``services.format_io`` on a real database.

A preview stores nothing; applying stores everything in one unit of work or nothing; undo and
redo take a whole import back and forth; an export lands complete or not at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.domain.errors import ImportFormatError, StudioError, ValidationError
from studio.formats import json_story
from studio.formats.markdown import MarkdownError
from studio.formats.registry import BIBLE, GRAPH, STORY, ExportOptions, ImportPreview
from studio.services import bible, chapter_graph, format_io, portability, stories
from studio.services import manuscript as ms
from studio.services.files import check_writable_folder
from studio.store.database import Database
from studio.store.repositories import custom_fields as fields_repo

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
NOVEL = """---
title: "The Storm"
author: Jane Doe
language: fr
draft: 3
---

# One

> *Synopsis:* The storm comes.

## Arrival

It was a dark
and stormy night.

Second paragraph.

## Departure

Gone.

# Two

Text.
"""


def md_file(tmp_path: Path, text: str = NOVEL, name: str = "storm.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(db: Database) -> int:
    return len(stories.list_stories(db))


# --- a whole story -------------------------------------------------------------------------

def test_markdown_becomes_a_story_and_comes_back_the_same(db, tmp_path):
    preview = format_io.preview_import(md_file(tmp_path))
    assert count(db) == 0  # a preview stores nothing
    outcome = format_io.apply_import(db, preview)
    assert outcome.kind == STORY and outcome.created
    detail = stories.open_story(db, outcome.story_id)
    assert detail.fields.title == "The Storm"
    assert detail.metadata == {"author": "Jane Doe", "draft": 3}
    outline = ms.outline(db, outcome.story_id)
    assert outline.language == "fr"
    assert [c.title for c in outline.chapters] == ["One", "Two"]
    assert outline.chapters[0].synopsis == "The storm comes."
    assert [s.title for s in outline.chapters[0].scenes] == ["Arrival", "Departure"]
    scene = ms.load_scene(db, outcome.story_id, outline.chapters[0].scenes[0].uid)
    assert scene.text == "It was a dark and stormy night.\n\nSecond paragraph."
    assert scene.words == 9
    first = format_io.export(db, outcome.story_id, "markdown", tmp_path / "out.md",
                             ExportOptions(synopses=True))
    again = format_io.apply_import(db, format_io.preview_import(first))
    second = format_io.export(db, again.story_id, "markdown", tmp_path / "again.md",
                              ExportOptions(synopses=True))
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    assert 'author: "Jane Doe"' in first.read_text(encoding="utf-8")


def test_undo_and_redo_a_new_story(db, tmp_path):
    outcome = format_io.apply_import(db, format_io.preview_import(md_file(tmp_path)))
    format_io.undo_import(db, outcome)
    assert count(db) == 0
    format_io.redo_import(db, outcome)
    assert [s.id for s in stories.list_stories(db)] == [outcome.story_id]


@pytest.mark.parametrize("name, content, reason", [
    ("broken.md", b"---\ntitle: x\n# no closing line\n", "never closed"),
    ("binary.md", b"PK\x03\x04\x00\x00junk\x00", "not a text file"),
    ("empty.md", b"", "empty"),
])
def test_bad_files_create_nothing(db, tmp_path, name, content, reason):
    portability.import_sample(db)
    before = count(db)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MarkdownError) as err:
        format_io.apply_import(db, format_io.preview_import(path))
    assert name in str(err.value) and reason in str(err.value)
    assert count(db) == before


def test_oversized_file_is_refused_quickly(db, tmp_path):
    big = tmp_path / "huge.txt"
    with big.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024)
    with pytest.raises(ImportFormatError, match="huge.txt is 100 MB"):
        format_io.preview_import(big)
    assert count(db) == 0


def test_a_story_that_breaks_a_rule_is_not_half_created(db):
    content = {"title": "Half", "manuscript": {"chapters": [
        {"title": "Fine", "scenes": [{"title": "S", "segments": [{"text": "Words."}]}]}]},
        "scene_bible": {"characters": [{"name": "Mara", "traits": ["x" * 300]}]}}
    preview = ImportPreview("markdown", STORY, "Half", (), content)
    with pytest.raises(ValidationError, match="traits"):
        format_io.apply_import(db, preview)
    bad_status = {"title": "Bad", "manuscript": {"chapters": [{"title": "A", "status": "?"}]}}
    with pytest.raises(ValidationError, match="status"):
        format_io.apply_import(db, ImportPreview("x", STORY, "Bad", (), bad_status))
    assert count(db) == 0


def test_full_story_content_with_modules_bible_and_graph(db):
    content = {
        "title": "Whole", "logline": "All parts.", "genre": "mystery", "word_target": 80000,
        "modules": {"idea_spark": {"input": "a seed", "output": {}}},
        "manuscript": {"chapters": [{"id": "chap_0123456789ab", "title": "A",
                                     "word_target": 3000, "metadata": {"pov": "Mara"},
                                     "scenes": [{"title": "S", "status": "revised",
                                                 "segments": [{"text": "One."},
                                                              {"text": "Two."}]}]}]},
        "scene_bible": {"characters": [
            {"id": "x1", "name": "Mara", "portrait_data": PNG,
             "custom": {"card": {"spec": "chara_card_v3"}},
             "relationships": [{"target": "x2", "type": "sibling"}]},
            {"id": "x2", "name": "Tom"}]},
        "chapter_graph": {"chapters": [{"id": "gch_aaaa0001", "number": 1, "title": "A"}]},
    }
    story_id = format_io.apply_import(db, ImportPreview("x", STORY, "Whole", (), content)).story_id
    detail = stories.open_story(db, story_id)
    assert (detail.fields.logline, detail.fields.genre) == ("All parts.", "mystery")
    assert detail.modules["idea_spark"].input_text == "a seed"
    outline = ms.outline(db, story_id)
    assert outline.word_target == 80000
    [chapter] = outline.chapters
    assert chapter.uid == "chap_0123456789ab" and chapter.word_target == 3000
    assert stories.get_metadata(db, story_id, "chapter", chapter.uid) == {"pov": "Mara"}
    assert chapter.scenes[0].status == "revised"
    data = bible.load(db, story_id).story_data
    mara, tom = data["characters"]
    assert mara["relationships"] == [{"target": tom["id"], "type": "sibling"}]
    assert Path(mara["assets"]["portrait"]).read_bytes() == PNG
    with db.session() as s:
        assert fields_repo.as_dicts(s, story_id)[0]["values"] == {
            mara["id"]: {"spec": "chara_card_v3"}}
    assert chapter_graph.load(db, story_id).graph["chapters"][0]["id"] == "gch_aaaa0001"
    doc, _ = format_io.build_doc(db, story_id)
    assert doc.extras["portraits"] == {mara["id"]: PNG}
    assert doc.extras["custom_fields"]["character"][mara["id"]]["card"]["spec"] == \
        "chara_card_v3"


# --- bible entries into the open story ----------------------------------------------------

AUTHOR_BIBLE = {"characters": [{"id": "char_mara", "name": "Mara",
                                "description": "The author's own words.", "traits": ["brave"]}],
                "setting": {"world_rules": ["No magic at sea."]}}
CARD = ImportPreview("cards", BIBLE, "Cards", ("2 characters",), {
    "characters": [
        {"name": "mara", "description": "A card's description.", "traits": ["brave", "kind"],
         "aliases": ["Mar"], "custom": {"card_extensions": {"depth": 4}}},
        {"name": "Seraphina", "description": "A forest guardian.", "portrait_data": PNG,
         "custom": {"card_extensions": {"talkativeness": 0.5}},
         "relationships": [{"target": "mara", "type": "friend"}]}],
    "setting": {"world_rules": ["No magic at sea.", "The forest remembers."],
                "locations": [{"name": "Eldoria", "description": "A forest."}]}},
    source="/cards/seraphina.png")


def bible_story(db) -> int:
    story = stories.create_story(db, "Bible")
    bible.save(db, story.id, "story", 0, AUTHOR_BIBLE)
    return story.id


def test_bible_entries_merge_without_overwriting_and_undo(db):
    story_id = bible_story(db)
    outcome = format_io.apply_import(db, CARD, story_id)
    assert outcome.kind == BIBLE and not outcome.created
    assert "seraphina.png: 3 added, 1 updated" in outcome.summary[0]
    state = bible.load(db, story_id)
    assert state.story_version == 2  # one new version
    mara, sera = state.story_data["characters"]
    assert mara["description"] == "The author's own words."
    assert mara["traits"] == ["brave", "kind"] and mara["aliases"] == ["Mar"]
    assert sera["id"].startswith("char_") and sera["relationships"] == [
        {"target": "char_mara", "type": "friend"}]
    assert Path(sera["assets"]["portrait"]).read_bytes() == PNG
    assert state.story_data["setting"]["world_rules"] == ["No magic at sea.",
                                                          "The forest remembers."]
    assert state.story_data["setting"]["locations"] == [{"name": "Eldoria",
                                                         "description": "A forest."}]
    with db.session() as s:
        values = fields_repo.as_dicts(s, story_id)[0]["values"]
    assert values == {"char_mara": {"depth": 4}, sera["id"]: {"talkativeness": 0.5}}

    format_io.undo_import(db, outcome)
    state = bible.load(db, story_id)
    assert state.story_version == 3 and state.story_data == AUTHOR_BIBLE
    with db.session() as s:
        assert fields_repo.as_dicts(s, story_id) == []
    format_io.redo_import(db, outcome)
    assert bible.load(db, story_id).story_data["characters"][1]["name"] == "Seraphina"


def test_a_second_import_keeps_the_authors_custom_values(db):
    story_id = bible_story(db)
    format_io.apply_import(db, CARD, story_id)
    again = ImportPreview("cards", BIBLE, "Again", (), {"characters": [
        {"name": "Mara", "custom": {"card_extensions": {"depth": 99}}}]})
    format_io.apply_import(db, again, story_id)
    with db.session() as s:
        assert fields_repo.as_dicts(s, story_id)[0]["values"]["char_mara"] == {"depth": 4}


def test_a_bad_bible_import_leaves_the_story_untouched(db):
    story_id = bible_story(db)
    bad = ImportPreview("cards", BIBLE, "Bad", (), {"characters": [
        {"name": "Ok", "portrait_data": PNG}, {"name": "x" * 300}]})
    with pytest.raises(ValidationError, match="Scene bible"):
        format_io.apply_import(db, bad, story_id)
    state = bible.load(db, story_id)
    assert state.story_version == 1 and state.story_data == AUTHOR_BIBLE
    assert not (db.data_dir / "portraits").exists() or \
        not any((db.data_dir / "portraits").rglob("*.png"))
    with pytest.raises(StudioError, match="Open a story first"):
        format_io.apply_import(db, CARD)


def test_undo_is_refused_once_the_bible_moved_on(db):
    story_id = bible_story(db)
    outcome = format_io.apply_import(db, CARD, story_id)
    state = bible.load(db, story_id)
    bible.save(db, story_id, "story", state.story_version,
               {**state.story_data, "style_guide": {"tone": "grim"}})
    with pytest.raises(StudioError, match="changed after the import"):
        format_io.undo_import(db, outcome)
    assert bible.load(db, story_id).story_data["style_guide"] == {"tone": "grim"}


# --- a chapter graph -----------------------------------------------------------------------

def test_graph_import_appends_and_undoes(db):
    story = stories.create_story(db, "Graph")
    ms.add_chapter(db, story.id, "Existing")
    before = chapter_graph.load(db, story.id).graph
    graph = {"chapters": [
        {"id": "gch_00000001", "number": 1, "title": "Gate"},
        {"id": "gch_00000002", "number": 2, "title": "Tower",
         "prerequisites": ["gch_00000001"]}]}
    outcome = format_io.apply_import(db, ImportPreview("twine_html", GRAPH, "G", (), graph),
                                     story.id)
    after = chapter_graph.load(db, story.id).graph
    assert [c["title"] for c in after["chapters"]] == ["Existing", "Gate", "Tower"]
    format_io.undo_import(db, outcome)
    assert chapter_graph.load(db, story.id).graph == before


# --- export --------------------------------------------------------------------------------

def test_export_names_files_and_filters_chapters(db, tmp_path):
    story_id = format_io.apply_import(db, format_io.preview_import(md_file(tmp_path))).story_id
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    page = format_io.export(db, story_id, "html", out_dir)
    assert page == out_dir / "The-Storm.html" and 'lang="fr"' in page.read_text("utf-8")
    two = ms.outline(db, story_id).chapters[1].uid
    md = format_io.export(db, story_id, "markdown", out_dir / "only-two",
                          ExportOptions(chapters=(two,)))
    assert md.name == "only-two.md" and "# One" not in md.read_text("utf-8")
    with pytest.raises(ValidationError, match="no chapter 'chap_nope'"):
        format_io.export(db, story_id, "markdown", out_dir / "x.md",
                         ExportOptions(chapters=("chap_nope",)))
    folder = format_io.export(db, story_id, "markdown-folder", out_dir / "book")
    assert sorted(p.name for p in folder.iterdir()) == ["01-one.md", "02-two.md"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["The-Storm.html", "book",
                                                         "only-two.md"]


def test_unwritable_and_missing_targets_are_named(db, tmp_path, monkeypatch):
    story_id = format_io.apply_import(db, format_io.preview_import(md_file(tmp_path))).story_id
    with pytest.raises(StudioError, match="does not exist"):
        format_io.export(db, story_id, "html", tmp_path / "no" / "such" / "x.html")

    import tempfile

    def refuse(*_a, **_k):
        raise PermissionError(13, "Permission denied")

    target = tmp_path / "ro"
    target.mkdir()
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(StudioError, match=f"The folder {target} is not writable: "
                                          "Permission denied"):
        check_writable_folder(target)
    with pytest.raises(StudioError, match="not writable"):
        format_io.export(db, story_id, "markdown", target / "x.md")
    assert list(target.iterdir()) == []


def test_a_cancelled_export_leaves_nothing(db, tmp_path):
    story_id = format_io.apply_import(db, format_io.preview_import(md_file(tmp_path))).story_id
    out = tmp_path / "out"
    out.mkdir()

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    for fmt in ("markdown", "markdown-folder", "html"):
        with pytest.raises(Cancelled):
            format_io.export(db, story_id, fmt, out / "story", progress=cancel)
    assert list(out.iterdir()) == []


def test_lossless_json_through_the_registry(db, tmp_path):
    assert (json_story.FORMAT, json_story.FORMAT_VERSION) == \
        (portability.FORMAT, portability.FORMAT_VERSION)
    sample = portability.import_sample(db)
    path = format_io.export(db, sample.id, "json", tmp_path / "sample")
    assert path.name == "sample.json"
    preview = format_io.preview_import(path)
    assert preview.format == "json" and preview.kind == STORY
    copy = format_io.apply_import(db, preview)
    assert portability.export_story(db, copy.story_id)["manuscript"] == \
        portability.export_story(db, sample.id)["manuscript"]
    other = tmp_path / "other.json"
    other.write_text('{"format": "something"}', encoding="utf-8")
    with pytest.raises(ImportFormatError, match="other.json is not a Story Studio story"):
        format_io.preview_import(other, "json")


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=1000) | st.text(max_size=300).map(
    lambda t: ('{"format": "story-studio.story", "format_version": 1, ' + t).encode()))
def test_fuzz_json_story_reader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "f.json"
    path.write_bytes(data)
    try:
        json_story.read(path)
    except json_story.StoryJsonError:
        pass


def test_an_option_the_importer_does_not_take_is_refused(tmp_path):
    with pytest.raises(StudioError, match="has no option chapter-levels"):
        format_io.preview_import(md_file(tmp_path), chapter_levels=2)
