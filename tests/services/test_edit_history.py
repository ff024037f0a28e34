"""The edit history view's service on a real SQLite file: what an edit replaced is kept, entries
read as the author would say them, filters and paging narrow them, and "restore this" puts old
text back (and is itself an entry that can be restored back)."""

from __future__ import annotations

import pytest

from studio.domain.history_sessions import TypingSession, group_sessions
from studio.domain.manuscript import count_words
from studio.services import edit_history as eh
from studio.services import manuscript as ms
from studio.services import stories
from studio.store.repositories import history

FIRST = "The ferry came in under a bruised sky."
SECOND = "Wren counted the lanterns on the quay."
THIRD = "Nobody waited for her."


def make_story(db):
    story = stories.create_story(db, "Harbour Lights")
    ch1 = ms.add_chapter(db, story.id, "Arrival")
    ch2 = ms.add_chapter(db, story.id, "Storm")
    scene = ms.add_scene(db, story.id, ch1.uid, "The harbour",
                         text=f"{FIRST}\n\n{SECOND}\n\n{THIRD}")
    other = ms.add_scene(db, story.id, ch2.uid, "The gale", text="Wind, then rain.")
    return story, ch1, ch2, scene, other


def texts(db, story_id, uid):
    return [seg.text for seg in ms.load_scene(db, story_id, uid).segments]


def test_a_save_records_the_paragraphs_it_replaced_with_their_old_text(db):
    story, _ch1, _ch2, scene, _ = make_story(db)
    before = ms.load_scene(db, story.id, scene.uid).segments
    ms.save_scene_text(db, story.id, scene.uid,
                       f"A gull cried.\n\n{FIRST}\n\nWren counted every lantern twice.")
    entry = next(e for e in stories.story_history(db, story.id)
                 if e.entity_type == "scene_text")
    change = entry.change
    assert entry.id > 0
    assert (change["inserted"], change["updated"], change["deleted"]) == (1, 1, 1)
    assert change["replaced"] == [
        {"id": before[1].id, "old": SECOND, "new": "Wren counted every lantern twice.",
         "position": 1, "gap": 1, "after": before[0].id},
        {"id": before[2].id, "old": THIRD, "new": None, "position": 2, "gap": 1,
         "after": before[1].id}]
    assert [a["text"] for a in change["added"]] == ["A gull cried."]
    assert FIRST not in str(change)  # untouched paragraphs are not copied into the history


def test_restore_the_first_of_two_edits_puts_its_paragraph_back(db):
    story, _ch1, _ch2, scene, _ = make_story(db)
    original = ms.load_scene(db, story.id, scene.uid).segments
    ms.save_scene_text(db, story.id, scene.uid,
                       f"{FIRST}\n\nWren counted the lanterns twice over.\n\n{THIRD}")
    ms.save_scene_text(db, story.id, scene.uid,
                       f"{FIRST}\n\nWren gave up counting.\n\nNobody at all waited for her.")
    edits = eh.query(db, story.id, entity_type="scene_text", entity_id=scene.uid)
    assert [e.action for e in edits] == ["update"] * 3  # two edits and the first save
    second, first = edits[0], edits[1]
    assert first.summary == "changed 1 paragraph, −1 word"
    assert first.item == "Scene “The harbour”" and first.action_label == "Wrote"
    assert first.restorable and first.details[0].old == SECOND

    plan = eh.preview_restore(db, story.id, first.id)
    assert [(c.old, c.new) for c in plan.changes] == [("Wren gave up counting.", SECOND)]
    said = eh.restore(db, story.id, first.id)
    assert said == f"Restored paragraph 2 of Scene “The harbour” as it was before edit #{first.id}."
    after = ms.load_scene(db, story.id, scene.uid)
    assert [s.text for s in after.segments] == [FIRST, SECOND, "Nobody at all waited for her."]
    assert [s.id for s in after.segments] == [s.id for s in original]  # same paragraph ids
    outline = ms.outline(db, story.id)
    assert outline.scene(scene.uid).words == count_words(after.text)
    assert ms.search(db, story.id, "lanterns").hits[0].scene_uid == scene.uid  # index follows

    newest = eh.query(db, story.id, limit=1)[0]
    assert newest.action == "restore" and newest.action_label == "Restored"
    assert f"restoring entry #{first.id}" in newest.summary
    assert newest.restorable  # a restore can be restored back
    eh.restore(db, story.id, newest.id)
    assert texts(db, story.id, scene.uid)[1] == "Wren gave up counting."
    assert second.id < newest.id


def test_a_deleted_paragraph_comes_back_in_its_place_under_its_own_id(db):
    story, _ch1, _ch2, scene, _ = make_story(db)
    original = ms.load_scene(db, story.id, scene.uid).segments
    ms.save_scene_text(db, story.id, scene.uid, f"{FIRST}\n\n{THIRD}")
    ms.save_scene_text(db, story.id, scene.uid, f"A new opening.\n\n{FIRST}\n\n{THIRD}")
    deletion = eh.query(db, story.id, entity_type="scene_text")[1]
    assert deletion.summary == "removed 1 paragraph, −7 words"
    assert deletion.details[0].label == "Paragraph 2 (removed)"
    eh.restore(db, story.id, deletion.id)
    after = ms.load_scene(db, story.id, scene.uid)
    assert [s.text for s in after.segments] == ["A new opening.", FIRST, SECOND, THIRD]
    assert after.segments[2].id == original[1].id
    assert after.text == f"A new opening.\n\n{FIRST}\n\n{SECOND}\n\n{THIRD}"  # blank lines


def test_one_paragraph_of_an_edit_alone_and_the_neighbour_gone_too(db):
    story, _ch1, _ch2, scene, _ = make_story(db)
    ms.save_scene_text(db, story.id, scene.uid, "Only this is left.")
    wipe = eh.query(db, story.id, entity_type="scene_text")[0]
    ids = [d.key for d in wipe.details if d.restorable]
    assert len(ids) == 3 and wipe.summary.startswith("changed 1 paragraph, removed 2")
    third = next(d for d in wipe.details if d.old == THIRD)
    eh.restore(db, story.id, wipe.id, which=third.key)  # its neighbour is still gone
    assert texts(db, story.id, scene.uid) == ["Only this is left.", THIRD]
    with pytest.raises(eh.RestoreError, match="not one this edit replaced"):
        eh.restore(db, story.id, wipe.id, which="seg_nonexistent")
    eh.restore(db, story.id, wipe.id)  # the rest of it
    assert texts(db, story.id, scene.uid) == [FIRST, SECOND, THIRD]
    again = eh.restore(db, story.id, wipe.id)
    assert again.startswith("Nothing to restore")


def test_titles_synopses_and_module_fields_come_back(db):
    story, ch1, _ch2, scene, _ = make_story(db)
    ms.update_scene(db, story.id, scene.uid, title="The quay")
    ms.update_chapter(db, story.id, ch1.uid, synopsis="Wren arrives and nobody waits.")
    ms.update_chapter(db, story.id, ch1.uid, synopsis="Wren arrives at night.")
    stories.save_module(db, story.id, "world_seed", "notes", {"era": "Bronze age"})
    stories.save_module(db, story.id, "world_seed", "notes", {"era": "Iron age"})
    stories.update_story(db, story.id, title="Harbour Dark")

    rename = eh.query(db, story.id, entity_type="scene", action="update")[0]
    assert rename.summary == "title “The harbour” → “The quay”"
    assert rename.item == "Scene “The quay”"
    eh.restore(db, story.id, rename.id)
    assert ms.outline(db, story.id).scene(scene.uid).title == "The harbour"

    synopses = eh.query(db, story.id, entity_type="chapter", action="update")
    assert synopses[0].item == "Chapter 1 “Arrival”"
    eh.restore(db, story.id, synopses[0].id, which="synopsis")
    assert ms.outline(db, story.id).chapter(ch1.uid).synopsis == \
        "Wren arrives and nobody waits."

    era = eh.query(db, story.id, entity_type="module")[0]
    assert era.item == "Module World Seed" and era.summary == "Era changed"
    said = eh.restore(db, story.id, era.id, which="output.era")
    assert said.startswith("Restored era of Module World Seed")
    assert stories.open_story(db, story.id).modules["world_seed"].output["era"] == "Bronze age"

    title = eh.query(db, story.id, entity_type="story", action="update")[0]
    eh.restore(db, story.id, title.id)
    assert stories.open_story(db, story.id).fields.title == "Harbour Lights"
    restores = eh.query(db, story.id, action="restore")
    assert [r.entity_type for r in restores] == ["story", "module", "chapter", "scene"]
    module_restore = restores[1]
    assert module_restore.details[0].old == "Iron age" and module_restore.restorable


def test_what_cannot_be_restored_is_refused_in_words_and_nothing_changes(db):
    story, ch1, _ch2, scene, other = make_story(db)
    created = eh.query(db, story.id, entity_type="chapter", action="create")[0]
    assert not created.restorable and "holds no replaced text" in created.why_not
    with pytest.raises(eh.RestoreError, match="holds no replaced text"):
        eh.restore(db, story.id, created.id)

    with db.session() as s:  # an entry from before the replaced text was kept
        history.record(s, story.id, "scene_text", scene.uid, "update",
                       {"words": 3, "delta": 1, "inserted": 0, "updated": 1, "deleted": 0})
    old_style = eh.query(db, story.id, limit=1)[0]
    assert old_style.summary == "changed 1 paragraph, +1 word"
    with pytest.raises(eh.RestoreError, match="saved before Story Studio kept"):
        eh.restore(db, story.id, old_style.id)

    ms.save_scene_text(db, story.id, other.uid, "Thunder.")
    edit = eh.query(db, story.id, entity_id=other.uid, entity_type="scene_text")[0]
    ms.delete_scene(db, story.id, other.uid)
    gone = eh.query(db, story.id, entity_id=other.uid, entity_type="scene_text")[0]
    assert gone.item == "Scene “The gale” (deleted)" and not gone.restorable
    with pytest.raises(eh.RestoreError, match="no longer in the story"):
        eh.restore(db, story.id, edit.id)
    with pytest.raises(eh.RestoreError, match="no entry #999999"):
        eh.restore(db, story.id, 999_999)
    assert texts(db, story.id, scene.uid) == [FIRST, SECOND, THIRD]


def test_filters_narrow_the_history_and_pages_follow_on(db):
    story, ch1, ch2, scene, other = make_story(db)
    ms.save_scene_text(db, story.id, other.uid, "Wind, then rain, then the harbour wall broke.")
    with db.session() as s:  # a collaborator's accepted change, credited to her
        history.record(s, story.id, "scene", other.uid, "update",
                       {"synopsis": {"old": "", "new": "The wall breaks."}}, actor="mara")
    everything = eh.query(db, story.id)
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)

    by_mara = eh.query(db, story.id, actor="mara")
    assert [(e.actor, e.item) for e in by_mara] == [("mara", "Scene “The gale”")]
    assert {e.entity_type for e in eh.query(db, story.id, entity_type="chapter")} == {"chapter"}
    assert {e.action for e in eh.query(db, story.id, action="create")} == {"create"}

    of_chapter = eh.query(db, story.id, entity_id=ch2.uid)  # the chapter and its scenes
    assert {e.entity_id for e in of_chapter} == {ch2.uid, other.uid}
    only_chapter = eh.query(db, story.id, entity_id=ch2.uid, include_children=False)
    assert {e.entity_id for e in only_chapter} == {ch2.uid}

    by_title = eh.query(db, story.id, text="gale")  # the item's title
    assert by_title and {e.entity_id for e in by_title} == {other.uid}
    by_words = eh.query(db, story.id, text="wall broke")  # inside the change
    assert {(e.entity_type, e.entity_id) for e in by_words} == {("scene_text", other.uid)}
    assert {e.entity_id for e in eh.query(db, story.id, text="Chapter 2")} >= {ch2.uid}
    assert {e.action for e in eh.query(db, story.id, text="created")} == {"create"}
    assert eh.query(db, story.id, text="nothing like this 100%_") == []

    page1 = eh.query(db, story.id, limit=3)
    page2 = eh.query(db, story.id, limit=3, before_id=page1[-1].id)
    rest = eh.query(db, story.id, before_id=page2[-1].id)
    assert [e.id for e in page1 + page2 + rest] == [e.id for e in everything]

    found = eh.facets(db, story.id)
    assert {c.key for c in found.types} == {"story", "chapter", "scene", "scene_text"}
    assert "mara" in found.actors and len(found.actors) == 2
    assert {(c.key, c.label) for c in found.actions} == {("create", "Created"),
                                                          ("update", "Edited")}


def test_a_typing_session_is_restored_at_once_and_the_restore_can_be_undone(db):
    story, _ch1, _ch2, scene, other = make_story(db)
    ms.update_scene(db, story.id, scene.uid, title="The quay")  # ends the run of first saves
    original = ms.load_scene(db, story.id, scene.uid).segments
    ms.save_scene_text(db, story.id, scene.uid, f"The ferry came in.\n\n{SECOND}\n\n{THIRD}")
    ms.save_scene_text(db, story.id, other.uid, "Wind, then rain, then hail.")  # another scene
    ms.save_scene_text(db, story.id, scene.uid,
                       f"The ferry came in late.\n\nWren counted.\n\n{THIRD}")
    ms.save_scene_text(db, story.id, scene.uid,
                       f"The ferry came in late.\n\nWren counted twice.\n\n{THIRD}\n\nGulls.")
    listed = group_sessions(eh.query(db, story.id))
    session = next(r for r in listed if r.entity_id == scene.uid)
    assert isinstance(session, TypingSession) and session.action_label == "Wrote · 3 saves"
    assert [(d.old, d.new, d.restorable) for d in session.details] == [
        (FIRST, "The ferry came in late.", True), (SECOND, "Wren counted twice.", True),
        (None, "Gulls.", False)]
    net = count_words("The ferry came in late. Wren counted twice. Gulls.") - \
        count_words(f"{FIRST} {SECOND}")
    assert net == -6
    assert session.summary == f"changed 2 paragraphs, added 1 paragraph, −{-net} words"

    plan = eh.preview_session(db, story.id, session.entry_ids)
    assert plan.sentence == "Restore 2 paragraphs of Scene “The quay” as it was before this " \
        "typing session?"
    said = eh.restore_session(db, story.id, session.entry_ids)
    assert said.startswith("Restored 2 paragraphs of Scene “The quay” as it was before the "
                           "typing session") and "3 saves" in said
    after = ms.load_scene(db, story.id, scene.uid)
    assert [s.text for s in after.segments] == [FIRST, SECOND, THIRD, "Gulls."]  # added stays
    assert [s.id for s in after.segments[:3]] == [s.id for s in original]
    assert ms.outline(db, story.id).scene(scene.uid).words == count_words(after.text)

    restore = eh.query(db, story.id, limit=1)[0]
    assert restore.action == "restore" and restore.entity_id == scene.uid
    assert "restoring a typing session of 3 saves" in restore.summary
    assert all(f"#{i}" in restore.summary for i in session.entry_ids)
    eh.restore(db, story.id, restore.id)  # Ctrl+Z does this
    assert texts(db, story.id, scene.uid) == [
        "The ferry came in late.", "Wren counted twice.", THIRD, "Gulls."]

    with pytest.raises(eh.RestoreError, match="not one typing session"):
        eh.restore_session(db, story.id, [*session.entry_ids, restore.id])
    eh.restore_session(db, story.id, session.entry_ids)
    with pytest.raises(eh.RestoreError, match="Nothing to restore"):
        eh.restore_session(db, story.id, session.entry_ids)
    ms.delete_scene(db, story.id, scene.uid)
    with pytest.raises(eh.RestoreError, match="no longer in the story"):
        eh.restore_session(db, story.id, session.entry_ids)
