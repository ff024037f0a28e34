"""The pure rules of what-if branches: merging only some chapters (the rest put back as the
base had it, nothing doubled, nothing lost when scenes move), the comparison, the names."""

from __future__ import annotations

import pytest

from studio.domain.branches import (
    BranchError, check_name, compare_outlines, restrict_outline,
)
from studio.domain.manuscript import Segment


def scene(uid: str, *texts: str, title: str = "") -> dict:
    return {"id": uid, "attrs": {"title": title or uid},
            "segments": [Segment(f"{uid}-{i}", t) for i, t in enumerate(texts)]}


def chapter(uid: str, *scenes: dict, title: str = "") -> dict:
    return {"id": uid, "attrs": {"title": title or uid}, "scenes": list(scenes)}


def shape(outline: list[dict]) -> list:
    return [(ch["id"], ch["attrs"]["title"],
             [(sc["id"], [s.text for s in sc["segments"]]) for sc in ch["scenes"]])
            for ch in outline]


BASE = [chapter("A", scene("a1", "a one", "a two")), chapter("B", scene("b1", "b one")),
        chapter("C", scene("c1", "c one"))]


def test_chapters_not_chosen_are_put_back_as_the_base_had_them():
    theirs = [chapter("A", scene("a1", "a ONE", "a two"), title="A!"),
              chapter("B", scene("b1", "b ONE")),
              chapter("D", scene("d1", "d new"))]  # C deleted, D new
    assert shape(restrict_outline(BASE, theirs, ["A"])) == [
        ("A", "A!", [("a1", ["a ONE", "a two"])]),
        ("B", "B", [("b1", ["b one"])]),
        ("C", "C", [("c1", ["c one"])])]
    assert shape(restrict_outline(BASE, theirs, ["C", "D"])) == [
        ("A", "A", [("a1", ["a one", "a two"])]), ("B", "B", [("b1", ["b one"])]),
        ("D", "D", [("d1", ["d new"])])]  # C's deletion chosen, D's creation chosen
    assert shape(restrict_outline(BASE, theirs, [])) == shape(BASE)
    assert shape(restrict_outline(BASE, theirs, ["A", "B", "C", "D"])) == shape(theirs)


def test_scenes_moving_across_the_choice_are_neither_doubled_nor_lost():
    # theirs moved b1 into A and a1 into C
    theirs = [chapter("A", scene("b1", "b ONE")), chapter("B"),
              chapter("C", scene("c1", "c one"), scene("a1", "a ONE", "a two"))]
    assert shape(restrict_outline(BASE, theirs, ["A"])) == [
        # b1 moved into the chosen A; a1's move out of A belongs to C (not chosen): stays
        ("A", "A", [("a1", ["a one", "a two"]), ("b1", ["b ONE"])]),
        ("B", "B", []), ("C", "C", [("c1", ["c one"])])]
    assert shape(restrict_outline(BASE, theirs, ["C"])) == [
        ("A", "A", []), ("B", "B", [("b1", ["b one"])]),  # a1's move into C is C's
        ("C", "C", [("c1", ["c one"]), ("a1", ["a ONE", "a two"])])]
    # A chosen but deleted by theirs: its scene that moved to C (not chosen) goes there with
    # the base's text rather than vanishing.
    theirs = [chapter("B", scene("b1", "b one")),
              chapter("C", scene("c1", "c one"), scene("a1", "a ONE", "a two"))]
    result = restrict_outline(BASE, theirs, ["A"])
    assert shape(result) == [("B", "B", [("b1", ["b one"])]),
                             ("C", "C", [("c1", ["c one"]), ("a1", ["a one", "a two"])])]
    ids = [s.id for ch in result for sc in ch["scenes"] for s in sc["segments"]]
    assert len(ids) == len(set(ids))


def test_compare_reads_a_scene_with_the_same_content_once():
    a = [{"id": "A", "title": "One", "scenes": [
        {"id": "s1", "title": "Quay", "words": 3, "digest": "h1"},
        {"id": "s2", "title": "Lamp", "words": 2, "digest": "h2"}]}]
    b = [{"id": "A", "title": "One", "scenes": [
        {"id": "s1", "title": "Quay", "words": 3, "digest": "h1"},
        {"id": "s2", "title": "Lamp", "words": 3, "digest": "h9"}]},
         {"id": "B", "title": "Two", "scenes": []}]
    texts = {("a", "s1"): "x y z", ("a", "s2"): "p q", ("b", "s2"): "p q r"}
    calls = []

    def text_of(side: str, sc: dict) -> str:
        calls.append((side, sc["id"]))
        return texts[(side, sc["id"])]

    diffs = compare_outlines(a, b, text_of)
    assert [(d.chapter_uid, d.state, d.words_a, d.words_b) for d in diffs] == [
        ("A", "changed", 5, 6), ("B", "only_b", 0, 0)]
    assert [(s.scene_uid, s.state, s.text_a, s.text_b) for s in diffs[0].scenes] == [
        ("s1", "same", "x y z", "x y z"), ("s2", "changed", "p q", "p q r")]
    assert sorted(calls) == [("a", "s1"), ("a", "s2"), ("b", "s2")]


def test_names():
    assert check_name("  What   if ", ["Other"]) == "What if"
    for bad in ("", "  ", None, "MAIN", "other"):
        with pytest.raises(BranchError):
            check_name(bad, ["Other"])
