"""The Analysis panel in a real window on a real data folder: an analysis runs in a real child
process and fills every tab; unchanged text is shown from the store without a child process;
cancelling stores nothing; one-click actions (add to the bible, scene emotion, voice) are
undoable; an old version can be analysed; closing the story clears the panel."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.services import analysis, analysis_actions, analysis_process, bible, stories, versions
from studio.services import manuscript as ms
from studio.ui.panels.analysis_panel import AnalysisPanel
from tests.ui.conftest import settle

STORM = ("Ada watched the boats come in. She was afraid of the storm and trembled with dread.",
         "“Get the nets in,” said Marlow.\n\n“Now, before it breaks,” Marlow shouted.\n\n"
         "Ada ran, terrified, through the rain.")
CALM = ("The morning was bright and happy. Ada laughed and smiled at the sea.",
        "“We made it,” said Marlow, grinning with delight.\n\n“We did,” Ada said, glad and "
        "joyful.")
TIMEOUT = 60_000  # a spawned child imports the analyser first: allow for a slow machine


def open_story(window, qtbot):
    """A new story of two chapters: Ada is in the bible, Marlow speaks but is not."""
    db = window.db
    story = stories.create_story(db, "Harbour Lights")
    scenes = []
    for title, texts in (("Storm", STORM), ("Calm", CALM)):
        chapter = ms.add_chapter(db, story.id, title)
        for i, text in enumerate(texts, 1):
            scenes.append(ms.add_scene(db, story.id, chapter.uid, f"{title} {i}", text=text))
    bible.save(db, story.id, "story", 0, {"characters": [
        {"id": "char_ada", "name": "Ada Quill", "aliases": ["Ada"]}]})
    window.open_story(story.id)
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.story_id == story.id, timeout=10_000)
    return story, scenes


def analysis_panel(window, qtbot) -> AnalysisPanel:
    panel = next(p for p in window.panels if isinstance(p, AnalysisPanel))
    window.show_panel(panel)
    qtbot.waitUntil(lambda: window.runner.is_idle(), timeout=10_000)
    return panel


def analysed(window, panel, qtbot) -> None:
    try:
        qtbot.waitUntil(lambda: not panel.running and panel.filled
                        and window.runner.is_idle(), timeout=TIMEOUT)
    except qtbot.TimeoutError:  # say why: a failed child reports on the status line
        raise AssertionError(f"no analysis shown: running={panel.running} "
                             f"status={panel.status.text()!r}") from None


def names(model) -> list[str]:
    return [r.get("name") for r in model.rows]


def select(view, row: int) -> None:
    view.selectRow(row)


def test_analysing_runs_the_child_process_and_fills_every_tab(make_window, qtbot):
    window = make_window()
    story, scenes = open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    assert panel.stack.currentWidget() is panel.empty
    stages: list[str] = []
    panel._bridge.progress.connect(lambda _g, stage, _f: stages.append(stage))
    qtbot.mouseClick(panel.analyse_button, Qt.MouseButton.LeftButton)
    assert panel.running and panel.progress.isVisible() and panel.cancel_button.isVisible()
    analysed(window, panel, qtbot)
    assert {"cast", "emotions", "summaries"} <= set(stages)  # progress came from the child
    assert not panel.progress.isVisible()
    assert "Analysed just now" in panel.status.text() and "words" in panel.status.text()
    assert panel.stack.currentWidget() is panel.tabs
    assert panel.tabs.count() == 7
    # Cast: both characters, Ada in the bible, Marlow not (and speaking).
    cast = {r["name"]: r for r in panel.cast.model.rows}
    assert cast["Ada Quill"]["in_bible"] and not cast["Marlow"]["in_bible"]
    assert cast["Marlow"]["dialogue_lines"] >= 2
    # Emotions: one row per scene, the storm reads as fear.
    assert [r["scene"] for r in panel.emotions.model.rows] == [s.uid for s in scenes]
    assert panel.emotions.model.rows[0]["dominant"] == "fear"
    # Pacing names the chapters; the summaries list has the whole story and each chapter.
    assert [panel.pacing.chapters.index(i, 1).data() for i in range(2)] == ["Storm", "Calm"]
    assert panel.summaries.parts.count() == 3
    assert "Ada watched the boats" in panel.summaries.page.toPlainText()
    # Stored: the service finds it, for the story as it is now.
    stored = analysis.latest(window.db, story.id)
    assert stored is not None and stored.current and stored.version_number is None
    # Every tab paints without error.
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        assert not panel.grab().isNull()


def test_unchanged_text_is_shown_from_the_store_without_a_child_process(
        make_window, qtbot, monkeypatch):
    window = make_window()
    open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    panel.analyse()
    analysed(window, panel, qtbot)

    def no_child(*_args, **_kwargs):
        raise AssertionError("the analyser was started for unchanged text")

    monkeypatch.setattr(analysis_process, "run_prepared", no_child)
    panel.result = None
    panel.analyse()
    analysed(window, panel, qtbot)
    assert "Unchanged since the last analysis — shown from the store" in panel.status.text()
    assert "Marlow" in names(panel.cast.model)
    # Opening the story again shows the stored analysis at once (still no child process).
    story_id = window.document.story_id
    other = next(s.id for s in stories.list_stories(window.db) if s.id != story_id)
    window.open_story(other)
    qtbot.waitUntil(lambda: window.document.story_id == other, timeout=10_000)
    qtbot.waitUntil(lambda: window.runner.is_idle(), timeout=10_000)
    assert panel.result is None and panel.stack.currentWidget() is panel.empty
    window.open_story(story_id)
    qtbot.waitUntil(lambda: window.document.story_id == story_id, timeout=10_000)
    qtbot.waitUntil(lambda: panel.filled, timeout=10_000)
    assert "Marlow" in names(panel.cast.model)
    assert panel.status.text().startswith("Analysed ")


def test_editing_the_text_makes_the_analysis_stale(make_window, qtbot):
    window = make_window()
    story, scenes = open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    panel.analyse()
    analysed(window, panel, qtbot)
    ms.save_scene_text(window.db, story.id, scenes[0].uid, "Ada slept. Nothing happened.")
    panel._text_changed()
    qtbot.waitUntil(lambda: "The story changed since this analysis" in panel.status.text(),
                    timeout=10_000)
    assert "Analyse again" in panel.status.text()


def test_cancel_stops_the_child_and_stores_nothing(make_window, qtbot, monkeypatch):
    window = make_window()
    story, _ = open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    real_run = analysis_process.run_prepared
    started: list[str] = []

    def held_run(prepared, progress, cancel):
        # The real child process; its first progress report waits for the author's Cancel,
        # so the cancel always lands while the child is working.
        def report(stage: str, fraction: float) -> None:
            started.append(stage)
            progress(stage, fraction)
            cancel.wait(20)

        return real_run(prepared, report, cancel)

    monkeypatch.setattr(analysis_process, "run_prepared", held_run)
    panel.analyse()
    qtbot.waitUntil(lambda: bool(started), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.stage_label.text().endswith("…"), timeout=5_000)
    qtbot.keyClick(panel.cancel_button, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert "cancelled" in panel.status.text() and "nothing was stored" in panel.status.text()
    assert panel.result is None and panel.stack.currentWidget() is panel.empty
    settle(qtbot, window)
    assert analysis.latest(window.db, story.id) is None
    assert analysis.analysed_versions(window.db, story.id) == []


def test_add_to_scene_bible_and_undo(make_window, qtbot):
    window = make_window()
    story, _ = open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    panel.analyse()
    analysed(window, panel, qtbot)
    panel.tabs.setCurrentWidget(panel.cast)
    row = names(panel.cast.model).index("Ada Quill")
    select(panel.cast.table, row)
    assert not panel.cast.add_button.isEnabled()  # already in the bible
    select(panel.cast.table, names(panel.cast.model).index("Marlow"))
    assert panel.cast.add_button.isEnabled()
    qtbot.mouseClick(panel.cast.add_button, Qt.MouseButton.LeftButton)

    def bible_names() -> list[str]:
        return [c["name"] for c in bible.load(window.db, story.id).story_data["characters"]]

    qtbot.waitUntil(lambda: "Marlow" in bible_names(), timeout=10_000)
    qtbot.waitUntil(lambda: window.runner.is_idle(), timeout=10_000)
    marlow = next(r for r in panel.cast.model.rows if r["name"] == "Marlow")
    assert marlow["in_bible"] and marlow["id"].startswith("char_")
    assert not panel.cast.add_button.isEnabled()
    assert window.document.undo_stack.undoText() == "Add Marlow to the scene bible"
    qtbot.waitUntil(lambda: "changed since this analysis" in panel.status.text(),
                    timeout=10_000)
    window.undo()
    qtbot.waitUntil(lambda: "Marlow" not in bible_names(), timeout=10_000)
    qtbot.waitUntil(lambda: window.runner.is_idle(), timeout=10_000)
    assert bible_names() == ["Ada Quill"]
    marlow = next(r for r in panel.cast.model.rows if r["name"] == "Marlow")
    assert not marlow["in_bible"]
    window.redo()
    qtbot.waitUntil(lambda: "Marlow" in bible_names(), timeout=10_000)


def test_set_scene_emotion_and_voice_and_undo(make_window, qtbot):
    window = make_window()
    story, scenes = open_story(window, qtbot)
    panel = analysis_panel(window, qtbot)
    panel.analyse()
    analysed(window, panel, qtbot)
    panel.tabs.setCurrentWidget(panel.emotions)
    select(panel.emotions.table, 0)
    uid = scenes[0].uid
    qtbot.waitUntil(lambda: "Recorded for this scene" in panel.emotions.notes.text(),
                    timeout=10_000)
    assert panel.emotions.set_button.text() == "Set “Fear” as scene emotion"

    def notes() -> dict:
        return analysis_actions.scene_notes(window.db, story.id, uid)

    qtbot.mouseClick(panel.emotions.set_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: notes()["emotion"] == "fear", timeout=10_000)
    qtbot.waitUntil(lambda: "emotion: Fear" in panel.emotions.notes.text(), timeout=10_000)
    qtbot.mouseClick(panel.emotions.voice_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: notes()["voice_template"] == "fear", timeout=10_000)
    window.undo()  # the voice
    qtbot.waitUntil(lambda: notes()["voice_template"] is None, timeout=10_000)
    assert notes()["emotion"] == "fear"
    window.undo()  # the emotion
    qtbot.waitUntil(lambda: notes()["emotion"] is None, timeout=10_000)
    qtbot.waitUntil(lambda: "emotion: —" in panel.emotions.notes.text(), timeout=10_000)
    window.redo()
    qtbot.waitUntil(lambda: notes()["emotion"] == "fear", timeout=10_000)


def test_an_old_version_can_be_analysed(make_window, qtbot):
    window = make_window()
    story, scenes = open_story(window, qtbot)
    info = versions.save_version(window.db, story.id, "first draft")
    ms.save_scene_text(window.db, story.id, scenes[3].uid,
                       "“We made it,” said Marlow. “We did,” said Ada. “Home,” said Brannock. "
                       "“Home,” Brannock said again.")
    panel = analysis_panel(window, qtbot)
    qtbot.waitUntil(lambda: panel.version_box.findData(info.number) >= 0, timeout=10_000)
    panel.version_box.setCurrentIndex(panel.version_box.findData(info.number))
    qtbot.waitUntil(lambda: "has not been analysed yet" in panel.status.text(),
                    timeout=10_000)
    panel.analyse()
    analysed(window, panel, qtbot)
    assert panel.status.text().startswith(f"Version {info.number} · Analysed")
    assert "Brannock" not in names(panel.cast.model)  # the old text, not the new
    assert analysis.analysed_versions(window.db, story.id) == [info.number]
    qtbot.waitUntil(lambda: "(analysed)" in panel.version_box.itemText(
        panel.version_box.findData(info.number)), timeout=10_000)
    # The current text is a different analysis.
    panel.version_box.setCurrentIndex(0)
    qtbot.waitUntil(lambda: "current text has not been analysed" in panel.status.text()
                    .lower(), timeout=10_000)
    panel.analyse()
    analysed(window, panel, qtbot)
    assert "Brannock" in names(panel.cast.model)


def test_the_story_menu_analyses_and_closing_clears(make_window, qtbot):
    window = make_window()
    open_story(window, qtbot)
    panel = next(p for p in window.panels if isinstance(p, AnalysisPanel))
    action = window.findChild(type(panel.menu_action), "actAnalyse")
    assert action is panel.menu_action and action.shortcut().toString() == "Ctrl+Shift+A"
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    shown = next(a for a in view.actions() if a.text() == "Analysis")
    assert shown.shortcut().toString() == f"Ctrl+{window.panels.index(panel) + 1}"
    action.trigger()
    assert window.tabs.currentWidget() is panel
    analysed(window, panel, qtbot)
    window._close_story()
    assert panel.result is None and panel.stack.currentWidget() is panel.empty
    assert not panel.analyse_button.isEnabled() and not action.isEnabled()


@pytest.mark.parametrize("broken", [{}, {"cast": "nope", "pacing": {"scenes": [1, None]},
                                         "insights": [{"target": None}], "summaries": []}])
def test_a_partial_or_odd_result_still_shows(make_window, qtbot, broken):
    window = make_window()
    panel = analysis_panel(window, qtbot)
    panel._show_result(broken)
    for i in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(i)
        assert not panel.grab().isNull()
