"""Pulling a newer version of a fork's source: the plan, the author's choices, the saved
version that undoes it, and no text of either side lost."""

from __future__ import annotations

import random

import pytest

from studio.services import (
    bible, forking, manuscript, publishing, pulling, reference_cache, stories, versions,
)
from studio.services.pulling import PullError

from tests.services._marketplace_content import (
    SERVER, WORDS, content_texts, materialised_scenes, segment_rows, sql, story_order,
    story_texts,
)

SCENES = {
    "Arrival": ["The lamp was dark when Wren climbed the stair.",
                "Her father was polishing the lens.",
                "Gulls argued on the gallery rail."],
    "The ledger": ["She wrote entry 997 in the ledger.",
                   "A blue glove, left hand, no name.",
                   "The tide had turned at six."],
    "Night": ["The beam swept the empty water.",
              "Somewhere a bell answered it.",
              "Wren counted the seconds between."],
}


class Author:
    """A's own story, published version by version into the local reference cache."""

    def __init__(self, db):
        self.db = db
        self.story_id = stories.create_story(db, "Gull Rock").id
        chapter = manuscript.add_chapter(db, self.story_id, "One").uid
        self.scenes = {}
        for title, paragraphs in SCENES.items():
            self.scenes[title] = manuscript.add_scene(db, self.story_id, chapter, title,
                                                      text="\n\n".join(paragraphs)).uid
        self.number = 0
        reference_cache.cache_story(db, SERVER, {"id": "st_gull", "title": "Gull Rock",
                                                 "owner": "ann", "licence": "CC-BY",
                                                 "latest_version": 0})

    def publish(self) -> int:
        self.number += 1
        return reference_cache.cache_version(self.db, SERVER, "st_gull", self.number,
                                             f"v{self.number}",
                                             publishing.publish_content(self.db, self.story_id))

    def seg(self, scene: str, index: int) -> str:
        return manuscript.load_scene(self.db, self.story_id, self.scenes[scene]) \
            .segments[index].id


def edit(db, story_id: int, scene_uid: str, index: int, text: str) -> None:
    paragraphs = [s.text for s in manuscript.load_scene(db, story_id, scene_uid).segments]
    paragraphs[index] = text
    manuscript.save_scene_text(db, story_id, scene_uid, "\n\n".join(paragraphs))


@pytest.fixture
def scenario(db):
    """A publishes v1; B forks it and edits three segments; A changes one of those and two
    others, and publishes v2."""
    a = Author(db)
    v1 = a.publish()
    fork = forking.fork_reference(db, v1)
    sc = a.scenes
    edit(db, fork, sc["Arrival"], 0, "The lamp was broken when Wren climbed the stair.")
    edit(db, fork, sc["The ledger"], 1, "A blue glove, left hand, and a ring.")
    edit(db, fork, sc["Arrival"], 2, "Gulls argued loudly on the gallery rail.")
    edit(db, a.story_id, sc["Arrival"], 0, "The lamp was blazing when Wren climbed the stair.")
    edit(db, a.story_id, sc["Night"], 1, "Somewhere a bell answered it, twice.")
    edit(db, a.story_id, sc["The ledger"], 2, "The tide had turned at seven.")
    v2 = a.publish()
    return a, fork, v1, v2


def test_the_pull_scenario(db, scenario):
    a, fork, v1, v2 = scenario
    status = pulling.update_status(db, fork)
    assert (status.source_story_id, status.base, status.latest, status.update_available) == \
        ("st_gull", 1, 2, True)
    assert status.latest_cached_id == v2

    plan = pulling.plan_pull(db, fork, v2)
    conflict_id = a.seg("Arrival", 0)
    assert sorted(plan.applied) == sorted([a.seg("Night", 1), a.seg("The ledger", 2)])
    assert plan.applied_count == 2
    assert sorted(plan.kept_mine) == sorted([a.seg("The ledger", 1), a.seg("Arrival", 2)])
    [conflict] = plan.conflicts
    assert conflict.segment_id == conflict_id
    assert conflict.base_text == "The lamp was dark when Wren climbed the stair."
    assert conflict.theirs_text == "The lamp was blazing when Wren climbed the stair."
    assert conflict.mine_text == "The lamp was broken when Wren climbed the stair."
    assert (conflict.chapter_title, conflict.scene_title) == ("One", "Arrival")
    assert conflict.where == "One › Arrival"

    before = story_texts(db, fork)
    saved = pulling.apply_pull(db, fork, plan, {conflict_id: "both"})

    arrival = manuscript.load_scene(db, fork, a.scenes["Arrival"]).segments
    assert [s.text for s in arrival] == [
        "The lamp was blazing when Wren climbed the stair.",   # theirs, in place
        "The lamp was broken when Wren climbed the stair.",    # mine, right after it
        "Her father was polishing the lens.",
        "Gulls argued loudly on the gallery rail."]
    assert arrival[0].id == conflict_id and arrival[1].id.startswith("seg_")
    assert arrival[1].id not in before
    after = story_texts(db, fork)
    assert after[a.seg("Night", 1)] == "Somewhere a bell answered it, twice."
    assert after[a.seg("The ledger", 2)] == "The tide had turned at seven."
    assert after[a.seg("The ledger", 1)] == "A blue glove, left hand, and a ring."
    # "Night" was never edited in the fork: it now shares v2's blob, no rows written
    assert a.scenes["Night"] not in materialised_scenes(db, fork)
    assert sql(db, "SELECT shared_blob IS NOT NULL FROM scenes WHERE uid = ? AND story_id = ?",
               a.scenes["Night"], fork) == [(1,)]

    status = pulling.update_status(db, fork)
    assert (status.base, status.update_available) == (2, False)

    # the version saved first undoes the pull
    [info] = [v for v in versions.list_versions(db, fork) if v.number == saved]
    assert info.label == "Before pulling v2"
    versions.restore_version(db, fork, saved)
    assert story_texts(db, fork) == before
    # ... with the merge base: the same pull can be planned again
    status = pulling.update_status(db, fork)
    assert (status.base, status.update_available) == (1, True)
    again = pulling.plan_pull(db, fork, v2)
    assert (again.applied, again.conflicts) == (plan.applied, plan.conflicts)


def test_choosing_theirs_or_mine(db, scenario):
    a, fork, _, v2 = scenario
    conflict_id = a.seg("Arrival", 0)
    plan = pulling.plan_pull(db, fork, v2)
    pulling.apply_pull(db, fork, plan, {conflict_id: "mine"})
    assert story_texts(db, fork)[conflict_id] == \
        "The lamp was broken when Wren climbed the stair."
    versions.restore_version(db, fork, 1)
    plan = pulling.plan_pull(db, fork, v2)
    pulling.apply_pull(db, fork, plan, {conflict_id: "theirs"})
    assert story_texts(db, fork)[conflict_id] == \
        "The lamp was blazing when Wren climbed the stair."


def test_an_unresolved_conflict_is_refused_with_nothing_changed(db, scenario):
    a, fork, v1, v2 = scenario
    plan = pulling.plan_pull(db, fork, v2)
    before = story_texts(db, fork)
    for resolutions, needle in (({}, "still need a choice"),
                                ({a.seg("Arrival", 0): "maybe"}, "not valid"),
                                ({a.seg("Arrival", 0): "mine", "seg_nope": "mine"},
                                 "do not match")):
        with pytest.raises(PullError, match=needle):
            pulling.apply_pull(db, fork, plan, resolutions)
    assert story_texts(db, fork) == before
    assert versions.list_versions(db, fork) == []
    assert pulling.update_status(db, fork).base == 1


def test_a_stale_plan_is_refused(db, scenario):
    a, fork, _, v2 = scenario
    plan = pulling.plan_pull(db, fork, v2)
    edit(db, fork, a.scenes["Night"], 0, "Written after planning.")
    with pytest.raises(PullError, match="changed since"):
        pulling.apply_pull(db, fork, plan, {a.seg("Arrival", 0): "both"})
    assert story_texts(db, fork)[a.seg("Night", 0)] == "Written after planning."
    assert versions.list_versions(db, fork) == []


def test_refusals_when_there_is_nothing_to_pull(db, scenario):
    a, fork, v1, v2 = scenario
    with pytest.raises(PullError, match="not newer"):
        pulling.plan_pull(db, fork, v1)
    with pytest.raises(PullError, match="not a fork"):
        pulling.plan_pull(db, a.story_id, v2)
    assert pulling.update_status(db, a.story_id).source_story_id is None


def test_structure_changes_on_both_sides(db):
    a = Author(db)
    v1 = a.publish()
    fork = forking.fork_reference(db, v1)
    # theirs: a new scene in a new chapter, a paragraph deleted, a paragraph added
    chapter2 = manuscript.add_chapter(db, a.story_id, "Two").uid
    new_scene = manuscript.add_scene(db, a.story_id, chapter2, "Morning",
                                     text="Fog on the water.\n\nA boat, far out.").uid
    night = [s.text for s in manuscript.load_scene(db, a.story_id, a.scenes["Night"]).segments]
    manuscript.save_scene_text(db, a.story_id, a.scenes["Night"],
                               "\n\n".join([night[0], night[2], "The lamp held."]))
    # mine: my own scene, and a paragraph inserted at the start of "The ledger"
    chapter = manuscript.outline(db, fork).chapters[0].uid
    mine_scene = manuscript.add_scene(db, fork, chapter, "Wren alone",
                                      text="Nobody came that night.").uid
    ledger = [s.text for s in manuscript.load_scene(db, fork, a.scenes["The ledger"]).segments]
    manuscript.save_scene_text(db, fork, a.scenes["The ledger"],
                               "\n\n".join(["Mine, first of all."] + ledger))
    v2 = a.publish()

    plan = pulling.plan_pull(db, fork, v2)
    assert plan.clean and plan.added == 3 and plan.removed == 1
    pulling.apply_pull(db, fork, plan)
    outline = manuscript.outline(db, fork)
    assert [c.title for c in outline.chapters] == ["One", "Two"]
    assert [s.title for s in outline.chapters[0].scenes] == \
        ["Arrival", "The ledger", "Night", "Wren alone"]
    assert [s.uid for s in outline.chapters[1].scenes] == [new_scene]
    texts = lambda uid: [s.text for s in manuscript.load_scene(db, fork, uid).segments]  # noqa
    assert texts(new_scene) == ["Fog on the water.", "A boat, far out."]
    assert texts(a.scenes["Night"]) == [night[0], night[2], "The lamp held."]
    assert texts(a.scenes["The ledger"])[0] == "Mine, first of all."
    assert texts(mine_scene) == ["Nobody came that night."]
    # the new scene and the untouched changed scene share v2's blobs
    assert new_scene not in materialised_scenes(db, fork)
    assert a.scenes["Night"] not in materialised_scenes(db, fork)


def test_a_scene_they_deleted_keeps_my_edit(db):
    a = Author(db)
    v1 = a.publish()
    fork = forking.fork_reference(db, v1)
    edit(db, fork, a.scenes["Night"], 1, "Somewhere my bell answered it.")
    manuscript.delete_scene(db, a.story_id, a.scenes["Night"])
    v2 = a.publish()
    plan = pulling.plan_pull(db, fork, v2)
    [conflict] = plan.conflicts
    assert conflict.theirs_text is None and conflict.mine_text == "Somewhere my bell answered it."
    pulling.apply_pull(db, fork, plan, {conflict.segment_id: "both"})
    scenes = [s.title for s in manuscript.outline(db, fork).chapters[0].scenes]
    assert scenes == ["Arrival", "The ledger", "Night"]
    assert [s.text for s in manuscript.load_scene(db, fork, a.scenes["Night"]).segments] == \
        ["Somewhere my bell answered it."]


def test_modules_and_bible_merge_key_by_key(db):
    a = Author(db)
    bible.save(db, a.story_id, "story", 0, {"characters": [
        {"id": "char_wren", "name": "Wren"}]})
    v1 = a.publish()
    fork = forking.fork_reference(db, v1)
    out = stories.open_story(db, a.story_id).modules["idea_spark"].output
    stories.save_module(db, a.story_id, "idea_spark", "The lamp lies.", out)
    stories.save_module(db, fork, "idea_spark", "The lamp tells the truth.", out)
    stories.save_module(db, fork, "world_seed", "An island.",
                        stories.open_story(db, fork).modules["world_seed"].output)
    bible.save(db, a.story_id, "story", 1, {"characters": [
        {"id": "char_wren", "name": "Wren"}, {"id": "char_tobias", "name": "Tobias"}]})
    bible.save(db, fork, "story", 1, {"characters": [
        {"id": "char_wren", "name": "Wren", "aliases": ["the girl"]}]})
    v2 = a.publish()
    plan = pulling.plan_pull(db, fork, v2)
    assert [c.key for c in plan.part_conflicts] == ["modules/idea_spark"]
    assert "scene_bible/characters/char_tobias" in plan.parts_applied
    with pytest.raises(PullError, match="not valid"):
        pulling.apply_pull(db, fork, plan, {"modules/idea_spark": "both"})
    saved = pulling.apply_pull(db, fork, plan)  # a part conflict left open keeps mine
    modules = stories.open_story(db, fork).modules
    assert modules["idea_spark"].input_text == "The lamp tells the truth."
    versions.restore_version(db, fork, saved)
    pulling.apply_pull(db, fork, pulling.plan_pull(db, fork, v2),
                       {"modules/idea_spark": "theirs"})
    modules = stories.open_story(db, fork).modules
    assert modules["idea_spark"].input_text == "The lamp lies."
    assert modules["world_seed"].input_text == "An island."
    assert bible.load(db, fork).story_data == {"characters": [
        {"id": "char_wren", "name": "Wren", "aliases": ["the girl"]},
        {"id": "char_tobias", "name": "Tobias"}]}


# --- random edits: nothing of base, theirs or mine is lost ---------------------------------

def random_edits(db, story_id: int, rng: random.Random, count: int) -> None:
    for _ in range(count):
        outline = manuscript.outline(db, story_id)
        scenes = [s.uid for c in outline.chapters for s in c.scenes]
        uid = rng.choice(scenes)
        paragraphs = [s.text for s in manuscript.load_scene(db, story_id, uid).segments]
        op = rng.random()
        new = " ".join(rng.choice(WORDS) for _ in range(6)) + f" {rng.randrange(10**6)}."
        if op < 0.5 and paragraphs:
            paragraphs[rng.randrange(len(paragraphs))] = new
        elif op < 0.65 and len(paragraphs) > 1:
            paragraphs.pop(rng.randrange(len(paragraphs)))
        elif op < 0.9:
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), new)
        else:
            manuscript.add_scene(db, story_id, outline.chapters[0].uid, "Extra", text=new)
            continue
        manuscript.save_scene_text(db, story_id, uid, "\n\n".join(paragraphs))


def required_texts(base: dict, theirs: dict, mine: dict, auto: set[str]) -> list[str]:
    """What a merge resolving every conflict with "both" must keep (see domain.merge)."""
    out = []
    for key in {**base, **theirs, **mine}:
        b, t, m = base.get(key), theirs.get(key), mine.get(key)
        if t == m or m == b:
            out += [t] if t is not None else []
        elif t == b:
            out += [m] if m is not None else []
        elif key not in auto:
            out += [x for x in (t, m) if x is not None]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_lose_no_text(db, seed):
    rng = random.Random(seed)
    a = Author(db)
    v1 = a.publish()
    base = content_texts(reference_cache.reference_content(db, v1))
    fork = forking.fork_reference(db, v1)
    random_edits(db, a.story_id, rng, 6)
    random_edits(db, fork, rng, 6)
    # one segment both sides rewrote, so every run has a conflict
    shared = sorted(set(base) & set(story_texts(db, fork)) & set(story_texts(db, a.story_id)))
    if shared:
        target = rng.choice(shared)
        for story_id, text in ((a.story_id, "Theirs rewrote this."), (fork, "I rewrote it.")):
            scene = next(sc for c, sc, s in story_order(db, story_id) if s == target)
            paragraphs = manuscript.load_scene(db, story_id, scene).segments
            edit(db, story_id, scene, [p.id for p in paragraphs].index(target), text)
    v2 = a.publish()
    theirs = content_texts(reference_cache.reference_content(db, v2))
    mine = story_texts(db, fork)

    plan = pulling.plan_pull(db, fork, v2)
    pulling.apply_pull(db, fork, plan, {c.segment_id: "both" for c in plan.conflicts})
    result = story_texts(db, fork)
    order = story_order(db, fork)
    assert len({s for _, _, s in order}) == len(order)  # segment ids stay unique
    missing = [t for t in required_texts(base, theirs, mine, set(plan.auto_merged))
               if t not in result.values()]
    assert missing == []
    for key in plan.applied:  # taken from theirs: their text, or gone if they deleted it
        if key not in plan.auto_merged:
            assert result.get(key) == theirs.get(key)
    for key in plan.kept_mine:
        assert result.get(key) == mine.get(key)
    assert segment_rows(db, fork) <= len(result)


def test_a_segment_another_client_moved_stays_put_and_the_pull_undoes(db):
    from tests.services._marketplace_content import make_content

    v1_content = make_content(chapters=1, scenes=3, segments=3)
    v2_content = make_content(chapters=1, scenes=3, segments=3)
    scenes = v2_content["manuscript"]["chapters"][0]["scenes"]
    moved = scenes[2]["segments"].pop(0)  # seg_0_2_0 moves to the first scene
    scenes[0]["segments"].append(moved)
    scenes[1]["segments"][0]["text"] = "Theirs changed this."
    v1 = reference_cache.cache_version(db, SERVER, "st_mv", 1, "", v1_content)
    v2 = reference_cache.cache_version(db, SERVER, "st_mv", 2, "", v2_content)
    fork = forking.fork_reference(db, v1)
    edit(db, fork, "scene_0_0", 0, "Mine changed this.")
    edit(db, fork, "scene_0_2", 1, "Mine changed that.")
    before = story_texts(db, fork)
    plan = pulling.plan_pull(db, fork, v2)
    assert plan.clean
    saved = pulling.apply_pull(db, fork, plan)
    after = story_order(db, fork)
    assert ("chap_0", "scene_0_2", "seg_0_2_0") in after
    assert story_texts(db, fork)["seg_0_1_0"] == "Theirs changed this."
    versions.restore_version(db, fork, saved)
    assert story_texts(db, fork) == before
