"""Local what-if branches on real SQLite files: a branch shares the text (no segment rows),
edits on both sides, compare, the three-way merge with one conflict (theirs / mine / both),
merging only some chapters, a stale plan refused, the bible per branch, names, deleting, the
library, and what a branch stores."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from studio.services import (
    bible, branches, chapter_graph, custom_fields, manuscript, stories, versions,
)
from studio.services.branches import BranchError

ADA = {"id": "char_ada1", "name": "Ada Quill", "aliases": ["Ada"]}
TOM = {"id": "char_tom1", "name": "Tom Harrow"}

CHAPTERS = {
    "Arrival": {"Quay": ["Ada stepped off the boat.", "The quay smelled of tar.",
                         "A gull watched her."]},
    "Storm": {"Lamp": ["Tom lit the lamp.", "The wind rose at nine.",
                       "Ada counted the seconds."]},
    "Morning": {"Wreck": ["The sea was flat.", "Something glinted on the rocks."]},
    "Epilogue": {"Letter": ["She wrote to her sister."]},
}


class Story:
    """A main story with four chapters of one scene each, a bible, a chapter graph, a custom
    field and a saved version."""

    def __init__(self, db):
        self.db = db
        self.id = stories.create_story(db, "Gull Rock").id
        self.chapters: dict[str, str] = {}
        self.scenes: dict[str, str] = {}
        for title, scenes in CHAPTERS.items():
            self.chapters[title] = manuscript.add_chapter(db, self.id, title).uid
            for scene, paragraphs in scenes.items():
                self.scenes[scene] = manuscript.add_scene(
                    db, self.id, self.chapters[title], scene, text="\n\n".join(paragraphs)).uid
        bible.save(db, self.id, "story", 0, {"characters": [ADA]})
        chapter_graph.add_chapter(db, self.id, "Summons")
        custom_fields.define_field(db, self.id, "Mood", "text", "scene")
        custom_fields.set_value(db, self.id, "Mood", "scene", self.scenes["Quay"], "calm")
        versions.save_version(db, self.id, "v1")


@pytest.fixture
def main(db):
    return Story(db)


def paragraphs(db, story_id: int, scene_uid: str) -> list[str]:
    return [s.text for s in manuscript.load_scene(db, story_id, scene_uid).segments]


def edit(db, story_id: int, scene_uid: str, index: int, new: str) -> None:
    texts = paragraphs(db, story_id, scene_uid)
    texts[index] = new
    manuscript.save_scene_text(db, story_id, scene_uid, "\n\n".join(texts))


def segment_rows(db, story_id: int) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM segments WHERE story_id = :s"),
                            {"s": story_id}).scalar_one()


def story_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM stories")).scalar_one()


def seg_id(db, story_id: int, scene_uid: str, index: int) -> str:
    return manuscript.load_scene(db, story_id, scene_uid).segments[index].id


def labels(db, story_id: int) -> list[str]:
    return [v.label for v in versions.list_versions(db, story_id)]


# --- creating ---------------------------------------------------------------------------------

def test_a_branch_shares_the_text_and_copies_the_small_parts(db, main):
    info = branches.create_branch(db, main.id, "Dark ending", "What if the lamp fails?",
                                  chapter_uid=main.chapters["Morning"])
    b = info.story_id
    assert (info.trunk_id, info.parent_id, info.name, info.description) == \
        (main.id, main.id, "Dark ending", "What if the lamp fails?")
    assert info.base_version == 2 and labels(db, main.id)[0] == "Branch point: Dark ending"
    assert (info.branch_chapter, info.branch_chapter_title) == (main.chapters["Morning"],
                                                                "Morning")
    assert info.merged_at is None and branches.branch_info(db, main.id) is None
    assert branches.branch_info(db, b) == info

    assert segment_rows(db, b) == 0 and segment_rows(db, main.id) == 9
    for scene in main.scenes.values():
        assert manuscript.load_scene(db, b, scene).text == \
            manuscript.load_scene(db, main.id, scene).text
    mine, theirs = manuscript.outline(db, main.id), manuscript.outline(db, b)
    assert [(c.uid, c.title, [(s.uid, s.title, s.words) for s in c.scenes])
            for c in theirs.chapters] == \
        [(c.uid, c.title, [(s.uid, s.title, s.words) for s in c.scenes])
         for c in mine.chapters]
    assert stories.open_story(db, b).fields.title == "Gull Rock"
    assert bible.load(db, b).story_data == {"characters": [ADA]}
    assert [c["title"] for c in chapter_graph.load(db, b).graph["chapters"]] == ["Summons"]
    assert custom_fields.list_fields(db, b)[0]["values"] == {main.scenes["Quay"]: "calm"}
    storage = branches.branch_storage(db, b)
    assert (storage["shared_scenes"], storage["own_scenes"]) == (4, 0)
    assert "segments" not in storage["tables"] and storage["total"] > 0

    family = branches.family(db, b)
    assert [(m.story_id, m.name, m.is_main) for m in family] == \
        [(main.id, "Main", True), (b, "Dark ending", False)]
    assert family == branches.family(db, main.id)
    assert [(h.entity_type, h.action) for h in stories.story_history(db, b)][0] == \
        ("story", "branched")
    assert ("story", "branch") in [(h.entity_type, h.action)
                                   for h in stories.story_history(db, main.id)]


def test_a_branch_from_a_given_version_and_refusals_write_nothing(db, main):
    edit(db, main.id, main.scenes["Quay"], 0, "Ada jumped off the old boat.")
    info = branches.create_branch(db, main.id, "Older", version=1)
    assert info.base_version == 1 and labels(db, main.id) == ["v1"]  # no version saved
    assert paragraphs(db, info.story_id, main.scenes["Quay"])[0] == "Ada stepped off the boat."
    def words(story_id: int) -> int:
        return manuscript.outline(db, story_id).scene(main.scenes["Quay"]).words

    assert (words(info.story_id), words(main.id)) == (14, 15)  # v1's count, not today's

    before = story_count(db)
    with pytest.raises(BranchError, match="no version 9"):
        branches.create_branch(db, main.id, "Nowhere", version=9)
    new_chapter = manuscript.add_chapter(db, main.id, "Later").uid
    with pytest.raises(BranchError, match="not in version 1"):
        branches.create_branch(db, main.id, "Late", version=1, chapter_uid=new_chapter)
    assert story_count(db) == before and labels(db, main.id) == ["v1"]


def test_names_are_required_and_unique_in_the_family(db, main):
    first = branches.create_branch(db, main.id, "  Dark   ending ", version=1)
    assert first.name == "Dark ending"
    for bad, message in (("", "needs a name"), ("   ", "needs a name"),
                         ("dark ENDING", "exists already"), ("main", "main story"),
                         ("x" * 201, "at most 200")):
        with pytest.raises(BranchError, match=message):
            branches.create_branch(db, main.id, bad, version=1)
    # A branch of the branch is in the same family: the name is taken there too.
    with pytest.raises(BranchError, match="exists already"):
        branches.create_branch(db, first.story_id, "Dark ending")
    second = branches.create_branch(db, first.story_id, "Darker")
    assert (second.trunk_id, second.parent_id) == (main.id, first.story_id)
    assert [m.name for m in branches.family(db, second.story_id)] == \
        ["Main", "Dark ending", "Darker"]

    with pytest.raises(BranchError, match="exists already"):
        branches.rename_branch(db, second.story_id, "DARK ENDING", "")
    renamed = branches.rename_branch(db, second.story_id, "Darkest", "no hope")
    assert (renamed.name, renamed.description) == ("Darkest", "no hope")
    assert branches.rename_branch(db, second.story_id, "Darkest", "no hope") == renamed
    with pytest.raises(BranchError, match="not a branch"):
        branches.rename_branch(db, main.id, "Other", "")


# --- compare ----------------------------------------------------------------------------------

@pytest.fixture
def edited(db, main):
    """Main and the branch edited: different paragraphs of "Quay", the same paragraph of
    "Lamp"; the branch adds a scene to "Morning"; "Epilogue" untouched."""
    b = branches.create_branch(db, main.id, "Dark ending").story_id
    edit(db, main.id, main.scenes["Quay"], 0, "Ada leapt off the boat.")
    edit(db, b, main.scenes["Quay"], 2, "A gull screamed at her.")
    edit(db, main.id, main.scenes["Lamp"], 1, "The wind rose at ten.")
    edit(db, b, main.scenes["Lamp"], 1, "The wind rose at midnight.")
    new_scene = manuscript.add_scene(db, b, main.chapters["Morning"], "Bodies",
                                     text="Two sailors lay on the sand.").uid
    return b, new_scene


def test_compare_chapter_by_chapter_with_texts(db, main, edited):
    b, new_scene = edited
    diffs = branches.compare(db, main.id, b)
    assert [(d.title_a, d.state) for d in diffs] == [
        ("Arrival", "changed"), ("Storm", "changed"), ("Morning", "changed"),
        ("Epilogue", "same")]
    quay = diffs[0].scenes[0]
    assert quay.state == "changed"
    assert quay.text_a.split("\n\n") == ["Ada leapt off the boat.", "The quay smelled of tar.",
                                         "A gull watched her."]
    assert quay.text_b.split("\n\n") == ["Ada stepped off the boat.",
                                         "The quay smelled of tar.", "A gull screamed at her."]
    morning = diffs[2]
    assert [(s.scene_uid, s.state) for s in morning.scenes] == \
        [(main.scenes["Wreck"], "same"), (new_scene, "only_b")]
    assert morning.scenes[1].text_b == "Two sailors lay on the sand." and \
        morning.scenes[1].text_a == ""
    assert (morning.words_a, morning.words_b) == (9, 15)
    assert diffs[3].scenes[0].text_a == diffs[3].scenes[0].text_b == \
        "She wrote to her sister."
    # From the other side, the new scene is a's only.
    back = branches.compare(db, b, main.id)
    assert [(s.scene_uid, s.state) for s in back[2].scenes][1] == (new_scene, "only_a")


# --- merging ----------------------------------------------------------------------------------

@pytest.mark.parametrize("choice, lamp", [
    ("theirs", ["Tom lit the lamp.", "The wind rose at midnight.", "Ada counted the seconds."]),
    ("mine", ["Tom lit the lamp.", "The wind rose at ten.", "Ada counted the seconds."]),
    ("both", ["Tom lit the lamp.", "The wind rose at midnight.", "The wind rose at ten.",
              "Ada counted the seconds."]),
])
def test_merge_all_chapters_with_one_conflict(db, main, edited, choice, lamp):
    b, new_scene = edited
    before_branch = manuscript.load_scene(db, b, main.scenes["Lamp"]).text
    plan = branches.plan_merge(db, b, main.id)
    conflict_id = seg_id(db, main.id, main.scenes["Lamp"], 1)
    assert [c.segment_id for c in plan.conflicts] == [conflict_id]
    c = plan.conflicts[0]
    assert (c.base, c.theirs, c.mine, c.where) == (
        "The wind rose at nine.", "The wind rose at midnight.", "The wind rose at ten.",
        "Storm › Lamp")
    assert seg_id(db, main.id, main.scenes["Quay"], 2) in plan.applied
    assert seg_id(db, main.id, main.scenes["Quay"], 0) in plan.kept_mine
    assert not plan.clean and plan.conflict_keys == [conflict_id]
    assert plan.chapters is None and plan.part_conflicts == ()

    number = branches.apply_merge(db, plan, {conflict_id: choice})
    assert labels(db, main.id)[0] == "Before merging branch 'Dark ending'"
    assert versions.list_versions(db, main.id)[0].number == number
    assert paragraphs(db, main.id, main.scenes["Lamp"]) == lamp
    assert paragraphs(db, main.id, main.scenes["Quay"]) == [
        "Ada leapt off the boat.", "The quay smelled of tar.", "A gull screamed at her."]
    assert paragraphs(db, main.id, new_scene) == ["Two sailors lay on the sand."]
    assert manuscript.load_scene(db, b, main.scenes["Lamp"]).text == before_branch  # kept
    assert branches.branch_info(db, b).merged_at is not None
    merged = [h for h in stories.story_history(db, main.id) if h.action == "merge_branch"]
    assert merged and merged[0].change["saved_version"] == number
    # Restoring the version saved first undoes the merge.
    versions.restore_version(db, main.id, number)
    assert paragraphs(db, main.id, main.scenes["Lamp"])[1] == "The wind rose at ten."


def test_a_conflict_without_a_choice_is_refused_and_nothing_written(db, main, edited):
    b, _ = edited
    plan = branches.plan_merge(db, b, main.id)
    before = labels(db, main.id)
    with pytest.raises(BranchError, match="before merging"):
        branches.apply_merge(db, plan, {})
    with pytest.raises(BranchError, match="not valid"):
        branches.apply_merge(db, plan, {plan.conflicts[0].segment_id: "maybe"})
    assert labels(db, main.id) == before
    assert paragraphs(db, main.id, main.scenes["Quay"])[2] == "A gull watched her."


def test_merging_only_the_chapters_one_likes(db, main, edited):
    b, new_scene = edited
    edit(db, b, main.scenes["Letter"], 0, "She burned the letter.")
    morning, epilogue = main.chapters["Morning"], main.chapters["Epilogue"]
    plan = branches.plan_merge(db, b, main.id, [morning, epilogue])
    assert plan.chapters == (morning, epilogue) and plan.clean  # Storm's conflict not chosen
    branches.apply_merge(db, plan)
    assert paragraphs(db, main.id, main.scenes["Letter"]) == ["She burned the letter."]
    assert [s.title for s in manuscript.outline(db, main.id).chapter(morning).scenes] == \
        ["Wreck", "Bodies"]
    # The chapters not chosen are main's as they were.
    assert paragraphs(db, main.id, main.scenes["Quay"]) == [
        "Ada leapt off the boat.", "The quay smelled of tar.", "A gull watched her."]
    assert paragraphs(db, main.id, main.scenes["Lamp"])[1] == "The wind rose at ten."
    with pytest.raises(BranchError, match="in neither story"):
        branches.plan_merge(db, b, main.id, ["chap_nothere"])
    # A chapter only main has may be named (compare lists it): the merge leaves it alone.
    only_main = manuscript.add_chapter(db, main.id, "Coda").uid
    assert branches.plan_merge(db, b, main.id, [only_main]).applied == ()


def test_a_stale_plan_is_refused_with_nothing_written(db, main, edited):
    b, _ = edited
    plan = branches.plan_merge(db, b, main.id)
    edit(db, main.id, main.scenes["Letter"], 0, "She wrote to her brother.")
    before = labels(db, main.id)
    with pytest.raises(BranchError, match="changed since this merge was planned"):
        branches.apply_merge(db, plan, {plan.conflicts[0].segment_id: "theirs"})
    assert labels(db, main.id) == before
    assert paragraphs(db, main.id, main.scenes["Quay"])[2] == "A gull watched her."
    assert branches.branch_info(db, b).merged_at is None


def test_the_bible_of_a_branch_is_its_own_and_merges_on_request(db, main):
    b = branches.create_branch(db, main.id, "Tom lives").story_id
    state = bible.load(db, b)
    bible.save(db, b, "story", state.story_version, {"characters": [ADA, TOM]})
    assert bible.load(db, b).story_data["characters"][1]["name"] == "Tom Harrow"
    assert bible.load(db, main.id).story_data == {"characters": [ADA]}

    prose_only = branches.plan_merge(db, b, main.id, include_parts=False)
    assert prose_only.parts_applied == ()
    plan = branches.plan_merge(db, b, main.id)
    assert plan.parts_applied == ("scene_bible/characters/char_tom1",)
    branches.apply_merge(db, plan)
    assert [c["name"] for c in bible.load(db, main.id).story_data["characters"]] == \
        ["Ada Quill", "Tom Harrow"]


def test_the_merge_reads_stories_exactly_as_publishing_and_pulling_do(db, main):
    """The merge reads its three sides in bulk (four queries a story, each blob once); what
    it reads must be what ``publishing`` reads, or the stale check and the merge would drift
    from the pull's."""
    from studio.services import branch_merge, publishing, pulling
    from studio.store.repositories import versions as versions_repo

    b = branches.create_branch(db, main.id, "Read").story_id
    edit(db, b, main.scenes["Lamp"], 0, "Tom broke the lamp.")  # own rows
    stories.set_metadata(db, b, "pov", "Tom", owner="scene", ref=main.scenes["Lamp"])
    stories.set_metadata(db, b, "act", 2, owner="chapter", ref=main.chapters["Storm"])
    manuscript.delete_scene(db, b, main.scenes["Letter"])
    with db.session() as s:
        for story in (main.id, b):
            blobs = branch_merge._Blobs(s)
            assert branch_merge._live_outline(s, story, blobs) == \
                publishing.local_outline(s, story)
            assert branch_merge._state(s, story, blobs)[2] == pulling.mine_state(s, story)[2]
        manuscript_part = versions_repo.snapshot(s, main.id, 1)["manuscript"]
        assert branch_merge._snapshot_outline(manuscript_part, branch_merge._Blobs(s)) == \
            publishing.snapshot_outline(s, manuscript_part)


def test_a_branch_of_a_branch_merges_into_main(db, main):
    first = branches.create_branch(db, main.id, "First").story_id
    edit(db, first, main.scenes["Quay"], 1, "The quay smelled of fish.")
    second = branches.create_branch(db, first, "Second", chapter_uid=main.chapters["Storm"])
    assert (second.trunk_id, second.parent_id) == (main.id, first)
    edit(db, second.story_id, main.scenes["Lamp"], 2, "Ada stopped counting.")
    edit(db, main.id, main.scenes["Letter"], 0, "She wrote to her brother.")
    # Into its parent: the base is the first branch's version, so only the second's change.
    plan = branches.plan_merge(db, second.story_id, first)
    assert plan.base_story_id == first and plan.base_version == second.base_version
    assert plan.applied == (seg_id(db, main.id, main.scenes["Lamp"], 2),)
    # Into main: the base is main's version the line started from, so everything the second
    # branch has that main has not (the first's change too) comes; main's own edit stays.
    plan = branches.plan_merge(db, second.story_id, main.id)
    assert plan.base_story_id == main.id
    branches.apply_merge(db, plan)
    assert labels(db, main.id)[0] == "Before merging branch 'Second'"
    assert paragraphs(db, main.id, main.scenes["Lamp"])[2] == "Ada stopped counting."
    assert paragraphs(db, main.id, main.scenes["Quay"])[1] == "The quay smelled of fish."
    assert paragraphs(db, main.id, main.scenes["Letter"]) == ["She wrote to her brother."]


def test_main_merges_into_a_branch_to_bring_it_up_to_date(db, main):
    b = branches.create_branch(db, main.id, "Catch up").story_id
    edit(db, b, main.scenes["Quay"], 2, "A gull screamed at her.")
    edit(db, main.id, main.scenes["Letter"], 0, "She wrote to her brother.")
    plan = branches.plan_merge(db, main.id, b)
    assert plan.clean and plan.branch_name == "Main"
    branches.apply_merge(db, plan)
    assert paragraphs(db, b, main.scenes["Letter"]) == ["She wrote to her brother."]
    assert paragraphs(db, b, main.scenes["Quay"])[2] == "A gull screamed at her."
    assert labels(db, b)[0] == "Before merging 'Main'"
    assert branches.branch_info(db, b).merged_at is None  # nothing left the branch


def test_merge_refusals(db, main):
    b = branches.create_branch(db, main.id, "One").story_id
    other = stories.create_story(db, "Elsewhere").id
    with pytest.raises(BranchError, match="into itself"):
        branches.plan_merge(db, b, b)
    with pytest.raises(BranchError, match="own family"):
        branches.plan_merge(db, b, other)


# --- deleting, the library --------------------------------------------------------------------

def test_delete_a_branch_and_the_library_lists_main_stories_only(db, main):
    one = branches.create_branch(db, main.id, "One", version=1).story_id
    two = branches.create_branch(db, main.id, "Two", version=1).story_id
    assert [s.id for s in stories.list_stories(db)] == [main.id]
    with pytest.raises(BranchError, match="main story cannot be deleted"):
        branches.delete_branch(db, main.id)
    branches.delete_branch(db, one)
    assert [m.name for m in branches.family(db, main.id)] == ["Main", "Two"]
    assert branches.create_branch(db, main.id, "One", version=1).name == "One"  # free again

    stories.delete_story(db, main.id)
    assert stories.list_stories(db) == []
    with pytest.raises(Exception):
        stories.open_story(db, two)
    stories.undelete_story(db, main.id)
    assert [m.name for m in branches.family(db, main.id)] == ["Main", "Two", "One"]
    with pytest.raises(Exception):  # deleted on its own before: stays in the trash
        stories.open_story(db, one)


# --- storage ----------------------------------------------------------------------------------

WORDS = ("lamp sea gull tide rock wind rope ledger glove salt harbour beam stair night "
         "lantern keeper boat shore fog bell").split()


def generated_story(db, title: str, words_per_scene: int, seed: int = 7) -> tuple[int, int]:
    """A story of 2 chapters × 3 scenes of generated prose; returns (story id, prose bytes)."""
    rng = random.Random(seed)
    story = stories.create_story(db, title).id
    prose = 0
    for c in range(2):
        chapter = manuscript.add_chapter(db, story, f"Chapter {c + 1}").uid
        for s in range(3):
            paras, n = [], 0
            while n < words_per_scene:
                sentence = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "."
                paras.append(" ".join([sentence] * 5))
                n += 60
            body = "\n\n".join(paras)
            prose += len(body.encode("utf-8"))
            manuscript.add_scene(db, story, chapter, f"Scene {c + 1}.{s + 1}", text=body)
    versions.save_version(db, story, "v1")
    return story, prose


def test_a_branch_stores_rows_per_scene_not_per_word(db):
    """Honest sizes: the bytes of the branch's own rows against the story's own rows.  The
    branch's do not grow with the words (its scenes share the version's blobs); the story's
    do.  (The 1M-word figures are ``bench/branch_storage_bench.py``'s.)"""
    sizes = {}
    for words in (300, 3000):
        story, prose = generated_story(db, f"Gen {words}", words)
        branch = branches.create_branch(db, story, "What if", version=1).story_id
        sizes[words] = (branches.branch_storage(db, branch), branches.branch_storage(db, story),
                        prose)
    (small_b, small_s, small_p), (big_b, big_s, big_p) = sizes[300], sizes[3000]
    assert small_b["own_scenes"] == big_b["own_scenes"] == 0
    assert "segments" not in small_b["tables"] and "segments" not in big_b["tables"]
    assert abs(big_b["total"] - small_b["total"]) < 64  # ten times the words, same bytes
    assert big_s["total"] > 8 * small_s["total"] and big_p > 9 * small_p
    per_scene = big_b["tables"]["scenes"]["bytes"] / big_b["tables"]["scenes"]["rows"]
    assert per_scene < 400
    # At ~3,000 words a scene the branch holds a few per cent of the story's row bytes and
    # falls in proportion as the scenes grow.
    assert big_b["total"] / big_s["total"] < small_b["total"] / small_s["total"] / 8
    assert big_b["total"] / big_s["total"] < 0.03
