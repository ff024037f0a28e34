"""The chapter graph without a database: the model, its rules, cycles, layout, first graphs."""

from __future__ import annotations

import copy
import re
import time
from graphlib import CycleError

import pytest

from studio.domain import chapters as c
from studio.domain.chapters import Beat, Chapter, ChapterGraph, Condition


def node(cid: str, number: int, title: str, prerequisites=(), **extra) -> dict:
    return {"id": cid, "number": number, "title": title,
            "prerequisites": list(prerequisites), **extra}


CANONICAL = {"chapters": [
    {"id": "gch_gate", "number": 1, "title": "The Gate", "description": "Act one opener",
     "summary": "Mira reaches the city gate at dusk.", "status": "revised", "prerequisites": [],
     "triggers": [{"kind": "location", "value": "city gate", "critical": True,
                   "alternatives": ["north gate"]},
                  {"kind": "key", "value": "open", "key": "gate_state", "critical": False,
                   "alternatives": []}],
     "instructions": "Keep it tense.", "beats": [{"text": "The guard refuses entry", "priority": 1},
                                                 {"text": "Rain starts", "priority": 4}],
     "allow_divergence": False, "threshold": 0.25, "source": "imported", "alternate_of": None,
     "manuscript_chapter": "chap_01", "position": {"x": 10.5, "y": -20}},
    {"id": "gch_tower", "number": 2, "title": "The Tower", "description": "", "summary": "",
     "status": "draft", "prerequisites": ["gch_gate"],
     "triggers": [{"kind": "character", "value": "char_mira", "critical": False,
                   "alternatives": ["char_tam"]}],
     "instructions": "", "beats": [], "allow_divergence": True, "threshold": 0.4,
     "source": "manual", "alternate_of": "gch_gate", "manuscript_chapter": None,
     "position": None},
]}


# --- model ---------------------------------------------------------------------------------

def test_round_trip_of_the_canonical_form_is_exact():
    data = copy.deepcopy(CANONICAL)
    graph = ChapterGraph.from_dict(data)
    assert graph.as_dict() == CANONICAL
    assert data == CANONICAL  # from_dict does not touch its input
    first = graph.chapters[0]
    assert first.position == (10.5, -20) and first.triggers[0].alternatives == ("north gate",)
    assert first.beats == (Beat("The guard refuses entry", 1), Beat("Rain starts", 4))
    assert ChapterGraph.from_dict(graph.as_dict()) == graph


def test_a_minimal_chapter_gets_the_schema_defaults_and_round_trips_losslessly():
    ch = Chapter.from_dict({"id": "gch_a", "number": 7, "title": "A",
                            "triggers": [{"kind": "item", "value": "lamp"}]})
    assert (ch.status, ch.threshold, ch.allow_divergence, ch.source) == ("draft", 0.4, True,
                                                                        "manual")
    assert ch.triggers == (Condition("item", "lamp"),)
    assert ch.as_dict()["triggers"] == [{"kind": "item", "value": "lamp", "critical": False,
                                         "alternatives": []}]
    assert Chapter.from_dict(ch.as_dict()) == ch
    assert ChapterGraph.from_dict({}).chapters == ()


def test_lookups_ordering_and_replacing_a_chapter():
    graph = ChapterGraph((Chapter("gch_b", 2, "B"), Chapter("gch_a", 1, "A"),
                          Chapter("gch_alt", 3, "B again", alternate_of="gch_b")))
    assert [ch.id for ch in graph.ordered()] == ["gch_a", "gch_b", "gch_alt"]
    assert graph.by_id["gch_b"].title == "B" and graph.get("gch_zz") is None
    assert graph.alternates == {"gch_b": ("gch_alt",)}
    changed = graph.with_chapter(Chapter("gch_b", 2, "B2"))
    assert [ch.title for ch in changed.chapters] == ["B2", "A", "B again"]
    assert graph.by_id["gch_b"].title == "B"  # the original graph is untouched
    added = graph.with_chapter(Chapter("gch_c", 9, "C"))
    assert len(added.chapters) == 4 and c.next_number(added) == 10


def test_new_ids_have_the_schema_shape_and_never_collide():
    taken: set[str] = set()
    for _ in range(300):
        cid = c.new_chapter_id(taken)
        assert re.fullmatch(r"gch_[0-9a-f]{8}", cid) and cid not in taken
        taken.add(cid)
    assert c.next_number(ChapterGraph()) == 1
    assert c.next_number(ChapterGraph((Chapter("gch_a", 4, "A"), Chapter("gch_b", 2, "B")))) == 5


# --- graph_problems ------------------------------------------------------------------------

def test_a_sound_graph_has_no_problems():
    assert c.graph_problems(CANONICAL, known_characters={"char_mira", "char_tam"}) == []
    assert c.graph_problems({}) == []


def test_duplicate_ids_and_numbers_are_named():
    data = {"chapters": [node("gch_a", 4, "A"), node("gch_b", 4, "B"), node("gch_a", 5, "C")]}
    assert c.graph_problems(data) == [
        ("chapters/1/number", "chapter number 4 is used by “A” and “B”"),
        ("chapters/2/id", "the id gch_a is already used by 4 “A”"),
    ]


def test_prerequisites_that_point_nowhere_or_at_the_chapter_itself():
    data = {"chapters": [node("gch_a", 1, "A", ["gch_a", "gch_zz"]),
                         node("gch_b", 2, "B", ["gch_a", "gch_a"])]}
    assert c.graph_problems(data) == [
        ("chapters/0/prerequisites/0", "a chapter cannot require itself"),
        ("chapters/0/prerequisites/1", "no chapter has the id gch_zz"),
        ("chapters/1/prerequisites/1", "1 “A” is listed twice"),
    ]


def test_a_cycle_is_named_by_numbers_and_titles_in_story_order():
    data = {"chapters": [node("gch_tower", 5, "The Tower", ["gch_gate"]),
                         node("gch_gate", 2, "The Gate", ["gch_tower"]),
                         node("gch_intro", 1, "Intro")]}
    assert c.graph_problems(data) == [
        ("chapters/1/prerequisites/0",
         "prerequisites form a cycle: 2 “The Gate” → 5 “The Tower” → 2 “The Gate”")]
    longer = {"chapters": [node("gch_a", 1, "A", ["gch_c"]), node("gch_b", 2, "B", ["gch_a"]),
                           node("gch_c", 3, "C", ["gch_b"]),
                           node("gch_x", 8, "X", ["gch_y"]), node("gch_y", 9, "Y", ["gch_x"])]}
    reasons = [r for _, r in c.graph_problems(longer)]
    assert sorted(reasons) == [
        "prerequisites form a cycle: 1 “A” → 2 “B” → 3 “C” → 1 “A”",
        "prerequisites form a cycle: 8 “X” → 9 “Y” → 8 “X”"]


def test_key_conditions_need_a_key_and_characters_must_be_in_the_bible():
    data = {"chapters": [node("gch_a", 1, "A", triggers=[
        {"kind": "key", "value": "open"},
        {"kind": "key", "value": "open", "key": "  "},
        {"kind": "character", "value": "char_x", "alternatives": ["char_mira", "char_y"]},
    ])]}
    assert c.graph_problems(data, known_characters={"char_mira"}) == [
        ("chapters/0/triggers/0/key", "a key condition needs the name of the flag it reads"),
        ("chapters/0/triggers/1/key", "a key condition needs the name of the flag it reads"),
        ("chapters/0/triggers/2/value", "no character char_x in the scene bible"),
        ("chapters/0/triggers/2/alternatives/1", "no character char_y in the scene bible"),
    ]
    # Without a bible, characters are not checked.
    assert len(c.graph_problems(data)) == 2


def test_alternate_of_must_name_another_chapter():
    data = {"chapters": [node("gch_a", 1, "A", alternate_of="gch_zz"),
                         node("gch_b", 2, "B", alternate_of="gch_b"),
                         node("gch_c", 3, "C", alternate_of=None)]}
    assert c.graph_problems(data) == [
        ("chapters/0/alternate_of", "no chapter has the id gch_zz"),
        ("chapters/1/alternate_of", "a chapter cannot be an alternate of itself"),
    ]


# --- cycles, order -------------------------------------------------------------------------

def chain(n: int) -> ChapterGraph:
    return ChapterGraph(tuple(Chapter(f"gch_{i}", i + 1, f"C{i}",
                                      prerequisites=(f"gch_{i - 1}",) if i else ())
                              for i in range(n)))


def test_cycle_if_added_returns_the_cycle_in_story_order():
    graph = chain(4)  # 0 → 1 → 2 → 3
    # Making 1 require 3 closes 1 → 2 → 3 → 1.
    assert c.cycle_if_added(graph, "gch_3", "gch_1") == ["gch_1", "gch_2", "gch_3", "gch_1"]
    assert c.cycle_if_added(graph, "gch_0", "gch_3") is None   # already implied: no cycle
    assert c.cycle_if_added(graph, "gch_3", "gch_0") == ["gch_0", "gch_1", "gch_2", "gch_3",
                                                          "gch_0"]
    assert c.cycle_if_added(graph, "gch_2", "gch_2") == ["gch_2", "gch_2"]
    assert c.cycle_if_added(graph, "gch_zz", "gch_1") is None


def test_cycle_if_added_is_fast_on_a_thousand_chapters():
    graph = chain(1000)
    graph.by_id  # built once per graph, as in the editor
    best = min(_timed(lambda: c.cycle_if_added(graph, "gch_999", "gch_0")) for _ in range(20))
    assert len(c.cycle_if_added(graph, "gch_999", "gch_0")) == 1001
    assert best < 0.001


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_topological_order_puts_prerequisites_first_and_lower_numbers_before_higher():
    graph = ChapterGraph((Chapter("gch_d", 4, "D", prerequisites=("gch_a",)),
                          Chapter("gch_c", 3, "C"),
                          Chapter("gch_b", 2, "B", prerequisites=("gch_d",)),
                          Chapter("gch_a", 1, "A")))
    assert c.topological_order(graph) == ["gch_a", "gch_c", "gch_d", "gch_b"]
    looped = ChapterGraph((Chapter("gch_a", 1, "A", prerequisites=("gch_b",)),
                           Chapter("gch_b", 2, "B", prerequisites=("gch_a",))))
    with pytest.raises(CycleError):
        c.topological_order(looped)


# --- layout --------------------------------------------------------------------------------

def diamond() -> ChapterGraph:
    return ChapterGraph((Chapter("gch_a", 1, "A"),
                         Chapter("gch_b", 2, "B", prerequisites=("gch_a",)),
                         Chapter("gch_c", 3, "C", prerequisites=("gch_a",)),
                         Chapter("gch_d", 4, "D", prerequisites=("gch_b", "gch_c")),
                         Chapter("gch_e", 5, "E", prerequisites=("gch_a", "gch_d"))))


def test_layout_is_layered_left_to_right_and_centred():
    pos = c.layered_layout(diamond())
    assert pos == {"gch_a": (0.0, 0.0), "gch_b": (290.0, -55.0), "gch_c": (290.0, 55.0),
                   "gch_d": (580.0, 0.0), "gch_e": (870.0, 0.0)}


def test_layout_is_deterministic_and_never_overlaps():
    import random
    rng = random.Random(7)
    chapters = []
    for i in range(500):
        pre = tuple(sorted({f"gch_{rng.randrange(i)}" for _ in range(rng.randint(1, 3))})) \
            if i else ()
        chapters.append(Chapter(f"gch_{i}", i + 1, f"C{i}", prerequisites=pre))
    graph = ChapterGraph(tuple(chapters))
    shuffled = ChapterGraph(tuple(rng.sample(chapters, len(chapters))))
    first = c.layered_layout(graph)
    assert first == c.layered_layout(graph) == c.layered_layout(shuffled)
    assert len(set(first.values())) == 500
    for ch in chapters:  # every chapter sits right of its prerequisites
        assert all(first[p][0] < first[ch.id][0] for p in ch.prerequisites)
    best = min(_timed(lambda: c.layered_layout(graph)) for _ in range(3))
    assert best < 0.05


def test_layout_still_draws_a_graph_with_a_cycle():
    looped = ChapterGraph((Chapter("gch_a", 1, "A", prerequisites=("gch_b",)),
                           Chapter("gch_b", 2, "B", prerequisites=("gch_a",)),
                           Chapter("gch_c", 3, "C", prerequisites=("gch_zz",))))
    pos = c.layered_layout(looped)
    assert set(pos) == {"gch_a", "gch_b", "gch_c"} and len(set(pos.values())) == 3


# --- first graph from a manuscript ---------------------------------------------------------

def test_linear_from_manuscript_chains_the_chapters_in_reading_order():
    graph = c.linear_from_manuscript([("chap_1", "Arrival"), ("chap_2", " "), ("chap_3", "End")])
    a, b, d = graph.chapters
    assert [ch.number for ch in graph.chapters] == [1, 2, 3]
    assert [ch.title for ch in graph.chapters] == ["Arrival", "Chapter 2", "End"]
    assert (a.prerequisites, b.prerequisites, d.prerequisites) == ((), (a.id,), (b.id,))
    assert [ch.manuscript_chapter for ch in graph.chapters] == ["chap_1", "chap_2", "chap_3"]
    assert {ch.source for ch in graph.chapters} == {"manual"}
    assert len({ch.id for ch in graph.chapters}) == 3
    assert c.graph_problems(graph.as_dict()) == []
    assert c.linear_from_manuscript([]).chapters == ()
