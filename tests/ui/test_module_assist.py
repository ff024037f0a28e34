"""Module assist in the modules panel of a real window, against a fake OpenAI server over real
HTTP: suggestions beside the form, Insert (one undo step), no provider, provider errors, and
cancelling a request the server never answers."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.providers import keys
from tests.ui.ai_helpers import (  # noqa: F401  (fixtures)
    OPENAI_KEY, _openai_fake_server, openai_fake, shot, use_fake_for_text,
)
from tests.ui.conftest import settle

REPLY = ("1. When the glass trees ripen early, Ada must harvest alone before the frost, or "
         "lose the orchard to the bank.\n"
         "2. When a buyer offers a fortune for one glass apple, Ada must choose between the "
         "farm and her brother's cure.\n"
         "3. When the frost comes a month early, an orchard keeper must hide her gift, or "
         "watch her village freeze.")
PREMISE = "An orchard keeper must harvest glass fruit before the frost."
NOTES = "Maybe the fruit sings when it breaks?"


def new_story_on_idea_spark(qtbot, window):
    """A fresh story whose Idea Spark has a premise (typed, unsaved) and no logline."""
    window.new_story()
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.detail.fields.title == "Untitled story", timeout=10_000)
    panel = window.panels[0]
    panel.show_module("idea_spark")
    page = panel.page_by_key["idea_spark"]
    qtbot.keyClicks(page.form.editors["premise"].edit, PREMISE)
    qtbot.keyClicks(page.notes, NOTES)
    return panel, page


def output(window) -> dict:
    return window.document.detail.modules["idea_spark"].output


def test_suggest_insert_and_undo(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    use_fake_for_text(window.db, openai_fake)
    openai_fake.configure(reply=REPLY)
    panel, page = new_story_on_idea_spark(qtbot, window)
    doc = window.document
    assert page.suggest_button.text() == "Suggest loglines"
    assert page.assist.isHidden()

    qtbot.mouseClick(page.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.assist.state == "suggestions", timeout=15_000)
    assert page.assist.isVisible()
    assert len(page.assist.cards) == 3
    assert page.assist.cards[0].text.startswith("When the glass trees ripen early")
    assert "Fake OpenAI" in page.assist.subtitle.text()
    # Beside the form: the pane is to the right of the output form, both in view.
    form_area = page.split.widget(1)
    assert page.split.widget(2) is page.assist
    assert form_area.isVisible() and form_area.width() > 200 and page.assist.width() > 200
    assert page.assist.geometry().left() > form_area.geometry().right()
    # The request carried the unsaved premise and notes (and the key, only in its header).
    sent = openai_fake.requests[-1]
    prompt = sent.json["messages"][-1]["content"]
    assert PREMISE in prompt and NOTES in prompt and "loglines" in prompt
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert output(window)["logline"] == ""  # nothing changed yet
    shot(window, "assist_suggestions_window.png")
    shot(panel, "assist_suggestions_panel.png")

    before = doc.undo_stack.count()
    qtbot.mouseClick(page.assist.cards[1].insert, Qt.MouseButton.LeftButton)
    second = page.assist.cards[1].text
    assert output(window)["logline"] == second
    assert page.form.editors["logline"].edit.text() == second
    assert output(window)["premise"] == PREMISE
    assert doc.undo_stack.count() == before + 1
    assert page.assist.cards[1].insert.text() == "Inserted"
    shot(panel, "assist_inserted_panel.png")

    # A second one never overwrites the logline: it joins the premise as another option.
    qtbot.mouseClick(page.assist.cards[0].insert, Qt.MouseButton.LeftButton)
    assert output(window)["logline"] == second
    assert output(window)["premise"].startswith(PREMISE + "\n\nAnother logline: When the glass")

    # Ctrl+Z (the window's Undo) takes them out one at a time; the author's text stays.
    page.form.editors["logline"].edit.setFocus()
    qtbot.keyClick(page.form.editors["logline"].edit, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier)
    assert output(window)["premise"] == PREMISE
    assert output(window)["logline"] == second
    assert page.assist.cards[0].insert.isEnabled()  # undone: it can go in again
    assert not page.assist.cards[1].insert.isEnabled()
    window.act_undo.trigger()
    assert output(window)["logline"] == ""
    assert page.form.editors["logline"].edit.text() == ""
    assert all(card.insert.isEnabled() for card in page.assist.cards)
    assert output(window)["premise"] == PREMISE
    assert doc.detail.modules["idea_spark"].input_text == NOTES
    settle(qtbot, window)

    # Dismiss: the pane goes, the notes come back.
    qtbot.mouseClick(page.assist.dismiss_button, Qt.MouseButton.LeftButton)
    assert page.assist.isHidden() and page.split.sizes()[0] > 0


def test_shortcut_asks_for_the_shown_module(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    use_fake_for_text(window.db, openai_fake)
    openai_fake.configure(reply="1. Glass remembers every hand that touched it.\n"
                                "2. Nothing grown under the dome may leave it.")
    panel = window.panels[0]
    panel.show_module("world_seed")
    page = panel.page_by_key["world_seed"]
    assert page.suggest_button.text() == "Suggest world rules"
    page.notes.setFocus()
    qtbot.waitUntil(page.notes.hasFocus, timeout=5_000)
    qtbot.keyClick(page.notes, Qt.Key.Key_G,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: page.assist.state == "suggestions", timeout=15_000)
    rules = list(window.document.detail.modules["world_seed"].output["world_rules"])
    qtbot.mouseClick(page.assist.cards[0].insert, Qt.MouseButton.LeftButton)
    assert window.document.detail.modules["world_seed"].output["world_rules"] == [
        *rules, "Glass remembers every hand that touched it."]
    window.act_undo.trigger()
    assert window.document.detail.modules["world_seed"].output["world_rules"] == rules


def test_no_provider_explains_and_opens_the_dialog(make_window, qtbot, qt_loop):
    window = make_window()
    panel, page = new_story_on_idea_spark(qtbot, window)
    qtbot.mouseClick(page.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.assist.state == "no_provider", timeout=10_000)
    text = page.assist.message.text()
    assert "No text provider is set up yet" in text and "AI providers" in text
    assert "Ollama" in text
    assert page.assist.providers_button.isVisible()
    assert output(window)["logline"] == ""
    shot(panel, "assist_no_provider_panel.png")
    qtbot.mouseClick(page.assist.providers_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "providers_dialog", None) is not None
                    and window.providers_dialog.isVisible(), timeout=10_000)
    window.providers_dialog.close()


def test_provider_errors_leave_the_module_alone(make_window, qtbot, qt_loop, openai_fake,
                                                memory_keyring):
    window = make_window()
    provider_id = use_fake_for_text(window.db, openai_fake)
    panel, page = new_story_on_idea_spark(qtbot, window)
    doc = window.document
    settle(qtbot, window)
    steps = doc.undo_stack.count()
    before = dict(output(window))

    cases = [
        (lambda: openai_fake.fail_next(429, {"error": {
            "message": "Rate limit reached for gpt-4o-mini: 3 requests per minute.",
            "type": "requests", "code": "rate_limit_exceeded"}}, {"Retry-After": "20"}),
         "too many requests", "Rate limit reached"),
        (lambda: openai_fake.fail_next(500, {"error": {"message": "The server had an error "
                                                       "while processing your request."}}),
         "failed on its side", "(500)"),
        (openai_fake.malformed_next, "could not be read", "not valid JSON"),
        (lambda: openai_fake.configure(key="sk-another-key-entirely-000"),
         "refused the key", "Incorrect API key provided"),
    ]
    for arrange, headline, detail in cases:
        arrange()
        qtbot.mouseClick(page.suggest_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.assist.state == "error", timeout=15_000)
        text = page.assist.message.text()
        assert headline in text and detail in text, text
        assert "Nothing in the module was changed" in text
        assert OPENAI_KEY not in text
        assert page.assist.retry_button.isVisible()
        assert output(window) == before and doc.undo_stack.count() == steps
        if headline == "too many requests":
            shot(panel, "assist_rate_limited_panel.png")
    assert len(memory_keyring.items) == 1  # nothing about the key changed either
    assert keys.load_key(provider_id) == OPENAI_KEY

    # Try again, once the service is well: the suggestions come.
    openai_fake.configure(key=OPENAI_KEY, reply=REPLY)
    qtbot.mouseClick(page.assist.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.assist.state == "suggestions", timeout=15_000)
    assert len(page.assist.cards) == 3


def test_cancel_while_the_server_hangs(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    use_fake_for_text(window.db, openai_fake)
    panel, page = new_story_on_idea_spark(qtbot, window)
    before = dict(output(window))
    openai_fake.hang_next(30, path="/chat/completions")
    qtbot.mouseClick(page.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.path == "/v1/chat/completions"
                                for r in openai_fake.requests), timeout=10_000)
    assert page.assist.state == "busy"
    assert page.assist.busy.isVisible() and page.assist.cancel_button.isVisible()
    assert "loglines" in page.assist.message.text()
    shot(panel, "assist_waiting_panel.png")
    task = page.assist.task
    qtbot.mouseClick(page.assist.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(task.done, timeout=5_000)
    assert task.cancelled()
    assert page.assist.state == "cancelled"
    assert "Cancelled" in page.assist.message.text()
    qtbot.waitUntil(lambda: openai_fake.requests[-1].disconnected, timeout=10_000)
    assert output(window) == before
