"""The issue's two-author scenario, driven through the real windows of two studio data folders
against a real marketplace process (SQLite and PostgreSQL):

A publishes; B browses, forks and edits three segments; A publishes v2 changing one of them and
two others; B pulls: two changes apply on their own, one conflict, "keep both" keeps both texts.
Then the offline part: B likes and publishes while the server is down; after the restart each
lands exactly once.
"""

from __future__ import annotations


import pytest
from PySide6.QtWidgets import QDialogButtonBox

from tests.sync.helpers import studio_windows
from studio.services import manuscript, marketplace_outbox, pulling, stories, versions
from studio.ui.panels.marketplace_panel import MarketplacePanel

PASSWORD = "correct horse battery"
SCENES = {
    "Arrival": ["The lamp was dark when Wren climbed the stair.",
                "Her father was polishing the lens.",
                "Gulls argued on the gallery rail."],
    "The ledger": ["She wrote entry 997 in the ledger.",
                   "A blue glove, left hand, no name.",
                   "The tide had turned at six."],
}




@pytest.fixture
def windows(qtbot, tmp_path, qt_loop, marketplace, monkeypatch):
    yield from studio_windows(qtbot, tmp_path, monkeypatch, marketplace.base_url)


def panel_of(window) -> MarketplacePanel:
    return next(p for p in window.panels if isinstance(p, MarketplacePanel))


def accept(dialog) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def sign_in(qtbot, window, username: str) -> None:
    panel = panel_of(window)
    panel.sign_in()
    qtbot.waitUntil(lambda: getattr(panel, "last_dialog", None) is not None
                    and panel.last_dialog.isVisible(), timeout=10_000)
    dialog = panel.last_dialog
    dialog.username.setText(username)
    dialog.password.setText(PASSWORD)
    dialog.create.setChecked(True)
    accept(dialog)
    qtbot.waitUntil(lambda: window.marketplace.username == username, timeout=20_000)
    assert panel.account.text().startswith(username)


def open_new_story(qtbot, window, title: str) -> int:
    story_id = stories.create_story(window.db, title).id
    chapter = manuscript.add_chapter(window.db, story_id, "One").uid
    for scene, paragraphs in SCENES.items():
        manuscript.add_scene(window.db, story_id, chapter, scene, text="\n\n".join(paragraphs))
    window.refresh_library()
    window.open_story(story_id)
    qtbot.waitUntil(lambda: window.document is not None
                    and window.document.story_id == story_id, timeout=10_000)
    return story_id


def publish(qtbot, window, changelog: str) -> None:
    panel = panel_of(window)
    window.show_panel(panel)
    before = pulling.publish_status(window.db, window.document.story_id).remote_version or 0
    panel.last_dialog = None
    panel.publish_button.click()
    qtbot.waitUntil(lambda: panel.last_dialog is not None and panel.last_dialog.isVisible(),
                    timeout=10_000)
    panel.last_dialog.changelog.setPlainText(changelog)
    accept(panel.last_dialog)
    qtbot.waitUntil(lambda: (pulling.publish_status(window.db, window.document.story_id)
                             .remote_version or 0) == before + 1, timeout=30_000)


def texts(db, story_id: int) -> dict[str, str]:
    out = {}
    for ch in manuscript.outline(db, story_id).chapters:
        for sc in ch.scenes:
            for seg in manuscript.load_scene(db, story_id, sc.uid).segments:
                out[seg.id] = seg.text
    return out


def test_two_authors_publish_fork_edit_and_pull_with_one_conflict(qtbot, windows, marketplace):
    a, b = windows("ann"), windows("ben")
    sign_in(qtbot, a, "ann" + marketplace.backend[:2] + str(id(a))[-5:])
    a_story = open_new_story(qtbot, a, "Gull Rock")
    publish(qtbot, a, "First version")
    remote = pulling.publish_status(a.db, a_story).remote_story_id
    assert remote

    sign_in(qtbot, b, "ben" + marketplace.backend[:2] + str(id(b))[-5:])
    panel = panel_of(b)
    b.show_panel(panel)
    panel.search.setText("Gull Rock")
    panel.browse()
    qtbot.waitUntil(lambda: any(panel.results.item(i).data(0x0100)["id"] == remote
                                for i in range(panel.results.count())), timeout=15_000)
    row = next(i for i in range(panel.results.count())
               if panel.results.item(i).data(0x0100)["id"] == remote)
    panel.results.setCurrentRow(row)
    qtbot.waitUntil(lambda: panel.fork_button.isEnabled() and panel.current is not None
                    and panel.current["detail"]["id"] == remote, timeout=15_000)
    assert "Gull Rock" in panel.page.toPlainText() and "First version" in \
        panel.page.toPlainText()
    panel.fork_button.click()
    qtbot.waitUntil(lambda: b.document is not None
                    and b.document.detail.fields.title.endswith("(fork)"), timeout=30_000)
    fork = b.document.story_id

    original = texts(a.db, a_story)
    ids = list(original)
    # B edits three segments: 0, 1 and 3.
    manuscript.apply_segment_texts(b.db, fork, {
        ids[0]: "The lamp was dark, and Wren climbed the stair slowly.",
        ids[1]: "Her father was asleep beside the lens.",
        ids[3]: "She wrote entry 998 in the ledger."})
    # A changes segment 1 (also changed by B) and two others (4 and 5).
    manuscript.apply_segment_texts(a.db, a_story, {
        ids[1]: "Her father was cleaning the great lens.",
        ids[4]: "A red glove, right hand, no name.",
        ids[5]: "The tide had turned at seven."})
    a.reload_story()
    publish(qtbot, a, "Glove and tide")

    b.show_panel(panel)
    panel.last_dialog = None
    panel.pull_button.click()
    qtbot.waitUntil(lambda: panel.last_dialog is not None and panel.last_dialog.isVisible(),
                    timeout=30_000)
    dialog = panel.last_dialog
    assert [c.segment_id for c in dialog.conflicts] == [ids[1]]
    assert "2 change(s) apply on their own" in dialog.findChild(
        type(dialog.status), "pullSummary").text()
    assert not dialog.apply_button.isEnabled()  # a choice is needed first
    dialog.buttons["both"].click()
    assert dialog.apply_button.isEnabled()
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: pulling.update_status(b.db, fork).base == 2, timeout=30_000)

    after = texts(b.db, fork)
    assert after[ids[0]] == "The lamp was dark, and Wren climbed the stair slowly."  # mine
    assert after[ids[3]] == "She wrote entry 998 in the ledger."  # mine
    assert after[ids[4]] == "A red glove, right hand, no name."  # theirs, applied
    assert after[ids[5]] == "The tide had turned at seven."  # theirs, applied
    values = list(after.values())
    theirs_at = values.index("Her father was cleaning the great lens.")
    assert values[theirs_at + 1] == "Her father was asleep beside the lens."  # both kept
    labels = [v.label for v in versions.list_versions(b.db, fork)]
    assert any("Before pulling" in label for label in labels)

    # Offline: B likes A's story and publishes its fork while the server is down.
    marketplace.stop()
    try:
        panel.current = {"detail": {"id": remote, "title": "Gull Rock", "liked": False},
                         "versions": []}
        panel.like_button.click()
        qtbot.waitUntil(lambda: len(marketplace_outbox.items(b.db)) == 1, timeout=10_000)
        panel.last_dialog = None
        panel.publish_button.click()
        qtbot.waitUntil(lambda: panel.last_dialog is not None and panel.last_dialog.isVisible(),
                        timeout=10_000)
        accept(panel.last_dialog)
        qtbot.waitUntil(lambda: len(marketplace_outbox.items(b.db)) == 2, timeout=10_000)
        b.marketplace.wake()
        qtbot.waitUntil(lambda: b.sync_status.state == "offline", timeout=20_000)
        assert "2 waiting" in b.sync_status.text()
    finally:
        marketplace.start()
    b.marketplace.wake(retry_backoff=True)  # as the status indicator's "retry now" does
    qtbot.waitUntil(lambda: not marketplace_outbox.items(b.db), timeout=30_000)
    qtbot.waitUntil(lambda: b.sync_status.state == "online", timeout=10_000)
    with marketplace.client() as anon:
        detail = anon.get(f"/v1/stories/{remote}").json()
        assert detail["stats"]["likes"] == 1
        mine = pulling.publish_status(b.db, fork).remote_story_id
        remix = anon.get(f"/v1/stories/{mine}").json()
        assert remix["latest_version"] == 1
        assert remix["forked_from"]["story_id"] == remote
        lineage = anon.get(f"/v1/stories/{remote}/lineage").json()
        assert [x["id"] for x in lineage["forked_by"]] == [mine]


def test_a_revoked_sign_in_asks_to_sign_in_again_and_keeps_the_operation(qtbot, windows,
                                                                          marketplace):
    from studio.sync.credentials import load_tokens

    window = windows("cat")
    user = "cat" + marketplace.backend[:2] + str(id(window))[-5:]
    sign_in(qtbot, window, user)
    tokens = load_tokens(window.marketplace.url, user)
    with marketplace.client(tokens["access_token"]) as c:  # revoked elsewhere
        assert c.post("/v1/auth/logout", json={}).status_code in (200, 204)
    panel = panel_of(window)
    panel.last_dialog = None
    story = open_new_story(qtbot, window, "Tide Tables")
    assert window.document.story_id == story
    panel.publish_button.click()
    qtbot.waitUntil(lambda: panel.last_dialog is not None and panel.last_dialog.isVisible(),
                    timeout=10_000)
    publish_dialog = panel.last_dialog
    accept(publish_dialog)
    qtbot.waitUntil(lambda: window.sync_status.state == "signed_out", timeout=20_000)
    qtbot.waitUntil(lambda: panel.last_dialog is not publish_dialog
                    and panel.last_dialog.isVisible(), timeout=10_000)
    prompt = panel.last_dialog
    assert "expired or was revoked" in prompt.findChild(type(prompt.error),
                                                        "signInMessage").text()
    assert [i.state for i in marketplace_outbox.items(window.db)] == ["pending"]
    prompt.password.setText(PASSWORD)
    prompt.create.setChecked(False)
    accept(prompt)
    qtbot.waitUntil(lambda: not marketplace_outbox.items(window.db), timeout=30_000)
    assert pulling.publish_status(window.db, story).remote_version == 1
