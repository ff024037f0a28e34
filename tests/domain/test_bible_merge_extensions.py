"""Imported ``extensions`` (a card's fields, lorebook entries) merge into a bible, never replace."""

from __future__ import annotations

from studio.domain.bible_merge import merge_entries, merge_extensions
from studio.services.schemas import bible_problems

MARA = {"id": "char_mara1", "name": "Mara", "description": "The author's words.",
        "extensions": {"card": {"data": {"creator": "me"}},
                       "lore_entries": [{"book": "book_a", "entry": {"uid": 0}}]}}


def test_a_matched_character_keeps_its_extensions_and_gains_new_entries():
    incoming = {"characters": [{"id": "char_x", "name": "mara", "description": "Card text.",
                                "extensions": {"card": {"data": {"creator": "them"}},
                                               "lore_entries": [
                                                   {"book": "book_b", "entry": {"uid": 3}}]}}]}
    merged, report = merge_entries({"characters": [MARA]}, incoming)
    (mara,) = merged["characters"]
    assert mara["description"] == "The author's words."
    assert mara["extensions"]["card"] == {"data": {"creator": "me"}}   # stored value wins
    assert [r["book"] for r in mara["extensions"]["lore_entries"]] == ["book_a", "book_b"]
    assert report.updated == ["character Mara (extensions)"]
    assert bible_problems(merged) == []


def test_bible_level_extensions_and_new_entries_keep_theirs():
    bible = {"extensions": {"lorebooks": {"book_a": {"name": "A"}}}}
    incoming = {"extensions": {"lorebooks": {"book_b": {"name": "B", "rules": []}}},
                "setting": {"locations": [{"name": "Glade", "extensions": {"k": 1}}]}}
    merged, _ = merge_entries(bible, incoming)
    assert set(merged["extensions"]["lorebooks"]) == {"book_a", "book_b"}
    assert merged["setting"]["locations"][0]["extensions"] == {"k": 1}
    assert bible_problems(merged) == []


def test_merge_extensions_adds_keys_recurses_and_appends_missing_list_items():
    assert merge_extensions(None, {"a": [1]}) == {"a": [1]}
    assert merge_extensions({"a": [1, 2], "b": {"c": 1}, "d": "x"},
                            {"a": [2, 3], "b": {"e": 2}, "d": "y"}) == {
        "a": [1, 2, 3], "b": {"c": 1, "e": 2}, "d": "x"}
