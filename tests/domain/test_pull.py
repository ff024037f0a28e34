"""The whole-story three-way merge of a pull (``studio.domain.pull``), with random edits on
both sides: every segment that must survive does, ids stay unique, structure stays sound."""

from __future__ import annotations

import copy
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from studio.domain.manuscript import Segment
from studio.domain.pull import (
    build_manuscript, build_part, merge_json, plan_manuscript, plan_part, resolve_segments,
)

ATTRS = {"title": "", "synopsis": "", "status": "draft", "word_target": None, "metadata": {}}


def outline(spec: list[list[int]]) -> list[dict]:
    """Chapters of scenes of n segments, ids c0/s0_0/g0_0_0."""
    out = []
    for c, scenes in enumerate(spec):
        out.append({"id": f"c{c}", "attrs": {**ATTRS, "title": f"Chapter {c}"}, "scenes": [
            {"id": f"s{c}_{s}", "attrs": {**ATTRS, "title": f"Scene {c}.{s}"},
             "segments": [Segment(f"g{c}_{s}_{k}", f"text {c} {s} {k}", 1) for k in range(n)]}
            for s, n in enumerate(scenes)]})
    return out


def mutate(base: list[dict], rng: random.Random, side: str, count: int) -> list[dict]:
    doc = copy.deepcopy(base)
    serial = 0
    for _ in range(count):
        scenes = [(ch, sc) for ch in doc for sc in ch["scenes"]]
        op = rng.randrange(9)
        serial += 1
        if not scenes:
            doc.append({"id": f"{side}c{serial}", "attrs": dict(ATTRS), "scenes": [
                {"id": f"{side}s{serial}", "attrs": dict(ATTRS), "segments": []}]})
            continue
        ch, sc = rng.choice(scenes)
        segs = sc["segments"]
        if op == 0 and segs:  # rewrite a paragraph
            i = rng.randrange(len(segs))
            segs[i] = Segment(segs[i].id, f"{side} rewrote {serial}", segs[i].gap)
        elif op == 1 and segs:  # delete one
            segs.pop(rng.randrange(len(segs)))
        elif op == 2:  # insert one
            segs.insert(rng.randrange(len(segs) + 1),
                        Segment(f"{side}g{serial}", f"{side} added {serial}", 1))
        elif op == 3 and segs:  # move one to another scene
            seg = segs.pop(rng.randrange(len(segs)))
            _, other = rng.choice(scenes)
            other["segments"].insert(rng.randrange(len(other["segments"]) + 1), seg)
        elif op == 4:  # a new scene
            ch["scenes"].insert(rng.randrange(len(ch["scenes"]) + 1), {
                "id": f"{side}s{serial}", "attrs": {**ATTRS, "title": f"{side} {serial}"},
                "segments": [Segment(f"{side}g{serial}", f"{side} scene {serial}", 0)]})
        elif op == 5:  # delete a scene
            ch["scenes"].remove(sc)
        elif op == 6:  # retitle
            sc["attrs"] = {**sc["attrs"], "title": f"{side} title {serial}"}
        elif op == 7:  # move a scene to another chapter
            ch["scenes"].remove(sc)
            target = rng.choice(doc)
            target["scenes"].insert(rng.randrange(len(target["scenes"]) + 1), sc)
        else:  # a new chapter
            doc.insert(rng.randrange(len(doc) + 1), {
                "id": f"{side}c{serial}", "attrs": {**ATTRS, "title": f"{side} ch {serial}"},
                "scenes": []})
    return doc


def texts(doc: list[dict]) -> dict[str, str]:
    return {seg.id: seg.text for ch in doc for sc in ch["scenes"] for seg in sc["segments"]}


def fresh(key: str, taken: set[str]) -> str:
    n = 0
    while f"{key}~{n}" in taken:
        n += 1
    return f"{key}~{n}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.lists(st.lists(st.integers(0, 4), max_size=4), max_size=4),
       seed=st.integers(0, 2**32), edits=st.tuples(st.integers(0, 8), st.integers(0, 8)))
def test_no_text_is_lost_and_the_result_is_sound(spec, seed, edits):
    rng = random.Random(seed)
    base = outline(spec)
    theirs, mine = mutate(base, rng, "t", edits[0]), mutate(base, rng, "m", edits[1])
    merge = plan_manuscript(base, theirs, mine)
    resolved = resolve_segments(merge, {k: "both" for k in merge.segments.conflicts}, fresh)
    result = build_manuscript(merge, resolved)

    chapter_ids = [ch["id"] for ch in result]
    scene_ids = [sc["id"] for ch in result for sc in ch["scenes"]]
    seg_ids = [seg.id for ch in result for sc in ch["scenes"] for seg in sc["segments"]]
    assert len(set(chapter_ids)) == len(chapter_ids)
    assert len(set(scene_ids)) == len(scene_ids)
    assert len(set(seg_ids)) == len(seg_ids)
    assert set(seg_ids) == set(resolved.values)  # every merged value placed, nothing else

    b, t, m, r = texts(base), texts(theirs), texts(mine), texts(result)
    for key in {**b, **t, **m}:
        bv, tv, mv = b.get(key), t.get(key), m.get(key)
        if tv == mv or mv == bv:
            assert r.get(key) == tv
        elif tv == bv:
            assert r.get(key) == mv
        elif key in merge.segments.auto_merged:
            assert r[key] not in (None, bv)
        else:  # a conflict resolved "both": whatever either side still has survives
            survivors = [x for x in (tv, mv) if x is not None]
            assert all(x in r.values() for x in survivors)
            if tv is not None and mv is not None:
                extra = next(k for k, twin in resolved.placed_after.items() if twin == key)
                assert seg_ids.index(extra) == seg_ids.index(key) + 1
                assert (r[key], r[extra]) == (tv, mv)


def test_a_both_alternate_follows_its_twin():
    base = outline([[2]])
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    theirs[0]["scenes"][0]["segments"][0] = Segment("g0_0_0", "theirs", 0)
    mine[0]["scenes"][0]["segments"][0] = Segment("g0_0_0", "mine", 0)
    merge = plan_manuscript(base, theirs, mine)
    resolved = resolve_segments(merge, {"g0_0_0": "both"}, fresh)
    [chapter] = build_manuscript(merge, resolved)
    assert [(s.id, s.text) for s in chapter["scenes"][0]["segments"]] == [
        ("g0_0_0", "theirs"), ("g0_0_0~0", "mine"), ("g0_0_1", "text 0 0 1")]


def test_titles_merge_field_by_field():
    base = outline([[1]])
    theirs, mine = copy.deepcopy(base), copy.deepcopy(base)
    theirs[0]["scenes"][0]["attrs"]["synopsis"] = "theirs"
    mine[0]["scenes"][0]["attrs"]["title"] = "mine"
    merge = plan_manuscript(base, theirs, mine)
    [chapter] = build_manuscript(merge, resolve_segments(merge, {}, fresh))
    assert chapter["scenes"][0]["attrs"]["title"] == "mine"
    assert chapter["scenes"][0]["attrs"]["synopsis"] == "theirs"


def test_parts_merge_items_by_id():
    base = {"characters": [{"id": "a", "name": "Ann"}], "setting": {"time": "1900"}}
    theirs = {"characters": [{"id": "a", "name": "Ann"}, {"id": "b", "name": "Bo"}],
              "setting": {"time": "1901"}}
    mine = {"characters": [{"id": "c", "name": "Cy"}, {"id": "a", "name": "Anne"}],
            "setting": {"time": "1900", "place": "Rock"}}
    plan = plan_part(base, theirs, mine)
    assert plan.result.clean
    merged = build_part(plan, plan.result.merged)
    assert merged == {"characters": [{"id": "c", "name": "Cy"}, {"id": "a", "name": "Anne"},
                                     {"id": "b", "name": "Bo"}],
                      "setting": {"time": "1901", "place": "Rock"}}


def test_merge_json():
    assert merge_json({"a": "x y z", "b": 1}, {"a": "X y z", "b": 1},
                      {"a": "x y Z", "b": 2}) == {"a": "X y Z", "b": 2}
    assert merge_json([1], [2], [3]) is None
