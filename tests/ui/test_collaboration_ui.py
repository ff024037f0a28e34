"""Co-authoring through the real windows of two studio data folders against a real marketplace
process (SQLite): the owner invites (an unknown name is refused in words, a third person is
given another role and removed with Del), the contributor accepts in the invitations dialog,
forks, and proposes changes twice; the owner reviews the first proposal, unticks one segment
and accepts the others (a new version crediting the contributor, the texts in the owner's local
story), sees the second proposal's segments marked as changed since, is refused in words when
accepting them anyway, and declines it.  Then the contributor is made an editor and publishes
from the fork: refused because the story moved on, pulls and merges from the dialog, publishes.

One scenario in one test: every step needs the ones before it, and the windows, accounts and
server are made once (the whole runs in about 25 s).
"""

from __future__ import annotations

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from tests.sync.helpers import studio_windows
from studio.services import manuscript, pulling, versions
from studio.sync.credentials import load_tokens
from studio.ui.dialogs.collaborators_dialog import CollaboratorsDialog, InvitationsDialog
from studio.ui.dialogs.conflict_dialog import ConflictDialog
from studio.ui.dialogs.proposal_dialogs import ProposalReviewDialog, ProposeDialog
from tests.sync.test_two_authors_gui import (
    PASSWORD, open_new_story, panel_of, publish, sign_in, texts,
)
from tests.sync.conftest import mkt_sqlite  # noqa: F401 - the real marketplace process

SHOTS = "/tmp/shots/issue11"


@pytest.fixture
def windows(qtbot, tmp_path, qt_loop, mkt_sqlite, monkeypatch):
    yield from studio_windows(qtbot, tmp_path, monkeypatch, mkt_sqlite.base_url)


def open_dialog(qtbot, panel, button, kind):
    """Click ``button`` and wait for the panel's dialog of type ``kind`` on screen."""
    panel.last_dialog = None
    qtbot.waitUntil(button.isVisible, timeout=15_000)
    button.click()
    qtbot.waitUntil(lambda: isinstance(panel.last_dialog, kind)
                    and panel.last_dialog.isVisible(), timeout=10_000)
    return panel.last_dialog


def answer(qtbot, dialog, yes: bool = True) -> None:
    """Answer the question box the dialog asked."""
    qtbot.waitUntil(lambda: dialog.last_confirm is not None
                    and dialog.last_confirm.isVisible(), timeout=5_000)
    box = dialog.last_confirm
    button = next(b for b in box.buttons()
                  if (box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole) == yes)
    button.click()


def row_of(tree, text: str):
    return next((tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                 if tree.topLevelItem(i).text(0).startswith(text)), None)


def done(dialog, text: str):
    """A predicate: the dialog finished its call and its message line says ``text``."""
    return lambda: not dialog.busy and text in dialog.status.text()


def register(base_url: str, username: str) -> None:
    r = httpx.post(base_url + "/v1/accounts",
                   json={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text


def test_invite_accept_propose_review_accept_some_and_decline(qtbot, windows, mkt_sqlite):
    url = mkt_sqlite.base_url
    ann_name, ben_name, cleo_name = "ann", "ben", "cleo"  # a fresh server for the module
    a, b = windows("ann"), windows("ben")
    sign_in(qtbot, a, ann_name)
    sign_in(qtbot, b, ben_name)
    register(url, cleo_name)
    a_story = open_new_story(qtbot, a, "Gull Rock")
    pa = panel_of(a)
    a.show_panel(pa)
    assert not pa.collaborators_button.isVisible()  # not published yet: nothing to share
    publish(qtbot, a, "First version")

    # --- the owner's collaborators dialog ----------------------------------------------------
    dialog = open_dialog(qtbot, pa, pa.collaborators_button, CollaboratorsDialog)
    qtbot.waitUntil(done(dialog, "Nobody else works on this story"), timeout=10_000)
    assert row_of(dialog.tree, ann_name).text(1) == "Owner"
    dialog.invite_name.setText("nobody_" + ann_name)
    QTest.keyClick(dialog.invite_name, Qt.Key.Key_Return)  # Enter invites
    qtbot.waitUntil(lambda: not dialog.busy and dialog.status.is_error(), timeout=10_000)
    assert "There is no user named “nobody_" in dialog.status.text()
    assert dialog.invite_name.text() == "nobody_" + ann_name  # what was typed stays
    assert dialog.tree.topLevelItemCount() == 1

    dialog.invite_name.setText(ben_name)
    QTest.keyClick(dialog.invite_name, Qt.Key.Key_Return)
    qtbot.waitUntil(done(dialog, f"Invited {ben_name} as contributor"), timeout=10_000)
    assert dialog.invite_name.text() == ""
    assert row_of(dialog.tree, ben_name).text(2) == "Invited — no answer yet"
    assert dialog.role_combo(ben_name).currentData() == "contributor"

    dialog.invite_role.setCurrentIndex(dialog.invite_role.findData("viewer"))
    assert "▸ <b>Viewer</b>" in dialog.roles_legend.text()
    dialog.invite_name.setText(cleo_name)
    dialog.invite_button.click()
    qtbot.waitUntil(done(dialog, f"Invited {cleo_name} as viewer"), timeout=10_000)
    combo = dialog.role_combo(cleo_name)
    combo.setCurrentIndex(combo.findData("editor"))  # a role changed in place
    qtbot.waitUntil(done(dialog, f"{cleo_name} is now editor"), timeout=10_000)
    dialog.tree.setCurrentItem(row_of(dialog.tree, cleo_name))
    dialog.tree.setFocus()
    QTest.keyClick(dialog.tree, Qt.Key.Key_Delete)  # Del removes, after asking
    answer(qtbot, dialog)
    qtbot.waitUntil(done(dialog, f"The invitation to {cleo_name} was withdrawn"),
                    timeout=10_000)
    assert row_of(dialog.tree, cleo_name) is None
    dialog.grab().save(f"{SHOTS}/collaborators.png")
    QTest.keyClick(dialog, Qt.Key.Key_Escape)  # Esc closes
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)

    remote = pa.collab.owned_remote
    token = load_tokens(url, ann_name)["access_token"]
    with mkt_sqlite.client(token) as http:
        people = http.get(f"/v1/stories/{remote}/collaborators").json()["items"]
    assert [(p["username"], p["role"], p["status"]) for p in people] == \
        [(ben_name, "contributor", "invited")]

    # --- the contributor accepts, forks and proposes -----------------------------------------
    pb = panel_of(b)
    b.show_panel(pb)
    pb.refresh_collaboration()  # what the panel's poll timer does
    qtbot.waitUntil(lambda: pb.invitations_button.isVisible()
                    and pb.invitations_button.text() == "Invitations (1)", timeout=10_000)
    pb.grab().save(f"{SHOTS}/panel_invited.png")
    inv = open_dialog(qtbot, pb, pb.invitations_button, InvitationsDialog)
    qtbot.waitUntil(lambda: inv.tree.topLevelItemCount() == 1 and not inv.busy,
                    timeout=10_000)
    assert inv.tree.topLevelItem(0).text(0) == f"Gull Rock — by {ann_name}"
    assert "propose changes" in inv.role_note.text()
    inv.grab().save(f"{SHOTS}/invitations.png")
    inv.accept_button.click()
    qtbot.waitUntil(done(inv, "You are now contributor on “Gull Rock”"), timeout=10_000)
    assert inv.tree.topLevelItemCount() == 0
    QTest.keyClick(inv, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pb.current is not None and pb.current["detail"]["id"] == remote
                    and pb.fork_button.isEnabled(), timeout=15_000)  # its page opened
    qtbot.waitUntil(lambda: not pb.invitations_button.isVisible(), timeout=10_000)
    pb.fork_button.click()
    qtbot.waitUntil(lambda: b.document is not None
                    and b.document.detail.fields.title.endswith("(fork)"), timeout=30_000)
    fork = b.document.story_id
    ids = list(texts(a.db, a_story))
    manuscript.apply_segment_texts(b.db, fork, {
        ids[0]: "The lamp was dark, and Wren climbed the stair slowly.",
        ids[1]: "Her father was asleep beside the lens.",
        ids[3]: "She wrote entry 998 in the ledger."})
    qtbot.waitUntil(lambda: pb.propose_button.isVisible(), timeout=15_000)
    assert not pb.editor_publish_button.isVisible()  # a contributor proposes, never publishes

    propose = open_dialog(qtbot, pb, pb.propose_button, ProposeDialog)
    qtbot.waitUntil(lambda: propose.loaded and not propose.busy, timeout=10_000)
    assert propose.change_list.count() == 3
    assert "slowly" in propose.diff.new_view.toPlainText()
    assert "when" in propose.diff.old_view.toPlainText()
    assert not propose.send_button.isEnabled()  # a title first
    propose.title.setText("Sharper arrival")
    propose.description.setPlainText("Tightens the first scene.")
    propose.grab().save(f"{SHOTS}/propose.png")
    QTest.keyClick(propose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not propose.isVisible(), timeout=15_000)
    assert propose.result.title == "Sharper arrival"

    manuscript.apply_segment_texts(b.db, fork, {  # second thoughts on one segment, and a new one
        ids[1]: "Her father slept beside the lens.", ids[4]: "A red glove, right hand, no name."})
    propose = open_dialog(qtbot, pb, pb.propose_button, ProposeDialog)
    qtbot.waitUntil(lambda: propose.loaded and not propose.busy, timeout=10_000)
    assert propose.change_list.count() == 4
    propose.title.setText("Red glove")
    propose.send_button.click()
    qtbot.waitUntil(lambda: not propose.isVisible(), timeout=15_000)

    # --- the owner reviews: unticks one, accepts the others ---------------------------------
    pa.refresh_collaboration()
    qtbot.waitUntil(lambda: pa.proposals_button.text() == "Proposals (2)…", timeout=10_000)
    assert pa.collaborators_button.isVisible() and not pa.propose_button.isVisible()
    pa.grab().save(f"{SHOTS}/panel_owner.png")
    review = open_dialog(qtbot, pa, pa.proposals_button, ProposalReviewDialog)
    qtbot.waitUntil(lambda: review.tree.topLevelItemCount() == 2
                    and review.detail is not None and not review.busy, timeout=10_000)
    first = row_of(review.tree, "Sharper arrival")
    assert first.text(1) == ben_name and first.text(2) == "v1" and first.text(4) == "3"
    review.tree.setCurrentItem(first)
    qtbot.waitUntil(lambda: review.detail is not None and not review.busy
                    and review.detail.title == "Sharper arrival", timeout=10_000)
    assert review.checked_ids() == [ids[0], ids[1], ids[3]]
    assert review.change_list.item(0).text() == \
        "One › Arrival\n“The lamp was dark, and Wren…”"
    review.change_list.setCurrentRow(2)
    assert "997" in review.diff.old_view.toPlainText()
    assert "998" in review.diff.new_view.toPlainText()
    assert "line-through" in review.diff.old_view.toHtml() or \
        "text-decoration" in review.diff.old_view.toHtml()
    review.change_list.setFocus()
    QTest.keyClick(review.change_list, Qt.Key.Key_Space)  # Space unticks the shown segment
    assert review.checked_ids() == [ids[0], ids[1]]
    assert review.accept_selected_button.text() == "Accept selected (2 of 3)"
    review.grab().save(f"{SHOTS}/proposal_review.png")
    review.accept_selected_button.click()
    qtbot.waitUntil(lambda: review.accepted_versions == [2], timeout=20_000)

    after = texts(a.db, a_story)
    assert after[ids[0]] == "The lamp was dark, and Wren climbed the stair slowly."
    assert after[ids[1]] == "Her father was asleep beside the lens."
    assert after[ids[3]] == "She wrote entry 997 in the ledger."  # unticked: not taken
    assert any("Before accepting proposal" in v.label for v in versions.list_versions(
        a.db, a_story))
    with mkt_sqlite.client(token) as http:
        v2 = next(v for v in http.get(f"/v1/stories/{remote}/versions").json()["items"]
                  if v["number"] == 2)
    assert v2["credits"] == [ben_name]
    with mkt_sqlite.client(token) as http:  # the story's page in the panel credits him too
        page = pa._page_html(http.get(f"/v1/stories/{remote}").json(),
                             http.get(f"/v1/stories/{remote}/versions").json()["items"])
    assert f"with changes by {ben_name}" in page

    # --- the second proposal: changed since, refused in words, declined ---------------------
    qtbot.waitUntil(lambda: review.tree.topLevelItemCount() == 1 and review.detail is not None
                    and not review.busy and review.detail.title == "Red glove",
                    timeout=10_000)
    assert "published with 2 change(s)" in review.status.text()  # the news stays on screen
    marks = [review.change_list.item(i).text().split("\n")[2:]
             for i in range(review.change_list.count())]
    # ids[0] reads as proposed since version 2; ids[1] changed there since the proposal's base
    assert marks == [["✓ already in the story"], ["⚠ changed on the story since"], [], []]
    assert review.checked_ids() == [ids[3], ids[4]]
    review.change_list.setCurrentRow(1)
    assert "The story now reads" in review.diff.note.text()
    assert "asleep beside" in review.diff.note.text()
    review.grab().save(f"{SHOTS}/proposal_review_moved.png")
    review.accept_all_button.click()  # all: the changed one too, which the server refuses
    qtbot.waitUntil(lambda: not review.busy and review.status.is_error(), timeout=10_000)
    assert "changed since" in review.status.text()
    assert review.refused == {ids[1]}
    assert "refused" in review.change_list.item(1).text()
    assert "Accept selected” takes the other 2" in review.status.text()
    assert texts(a.db, a_story)[ids[4]] == "A blue glove, left hand, no name."  # nothing taken
    review.decline_button.click()
    answer(qtbot, review)
    qtbot.waitUntil(done(review, "Declined “Red glove”"), timeout=10_000)
    qtbot.waitUntil(lambda: review.tree.topLevelItemCount() == 0 and not review.busy,
                    timeout=10_000)
    assert not review.accept_all_button.isEnabled()
    QTest.keyClick(review, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: pa.proposals_button.text() == "Proposals (0)…", timeout=10_000)
    with mkt_sqlite.client(token) as http:
        statuses = {p["title"]: p["status"] for p in http.get(
            f"/v1/stories/{remote}/proposals", params={"status": "all"}).json()["items"]}
    assert statuses == {"Sharper arrival": "partially_accepted", "Red glove": "declined"}

    # --- the contributor sees what became of his proposals and withdraws an open one --------
    manuscript.apply_segment_texts(b.db, fork, {ids[2]: "Gulls argued on the rail, loudly."})
    pb.refresh_collaboration()
    propose = open_dialog(qtbot, pb, pb.propose_button, ProposeDialog)
    qtbot.waitUntil(lambda: propose.loaded and not propose.busy, timeout=10_000)
    propose.title.setText("Loud gulls")
    propose.send_button.click()
    qtbot.waitUntil(lambda: not propose.isVisible(), timeout=15_000)
    mine = open_dialog(qtbot, pb, pb.my_proposals_button, ProposalReviewDialog)
    qtbot.waitUntil(lambda: mine.tree.topLevelItemCount() == 3 and not mine.busy,
                    timeout=10_000)
    assert {row_of(mine.tree, t).text(1) for t in ("Sharper arrival", "Red glove",
                                                   "Loud gulls")} == \
        {"Partly accepted", "Declined", "Open — waiting for the owner"}
    assert not mine.accept_all_button.isVisible() and not mine.changelog.isVisible()
    mine.tree.setCurrentItem(row_of(mine.tree, "Red glove"))
    qtbot.waitUntil(lambda: mine.detail is not None and mine.summary().title == "Red glove"
                    and not mine.busy, timeout=10_000)
    assert not mine.decline_button.isEnabled()  # decided already: nothing to withdraw
    mine.tree.setCurrentItem(row_of(mine.tree, "Loud gulls"))
    qtbot.waitUntil(lambda: mine.detail is not None and mine.summary().title == "Loud gulls"
                    and not mine.busy, timeout=10_000)
    assert mine.decline_button.text() == "Withdraw proposal…" and mine.decline_button.isEnabled()
    # a proposal is the fork against its base: every paragraph Ben changed, the new one too
    assert mine.change_list.count() == len(mine.changes()) == 5
    assert any(c.proposed == "Gulls argued on the rail, loudly." for c in mine.changes())
    assert not mine.change_list.item(0).flags() & Qt.ItemFlag.ItemIsUserCheckable
    mine.grab().save(f"{SHOTS}/my_proposals.png")
    mine.decline_button.click()
    answer(qtbot, mine)
    qtbot.waitUntil(done(mine, "Withdrew “Loud gulls”"), timeout=10_000)
    qtbot.waitUntil(lambda: row_of(mine.tree, "Loud gulls") is not None
                    and row_of(mine.tree, "Loud gulls").text(1) == "Withdrawn"
                    and not mine.busy, timeout=10_000)
    QTest.keyClick(mine, Qt.Key.Key_Escape)

    # --- the contributor becomes an editor and publishes from the fork ----------------------
    people = open_dialog(qtbot, pa, pa.collaborators_button, CollaboratorsDialog)
    qtbot.waitUntil(lambda: people.role_combo(ben_name) is not None and not people.busy,
                    timeout=10_000)
    assert row_of(people.tree, ben_name).text(2) == "Accepted"
    combo = people.role_combo(ben_name)
    combo.setCurrentIndex(combo.findData("editor"))
    qtbot.waitUntil(done(people, f"{ben_name} is now editor"), timeout=10_000)
    QTest.keyClick(people, Qt.Key.Key_Escape)
    pb.refresh_collaboration()
    editor = open_dialog(qtbot, pb, pb.editor_publish_button, ProposeDialog)
    qtbot.waitUntil(lambda: editor.loaded and not editor.busy, timeout=10_000)
    editor.title.setText("Glove and ledger")
    editor.send_button.click()
    qtbot.waitUntil(lambda: not editor.busy and editor.status.is_error(), timeout=10_000)
    assert f"Version 2 was published by {ann_name} since your version 1" in \
        editor.status.text()
    assert "Nothing was published" in editor.status.text()
    assert editor.pull_button.isVisible() and editor.isVisible()
    editor.grab().save(f"{SHOTS}/publish_as_editor_moved.png")
    editor.pull_button.click()  # the panel's pull: one conflict, chosen in the conflict view
    qtbot.waitUntil(lambda: isinstance(pb.last_dialog, ConflictDialog)
                    and pb.last_dialog.isVisible(), timeout=20_000)
    conflict = pb.last_dialog
    assert [c.segment_id for c in conflict.conflicts] == [ids[1]]
    conflict.buttons["mine"].click()
    conflict.apply_button.click()
    qtbot.waitUntil(lambda: pulling.update_status(b.db, fork).base == 2, timeout=20_000)
    qtbot.waitUntil(lambda: pb.collab.base == 2, timeout=10_000)
    editor = open_dialog(qtbot, pb, pb.editor_publish_button, ProposeDialog)
    qtbot.waitUntil(lambda: editor.loaded and not editor.busy, timeout=10_000)
    assert editor.change_list.count() == 4  # against version 2 now: 1, 2 (the gulls), 3, 4
    editor.title.setText("Glove and ledger")
    editor.send_button.click()
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=15_000)
    assert editor.result == 3
    with mkt_sqlite.client(token) as http:
        v3 = next(v for v in http.get(f"/v1/stories/{remote}/versions").json()["items"]
                  if v["number"] == 3)
    assert (v3["author"], v3["changelog"]) == (ben_name, "Glove and ledger")
    assert pulling.update_status(b.db, fork).base == 3  # the fork follows what it published
