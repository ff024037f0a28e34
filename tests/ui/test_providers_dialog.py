"""Settings → AI providers, driven through the real dialog of a real window: add an
OpenAI-compatible provider (its key lands in the keyring, never in the database file), test
the connection against a fake server over real HTTP, a wrong key, defaults, usage, keyring
failures, cancelling a test by closing."""

from __future__ import annotations

import keyring.errors
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from studio.providers import keys
from studio.providers.base import Capability, Usage
from studio.services import providers as provider_service
from studio.services import stories
from tests.ui.ai_helpers import (  # noqa: F401  (fixtures)
    OPENAI_KEY, _openai_fake_server, openai_fake, shot, use_fake_for_text,
)

WRONG_KEY = "sk-wrong-key-99999999999"


def open_dialog(qtbot, window):
    window.findChild(type(window.act_undo), "actProviders").trigger()
    dialog = window.providers_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.list.count() >= 1, timeout=10_000)
    return dialog


def fill_new_openai(qtbot, dialog, fake, name: str = "Fake OpenAI", key: str = OPENAI_KEY):
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    editor = dialog.editor
    combo = editor.kind_combo
    combo.setCurrentIndex(combo.findData("openai"))
    combo.activated.emit(combo.currentIndex())
    qtbot.keyClicks(editor.name, name)
    for key_name, value in (("base_url", fake.url), ("model", "gpt-4o-mini"),
                            ("timeout", "5"), ("retries", "0")):
        field = editor.fields[key_name].input
        field.clear()
        qtbot.keyClicks(field, value)
    if key:
        qtbot.keyClicks(editor.key, key)
    return editor


def status(dialog) -> str:
    return dialog.editor.status.text()


def db_bytes(data_dir) -> bytes:
    """Every file of the data folder (database, WAL, journal…), as bytes."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def test_add_test_and_keep_the_key_out_of_the_database(make_window, qtbot, qt_loop,
                                                       openai_fake, memory_keyring, data_dir):
    window = make_window()
    dialog = open_dialog(qtbot, window)
    assert dialog.list.item(0).text().startswith("Offline (built in)")
    assert not dialog.editor.delete.isVisible()  # the offline provider is not removable
    shot(dialog, "providers_offline.png")

    editor = fill_new_openai(qtbot, dialog, openai_fake)
    assert editor.key.echoMode() == editor.key.EchoMode.Password
    shot(dialog, "providers_new.png")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    qtbot.waitUntil(lambda: "Saved" in status(dialog), timeout=10_000)

    saved = provider_service.list_providers(window.db)[1]
    assert saved.config.name == "Fake OpenAI" and saved.has_key
    assert memory_keyring.items[(keys.SERVICE, f"provider-{saved.config.id}")] == OPENAI_KEY
    window.runner.wait_idle(10)
    assert OPENAI_KEY.encode() not in db_bytes(data_dir)
    assert OPENAI_KEY[8:].encode() not in db_bytes(data_dir)
    assert editor.key.text() == ""
    assert editor.key.placeholderText() == "stored in your system keyring"
    assert "key in keyring" in dialog.list.item(1).text()

    # Test connection with the stored key: the fake lists its models.
    qtbot.mouseClick(editor.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Connected" in status(dialog), timeout=15_000)
    assert "gpt-4o-mini" in status(dialog)
    assert not editor.busy.isVisible()
    shot(dialog, "providers_connected.png")
    sent = openai_fake.requests[-1]
    assert sent.path == "/v1/models"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"

    # A wrong key typed (not saved): the service's refusal, without the key (the fake echoes it).
    qtbot.keyClicks(editor.key, WRONG_KEY)
    qtbot.mouseClick(editor.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status.property("tone") == "error", timeout=15_000)
    text = status(dialog)
    assert "refused the key" in text and "Incorrect API key provided" in text
    assert WRONG_KEY not in text and WRONG_KEY[6:] not in text and OPENAI_KEY not in text
    shot(dialog, "providers_wrong_key.png")
    assert memory_keyring.items[(keys.SERVICE, f"provider-{saved.config.id}")] == OPENAI_KEY


def test_defaults_and_usage(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    provider_id = use_fake_for_text(window.db, openai_fake)
    provider_service.set_default(window.db, Capability.TEXT.value, None)
    story_id = window.document.story_id
    config = provider_service.get_provider(window.db, provider_id)
    other = stories.create_story(window.db, "Another").id
    provider_service.record_usage(window.db, config, Usage("text", "gpt-4o-mini", 1200, 340,
                                                           cost=0.0123), story_id, "assist")
    provider_service.record_usage(window.db, config, Usage("text", "gpt-4o-mini", 800, 200,
                                                           cost=0.0077), other, "assist")
    provider_service.record_usage(window.db, config, Usage("embeddings", "emb", 500),
                                  story_id, "similarity")
    dialog = open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    dialog.list.setCurrentRow(1)
    model = dialog.editor.fields["model"].input
    model.clear()
    qtbot.keyClicks(model, "llama3.1")  # typed, not saved: changing defaults keeps it

    dialog.tabs.setCurrentIndex(1)
    combos = dialog.default_combos
    text = combos[Capability.TEXT]
    assert text.currentText().startswith("Fake OpenAI")  # the only one that can
    emb = combos[Capability.EMBEDDINGS]
    assert [emb.itemText(i) for i in range(emb.count())] == [
        "Offline (built in)", "Fake OpenAI  (OpenAI-compatible)"]
    assert emb.currentText() == "Offline (built in)"  # no surprise costs
    speech = combos[Capability.SPEECH]
    assert not speech.isEnabled() and speech.currentText().startswith("None set up yet")
    shot(dialog, "providers_defaults.png")

    emb.setCurrentIndex(1)
    emb.activated.emit(1)
    qtbot.waitUntil(lambda: provider_service.provider_for(
        window.db, "embeddings")[0].id == provider_id, timeout=10_000)
    qtbot.waitUntil(lambda: "Embeddings" in dialog.defaults_note.text()
                    and "embeddings" in dialog.infos[1].defaults, timeout=10_000)
    assert emb.currentIndex() == 1
    emb.setCurrentIndex(0)
    emb.activated.emit(0)
    qtbot.waitUntil(lambda: provider_service.provider_for(window.db, "embeddings")[0].id == 0,
                    timeout=10_000)

    assert model.text() == "llama3.1" and dialog.editor.provider_id == provider_id

    # Usage: this story first, then all stories.
    dialog.tabs.setCurrentIndex(2)
    table = dialog.usage.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=10_000)
    rows = {table.item(r, 2).text(): [table.item(r, c).text() for c in range(9)]
            for r in range(2)}
    assert rows["Text generation"][1] == "Fake OpenAI"
    assert rows["Text generation"][3:6] == ["1", "1,200", "340"]
    assert rows["Text generation"][8] == "0.0123"
    assert rows["Embeddings"][4] == "500"
    shot(dialog, "providers_usage.png")
    dialog.usage.filter.setCurrentIndex(dialog.usage.filter.findData("all"))
    qtbot.waitUntil(lambda: "3 calls" in dialog.usage.total.text(), timeout=10_000)
    text_row = next(r for r in range(table.rowCount())
                    if table.item(r, 2).text() == "Text generation")
    assert table.item(text_row, 3).text() == "2"
    assert table.item(text_row, 4).text() == "2,000"
    assert table.item(text_row, 8).text() == "0.02"


def test_errors_are_shown_and_nothing_typed_is_lost(make_window, qtbot, qt_loop, openai_fake,
                                                    memory_keyring, monkeypatch):
    window = make_window()
    dialog = open_dialog(qtbot, window)
    editor = fill_new_openai(qtbot, dialog, openai_fake, name="Local")
    url = editor.fields["base_url"].input
    url.clear()
    qtbot.keyClicks(url, "ftp://example.org")
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status.property("tone") == "error", timeout=10_000)
    assert "Base URL must start with http:// or https://" in status(dialog)
    assert editor.name.text() == "Local" and editor.key.text() == OPENAI_KEY
    assert provider_service.list_providers(window.db)[1:] == []

    # The keyring is locked: the settings are saved, the key is not, and it stays typed.
    def refuse(*_args):
        raise keyring.errors.KeyringError("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    url.clear()
    qtbot.keyClicks(url, openai_fake.url)
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "the key was not" in status(dialog), timeout=10_000)
    assert "keyring is not available (the keyring is locked)" in status(dialog)
    assert OPENAI_KEY not in status(dialog)
    assert editor.key.text() == OPENAI_KEY
    saved = provider_service.list_providers(window.db)[1]
    assert saved.config.name == "Local" and not saved.has_key
    assert editor.provider_id == saved.config.id  # a second Save updates, not duplicates
    shot(dialog, "providers_keyring_error.png")
    monkeypatch.undo()
    keyring_items = memory_keyring.items
    qtbot.mouseClick(editor.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Saved" in status(dialog), timeout=10_000)
    assert keyring_items[(keys.SERVICE, f"provider-{saved.config.id}")] == OPENAI_KEY
    assert len(provider_service.list_providers(window.db)) == 2

    # Remove the key, then delete the provider.
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert editor.remove_key.isEnabled()
    qtbot.mouseClick(editor.remove_key, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "removed" in status(dialog), timeout=10_000)
    assert (keys.SERVICE, f"provider-{saved.config.id}") not in memory_keyring.items
    assert editor.key.placeholderText() != "stored in your system keyring"
    qtbot.mouseClick(editor.delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10_000)
    assert provider_service.list_providers(window.db)[1:] == []


def test_closing_the_dialog_cancels_a_hanging_test(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    use_fake_for_text(window.db, openai_fake)
    dialog = open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    dialog.list.setCurrentRow(1)
    openai_fake.hang_next(30, path="/models")
    qtbot.mouseClick(dialog.editor.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.path == "/v1/models" for r in openai_fake.requests),
                    timeout=10_000)
    assert dialog.editor.busy.isVisible() and dialog.editor.test.text() == "Cancel test"
    assert "Connecting" in status(dialog)
    shot(dialog, "providers_testing.png")
    task = dialog.test_task
    dialog.close()
    qtbot.waitUntil(task.done, timeout=5_000)
    assert task.cancelled()
    qtbot.waitUntil(lambda: openai_fake.requests[-1].disconnected, timeout=10_000)


def test_the_test_button_cancels_too(make_window, qtbot, qt_loop, openai_fake):
    window = make_window()
    use_fake_for_text(window.db, openai_fake)
    dialog = open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    dialog.list.setCurrentRow(1)
    openai_fake.hang_next(30, path="/models")
    qtbot.mouseClick(dialog.editor.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.editor.test.text() == "Cancel test", timeout=10_000)
    qtbot.mouseClick(dialog.editor.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status(dialog) == "Test cancelled.", timeout=10_000)
    assert not dialog.editor.busy.isVisible()
    assert dialog.editor.test.text() == "Test connection"
