"""Edit history entries in words: each recorded shape gets a summary an author can read, the
before/after pairs to show, and an honest answer to "can this be restored?"."""

from __future__ import annotations

from studio.domain.history_text import action_label, describe, type_label


def test_prose_summaries_count_paragraphs_and_words():
    change = {"words": 50, "delta": 41, "inserted": 1, "updated": 2, "deleted": 0,
              "replaced": [{"id": "seg_a", "old": "Old one.", "new": "New one.", "position": 0},
                           {"id": "seg_b", "old": "Old two.", "new": "New two.", "position": 3}],
              "added": [{"id": "seg_c", "position": 1, "text": "Fresh."}]}
    told = describe("scene_text", "update", change)
    assert told.summary == "changed 2 paragraphs, added 1 paragraph, +41 words"
    assert [(d.label, d.old, d.new, d.restorable) for d in told.details] == [
        ("Paragraph 1", "Old one.", "New one.", True),
        ("Paragraph 2 (new)", None, "Fresh.", False),
        ("Paragraph 4", "Old two.", "New two.", True)]
    assert told.restorable
    only_added = describe("scene_text", "update", {**change, "replaced": []})
    assert not only_added.restorable and "only added text" in only_added.why_not


def test_field_module_and_other_shapes():
    long_before = "word " * 40
    told = describe("chapter", "update", {"title": {"old": "Storm", "new": "Gale"},
                                          "synopsis": {"old": long_before, "new": "Short."}})
    assert told.summary == "title “Storm” → “Gale”; synopsis rewritten (40 → 1 words)"
    assert told.restorable and [d.key for d in told.details] == ["title", "synopsis"]
    module = describe("module", "update", {"input": {"old": "", "new": "notes"},
                                           "output": {"era": {"old": "", "new": "Iron"}}},
                      {"era": "Era"})
    assert module.summary == "Notes, Era changed" and module.restorable
    assert [d.key for d in module.details] == ["input", "output.era"]
    moved = describe("chapter", "move", {"from": 0, "to": 2})
    assert moved.summary == "from place 1 to 3" and not moved.restorable
    imported = describe("story", "import", {"title": "The Salt Road", "chapters": 3,
                                            "words": 1200})
    assert imported.summary == "“The Salt Road”, 3 chapters, 1,200 words"
    branch = describe("branch", "update", {"name": {"old": "A", "new": "B"}})
    assert branch.summary == "name “A” → “B”" and not branch.restorable
    assert action_label("update", "scene_text") == "Wrote"
    assert action_label("some_new_thing") == "Some new thing"
    assert type_label("chapter_graph") == "Chapter graph"
