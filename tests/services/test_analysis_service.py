"""The analysis use cases: a story analysed once per state (the child process really runs),
stored by content hash, found again when nothing changed, per version, cancellable, and the
one-click actions on the results."""

from __future__ import annotations

import threading

import pytest

from studio.domain.errors import ValidationError
from studio.services import analysis, analysis_actions, analysis_process, bible, manuscript
from studio.services import stories, versions

TEXT = ('“We sail at dawn,” said Ada. Ada laughed with joy and smiled at Brann. '
        'Brann feared the dark water. “I will not go,” Brann whispered.')


def _story(db):
    story = stories.create_story(db, "The Crossing").id
    chapter = manuscript.add_chapter(db, story, "Harbour").uid
    scene = manuscript.add_scene(db, story, chapter, "Dawn").uid
    manuscript.save_scene_text(db, story, scene, "\n\n".join([TEXT] * 3))
    state = bible.load(db, story)
    bible.save(db, story, "story", state.story_version,
               {**state.story_data, "characters": [{"id": "char_0000ada0", "name": "Ada"}]})
    return story, scene


def test_analyse_once_then_from_the_store(db, monkeypatch):
    story, scene = _story(db)
    seen = []
    result, cached = analysis.analyse(db, story, progress=lambda s, f: seen.append(s))
    assert not cached and result["words"] > 0 and "reading" in seen
    names = {c["name"]: c for c in result["cast"]}
    assert names["Ada"]["in_bible"] and names["Ada"]["dialogue_lines"] >= 1
    assert "Brann" in names and not names["Brann"]["in_bible"]
    assert result["summaries"]["scenes"][scene]

    def refuse(*a, **k):
        raise AssertionError("an unchanged story was analysed again")

    monkeypatch.setattr(analysis_process, "run_prepared", refuse)
    again, cached = analysis.analyse(db, story)
    assert cached and again == result
    stored = analysis.latest(db, story)
    assert stored.current and stored.result == result and stored.words == result["words"]
    # a change makes the stored analysis stale, and a new one is made
    manuscript.save_scene_text(db, story, scene, TEXT)
    assert not analysis.latest(db, story).current
    monkeypatch.undo()
    fresh, cached = analysis.analyse(db, story)
    assert not cached and fresh["words"] < result["words"]


def test_a_saved_version_is_analysed_as_it_was(db):
    story, scene = _story(db)
    v1 = versions.save_version(db, story, "first").number
    manuscript.save_scene_text(db, story, scene, TEXT)
    old, _ = analysis.analyse(db, story, v1, in_process=False)
    now, _ = analysis.analyse(db, story, in_process=False)
    assert old["words"] == 3 * now["words"]
    assert analysis.analysed_versions(db, story) == [v1]


def test_cancel_stores_nothing(db):
    story, _ = _story(db)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(analysis_process.AnalysisCancelled):
        analysis.analyse(db, story, cancel=cancel)
    assert analysis.latest(db, story) is None


def test_stored_results_round_trip_in_pieces():
    result = {"a": list(range(1000)), "pacing": {"scenes": [{"x": i} for i in range(250)]},
              "summaries": {"scenes": {f"s{i}": "t" for i in range(300)}, "stretches": []},
              "words": 3}
    text = analysis.encode_result(result)
    assert max(len(line) for line in text.split("\n")) < 5000
    assert analysis.decode_result(text) == result


def test_one_click_actions(db):
    story, scene = _story(db)
    new_id = analysis_actions.add_character(db, story, "Brann", ["the boatman"])
    chars = bible.effective_bible(db, story)["characters"]
    assert {"id": new_id, "name": "Brann", "aliases": ["the boatman"]} in chars
    with pytest.raises(ValidationError, match="already"):
        analysis_actions.add_character(db, story, "brann")
    assert analysis_actions.set_scene_emotion(db, story, scene, "joy") is None
    assert analysis_actions.set_scene_emotion(db, story, scene, "fear") == "joy"
    with pytest.raises(ValidationError):
        analysis_actions.set_scene_emotion(db, story, scene, "glee")
    analysis_actions.set_scene_voice(db, story, scene, "sadness")
    notes = analysis_actions.scene_notes(db, story, scene)
    assert notes == {"emotion": "fear", "voice_template": "sorrow"}


def test_the_fingerprint_follows_what_the_analyser_reads(db):
    story, scene = _story(db)

    def key(version=None):
        with db.session() as s:
            return analysis.fingerprint(s, story, version)

    first = key()
    v1 = versions.save_version(db, story, "first").number
    assert key(v1) == first  # a version of the same text is the same text
    analysis_actions.set_scene_emotion(db, story, scene, "joy")
    assert key() == first  # notes on a scene are not prose
    manuscript.update_scene(db, story, scene, title="Dusk")
    retitled = key()
    assert retitled != first
    manuscript.save_scene_text(db, story, scene, TEXT + " The end.")
    assert key() not in (first, retitled)
    before_bible = key()
    analysis_actions.add_character(db, story, "Brann")
    assert key() != before_bible
    assert key(v1) == first  # the version did not move
