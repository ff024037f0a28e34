"""The continuity checker's rules on small hand-written stories: each rule fires on a story
that breaks it and stays quiet on one that does not; dismissals, keys and progress."""

from __future__ import annotations

import pytest

from studio.domain.continuity import (
    PROGRESS_EVERY, ContinuityReport, Finding, ProseSegment, check, looks_finished,
)


def story(*paragraphs: str, scene: str = "scene_a1") -> list[ProseSegment]:
    return [ProseSegment(f"seg_{i:x}0", "chap_a1", scene, text)
            for i, text in enumerate(paragraphs)]


def rules(report: ContinuityReport, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


ADA = {"id": "char_ada", "name": "Ada Quill", "aliases": ["the Widow"]}
BRAM = {"id": "char_bram", "name": "Bram"}
HARBOUR = {"name": "Blackrock Harbour", "aliases": ["the Drowned Quarter"]}


def test_empty_story_and_bible_have_no_findings():
    report = check({}, [])
    assert report == ContinuityReport([], 0, 0)
    assert check({}, story("Nothing happens.")).findings == []


# --- 1. unknown characters ------------------------------------------------------------------

def test_unknown_speaker_who_recurs_is_reported_once_with_add_character_offer():
    segs = story("“We sail at dawn,” said Marlow.",
                 "Ada Quill looked at Marlow for a long time.",
                 "Marlow said nothing more. “Fine,” Marlow muttered.")
    found = rules(check({"characters": [ADA]}, segs), "unknown_character")
    assert len(found) == 1
    f = found[0]
    assert (f.subject, f.segment_id, f.scene_uid, f.suggestion) == \
        ("Marlow", "seg_00", "scene_a1", "add_character")
    assert f.key == "unknown_character:Marlow:seg_00"
    assert "“Marlow”" in f.message and "said Marlow" in f.message and "4 times" in f.message


def test_known_names_aliases_single_words_and_non_speakers_are_not_reported():
    segs = story("“Go,” said Ada. “Now,” Quill whispered. The Widow sighed.",
                 "“Why?” asked Ada Quill. Bram replied at once.",
                 "Marlow walked in. Marlow sat down.",  # recurs, never speaks
                 "“Once,” said Cyrus.",  # speaks, but only once
                 "“Yes,” said Blackrock Harbour. Blackrock Harbour said more.",  # a location
                 "“No,” she said. Then He said it. The Captain said so. The Captain said so.")
    report = check({"characters": [ADA, BRAM], "setting": {"locations": [HARBOUR]}}, segs)
    assert rules(report, "unknown_character") == []


def test_sentence_words_and_titles_around_a_speaker():
    segs = story("Later Marlow said no.", "“Come,” said Mr. Hale. Then Hale left.",
                 "“Tea?” asked Marlow's sister. Mr Hale laughed.")
    found = {f.subject: f for f in rules(check({}, segs), "unknown_character")}
    assert set(found) == {"Marlow", "Mr Hale"}  # the title is shown, "Hale" is what recurs
    assert found["Marlow"].segment_id == "seg_00"
    assert found["Mr Hale"].segment_id == "seg_10"
    # a possessive is not a speaker: only "Tea?" ... Marlow's sister
    assert check({}, story("“Tea?” asked Marlow's sister.", "Marlow smiled.")).findings == []


# --- 2. inactive characters -----------------------------------------------------------------

DEAD_ADA = {**ADA, "active": False, "inactive_since": "seg_10", "inactive_reason": "died"}


def test_inactive_character_who_acts_or_speaks_later_is_reported_per_segment():
    segs = story("Ada walked to the well.",
                 "Ada fell from the tower.",  # seg_10: inactive from here
                 "“I am back,” said Ada. Ada walked in.",
                 "The Widow slowly turns to the window.",
                 "Bram said nothing.")
    found = rules(check({"characters": [DEAD_ADA, BRAM]}, segs), "inactive_character_acts")
    assert [(f.segment_id, f.subject) for f in found] == \
        [("seg_20", "char_ada"), ("seg_30", "char_ada")]
    assert found[0].key == "inactive_character_acts:char_ada:seg_20"
    assert "Ada Quill (died)" in found[0].message and "seg_10" in found[0].message
    assert "“said Ada”" in found[0].message
    assert "“Widow slowly turns”" in found[1].message  # the alias without its "the"


def test_mentions_of_an_inactive_character_are_not_acts():
    segs = story("Ada fell from the tower.",
                 "Ada walked to the well.",  # before inactive_since: fine
                 "They buried Ada beside the well. Ada's grave was cold.",
                 "Ada was gone. Ada is remembered. Bram said Ada's name.",
                 "“Farewell,” said Ada Morgan.")  # a different Ada
    bible = {"characters": [{**DEAD_ADA, "inactive_since": "seg_10"}, BRAM]}
    assert rules(check(bible, segs), "inactive_character_acts") == []


def test_inactive_rule_skipped_when_its_segment_is_gone_or_character_active():
    segs = story("Ada fell.", "Ada walked home.")
    gone = {**DEAD_ADA, "inactive_since": "seg_ff0"}
    active = {**ADA, "active": True, "inactive_since": "seg_00"}
    assert check({"characters": [gone]}, segs).findings == []
    assert check({"characters": [active]}, segs).findings == []
    assert len(check({"characters": [{**DEAD_ADA, "inactive_since": "seg_00"}]},
                     segs).findings) == 1


def test_a_lowercase_alias_of_an_inactive_character_is_matched_whole():
    hermit = {"id": "char_hermit", "name": "Osric", "aliases": ["the old man"],
              "active": False, "inactive_since": "seg_00"}
    segs = story("Osric left.", "Later the old man walked back.", "They missed the old man.")
    found = rules(check({"characters": [hermit]}, segs), "inactive_character_acts")
    assert [f.segment_id for f in found] == ["seg_10"]
    assert "“the old man walked”" in found[0].message


def test_a_word_shared_by_two_characters_does_not_pick_one():
    quills = [{**DEAD_ADA, "inactive_since": "seg_00"},
              {"id": "char_tom", "name": "Tom Quill"}]
    segs = story("Ada fell.", "Quill walked home.", "Ada Quill walked home.")
    found = rules(check({"characters": quills}, segs), "inactive_character_acts")
    assert [f.segment_id for f in found] == ["seg_20"]


# --- 3. unknown locations -------------------------------------------------------------------

def test_unknown_place_that_recurs_is_reported_once():
    segs = story("They sailed into the Salt Marsh at dusk.",
                 "Nobody left the Salt Marsh alive.",
                 "At Kestrel Point the boats waited. Bram came to Kestrel Point.",
                 "The ferry reached Isle of Skye. Isle of Skye was grey.")
    found = rules(check({"characters": [BRAM]}, segs), "unknown_location")
    assert [(f.subject, f.segment_id) for f in found] == \
        [("Salt Marsh", "seg_00"), ("Kestrel Point", "seg_20"), ("Isle of Skye", "seg_30")]
    assert "“into the Salt Marsh”" in found[0].message
    assert found[0].suggestion == "add_location"


def test_known_places_people_and_one_off_places_are_not_reported():
    segs = story("They went into the Drowned Quarter, then to Blackrock Harbour.",
                 "In Drowned Quarter and at blackrock harbour it rained. In Eastholm too.",
                 "He walked to Ada. He walked to Ada Quill. They came to Mr Hale.",
                 "She went to Bram's house, to Bram's house again.",
                 "“Stay,” said Marlow. She ran to Marlow. She ran to Marlow.",
                 "On Monday they went to Vell. In The Keep it was cold. Near The Keep.")
    bible = {"characters": [ADA, BRAM],
             "setting": {"locations": [HARBOUR, {"name": "Keep"}], "primary_location": "Vell"}}
    assert rules(check(bible, segs), "unknown_location") == []


# --- 4. plot threads ------------------------------------------------------------------------

THREAD = {"id": "thread_key", "description": "The missing brass key", "status": "resolved",
          "keywords": ["brass key", "Locksmith"], "resolved_in": "seg_10"}


def test_resolved_thread_whose_keyword_returns_is_reported_once():
    segs = story("She lost the brass key.", "The brass key was found.",
                 "Nothing happened.", "Then the BRASS\u00a0 KEY shone again.",
                 "The locksmith laughed.")
    found = rules(check({"plot_threads": [THREAD]}, segs), "thread_reopened")
    assert [(f.subject, f.segment_id) for f in found] == [("thread_key", "seg_30")]
    assert "The missing brass key" in found[0].message and "seg_10" in found[0].message


def test_resolved_thread_keywords_only_before_or_inside_words_are_fine():
    segs = story("She lost the brass key.", "The brass key was found.",
                 "Brass keys rattled. The locksmiths slept.")
    assert check({"plot_threads": [THREAD]}, segs).findings == []
    active = {**THREAD, "status": "active"}
    assert check({"plot_threads": [active]}, story("a", "b", "brass key")).findings == []


def test_active_thread_at_the_end_of_a_finished_story():
    threads = [{"id": "thread_a", "description": "Who sank the ship"},
               {"id": "thread_b", "description": "The debt", "status": "resolved"},
               {"id": "thread_c", "description": "The dog", "status": "abandoned"}]
    segs = story("Bram slept.", "The night was long.")
    assert check({"plot_threads": threads}, segs).findings == []
    done = check({"plot_threads": threads}, segs, story_complete=True).findings
    assert [(f.rule, f.subject, f.segment_id) for f in done] == \
        [("thread_open_at_end", "thread_a", "seg_10")]
    assert "Who sank the ship" in done[0].message
    ended = check({"plot_threads": threads}, story("Bram slept.", "* THE END. *")).findings
    assert [f.subject for f in ended] == ["thread_a"]


def test_looks_finished():
    for last in ("The End", "THE END.", "— the end —", "*The  End*"):
        assert looks_finished(story("x", last))
    for last in ("The End of days", "End", "the ending"):
        assert not looks_finished(story(last))
    assert not looks_finished([])


# --- 5. timeline ----------------------------------------------------------------------------

def test_timeline_events_against_reading_order():
    segs = story("a", "b", "c", "d")
    events = [{"id": "evt_birth", "event": "Ada is born", "segment": "seg_20"},
              {"event": "Ada marries", "segment": None},  # not tied to the prose
              {"id": "evt_war", "event": "The war", "segment": "seg_00"},  # read before birth
              {"id": "evt_lost", "event": "The flood", "segment": "seg_990"},  # deleted
              {"id": "evt_peace", "event": "Peace", "segment": "seg_30"}]
    found = check({"timeline": {"events": events}}, segs).findings
    assert [(f.rule, f.subject, f.segment_id) for f in found] == [
        ("timeline_missing_segment", "evt_lost", None),
        ("timeline_order", "evt_war", "seg_00")]
    assert found[0].key == "timeline_missing_segment:evt_lost:seg_990"
    assert "“The war”" in found[1].message and "“Ada is born”" in found[1].message


def test_timeline_in_order_has_no_findings_and_text_subject_without_id():
    segs = story("a", "b", "c")
    in_order = [{"event": "One", "segment": "seg_00"}, {"event": "Two", "segment": "seg_20"}]
    assert check({"timeline": {"events": in_order}}, segs).findings == []
    found = check({"timeline": {"events": in_order[::-1]}}, segs).findings
    assert [f.subject for f in found] == ["One"]


# --- dismissals, keys, progress -------------------------------------------------------------

def test_dismissed_findings_are_counted_not_returned_and_keys_survive_other_edits():
    bible = {"characters": [{**DEAD_ADA, "inactive_since": "seg_00"}]}
    segs = story("Ada fell.", "Ada walked home.", "“Hi,” said Marlow. Marlow left.")
    first = check(bible, segs)
    assert {f.rule for f in first.findings} == {"inactive_character_acts", "unknown_character"}
    keys = {f.key for f in first.findings}
    # The author adds a paragraph elsewhere; the findings keep their keys.
    edited = [*segs, ProseSegment("seg_new0", "chap_a1", "scene_a2", "A new day.")]
    assert {f.key for f in check(bible, edited).findings} == keys
    marlow = next(f.key for f in first.findings if f.rule == "unknown_character")
    again = check(bible, edited, dismissed={marlow, "unknown_character:Gone:seg_00"})
    assert [f.rule for f in again.findings] == ["inactive_character_acts"]
    assert again.dismissed_count == 1  # stale keys do not count
    assert again.segments_checked == 4


def test_progress_is_reported_and_may_cancel():
    segs = story(*(["Bram walked."] * (2 * PROGRESS_EVERY + 500)))
    calls = []
    check({}, segs, progress=lambda done, total: calls.append((done, total)))
    total = len(segs)
    assert calls == [(PROGRESS_EVERY, total), (2 * PROGRESS_EVERY, total), (total, total)]

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        check({}, segs, progress=cancel)


def test_findings_are_sorted_by_manuscript_position_and_messages_are_sentences():
    bible = {"characters": [{**DEAD_ADA, "inactive_since": "seg_00"}],
             "plot_threads": [{"id": "thread_x", "description": "The oath"}]}
    segs = story("Ada fell.", "“Hi,” said Marlow. She ran into the Salt Marsh.",
                 "Marlow left the Salt Marsh. Ada walked home.", "The End")
    found = check(bible, segs).findings
    assert [f.rule for f in found] == ["unknown_character", "unknown_location",
                                       "inactive_character_acts", "thread_open_at_end"]
    for f in found:
        assert f.message.lstrip("“")[0].isupper() and f.message.endswith(".")
        assert "{" not in f.message and f.subject in f.message or f.subject.startswith(
            ("char_", "thread_"))
