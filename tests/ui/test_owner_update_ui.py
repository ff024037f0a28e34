""""Update from Collaborators…" in the Marketplace panel, through a real window against a real
marketplace process (SQLite): Alice publishes; Carol, her editor, publishes v2 (over HTTP);
Alice's next publish is refused and waits in the outbox with a sentence saying why; the
button lights up, the conflict view shows the paragraph both changed, "keep both" applies, a
message names the version saved first and sends the refused publish again: it lands as v3
with both their changes.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from tests.sync.helpers import studio_windows
from studio.services import manuscript, marketplace_outbox, pulling, versions
from studio.sync.credentials import load_tokens
from studio.ui.dialogs.conflict_dialog import ConflictDialog
from tests.sync.conftest import mkt_sqlite  # noqa: F401 - the real marketplace process
from tests.sync.test_two_authors_gui import (
    PASSWORD, accept, open_new_story, panel_of, publish, sign_in, texts,
)

SHOTS = Path("/tmp/shots/issue11")
CAROL_FATHER = "Her father was asleep in his chair."
CAROL_GLOVE = "A red glove, right hand."
ALICE_FATHER = "Her father was polishing the brass lens, humming."
ALICE_TIDE = "The tide had turned at seven."


@pytest.fixture
def windows(qtbot, tmp_path, qt_loop, mkt_sqlite, monkeypatch):  # noqa: F811
    """Studio windows of their own data folders, on the module's marketplace."""
    yield from studio_windows(qtbot, tmp_path, monkeypatch, mkt_sqlite.base_url)


def register(base_url: str, username: str) -> None:
    r = httpx.post(base_url + "/v1/accounts",
                   json={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def carol_publishes_v2(server, remote: str, owner: str, s: list[str]) -> None:
    """Carol, invited as editor, publishes v2 on top of v1 (as her fork would send it)."""
    register(server.base_url, "carol")
    with server.client() as anon:
        token = anon.post("/v1/auth/login", json={"username": "carol",
                                                  "password": PASSWORD}).json()["access_token"]
    with server.client(load_tokens(server.base_url, owner)["access_token"]) as alice:
        r = alice.post(f"/v1/stories/{remote}/collaborators",
                       json={"username": "carol", "role": "editor"})
        assert r.status_code == 201, r.text
    with server.client(token) as carol:
        assert carol.post(f"/v1/invitations/{remote}/accept", json={}).status_code == 200
        content = carol.get(f"/v1/stories/{remote}/versions/1/content").json()["content"]
        for ch in content["manuscript"]["chapters"]:
            for sc in ch["scenes"]:
                for seg in sc["segments"]:
                    seg["text"] = {s[1]: CAROL_FATHER, s[4]: CAROL_GLOVE}.get(seg["id"],
                                                                             seg["text"])
        r = carol.post(f"/v1/stories/{remote}/versions",
                       json={"changelog": "Glove", "content": content, "base_version": 1})
        assert r.status_code == 201, r.text


def test_update_from_collaborators_button(qtbot, windows, mkt_sqlite):  # noqa: F811
    a = windows("alice")
    sign_in(qtbot, a, "alice")
    story = open_new_story(qtbot, a, "Gull Rock")
    panel = panel_of(a)
    a.show_panel(panel)
    action = panel.owner_update
    assert not action.button.isVisible()  # not published: nothing to update from
    publish(qtbot, a, "First version")
    qtbot.waitUntil(action.button.isVisible, timeout=15_000)
    assert not action.button.isEnabled() and "Up to date" in action.button.toolTip()
    remote = pulling.publish_status(a.db, story).remote_story_id
    s = list(texts(a.db, story))
    carol_publishes_v2(mkt_sqlite, remote, "alice", s)

    # Alice's publish on v1 is refused and waits for her, her text kept
    manuscript.apply_segment_texts(a.db, story, {s[1]: ALICE_FATHER, s[5]: ALICE_TIDE})
    a.reload_story()
    panel.last_dialog = None
    panel.publish_button.click()
    qtbot.waitUntil(lambda: panel.last_dialog is not None and panel.last_dialog.isVisible(),
                    timeout=10_000)
    accept(panel.last_dialog)
    qtbot.waitUntil(lambda: [i.state for i in marketplace_outbox.items(a.db)] == ["failed"],
                    timeout=20_000)
    [refused] = marketplace_outbox.items(a.db)
    assert refused.last_error == ("Version 2 was published by carol since your version 1: use "
                                  "Update from Collaborators, then publish again.")
    a.show_outbox()  # the outbox says it in its list
    qtbot.waitUntil(lambda: a.outbox_dialog.tree.topLevelItemCount() == 1
                    and a.outbox_dialog.tree.topLevelItem(0).text(1) == "Refused",
                    timeout=5_000)
    assert a.outbox_dialog.tree.topLevelItem(0).text(4) == refused.last_error
    assert refused.last_error in a.outbox_dialog.problem.text()  # in full, not cut off
    shot(a.outbox_dialog, "owner_update_outbox_refused")
    a.outbox_dialog.close()
    assert texts(a.db, story)[s[1]] == ALICE_FATHER

    # the button lights up; the conflict view shows the paragraph both changed
    panel.refresh_collaboration_soon()
    qtbot.waitUntil(action.button.isEnabled, timeout=15_000)
    assert "bold" in action.button.styleSheet() and "v2 was published" in \
        action.button.toolTip()
    shot(panel, "owner_update_panel")
    a.activateWindow()
    qtbot.waitUntil(a.isActiveWindow, timeout=5_000)
    QTest.keyClick(panel, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.AltModifier)  # = the button
    qtbot.waitUntil(lambda: isinstance(action.last_dialog, ConflictDialog)
                    and action.last_dialog.isVisible(), timeout=20_000)
    dialog = action.last_dialog
    assert [c.segment_id for c in dialog.conflicts] == [s[1]]
    assert dialog.windowTitle() == "Update from collaborators — v2 by carol"
    assert dialog.apply_button.text() == "Apply the update" and \
        not dialog.apply_button.isEnabled()
    dialog.buttons["both"].click()
    shot(dialog, "owner_update_conflict")
    dialog.apply_button.click()

    # a message names the version saved first and sends the refused publish again
    qtbot.waitUntil(lambda: isinstance(action.last_dialog, QMessageBox)
                    and action.last_dialog.isVisible(), timeout=20_000)
    box = action.last_dialog
    [saved] = [v for v in versions.list_versions(a.db, story)
               if v.label == "Before updating from collaborators (v2)"]
    assert f"saved first as version {saved.number}" in box.text()
    shot(box, "owner_update_done")
    [send] = [b for b in box.buttons() if b.text() == "Send It Now"]
    send.click()
    qtbot.waitUntil(lambda: pulling.publish_status(a.db, story).remote_version == 3,
                    timeout=30_000)
    with mkt_sqlite.client() as anon:
        v3 = anon.get(f"/v1/stories/{remote}/versions/3/content").json()["content"]
    landed = {seg["id"]: seg["text"] for ch in v3["manuscript"]["chapters"]
              for sc in ch["scenes"] for seg in sc["segments"]}
    assert landed[s[4]] == CAROL_GLOVE and landed[s[1]] == CAROL_FATHER
    assert landed[s[5]] == ALICE_TIDE and ALICE_FATHER in landed.values()
    qtbot.waitUntil(lambda: not action.button.isEnabled() and not action.busy,
                    timeout=15_000)
