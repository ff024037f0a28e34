"""The chapter graph's playtest with AI providers (a fake OpenAI server over real HTTP): the
turn's similarity comes from the embeddings provider, and a chapter the engine adapts gets its
instructions rewritten by the text provider; when the provider fails, the offline engine's
turn stands and the author is told."""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt

from studio.providers.base import Capability
from studio.services import chapter_graph
from studio.services import providers as provider_service

from tests.ui.ai_helpers import (  # noqa: F401  (fixtures)
    _openai_fake_server, openai_fake, use_fake_for_text,
)
from tests.ui.test_chapter_graph_panel import open_graph_story


def _play(qtbot, panel, text: str, number: int) -> None:
    play = panel.playtest
    qtbot.keyClicks(play.text, text)
    qtbot.keyClick(play.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.play is not None and len(panel.play.turns) == number
                    and play.play_button.isEnabled(), timeout=20_000)


def _setup(window, qtbot, fake):
    provider_id = use_fake_for_text(window.db, fake)
    provider_service.set_default(window.db, Capability.EMBEDDINGS.value, provider_id)
    story, panel = open_graph_story(window, qtbot, chapters=1)
    chapter = copy.deepcopy(panel.graph["chapters"][0])
    chapter.update(summary="The king grants the royal decree in the throne room.",
                   triggers=[{"kind": "location", "value": "throne room"},
                             {"kind": "character", "value": "char_king"},
                             {"kind": "item", "value": "royal decree"}])
    panel.update_chapter(chapter)
    qtbot.waitUntil(lambda: len(panel.graph["chapters"][0]["triggers"]) == 3, timeout=10_000)
    play = panel.playtest
    panel.side.setCurrentWidget(play)
    play.location.setCurrentText("throne room")
    play.inventory.setText("royal decree")
    for i in range(play.present.count()):
        play.present.item(i).setCheckState(Qt.CheckState.Checked)
    play.new_button.click()
    qtbot.waitUntil(lambda: panel.play is not None and play.play_button.isEnabled(),
                    timeout=10_000)
    return story, panel, chapter


def test_embeddings_and_a_rewritten_adaptation(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    story, panel, chapter = _setup(window, qtbot, openai_fake)
    _play(qtbot, panel, "The hero kneels before the old king.", 1)
    assert panel.play.last["similarity"] == "embeddings"
    assert any(r.path == "/v1/embeddings" for r in openai_fake.requests)
    # everything the chapter needs is gone: the engine adapts it, the model rewrites it
    play = panel.playtest
    play.location.setCurrentText("stables")
    play.inventory.setText("forged letter")
    for i in range(play.present.count()):
        play.present.item(i).setCheckState(Qt.CheckState.Unchecked)
    openai_fake.configure(reply="Let the hero meet the king's herald in the stables.")
    _play(qtbot, panel, "Horses stamp in the stables.", 2)
    qtbot.waitUntil(lambda: "(written by Fake OpenAI)" in chapter_graph.load(
        window.db, story.id).graph["chapters"][0]["instructions"], timeout=20_000)
    made = [v["created_by"] for v in chapter_graph.chapter_versions(window.db, story.id,
                                                                    chapter["id"])]
    assert "auto-adapt" in made and "ai-adapt" in made
    qtbot.waitUntil(lambda: "rewrote" in panel.message.text(), timeout=10_000)
    usage = {u.capability for u in provider_service.usage_summary(window.db, story.id)}
    assert usage == {"embeddings", "text"}


def test_a_failing_embeddings_provider_falls_back_offline(make_window, qtbot, qt_loop,
                                                          openai_fake):
    window = make_window()
    story, panel, chapter = _setup(window, qtbot, openai_fake)
    openai_fake.fail_next(500, {"error": {"message": "overloaded", "type": "server_error"}},
                          path="embeddings")
    _play(qtbot, panel, "The hero kneels before the old king.", 1)
    assert panel.play.last["similarity"] == "offline"
    assert panel.play.progress[chapter["id"]]["activated_turn"] == 1
    assert "offline similarity was used" in panel.message.text()
    assert "overloaded" in panel.message.text()
