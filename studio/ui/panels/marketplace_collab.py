"""The marketplace panel's co-authoring actions, a mixin of ``MarketplacePanel``.

For the open story the panel shows what the signed-in author may do with others:
- a story I published (and own on this marketplace): "Collaborators…" and "Proposals (N)…";
- my local fork of a story I collaborate on: "Propose Changes…" (contributor and editor) and
  "Publish as Editor…" (editor; an editor may also review the story's proposals);
- anywhere: "Invitations (N)" when someone invited me, and the stories shared with me in the
  account menu (to open their page and fork them).

What is shown is worked out in the background (``refresh_collaboration``) after a sign-in and
whenever a story opens; offline, the buttons simply stay hidden.  The marketplace enforces every
role: the buttons only spare the author actions that would be refused.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import qasync
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton

from studio.ui.panels.marketplace_own_story import exec_async


@dataclass
class CollabState:
    """What the panel knows about the open story's collaboration (and my invitations)."""

    owned_remote: str | None = None  # my published story's marketplace id
    review_remote: str | None = None  # whose proposals I may review (owner or editor)
    open_proposals: int = 0
    membership: Any = None  # services.collaboration.Membership of the fork's source
    base: int = 0  # the fork's base version
    invitations: int = 0
    memberships: list = field(default_factory=list)


POLL_MS = 180_000


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/") == (b or "").rstrip("/")


class CollaborationActions:
    def _build_collaboration(self, own: QHBoxLayout, top: QHBoxLayout) -> None:
        """The buttons (hidden until they apply): in the open story's row and the top bar."""
        self.collab = CollabState()
        self._collab_runs = itertools.count(1)
        self._collab_run = 0
        self._collab_waiting = 0
        # New invitations and proposals arrive without the author doing anything: look again
        # now and then (two small GETs), besides on sign-in, story open and panel shown.
        self._collab_timer = QTimer(self)
        self._collab_timer.setInterval(POLL_MS)
        self._collab_timer.timeout.connect(self.refresh_collaboration_soon)
        self._collab_timer.start()
        specs = (("collaborators_button", "Collaborators…", "mkCollaborators",
                  "Invite co-authors to this published story and set their roles",
                  self.open_collaborators),
                 ("proposals_button", "Proposals…", "mkProposals",
                  "Review the changes contributors proposed", self.open_proposals),
                 ("propose_button", "Propose Changes…", "mkPropose",
                  "Send the paragraphs you changed in this copy to the story's owner",
                  self.propose_changes),
                 ("editor_publish_button", "Publish as Editor…", "mkEditorPublish",
                  "Publish this copy as the story's next version (you are its editor)",
                  self.publish_as_editor),
                 ("my_proposals_button", "My Proposals…", "mkMyProposals",
                  "What became of the changes you proposed; withdraw an open one",
                  self.open_my_proposals))
        for attr, text, name, tip, slot in specs:
            button = QPushButton(text)
            button.setObjectName(name)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            button.hide()
            setattr(self, attr, button)
            own.insertWidget(own.count() - 2, button)  # before pull and publish
        self.invitations_button = QPushButton("Invitations")
        self.invitations_button.setObjectName("mkInvitations")
        self.invitations_button.setToolTip("Authors invited you to co-write their stories")
        self.invitations_button.setStyleSheet("font-weight: bold;")
        self.invitations_button.clicked.connect(self.show_invitations)
        self.invitations_button.hide()
        top.insertWidget(top.count() - 1, self.invitations_button)  # before the account

    def _collab_menu(self, menu: QMenu, username: str) -> None:
        """The account menu's co-authoring entries (signed in only)."""
        if not username:
            return
        menu.addSeparator()
        menu.addAction("Invitations to co-write…", self.show_invitations)
        shared = menu.addMenu("Stories shared with me")
        shared.setObjectName("mkSharedMenu")
        shared.aboutToShow.connect(lambda m=shared: self._fill_shared(m))

    def _fill_shared(self, menu: QMenu) -> None:
        menu.clear()
        for m in self.collab.memberships:
            menu.addAction(f"{m.title or 'Untitled'} — by {m.owner} ({m.role})",
                           lambda sid=m.story_id: self.open_story_page(sid))
        if not self.collab.memberships:
            menu.addAction("None yet").setEnabled(False)

    # --- what applies -----------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh_collaboration_soon()

    def collab_outbox_status(self, status) -> None:
        """Something left the outbox (a first publish makes "Collaborators…" apply)."""
        waiting = getattr(status, "waiting", 0) or 0
        if waiting < self._collab_waiting:
            self.refresh_collaboration_soon()
        self._collab_waiting = waiting

    def refresh_collaboration_soon(self) -> None:
        """Refresh after the current event (signed out: hide everything now, no network)."""
        if self.session is None or not self.session.username:
            self._collab_run = next(self._collab_runs)  # a refresh under way is stale now
            self._show_collab(CollabState())
            return
        QTimer.singleShot(0, self._refresh_if_loop)

    def _refresh_if_loop(self) -> None:
        """The refresh is a coroutine on the qasync loop; none runs while the app starts or
        after it stopped (a late timer then has nothing to do)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.refresh_collaboration()

    @qasync.asyncSlot()
    async def refresh_collaboration(self) -> None:
        """Work out which co-authoring buttons apply (quietly: offline shows none)."""
        from studio.services import collaboration as service
        from studio.services import pulling

        run = self._collab_run = next(self._collab_runs)
        session, doc = self.session, self.document
        state = CollabState()
        if session is None or not session.username:
            self._show_collab(state)
            return
        client = session.client()
        try:
            state.invitations = len(await service.my_invitations(client))
            state.memberships = list(await service.my_collaborations(client))
        except Exception:  # noqa: BLE001 - offline or an older server: nothing to show
            pass
        if doc is not None:
            try:
                pub = await session.run_db(pulling.publish_status, doc.db, doc.story_id)
                if pub.remote_story_id and _same(pub.server_url, session.url):
                    detail = await client.story(pub.remote_story_id)
                    if detail.get("owner") == session.username:
                        state.owned_remote = state.review_remote = pub.remote_story_id
                upd = await session.run_db(pulling.update_status, doc.db, doc.story_id)
                if upd.source_story_id and _same(upd.server_url, session.url):
                    state.base = upd.base
                    state.membership = next((m for m in state.memberships
                                             if m.story_id == upd.source_story_id), None)
                    if state.membership is not None and state.membership.role == "editor" \
                            and state.review_remote is None:
                        state.review_remote = upd.source_story_id
                if state.review_remote:
                    state.open_proposals = len(await service.list_proposals(
                        client, state.review_remote, "open"))
            except Exception:  # noqa: BLE001 - offline: the buttons stay hidden
                pass
        if run == self._collab_run and doc is self.document:
            self._show_collab(state)

    def _show_collab(self, state: CollabState) -> None:
        if not shiboken6.isValid(self.collaborators_button):
            return  # the panel was closed while the refresh waited on the network
        self.collab = state
        role = state.membership.role if state.membership is not None else None
        self.collaborators_button.setVisible(state.owned_remote is not None)
        self.proposals_button.setVisible(state.review_remote is not None)
        self.proposals_button.setText(f"Proposals ({state.open_proposals})…")
        self.proposals_button.setStyleSheet("font-weight: bold;" if state.open_proposals
                                            else "")
        self.propose_button.setVisible(role in ("contributor", "editor"))
        self.editor_publish_button.setVisible(role == "editor")
        self.my_proposals_button.setVisible(role == "contributor")
        self.invitations_button.setVisible(state.invitations > 0)
        self.invitations_button.setText(f"Invitations ({state.invitations})")

    # --- the actions ------------------------------------------------------------------------

    def _title(self) -> str:
        doc = self.document
        return (doc.detail.fields.title if doc is not None else "") or "Untitled"

    @qasync.asyncSlot()
    async def open_collaborators(self) -> None:
        from studio.ui.dialogs.collaborators_dialog import CollaboratorsDialog

        if self.collab.owned_remote is None:
            return
        dialog = CollaboratorsDialog(self.session, self.collab.owned_remote, self._title(),
                                     parent=self)
        self.last_dialog = dialog
        await exec_async(dialog)
        self.refresh_collaboration()

    @qasync.asyncSlot()
    async def open_proposals(self) -> None:
        from studio.ui.dialogs.proposal_dialogs import ProposalReviewDialog

        doc, remote = self.document, self.collab.review_remote
        if doc is None or remote is None:
            return
        doc.flush()  # the accepted texts are written into the story: save what is typed first
        title = self.collab.membership.title if remote != self.collab.owned_remote \
            and self.collab.membership is not None else self._title()
        dialog = ProposalReviewDialog(self.session, doc.story_id, remote, title, parent=self)
        dialog.storyChanged.connect(self._story_changed_by_collab)
        self.last_dialog = dialog
        await exec_async(dialog)
        if dialog.accepted_versions:
            self.messageRequested.emit(f"Accepted proposal changes as version "
                                       f"{dialog.accepted_versions[-1]}.")
        self.refresh_collaboration()

    @qasync.asyncSlot()
    async def open_my_proposals(self) -> None:
        from studio.ui.dialogs.proposal_dialogs import ProposalReviewDialog

        doc, member = self.document, self.collab.membership
        if doc is None or member is None:
            return
        dialog = ProposalReviewDialog(self.session, doc.story_id, member.story_id,
                                      member.title, parent=self, mine=True)
        self.last_dialog = dialog
        await exec_async(dialog)
        self.refresh_collaboration()

    def _story_changed_by_collab(self, _version: int = 0) -> None:
        if self.window_ is not None:
            self.window_.reload_story()

    async def _fork_dialog(self, mode: str):
        from studio.ui.dialogs.proposal_dialogs import ProposeDialog

        doc, member = self.document, self.collab.membership
        if doc is None or member is None:
            return None
        doc.flush()  # the dialog compares what is saved: save what is typed first
        dialog = ProposeDialog(self.session, doc.story_id, member.title, self.collab.base,
                               member.owner, mode, parent=self)
        self.last_dialog = dialog
        await exec_async(dialog)
        return dialog

    @qasync.asyncSlot()
    async def propose_changes(self) -> None:
        dialog = await self._fork_dialog("propose")
        if dialog is not None and dialog.result is not None:
            owner = self.collab.membership.owner if self.collab.membership else "the owner"
            self.messageRequested.emit(f"Proposal “{dialog.result.title}” sent: {owner} "
                                       "reviews it and accepts all, some, or none of it.")
            self.refresh_collaboration()

    @qasync.asyncSlot()
    async def publish_as_editor(self) -> None:
        dialog = await self._fork_dialog("publish")
        if dialog is None:
            return
        if dialog.pull_requested:
            self.pull_updates()
        elif dialog.result is not None:
            self.update_info = None
            self.messageRequested.emit(f"Published version {dialog.result} of "
                                       f"“{self.collab.membership.title}”.")
            self._story_changed_by_collab()
            self.refresh_collaboration()

    @qasync.asyncSlot()
    async def show_invitations(self, *_args) -> None:
        from studio.ui.dialogs.collaborators_dialog import InvitationsDialog

        if self.session is None or not self.session.username:
            return
        dialog = InvitationsDialog(self.session, parent=self)
        dialog.storyAccepted.connect(lambda story_id, _role: self.open_story_page(story_id))
        self.last_dialog = dialog
        await exec_async(dialog)
        self.refresh_collaboration()
