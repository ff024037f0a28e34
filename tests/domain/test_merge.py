"""Three-way merge of forks (studio.domain.merge) and fork storage and layout
(studio.domain.forks): outcomes by example, and properties checked with hypothesis — above all
that resolving conflicts never loses a text of either side."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from studio.domain.forks import (
    Strategy, changes_between, fork_state, layout, segment_map,
)
from studio.domain.merge import (
    ABSENT, Custom, ResolutionError, merge_maps, merge_order, merge_text, resolve, text_hunks,
)


def new_key(key: str, taken: set[str]) -> str:
    n = 1
    while f"{key}+{n}" in taken:
        n += 1
    return f"{key}+{n}"


# --- outcomes by example -----------------------------------------------------------------

def test_each_outcome():
    base = {"same": "s", "theirs": "t0", "mine": "m0", "both_same": "b0", "clash": "c0",
            "gone": "g", "del_mod": "d0", "mod_del": "e0"}
    theirs = {"same": "s", "theirs": "t1", "mine": "m0", "both_same": "b1", "clash": "c1",
              "mod_del": "e1", "new_t": "nt", "del_mod_x": "x"}
    mine = {"same": "s", "theirs": "t0", "mine": "m1", "both_same": "b1", "clash": "c2",
            "del_mod": "d1", "new_m": "nm", "del_mod_x": "x", "gone": "g"}
    result = merge_maps(base, theirs, mine, merge_values=None)
    assert result.merged == {"same": "s", "theirs": "t1", "mine": "m1", "both_same": "b1",
                             "new_t": "nt", "new_m": "nm", "del_mod_x": "x"}
    assert set(result.conflicts) == {"clash", "del_mod", "mod_del"}
    assert result.conflicts["del_mod"].theirs is ABSENT  # the source removed what I changed
    assert result.conflicts["mod_del"].mine is ABSENT
    assert "gone" not in result.merged  # removed by the source, untouched by me
    assert set(result.taken_theirs) == {"theirs", "new_t", "gone"}
    assert set(result.kept_mine) == {"mine", "new_m"}


def test_text_level_merge_of_separate_edits():
    base = "The knight rode north at dawn. The castle waited in the hills."
    theirs = "The knight rode north at dawn. The castle burned in the hills."
    mine = "The knight rode south at dawn. The castle waited in the hills."
    assert merge_text(base, theirs, mine) == (
        "The knight rode south at dawn. The castle burned in the hills.")
    result = merge_maps({"s": base}, {"s": theirs}, {"s": mine})
    assert result.auto_merged == ["s"] and result.clean


def test_overlapping_edits_conflict():
    assert merge_text("The dragon slept.", "The dragon woke.", "The dragon died.") is None
    result = merge_maps({"s": "The dragon slept."}, {"s": "The dragon woke."},
                        {"s": "The dragon died."})
    assert list(result.conflicts) == ["s"] and not result.auto_merged


def test_resolutions_theirs_mine_both_custom():
    result = merge_maps({"a": "0", "b": "0", "c": "0", "d": "0", "e": "0"},
                        {"a": "t", "b": "t", "c": "t", "d": "t"},
                        {"a": "m", "b": "m", "c": "m", "d": "m", "e": "m"}, merge_values=None)
    done = resolve(result, {"a": "theirs", "b": "mine", "c": "both", "d": Custom("own"),
                            "e": "both"}, new_key)
    assert done.values == {"a": "t", "b": "m", "c": "t", "c+1": "m", "d": "own", "e": "m"}
    assert done.placed_after == {"c+1": "c"}
    assert resolve(result, {"a": "theirs", "b": "theirs", "c": "theirs", "d": "theirs",
                            "e": "theirs"}, new_key).values == {
        "a": "t", "b": "t", "c": "t", "d": "t"}  # e: the source's removal


def test_json_null_is_a_value_not_an_absence():
    result = merge_maps({"k": 1}, {"k": None}, {"k": None})
    assert result.merged == {"k": None}
    result = merge_maps({}, {"k": None}, {"k": 2})
    assert list(result.conflicts) == ["k"]
    assert resolve(result, {"k": "theirs"}, new_key).values == {"k": None}


def test_resolutions_must_match_the_conflicts():
    result = merge_maps({"a": "0"}, {"a": "t"}, {"a": "m"}, merge_values=None)
    with pytest.raises(ResolutionError) as err:
        resolve(result, {}, new_key)
    assert err.value.unresolved == ["a"]
    with pytest.raises(ResolutionError) as err:
        resolve(result, {"a": "mine", "zz": "mine"}, new_key)
    assert err.value.unknown == ["zz"]
    with pytest.raises(ResolutionError) as err:
        resolve(result, {"a": "maybe"}, new_key)
    assert err.value.invalid == ["a"]


def test_merge_order_places_fork_only_keys_and_twins():
    order = merge_order(["a", "b", "c", "d"], ["x", "a", "b", "y", "z", "d"],
                        keep={"a", "b", "d", "x", "y", "z", "b+1"},
                        placed_after={"b+1": "b"})
    assert order == ["x", "a", "b", "b+1", "y", "z", "d"]


def _ms(*scenes: list[tuple[str, str]], field: str = "text") -> dict:
    return {"chapters": [{"id": "c1", "title": "C", "scenes": [
        {"id": f"s{i}", "title": f"S{i}", "segments": [{"id": k, field: v} for k, v in segs]}
        for i, segs in enumerate(scenes)]}]}


def test_layout_follows_the_source_and_keeps_every_value():
    theirs = _ms([("a", "A2"), ("b", "B")], [("d", "D"), ("e", "E")])
    mine = _ms([("a", "A"), ("b", "B"), ("x", "X")], [("c", "C"), ("d", "D")])
    values = {"a": "A2", "b": "B", "x": "X", "c": "C", "d": "D", "e": "E", "d+1": "D mine"}
    out = layout(theirs, mine, values, "text", {"d+1": "d"})
    assert [[s["id"] for s in sc["segments"]] for sc in out["chapters"][0]["scenes"]] == [
        ["a", "b", "x", "c"], ["d", "d+1", "e"]]
    assert out["chapters"][0]["scenes"][1]["title"] == "S1"
    empty = layout({"chapters": []}, mine, {"x": "X"}, "text")
    assert segment_map(empty, "text") == {"x": "X"}


def test_fork_state_by_how_much_is_modified():
    source = _ms([(f"s{i}", f"t{i}") for i in range(10)], field="hash")
    same = fork_state(source, source, "hash")
    assert same.strategy is Strategy.REFERENCE and not same.overrides
    six = _ms([(f"s{i}", "x" if i < 6 else f"t{i}") for i in range(10)], field="hash")
    delta = fork_state(source, six, "hash")
    assert delta.strategy is Strategy.DELTA and len(delta.overrides) == 6  # 60 %: not above
    seven = _ms([(f"s{i}", "x" if i < 7 else f"t{i}") for i in range(10)], field="hash")
    full = fork_state(source, seven, "hash")
    assert full.strategy is Strategy.FULL and full.manuscript == seven and not full.overrides
    moved = _ms([(f"s{i}", f"t{i}") for i in reversed(range(10))], field="hash")
    assert fork_state(source, moved, "hash").strategy is Strategy.FULL
    retitled = _ms([(f"s{i}", f"t{i}") for i in range(10)], field="hash")
    retitled["chapters"][0]["title"] = "Other"
    assert fork_state(source, retitled, "hash").strategy is Strategy.FULL


def test_changes_between_versions():
    old = _ms([("a", "1"), ("b", "2"), ("c", "3")])
    new = _ms([("a", "1"), ("c", "3*"), ("d", "4")])
    changes = changes_between(old, new, "text")
    assert (changes.added, changes.removed, changes.modified) == (["d"], ["b"], ["c"])
    assert changes_between(old, _ms([("b", "2"), ("a", "1"), ("c", "3")]), "text").moved


# --- properties ----------------------------------------------------------------------------

# Hypothesis keeps examples and caches in ./.hypothesis; keep the repository clean.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-"))


def settings(**kwargs):
    return hypothesis_settings(database=None, deadline=None, **kwargs)


KEYS = st.sampled_from(list("abcdefgh"))
TEXTS = st.one_of(st.sampled_from(["", "x", "y", "the cat sat", "the cat ran",
                                   "a dog sat", "the cat sat on the mat"]),
                  st.text(alphabet="ab c", max_size=12))
MAPS = st.dictionaries(KEYS, TEXTS, max_size=8)


def _changed(side: dict, base: dict) -> list[str]:
    return [k for k, v in side.items() if base.get(k) != v]


@settings(max_examples=300)
@given(MAPS, MAPS, MAPS)
def test_keep_both_never_loses_a_text(base, theirs, mine):
    result = merge_maps(base, theirs, mine, merge_values=None)
    done = resolve(result, {k: "both" for k in result.conflicts}, new_key)
    present = list(done.values.values())
    for side in (theirs, mine):
        for key in _changed(side, base):
            assert side[key] in present, (key, side[key], done.values)
    order = merge_order(list(theirs), list(mine), done.values, done.placed_after)
    assert sorted(order) == sorted(done.values)  # every kept key placed exactly once


@settings(max_examples=300)
@given(MAPS, MAPS, MAPS)
def test_keep_both_with_text_merges_loses_nothing_either(base, theirs, mine):
    result = merge_maps(base, theirs, mine)
    done = resolve(result, {k: "both" for k in result.conflicts}, new_key)
    present = list(done.values.values())
    for side in (theirs, mine):
        for key in _changed(side, base):
            if key in result.auto_merged:
                continue  # both edits are in the merged text (next property)
            assert side[key] in present


@settings(max_examples=300)
@given(MAPS, MAPS, MAPS, st.sampled_from(["mine", "theirs"]))
def test_choosing_one_side_keeps_all_of_its_changes(base, theirs, mine, side_name):
    side = mine if side_name == "mine" else theirs
    result = merge_maps(base, theirs, mine, merge_values=None)
    done = resolve(result, {k: side_name for k in result.conflicts}, new_key)
    for key in _changed(side, base):
        assert done.values.get(key) == side[key]
    for key in base:
        if key not in side and key in result.conflicts:
            assert key not in done.values  # its removal kept too


@settings(max_examples=300)
@given(MAPS, MAPS)
def test_one_sided_changes_merge_cleanly(base, other):
    assert merge_maps(base, other, base).merged == other
    assert merge_maps(base, base, other).merged == other
    assert merge_maps(base, other, other).merged == other
    assert merge_maps(base, other, base).clean and merge_maps(base, base, other).clean


@settings(max_examples=500)
@given(st.text(alphabet="abc .", max_size=30), st.text(alphabet="abc .", max_size=30),
       st.text(alphabet="abc .", max_size=30))
def test_a_text_merge_is_the_same_both_ways_and_trivial_cases_hold(base, theirs, mine):
    merged = merge_text(base, theirs, mine)
    if merged is not None:
        assert merged == merge_text(base, mine, theirs)
        for side in (theirs, mine):  # every text either side inserted is in the result
            for _start, _end, inserted in text_hunks(base, side):
                assert inserted in merged
    assert merge_text(base, theirs, base) == theirs
    assert merge_text(base, base, mine) == mine


@settings(max_examples=200)
@given(st.lists(st.text(alphabet="xyz", min_size=1, max_size=4), min_size=1, max_size=4,
                unique=True),
       st.text(alphabet="xyz", max_size=4), st.text(alphabet="xyz", max_size=4))
def test_insertions_in_separate_places_both_survive(words, left, right):
    base = " | ".join(words)
    theirs = "<" + left + ">" + base
    mine = base + "<" + right + ">"
    merged = merge_text(base, theirs, mine)
    assert merged == theirs + "<" + right + ">"
