"""Bible rules without a database: ids, semantic checks, series merge, "as of" a point."""

from __future__ import annotations

import re

from studio.domain import bible as b
from studio.domain.bible import BibleVersionInfo
from studio.services.schemas import bible_problems

ADA = {"id": "char_ada1", "name": "Ada Quill", "aliases": ["the keeper's girl"]}
TOM = {"id": "char_tom1", "name": "Tom Harrow", "aliases": ["Harrow"],
       "relationships": [{"target": "char_ada1", "type": "friend"}]}


def test_generated_ids_have_the_documented_shape_and_never_collide():
    taken = set()
    for _ in range(500):
        cid = b.new_character_id(taken)
        assert re.fullmatch(r"char_[a-z0-9]+", cid) and cid not in taken
        taken.add(cid)
    assert b.new_event_id().startswith("evt_") and b.new_thread_id().startswith("thread_")


def test_schema_errors_name_the_path_and_reason():
    problems = bible_problems({"characters": [{"id": "Char-1", "name": "Ada"}]})
    assert problems[0][0] == "characters/0/id"
    assert "not a character id" in problems[0][1]
    problems = bible_problems({"plot_threads": [{"id": "thread_a", "description": "x",
                                                 "status": "paused"}]})
    assert problems[0][0] == "plot_threads/0/status" and "paused" in problems[0][1]
    assert bible_problems({"villains": []})[0][1].startswith("unknown field")
    assert bible_problems({}) == []


def test_extensions_hold_free_json_on_the_bible_characters_and_locations():
    free = {"card": {"spec": "chara_card_v3", "data": {"n": [1, None, {"x": True}]}}}
    bible = {"characters": [dict(ADA, extensions=free)],
             "setting": {"locations": [{"name": "Gull Rock", "extensions": free}]},
             "extensions": {"lorebooks": {"book_1": {"entries": []}}}}
    assert bible_problems(bible) == []
    for bad in ({"extensions": []}, {"characters": [dict(ADA, extensions="x")]},
                {"setting": {"locations": [{"name": "Quay", "extensions": 3}]}}):
        (path, reason), = bible_problems(bad)
        assert path.endswith("extensions") and "object" in reason


def test_merge_series_keeps_both_extensions_with_the_book_on_top():
    series = {"extensions": {"lorebooks": {"book_a": {"name": "A"}}, "tool": 1}}
    own = {"extensions": {"lorebooks": {"book_b": {"name": "B"}}, "tool": 2}}
    merged = b.merge_series(series, own)
    assert merged["extensions"] == {"lorebooks": {"book_a": {"name": "A"},
                                                  "book_b": {"name": "B"}}, "tool": 2}
    assert b.merge_series(series, {})["extensions"] == series["extensions"]
    assert b.merge_series({"characters": []}, {}) == {}


def test_duplicate_ids_unknown_targets_and_shared_aliases_are_refused():
    dup = {"characters": [ADA, dict(ADA, name="Ada Two", aliases=[])]}
    assert any(p[0] == "characters/1/id" and "already used" in p[1]
               for p in b.semantic_problems(dup))
    dangling = {"characters": [dict(TOM, relationships=[{"target": "char_zz", "type": "x"}])]}
    assert b.semantic_problems(dangling) == [
        ("characters/0/relationships/0/target", "no character has the id char_zz")]
    shared = {"characters": [ADA, {"id": "char_b", "name": "Bea", "aliases": ["The Keeper's  Girl"]}]}
    (path, reason), = b.semantic_problems(shared)
    assert path == "characters/1/aliases/0" and "Ada Quill" in reason
    assert b.semantic_problems({"characters": [ADA, TOM]}) == []


def test_series_characters_are_valid_targets_and_their_names_stay_theirs():
    series = {"characters": [ADA]}
    book = {"characters": [TOM]}
    assert b.semantic_problems(book) != []            # alone, Tom's friend is unknown
    assert b.semantic_problems(book, series) == []    # with the series, she is known
    clash = {"characters": [{"id": "char_new", "name": "Ada Quill"}]}
    assert "already names Ada Quill" in b.semantic_problems(clash, series)[0][1]


def test_merge_series_puts_the_book_on_top_and_tags_inherited_items():
    series = {"characters": [ADA, TOM], "setting": {"primary_location": "Gull Rock",
                                                    "locations": [{"name": "Gull Rock"}]},
              "style_guide": {"tone": "brooding", "genre": "gothic"}}
    book = {"characters": [dict(TOM, description="older now")],
            "setting": {"time_period": "1890s", "locations": [{"name": "Saltmarsh"}]},
            "style_guide": {"tone": "hopeful"}}
    merged = b.merge_series(series, book, tag=True)
    assert [c["name"] for c in merged["characters"]] == ["Ada Quill", "Tom Harrow"]
    assert merged["characters"][0]["_from_series"] and "_from_series" not in merged["characters"][1]
    assert merged["characters"][1]["description"] == "older now"
    assert merged["setting"] == {"primary_location": "Gull Rock", "time_period": "1890s",
                                 "locations": [{"name": "Gull Rock", "_from_series": True},
                                               {"name": "Saltmarsh"}]}
    assert merged["style_guide"] == {"tone": "hopeful", "genre": "gothic"}
    stripped = b.strip_series_tags(merged)
    assert [c["id"] for c in stripped["characters"]] == ["char_tom1"]


def test_as_of_hides_what_the_prose_has_not_reached():
    order = {"seg_a": 0, "seg_b": 1, "seg_c": 2}
    bible = {
        "characters": [dict(ADA, introduced_in="seg_a"),
                       {"id": "char_late", "name": "Late", "introduced_in": "seg_c"},
                       {"id": "char_gone", "name": "Gone", "active": False,
                        "inactive_since": "seg_c", "inactive_reason": "drowned"},
                       {"id": "char_old", "name": "Old", "introduced_in": "seg_deleted"}],
        "timeline": {"events": [{"event": "storm", "segment": "seg_a"},
                                {"event": "wreck", "segment": "seg_c"}]},
        "plot_threads": [{"id": "thread_x", "description": "who lit the lamp",
                          "status": "resolved", "opened_in": "seg_a", "resolved_in": "seg_c"},
                         {"id": "thread_y", "description": "later", "opened_in": "seg_c"}],
    }
    at_b = b.as_of(bible, order, 1)
    assert [c["name"] for c in at_b["characters"]] == ["Ada Quill", "Gone", "Old"]
    assert at_b["characters"][1]["active"] is True and "inactive_since" not in at_b["characters"][1]
    assert [e["event"] for e in at_b["timeline"]["events"]] == ["storm"]
    assert at_b["plot_threads"] == [{"id": "thread_x", "description": "who lit the lamp",
                                     "status": "active", "opened_in": "seg_a"}]
    at_c = b.as_of(bible, order, 2)
    assert at_c == bible


def test_version_as_of_places_uncaused_versions_where_the_author_was():
    order = {"seg_a": 0, "seg_b": 1, "seg_c": 2}
    versions = [BibleVersionInfo(1, None, "", None),       # before the prose: -1
                BibleVersionInfo(2, "seg_b", "", None),    # at 1
                BibleVersionInfo(3, None, "", None),       # manual edit after 2: at 1
                BibleVersionInfo(4, "seg_c", "", None),    # at 2
                BibleVersionInfo(5, "seg_gone", "", None)]  # deleted segment: at 2
    assert b.version_positions(versions, order) == [-1, 1, 1, 2, 2]
    assert b.version_as_of(versions, order, 0) == 1
    assert b.version_as_of(versions, order, 1) == 3
    assert b.version_as_of(versions, order, 2) == 5
    assert b.version_as_of([BibleVersionInfo(1, "seg_c", "", None)], order, 0) is None


def test_summarise_change_says_what_changed():
    old = {"characters": [ADA]}
    new = {"characters": [dict(ADA, description="x"), TOM], "style_guide": {"tone": "dark"}}
    text = b.summarise_change(old, new)
    assert "added character Tom Harrow" in text and "edited character Ada Quill" in text
    assert "edited style guide" in text
    assert b.summarise_change(new, new) == "no change"
