"""Segments: splitting prose into paragraphs and keeping their ids through edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from studio.domain.manuscript import (
    Segment, assign_ids, count_words, fts_query, join_segments,
)


def test_split_and_join_round_trip_keeps_blank_lines():
    text = "First paragraph.\n\nSecond one.\nThird, right after.\n\n\n***\nAfter the break."
    segments = assign_ids([], text)
    assert [s.text for s in segments] == ["First paragraph.", "Second one.",
                                          "Third, right after.", "***", "After the break."]
    assert [s.gap for s in segments] == [0, 1, 0, 2, 0]
    assert join_segments(segments) == text
    assert len({s.id for s in segments}) == 5
    assert all(s.id.startswith("seg_") for s in segments)


def test_ids_survive_an_insert_in_the_middle_and_an_edit():
    old = assign_ids([], "One.\nTwo.\nThree.\nFour.")
    ids = [s.id for s in old]
    new = assign_ids(old, "One.\nTwo.\nA new paragraph.\nThree, now edited.\nFour.")
    assert [s.text for s in new] == ["One.", "Two.", "A new paragraph.", "Three, now edited.",
                                     "Four."]
    assert new[0].id == ids[0] and new[1].id == ids[1] and new[4].id == ids[3]
    assert new[2].id not in ids or new[3].id not in ids  # one of them is new
    assert ids[2] in {new[2].id, new[3].id}  # the edited paragraph kept an id


def test_deleting_and_moving_paragraphs_keeps_the_others():
    old = assign_ids([], "A.\nB.\nC.\nD.")
    new = assign_ids(old, "B.\nC.\nD.")
    assert [s.id for s in new] == [s.id for s in old[1:]]


def test_count_words():
    assert count_words("Wren’s lamp — well-lit, isn't it? 1962!") == 6
    assert count_words("***") == 0


def test_fts_query_is_safe_and_understands_phrases():
    assert fts_query('lantern') == '"lantern"'
    assert fts_query('"the old lantern" sea') == '"the old lantern" AND "sea"'
    assert fts_query('AND OR NOT ( ) * "') == '"AND" AND "OR" AND "NOT"'
    assert fts_query("   ") == ""


paragraph = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                            blacklist_characters="\n\r"),
                    min_size=1, max_size=30).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(paragraph, max_size=12), st.lists(paragraph, max_size=12))
def test_assign_ids_round_trips_and_keeps_unchanged_paragraph_ids(before, after):
    old = assign_ids([], "\n".join(before))
    new = assign_ids(old, "\n".join(after))
    assert join_segments(new) == "\n".join(p for p in after)
    assert len({s.id for s in new}) == len(new)
    # A paragraph that appears once before and once after, unchanged, keeps its id —
    # wherever it moved.
    for text in set(before) & set(after):
        if before.count(text) == 1 and after.count(text) == 1:
            old_id = next(s.id for s in old if s.text == text)
            assert next(s.id for s in new if s.text == text) == old_id
    # No id is invented for an unchanged paragraph while an old one is left unused.
    assert {s.id for s in new} & {s.id for s in old} or not (set(before) & set(after))


def test_moved_paragraph_keeps_its_id():
    old = assign_ids([], "A.\nB.\nC.")
    new = assign_ids(old, "C.\nA.\nB.")
    assert {s.text: s.id for s in new} == {s.text: s.id for s in old}


def test_segment_dataclass():
    assert Segment("seg_1", "x", 2).as_dict() == {"id": "seg_1", "text": "x", "gap": 2}
