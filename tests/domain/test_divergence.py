"""The playtest engine on worked examples: every number below can be checked by hand."""

from __future__ import annotations

import copy

import pytest

from studio.domain.chapters import Beat, Chapter, ChapterGraph, Condition, graph_problems
from studio.domain.divergence import (ChapterProgress, Divergence, StoryState, Tier, World,
                                      adapt, alternate, apply_proposal, choose_tier, complete,
                                      divergence, evaluate, relax, step)
from studio.domain.similarity import TfidfSimilarity, content_words, stem, tokens


class Fixed:
    """A similarity that always says the same, so the arithmetic is exact."""

    def __init__(self, value: float):
        self.value = value
        self.calls: list[tuple[str, str]] = []

    def similarity(self, a: str, b: str) -> float:
        self.calls.append((a, b))
        return self.value


WORLD = World(character_names={"char_king": "King Aldric", "char_mira": "Mira"})
DECREE = Chapter(
    id="gch_decree", number=3, title="The Decree",
    summary="King Aldric signs the royal decree in the throne room before the court.",
    triggers=(Condition("location", "throne room"), Condition("character", "char_king"),
              Condition("item", "royal decree")),
    instructions="The king reads the decree aloud; the court falls silent.",
    beats=(Beat("The king signs the royal decree", 1), Beat("The court falls silent", 2),
           Beat("A dog barks outside", 4)))
AT_STABLES = StoryState(location="stables", inventory=frozenset({"forged letter"}),
                        characters=frozenset({"char_king"}), turn=7,
                        recent_text="Mira brushes the grey mare while rain drums on the roof.")


# --- the king / throne room / royal decree example ------------------------------------------

def test_the_decree_example_scores_with_a_readable_breakdown():
    result = divergence(DECREE, AT_STABLES, Fixed(0.12), WORLD)
    assert result.breakdown == [
        "location: needs “throne room”, story is at “stables” — not met",
        "character: King Aldric present — met",
        "item: needs “royal decree”, player holds “forged letter” — not met",
        "2 of 3 conditions not met → 0.7 × 0.667 = 0.467",
        "similarity of intent and recent text 0.12 → 0.3 × 0.88 = 0.264",
        "score 0.731",
    ]
    # 0.7 × 2/3 + 0.3 × (1 − 0.12) = 0.46667 + 0.264 = 0.73067 → 0.731
    assert result.score == 0.731
    assert result.unmet_share == pytest.approx(2 / 3) and result.similarity == 0.12
    assert choose_tier(DECREE, result, evaluate(DECREE, AT_STABLES, WORLD)) is Tier.ADAPT


def test_tfidf_scores_related_text_as_less_divergent_than_unrelated_text():
    corpus = [DECREE.summary, DECREE.instructions, AT_STABLES.recent_text,
              "The dragon sleeps under the mountain."]
    sim = TfidfSimilarity(corpus)
    related = StoryState(location="throne room", inventory=frozenset({"royal decree"}),
                         characters=frozenset({"char_king"}),
                         recent_text="In the throne room King Aldric signed the decree; "
                                     "the court watched.")
    unrelated = StoryState(location="throne room", inventory=frozenset({"royal decree"}),
                           characters=frozenset({"char_king"}),
                           recent_text=AT_STABLES.recent_text)
    near = divergence(DECREE, related, sim, WORLD)
    far = divergence(DECREE, unrelated, sim, WORLD)
    assert near.unmet_share == far.unmet_share == 0
    assert 0.3 < near.similarity < 1 and far.similarity == 0.0
    assert near.score < 0.25 and far.score == 0.3
    assert near.score < far.score


def test_no_summary_means_no_similarity_term_and_the_breakdown_says_so():
    bare = Chapter("gch_b", 1, "B", triggers=(Condition("key", "open", key="Gate"),))
    state = StoryState(flags={"gate": " OPEN "}, recent_text="anything")
    sim = Fixed(0.0)
    result = divergence(bare, state, sim, WORLD)
    assert result.score == 0 and result.similarity is None and sim.calls == []
    assert result.breakdown == ["key: needs Gate = “open”, flag is “ OPEN ” — met",
                                "0 of 1 conditions not met → 0.7 × 0 = 0",
                                "no summary to compare with the story → 0", "score 0"]
    silent = divergence(DECREE, StoryState(location="throne room"), sim, WORLD)
    assert "no recent story text to compare with the summary → 0" in silent.breakdown
    empty = divergence(Chapter("gch_e", 2, "E"), StoryState(), sim, WORLD)
    assert empty.breakdown[0] == "no trigger conditions → 0" and empty.score == 0


def test_conditions_ignore_case_and_spacing_and_accept_alternatives():
    ch = Chapter("gch_a", 1, "A", triggers=(
        Condition("location", "Throne Room", alternatives=("great hall",)),
        Condition("item", "royal decree"), Condition("character", "char_x",
                                                     alternatives=("char_king",)),
        Condition("key", "yes", key="door"), Condition("key", "yes", key="bell")))
    state = StoryState(location="  GREAT   hall", inventory=frozenset({"Royal  Decree"}),
                       characters=frozenset({"char_king"}), flags={"Door": "Yes"})
    assert [r.met for r in evaluate(ch, state, WORLD)] == [True, True, True, True, False]
    line = divergence(ch, state, Fixed(1), WORLD).breakdown[4]
    assert line == "key: needs bell = “yes”, flag is not set — not met"


def test_a_character_who_is_gone_makes_the_condition_impossible():
    gone = World(frozenset({"char_king"}), WORLD.character_names)
    results = evaluate(DECREE, AT_STABLES.__class__(location="throne room"), gone)
    assert [(r.met, r.impossible) for r in results] == [(True, False), (False, True),
                                                        (False, False)]
    assert divergence(DECREE, StoryState(location="throne room"), Fixed(1), gone).breakdown[1] \
        == "character: King Aldric is no longer in the story — impossible"
    still_possible = Chapter("gch_x", 1, "X", triggers=(
        Condition("character", "char_king", alternatives=("char_mira",)),))
    assert not evaluate(still_possible, StoryState(), gone)[0].impossible


# --- tiers ---------------------------------------------------------------------------------

def tier_of(score: float, chapter: Chapter = DECREE, results=()) -> Tier:
    return choose_tier(chapter, Divergence(score, 0.0, None, []), list(results))


def test_every_tier_boundary():
    assert tier_of(0.0) is Tier.PROCEED
    assert tier_of(0.399) is Tier.PROCEED
    assert tier_of(0.4) is Tier.RELAX        # at the threshold: not below it
    assert tier_of(0.7) is Tier.RELAX
    assert tier_of(0.701) is Tier.ADAPT
    assert tier_of(1.0) is Tier.ADAPT
    strict = Chapter("gch_s", 1, "S", allow_divergence=False, threshold=0.2)
    assert tier_of(0.199, strict) is Tier.PROCEED
    assert tier_of(0.2, strict) is Tier.HOLD
    assert tier_of(0.95, strict) is Tier.HOLD


def test_an_impossible_critical_condition_means_an_alternate_even_at_a_low_score():
    critical = Chapter("gch_c", 1, "C", triggers=(Condition("character", "char_king",
                                                            critical=True),))
    gone = World(frozenset({"char_king"}))
    results = evaluate(critical, StoryState(), gone)
    assert tier_of(0.0, critical, results) is Tier.ALTERNATE
    assert tier_of(0.1, replace_allow(critical), results) is Tier.ALTERNATE
    # Not critical: an impossible condition is just unmet.
    plain = Chapter("gch_p", 1, "P", triggers=(Condition("character", "char_king"),))
    assert tier_of(0.1, plain, evaluate(plain, StoryState(), gone)) is Tier.PROCEED


def replace_allow(ch: Chapter) -> Chapter:
    from dataclasses import replace
    return replace(ch, allow_divergence=False)


# --- healing -------------------------------------------------------------------------------

def test_relax_keeps_critical_conditions_and_offers_what_the_player_holds():
    ch = Chapter("gch_r", 1, "R", triggers=(
        Condition("location", "throne room", critical=True),
        Condition("item", "royal decree", alternatives=("seal",)),
        Condition("location", "great hall"),
        Condition("character", "char_mira"),
        Condition("key", "open", key="gate"),
        Condition("key", "lit", key="lamp"),
        Condition("character", "char_king")))
    state = StoryState(location="stables", inventory=frozenset({"forged letter", "Apple"}),
                       characters=frozenset({"char_king"}), flags={"gate": "ajar"})
    new, text = relax(ch, state, evaluate(ch, state, WORLD), WORLD)
    assert new.triggers == (
        Condition("location", "throne room", critical=True),
        Condition("item", "royal decree", alternatives=("seal", "Apple", "forged letter")),
        Condition("location", "great hall", alternatives=("stables",)),
        Condition("key", "open", key="gate", alternatives=("ajar",)),
        Condition("character", "char_king"))
    assert text == (
        "Relaxed: item “royal decree”: offer items the player now holds as alternatives "
        "(“Apple”, “forged letter”); location “great hall”: accept “stables” as well; "
        "character Mira: dropped; key gate = “open”: accept “ajar” as well; "
        "key lamp = “lit”: dropped. 1 critical condition kept as it is.")
    assert ch.triggers[1].alternatives == ("seal",)  # the input is untouched
    # Relaxed, the chapter only misses its critical condition.
    assert [r.met for r in evaluate(new, state, WORLD)] == [False, True, True, True, True]
    nothing, empty = relax(new, state, evaluate(new, state, WORLD), WORLD)
    assert nothing is new and empty == ""


def test_adapt_rewrites_for_the_current_state_and_keeps_the_goal():
    ch = Chapter(**{**DECREE.__dict__, "triggers": DECREE.triggers[:2] + (
        Condition("item", "royal decree", critical=True),)})
    new, text = adapt(ch, AT_STABLES, WORLD)
    assert new.instructions == (
        "Adapted to where the story is now (turn 7).\n"
        "Goal: King Aldric signs the royal decree in the throne room before the court.\n"
        "The story is at “stables”. Present: King Aldric. The player holds “forged letter”.\n"
        "Steer from here toward the goal; do not force the original setup back into the story.\n"
        "Original aim: “The king reads the decree aloud; the court falls silent.”")
    assert new.beats == (Beat("The king signs the royal decree", 1),
                         Beat("The court falls silent", 2),
                         Beat("(optional) A dog barks outside", 5))
    assert new.triggers == (Condition("character", "char_king"),
                            Condition("item", "royal decree", critical=True))
    assert text == ("Instructions rewritten for the current state (at “stables”; present: "
                    "King Aldric; holding “forged letter”); 1 beat made optional; dropped unmet "
                    "conditions: location “throne room”.")
    again, _ = adapt(new, AT_STABLES, WORLD)  # adapting twice does not nest the aim
    assert again.instructions == new.instructions and again.beats == new.beats
    assert (new.summary, new.id, new.number) == (ch.summary, ch.id, ch.number)


def test_alternate_is_a_new_chapter_for_the_same_goal():
    ch = Chapter(**{**DECREE.__dict__, "prerequisites": ("gch_gate",), "triggers": (
        Condition("character", "char_king", critical=True), Condition("location", "stables"),
        Condition("item", "royal decree")), "position": (100.0, 50.0)})
    graph = ChapterGraph((Chapter("gch_gate", 1, "Gate"), ch, Chapter("gch_far", 9, "Far")))
    gone = World(frozenset({"char_king"}), WORLD.character_names)
    state = StoryState(location="Stables", inventory=frozenset({"forged letter"}), turn=4)
    new, text = alternate(ch, graph, state, gone)
    assert new.id.startswith("gch_") and new.id not in graph.by_id
    assert (new.number, new.title, new.alternate_of) == (10, "The Decree — another way",
                                                         "gch_decree")
    assert new.prerequisites == ("gch_gate",) and new.summary == ch.summary
    assert new.triggers == (Condition("location", "stables"),) and new.beats == ch.beats
    assert new.source == "manual" and new.position == (100.0, 160.0)
    assert new.instructions.startswith("Another way to the narrative goal of chapter "
                                       "3 “The Decree”, from where the story is now.")
    assert "No longer possible: character King Aldric." in new.instructions
    assert new.instructions.endswith(f"Original aim: “{ch.instructions}”")
    again, _ = alternate(new, graph.with_chapter(new), state, gone)  # the aim is not nested
    assert again.instructions.endswith(f"Original aim: “{ch.instructions}”")
    assert again.instructions.count("Original aim") == 1
    assert text == ("New chapter 10 “The Decree — another way” as an alternate path because "
                    "character King Aldric can no longer be met; it keeps the 1 condition "
                    "that holds now.")


# --- the engine ----------------------------------------------------------------------------

def ch(cid: str, number: int, *triggers: Condition, pre=(), **extra) -> Chapter:
    return Chapter(cid, number, cid.upper(), triggers=triggers, prerequisites=pre, **extra)


def test_the_lowest_numbered_fitting_chapter_activates_one_per_turn():
    graph = ChapterGraph((ch("gch_b", 2), ch("gch_a", 1, Condition("location", "inn")),
                          ch("gch_c", 3, Condition("location", "forest"))))
    first = step(graph, {}, StoryState(location="Inn", turn=1), Fixed(1), WORLD)
    assert first.activated == ["gch_a"] and first.available == ["gch_b", "gch_c"]
    assert first.progress["gch_a"].activated_turn == 1
    second = step(graph, first.progress, StoryState(location="Inn", turn=2), Fixed(1), WORLD)
    assert second.activated == ["gch_b"] and second.available == ["gch_c"]
    third = step(graph, second.progress, StoryState(location="Inn", turn=3), Fixed(1), WORLD)
    assert third.activated == [] and third.available == ["gch_c"]  # the forest is elsewhere


def test_a_chapter_waits_for_all_its_prerequisites():
    graph = ChapterGraph((ch("gch_a", 1), ch("gch_b", 2), ch("gch_c", 3, pre=("gch_a", "gch_b"))))
    only_a = {"gch_a": ChapterProgress(0, 1, "natural"), "gch_b": ChapterProgress(0)}
    out = step(graph, only_a, StoryState(turn=2), Fixed(1), WORLD)
    assert out.available == [] and out.activated == []
    both = complete(only_a, "gch_b", 2)
    out = step(graph, both, StoryState(turn=3), Fixed(1), WORLD)
    assert out.activated == ["gch_c"]


def test_an_alternate_completes_the_chapter_it_stands_in_for():
    graph = ChapterGraph((ch("gch_a", 1), ch("gch_b", 2, pre=("gch_a",)),
                          ch("gch_alt", 3, pre=("gch_a",), alternate_of="gch_b"),
                          ch("gch_next", 4, pre=("gch_b",))))
    progress = {"gch_a": ChapterProgress(0, 1, "natural"), "gch_b": ChapterProgress(2),
                "gch_alt": ChapterProgress(3)}
    progress = complete(progress, "gch_alt", 5)
    out = step(graph, progress, StoryState(turn=6), Fixed(1), WORLD)
    assert out.progress["gch_b"] == ChapterProgress(2, 5, "diverged-alternate")
    assert out.completed == ["gch_b"] and out.activated == ["gch_next"]
    # Once the original is done, its alternates are no longer offered.
    fresh = step(graph, {"gch_a": ChapterProgress(0, 1), "gch_b": ChapterProgress(2, 4)},
                 StoryState(turn=5), Fixed(1), WORLD)
    assert fresh.activated == ["gch_next"] and fresh.available == []


def test_a_turn_scores_proposes_and_logs_every_active_chapter():
    gate = ch("gch_gate", 1)
    decree = Chapter(**{**DECREE.__dict__, "prerequisites": ("gch_gate",)})
    graph = ChapterGraph((gate, decree))
    progress = {"gch_gate": ChapterProgress(0, 2, "natural"), "gch_decree": ChapterProgress(5)}
    frozen = copy.deepcopy(progress)
    out = step(graph, progress, AT_STABLES, Fixed(0.12), WORLD)
    assert progress == frozen  # pure
    assert out.progress["gch_decree"].divergence_score == 0.731
    (proposal,) = out.proposals
    assert proposal.tier is Tier.ADAPT and proposal.new_chapter.id == "gch_decree"
    (entry,) = out.log
    assert (entry.turn, entry.chapter_id, entry.score, entry.strategy) == (7, "gch_decree",
                                                                          0.731, "adapt")
    assert entry.reason == ("2 of 3 trigger conditions not met (location “throne room”, "
                            "item “royal decree”)")
    assert entry.change == proposal.description and entry.breakdown[-1] == "score 0.731"

    graph2, progress2 = apply_proposal(graph, out.progress, proposal)
    assert progress2["gch_decree"].adaptation_count == 1
    assert graph2.by_id["gch_decree"].instructions.startswith("Adapted to where the story is")
    assert graph.by_id["gch_decree"] == decree  # the old graph is untouched
    # The key beats happen in the text: the chapter completes, as an adapted one.
    done = step(graph2, progress2, AT_STABLES, Fixed(0.12), WORLD, {
        "gch_decree": "At last the king signed the royal decree. The court fell silent."})
    assert done.completed == ["gch_decree"] and done.proposals == []
    assert done.progress["gch_decree"].completion_method == "adapted"


def test_without_key_beats_a_chapter_completes_on_course_after_its_first_turn():
    graph = ChapterGraph((ch("gch_a", 1, Condition("location", "inn"),
                             beats=(Beat("Someone sings", 4),)),))
    start = step(graph, {}, StoryState(location="inn", turn=1), Fixed(1), WORLD)
    assert start.activated == ["gch_a"] and start.completed == []
    assert start.log[0].strategy == "proceed"
    assert start.log[0].reason == "on course: score 0 is below the threshold 0.4"
    later = step(graph, start.progress, StoryState(location="inn", turn=2), Fixed(1), WORLD)
    assert later.completed == ["gch_a"]
    assert later.progress["gch_a"] == ChapterProgress(1, 2, "natural", 0.0)


def test_relax_hold_and_alternate_in_a_turn():
    relaxable = ch("gch_r", 1, Condition("location", "inn"), Condition("item", "key"))
    held = ch("gch_h", 2, Condition("location", "inn"), allow_divergence=False)
    doomed = ch("gch_d", 3, Condition("character", "char_king", critical=True))
    graph = ChapterGraph((relaxable, held, doomed))
    progress = {cid: ChapterProgress(1) for cid in ("gch_r", "gch_h", "gch_d")}
    gone = World(frozenset({"char_king"}), WORLD.character_names)
    state = StoryState(location="forest", inventory=frozenset({"rope"}), turn=3)
    out = step(graph, progress, state, Fixed(1), gone)
    assert [(e.chapter_id, e.score, e.strategy) for e in out.log] == [
        ("gch_r", 0.7, "relax"), ("gch_h", 0.7, "hold"), ("gch_d", 0.7, "alternate")]
    assert out.log[1].reason == ("divergence is not allowed here, holding: 1 of 1 trigger "
                                 "conditions not met (location “inn”)")
    assert out.log[1].change == ""
    assert out.log[2].reason == ("a critical condition can never be met again: character "
                                 "King Aldric is no longer in the story")
    relax_p, alt_p = out.proposals
    assert relax_p.tier is Tier.RELAX and alt_p.tier is Tier.ALTERNATE
    assert relax_p.new_chapter.triggers[1].alternatives == ("rope",)
    assert (alt_p.new_chapter.number, alt_p.new_chapter.alternate_of) == (4, "gch_d")
    graph2, progress2 = apply_proposal(graph, out.progress, alt_p)
    assert len(graph2.chapters) == 4 and progress2 == out.progress
    again = step(graph2, progress2, state, Fixed(1), gone)
    # The alternate (no conditions left) starts; the original waits on it.
    assert again.activated == [alt_p.new_chapter.id]
    assert [p.tier for p in again.proposals] == [Tier.RELAX]
    assert again.log[2].change == f"waiting on the alternate path {alt_p.new_chapter.label()}"


def test_two_alternates_in_one_turn_get_distinct_ids_and_numbers():
    doomed = [ch(f"gch_d{i}", i, Condition("character", "char_king", critical=True))
              for i in (1, 2)]
    graph = ChapterGraph(tuple(doomed))
    out = step(graph, {"gch_d1": ChapterProgress(1), "gch_d2": ChapterProgress(1)},
               StoryState(turn=2), Fixed(1), World(frozenset({"char_king"})))
    news = [p.new_chapter for p in out.proposals]
    assert [n.number for n in news] == [3, 4] and news[0].id != news[1].id
    for p in out.proposals:
        graph, _ = apply_proposal(graph, {}, p)
    assert [c.alternate_of for c in graph.chapters] == [None, None, "gch_d1", "gch_d2"]
    assert graph_problems(graph.as_dict()) == []


# --- similarity ----------------------------------------------------------------------------

def test_tfidf_similarity_properties():
    sim = TfidfSimilarity(["the king and the decree", "the king rides out", "a quiet harbour"])
    assert sim.similarity("The king signs the decree", "The king signs the decree") == 1.0
    assert sim.similarity("royal decree", "harbour boats") == 0.0
    assert sim.similarity("", "royal decree") == sim.similarity("", "") == 0.0
    a, b = "the king signs decrees", "a decree signed by the king"
    assert sim.similarity(a, b) == sim.similarity(b, a) > 0.9  # stemming: decrees / decree
    # Rare words weigh more: sharing "decree" says more than sharing "king".
    assert sim.similarity("king decree", "decree") > sim.similarity("king decree", "king")
    # Words the corpus never saw still count.
    assert sim.similarity("dragon gold", "gold dragon hoard") > 0.5
    unfitted = TfidfSimilarity()
    assert 0 < unfitted.similarity("king decree", "king") < 1
    assert unfitted.fit(["x"]) is unfitted


def test_tokens_drop_stopwords_and_stem():
    assert tokens("The King's decrees were signed") == ["king", "decre", "sign"]
    assert stem("carried") == stem("carries") == "carry" and stem("stopped") == "stop"
    assert content_words("Go!") == {"go"}


def test_state_progress_and_world_round_trip_and_read_the_bible():
    state = StoryState(location="Inn", inventory=["rope", "Apple"], characters={"char_a"},
                       turn=4, recent_text="x", flags={"gate": "open"})
    data = state.as_dict()
    assert data == {"location": "Inn", "inventory": ["Apple", "rope"], "characters": ["char_a"],
                    "turn": 4, "recent_text": "x", "flags": {"gate": "open"}}
    assert StoryState.from_dict(data) == state and StoryState.from_dict({}) == StoryState()
    p = ChapterProgress(3, 5, "adapted", 0.25, 2)
    assert ChapterProgress.from_dict(p.as_dict()) == p
    assert ChapterProgress.from_dict({"activated_turn": 1}).active
    world = World.from_bible({"characters": [{"id": "char_a", "name": "Ada"},
                                             {"id": "char_b", "name": "Bo", "active": False}]})
    assert world.inactive_characters == {"char_b"} and world.name("char_a") == "Ada"
    assert world.name("char_zz") == "char_zz"
