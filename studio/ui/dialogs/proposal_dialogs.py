"""Proposals, like pull requests for a story: a contributor sends the paragraphs their fork
changed; the owner (or an editor) reviews them and accepts all, some or none.

``ProposeDialog``: my local fork of a story I contribute to, against the version it was made
from — every changed paragraph with its differences marked, a title and a description, Send.
In ``mode="publish"`` (an editor's fork) the same view publishes the fork as the story's next
version instead, and a version published meanwhile by someone else is met with "pull, merge,
publish again" (the panel's pull does the merging).
``ProposalReviewDialog``: the open proposals of a story I own; for the chosen one, each changed
segment with a checkbox, where it is, whether the story changed there since, and the difference
(base struck through, proposal marked), then Accept selected / Accept all / Decline.  A segment
the server refuses (changed on the story since) is unticked with the reason, so the others can
be accepted straight after.
"""

from __future__ import annotations

import html
from typing import Any

import qasync
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListWidgetItem, QPlainTextEdit, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
    QWidget,
)

from studio.ui.dialogs.collab_common import (
    CollabDialog, DiffPair, changes_list, excerpt, plain_button, tone, when_text,
    where_text,
)

USER = Qt.ItemDataRole.UserRole
MOVED_MARK = "⚠ changed on the story since"
ALREADY_MARK = "✓ already in the story"


class ProposeDialog(CollabDialog):
    """Send my fork's changed paragraphs as a proposal (or, ``mode="publish"``, publish the
    fork as the next version, as an editor).  ``result`` is the proposal summary or the new
    version number; ``pull_requested`` is set when the author chose to pull and merge first."""

    def __init__(self, session, local_story_id: int, story_title: str, base_version: int,
                 owner: str = "", mode: str = "propose", service=None,
                 parent: QWidget | None = None):
        super().__init__(session, service, parent)
        self.story_id = local_story_id
        self.story_title = story_title or "Untitled"
        self.base_version = base_version
        self.mode = mode
        self.changes: list[Any] = []
        self.loaded = False
        self.result: Any = None
        self.pull_requested = False
        publish = mode == "publish"
        self.setObjectName("publishAsEditorDialog" if publish else "proposeDialog")
        self.setWindowTitle(("Publish as editor — " if publish else "Propose changes — ")
                            + self.story_title)
        self.resize(1000, 660)
        lay = QVBoxLayout(self)
        esc = html.escape
        by = f" (by {esc(owner)})" if owner else ""
        self.intro = QLabel(
            f"Publish your fork as the next version of <b>“{esc(self.story_title)}”</b>{by}. "
            f"It is based on version {base_version}: if someone published since, you are "
            "asked to pull and merge first — nothing is overwritten." if publish else
            f"Propose your changes to <b>“{esc(self.story_title)}”</b>{by}. Your fork is "
            f"compared with version {base_version}, the one you forked; the owner sees each "
            "changed paragraph and accepts all, some, or none of them.")
        self.intro.setWordWrap(True)
        lay.addWidget(self.intro)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.change_list = changes_list("proposedChanges")
        self.change_list.currentRowChanged.connect(self._show)
        split.addWidget(self.change_list)
        self.diff = DiffPair()
        self.diff.set_heads(f"Version {base_version}", "Yours")
        split.addWidget(self.diff)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        form = QFormLayout()
        self.title = QLineEdit()
        self.title.setObjectName("proposalTitle")
        self.title.setPlaceholderText("A short name for your changes, e.g. “Sharper harbour "
                                      "scene”")
        self.title.textChanged.connect(lambda _t: self.update_actions())
        self.description = QPlainTextEdit()
        self.description.setObjectName("proposalDescription")
        self.description.setPlaceholderText("What you changed and why (optional)")
        self.description.setMaximumHeight(70)
        if publish:
            self.title.setPlaceholderText("What changed in this version")
            form.addRow("Changelog", self.title)
            self.description.hide()
        else:
            form.addRow("Title", self.title)
            form.addRow("Description", self.description)
        lay.addLayout(form)

        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        self.pull_button = plain_button("Pull and merge now…", "pullFirst")
        self.pull_button.clicked.connect(self._pull_first)
        self.pull_button.hide()
        self.send_button = plain_button("Publish" if publish else "Send proposal",
                                        "sendProposal")
        self.send_button.setToolTip("Ctrl+Enter")
        self.send_button.clicked.connect(self.send)
        cancel = plain_button("Cancel", "cancelProposal")
        cancel.clicked.connect(self.reject)
        foot.addWidget(self.pull_button)
        foot.addWidget(self.send_button)
        foot.addWidget(cancel)
        lay.addLayout(foot)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.send_button.click)
        self.diff.clear("Comparing your fork with the version it was made from…")
        self.update_actions()
        self.title.setFocus()
        QTimer.singleShot(0, self.load)

    def update_actions(self) -> None:
        ready = self.loaded and not self.busy and bool(self.title.text().strip())
        self.send_button.setEnabled(ready and (bool(self.changes) or self.mode == "publish"))
        self.pull_button.setEnabled(not self.busy)

    @qasync.asyncSlot()
    async def load(self) -> None:
        ok, found = await self.run(
            f"Comparing your fork with version {self.base_version}…",
            self.run_db(self.service.proposal_changes, self.session.db, self.story_id))
        if not ok:
            return
        self.changes = list(found)
        self.loaded = True
        self.change_list.clear()
        for change in self.changes:
            item = QListWidgetItem(f"{where_text(change)}\n{excerpt(change.proposed)}")
            item.setToolTip(change.segment_id)
            self.change_list.addItem(item)
        count = len(self.changes)
        warning = getattr(found, "warning", None)
        if count:
            self.change_list.setCurrentRow(0)
            text = (f"{count} paragraph{'s' if count != 1 else ''} differ"
                    f"{'s' if count == 1 else ''} from version {self.base_version}.")
            if warning:
                self.status.warn(f"{text}<br>⚠ {html.escape(warning)}")
            else:
                self.status.info(text)
        else:
            self.diff.clear("No paragraph differs from the version you forked.")
            if self.mode == "publish":
                self.status.info(f"No paragraph differs from version {self.base_version}; "
                                 "other parts (modules, bible) are published as they are.")
            else:
                self.status.error(f"Nothing to propose: your fork is the same as version "
                                  f"{self.base_version}. Edit some paragraphs first.")
        self.update_actions()

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.changes):
            change = self.changes[row]
            self.diff.show_texts(change.base, change.proposed)

    @qasync.asyncSlot()
    async def send(self) -> None:
        title = self.title.text().strip()
        if self.busy or not self.loaded:
            return
        if not title:
            self.status.error("Give it a title first." if self.mode == "propose" else
                              "Write a changelog line first.")
            self.title.setFocus()
            return
        db, client = self.session.db, self.client()
        if self.mode == "publish":
            ok, result = await self.run(
                "Publishing…", self.service.publish_as_editor(db, client, self.story_id, title,
                                                              run_db=self.session.run_db))
            if not ok and getattr(self.last_error, "latest", None) is not None:
                self.pull_button.show()
                self.pull_button.setFocus()
        else:
            ok, result = await self.run(
                "Sending your proposal…",
                self.service.submit_proposal(db, client, self.story_id, title,
                                             self.description.toPlainText().strip(),
                                             run_db=self.session.run_db))
        if ok:
            self.result = result
            self.accept()

    def _pull_first(self) -> None:
        self.pull_requested = True
        self.done(2)


class ProposalReviewDialog(CollabDialog):
    """The open proposals of a story I own (``remote_story_id``), reviewed against my local
    copy of it (``local_story_id``), which accepted changes are written into.  With ``mine``
    (a contributor): my own proposals to it, whatever became of them, to read or withdraw."""

    storyChanged = Signal(int)  # the new version's number; the local story was updated

    def __init__(self, session, local_story_id: int, remote_story_id: str, story_title: str,
                 service=None, parent: QWidget | None = None, mine: bool = False):
        super().__init__(session, service, parent)
        self.mine = mine
        self.local_story_id = local_story_id
        self.remote_story_id = remote_story_id
        self.story_title = story_title or "Untitled"
        self.proposals: list[Any] = []
        self.detail: Any = None
        self.refused: set[str] = set()  # segments the server refused for the shown proposal
        self.accepted_versions: list[int] = []
        self.news = ""  # what the last accept or decline did, shown above the next summary
        self.setObjectName("proposalReviewDialog")
        self.setWindowTitle(f"{'My proposals' if mine else 'Proposals'} — {self.story_title}")
        self.resize(1080, 720)
        lay = QVBoxLayout(self)
        intro = QLabel(
            f"<b>What you proposed for “{html.escape(self.story_title)}”.</b> Each proposal "
            "says whether the owner accepted it (all or some of it) or declined it; an open "
            "one can be withdrawn." if mine else
            f"<b>Proposed changes to “{html.escape(self.story_title)}”.</b> Tick the "
            "segments to take; accepting makes a new version that credits the "
            "proposal's author, and your copy is updated (a version of it is saved "
            "first).")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        self.tree = QTreeWidget()
        self.tree.setObjectName("proposalList")
        self.tree.setHeaderLabels(["Proposal", "Status" if mine else "Author", "Based on",
                                   "Sent", "Changes"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for column, width in ((1, 210 if mine else 120), (2, 90), (3, 130), (4, 80)):
            self.tree.setColumnWidth(column, width)
        self.tree.setMaximumHeight(118)
        self.tree.currentItemChanged.connect(lambda *_: self._proposal_chosen())
        lay.addWidget(self.tree)
        self.description = QLabel()
        self.description.setObjectName("proposalAbout")
        self.description.setWordWrap(True)
        lay.addWidget(self.description)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.change_list = changes_list("reviewChanges")
        self.change_list.currentRowChanged.connect(self._show_change)
        self.change_list.itemChanged.connect(lambda _i: self.update_actions())
        split.addWidget(self.change_list)
        self.diff = DiffPair()
        split.addWidget(self.diff)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

        row = QHBoxLayout()
        changelog_label = QLabel("Changelog")
        row.addWidget(changelog_label)
        self.changelog = QLineEdit()
        self.changelog.setObjectName("acceptChangelog")
        self.changelog.setPlaceholderText("What the new version says about these changes")
        row.addWidget(self.changelog, 1)
        lay.addLayout(row)
        for widget in (changelog_label, self.changelog):
            widget.setVisible(not mine)

        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        self.accept_selected_button = plain_button("Accept selected", "acceptSelected")
        self.accept_selected_button.setToolTip("Take the ticked segments (Ctrl+Enter)")
        self.accept_selected_button.clicked.connect(lambda: self.accept_changes(False))
        self.accept_all_button = plain_button("Accept all", "acceptAll")
        self.accept_all_button.clicked.connect(lambda: self.accept_changes(True))
        self.decline_button = plain_button("Withdraw proposal…" if mine else
                                           "Decline proposal…", "declineProposal")
        self.decline_button.clicked.connect(self.decline)
        for button in (self.accept_selected_button, self.accept_all_button):
            button.setVisible(not mine)
        close = plain_button("Close", "closeProposals")
        close.clicked.connect(self.reject)
        for button in (self.accept_selected_button, self.accept_all_button,
                       self.decline_button, close):
            foot.addWidget(button)
        lay.addLayout(foot)
        QShortcut(QKeySequence("Ctrl+Return"), self,
                  activated=self.accept_selected_button.click)
        self.diff.clear("Loading the proposals…")
        self.update_actions()
        QTimer.singleShot(0, self.reload)

    # --- state ------------------------------------------------------------------------------

    def changes(self) -> list[Any]:
        return list(getattr(self.detail, "changes", []) or []) if self.detail else []

    def summary(self) -> Any:
        return getattr(self.detail, "summary", self.detail)

    def checked_ids(self) -> list[str]:
        out = []
        for i in range(self.change_list.count()):
            item = self.change_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(USER))
        return out

    def set_checked(self, segment_id: str, on: bool) -> None:
        for i in range(self.change_list.count()):
            item = self.change_list.item(i)
            if item.data(USER) == segment_id:
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def update_actions(self) -> None:
        ready = self.detail is not None and not self.busy
        chosen = len(self.checked_ids()) if self.detail is not None else 0
        total = len(self.changes())
        self.accept_selected_button.setEnabled(ready and chosen > 0)
        self.accept_selected_button.setText(f"Accept selected ({chosen} of {total})"
                                            if self.detail is not None else "Accept selected")
        self.accept_all_button.setEnabled(ready and total > 0)
        self.decline_button.setEnabled(ready and (not self.mine or getattr(
            self.summary(), "status", "open") == "open"))
        self.tree.setEnabled(not self.busy)

    # --- loading ----------------------------------------------------------------------------

    @qasync.asyncSlot()
    async def reload(self) -> None:
        ok, found = await self.run(
            "Loading the proposals…",
            self.service.list_proposals(self.client(), self.remote_story_id,
                                        "all" if self.mine else "open"))
        if not ok:
            return
        self.proposals = list(found)
        self.tree.clear()
        self.detail = None
        for p in self.proposals:
            count = getattr(p, "segment_count", None)
            status = STATUS_WORDS.get(p.status, p.status or "") if self.mine else ""
            item = QTreeWidgetItem([p.title or "(untitled)", status or p.author or "",
                                    f"v{p.base_version}", when_text(p.created_at),
                                    "" if count is None else str(count)])
            item.setData(0, USER, p.id)
            item.setToolTip(0, p.description or p.title or "")
            item.setTextAlignment(4, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.update_actions()
        if self.proposals:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        else:
            self.change_list.clear()
            self.description.clear()
            self.diff.clear("You have not proposed changes to this story yet." if self.mine
                            else "No open proposals. When a contributor proposes changes, "
                            "they show here.")
            self.update_actions()
        if not self.proposals:
            self._inform("No proposals yet." if self.mine else "No open proposals.")

    def _inform(self, text: str) -> None:
        """Show ``text`` after the news of the last decision (kept until the next one)."""
        news, self.news = self.news, ""
        self.status.info("<br>".join(x for x in (news, text) if x))

    def _proposal_chosen(self) -> None:
        item = self.tree.currentItem()
        if item is not None and not self.busy:
            self.load_detail(item.data(0, USER))

    @qasync.asyncSlot(str)
    async def load_detail(self, proposal_id: str) -> None:
        ok, detail = await self.run("Loading the proposal…",
                                    self.service.load_proposal(self.client(), proposal_id))
        if not ok:
            return
        self.detail = detail
        self.refused = set()
        s = self.summary()
        about = f"<b>{html.escape(s.title or '')}</b> by {html.escape(s.author or '')}, " \
                f"based on version {s.base_version}"
        if getattr(s, "description", ""):
            about += f" — {html.escape(s.description)}"
        self.description.setText(about)
        self.diff.set_heads(f"Version {s.base_version}", f"Proposed by {s.author}")
        self.changelog.setText(f"Accepted “{s.title}” by {s.author}")
        if self.mine:
            self.diff.set_heads(f"Version {s.base_version}", "Your proposal")
        self.change_list.blockSignals(True)
        self.change_list.clear()
        for change in self.changes():
            item = QListWidgetItem()
            item.setData(USER, change.segment_id)
            if self.mine:  # the author reads; only the owner and editors choose
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            else:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                # A segment the story changed since cannot be taken as it is, and one the
                # story already has needs nothing: both unticked, and marked.
                item.setCheckState(Qt.CheckState.Unchecked if change.moved_on
                                   else Qt.CheckState.Checked)
            self.change_list.addItem(item)
            self._label(item, change)
        self.change_list.blockSignals(False)
        kinds = [self._kind(c) for c in self.changes()]
        moved, already = kinds.count("moved"), kinds.count("already")
        count = len(kinds)
        if count:
            self.change_list.setCurrentRow(0)
        else:
            self.diff.clear("This proposal changes nothing.")
        if self.mine:
            self._inform(
                f"{count} changed segment{'s' if count != 1 else ''}."
                + (f" {moved} changed on the story since version {s.base_version}: the owner "
                   "cannot take those as they are — pull the newer version and propose again."
                   if moved else "")
                + (f" {already} already read{'s' if already == 1 else ''} as you proposed."
                   if already else ""))
            self.update_actions()
            return
        self._inform(
            f"{count} changed segment{'s' if count != 1 else ''}."
            + (f" {moved} changed on the story since version {s.base_version}: unticked "
               "(accepting them would overwrite newer text)." if moved else "")
            + (f" {already} already read{'s' if already == 1 else ''} as proposed: unticked."
               if already else ""))
        self.update_actions()

    def _kind(self, change: Any) -> str:
        """'refused' (by the server), 'already' (the story reads so now), 'moved' (the story
        changed there since the proposal's base) or '' (free to take)."""
        if change.segment_id in self.refused:
            return "refused"
        if change.moved_on and change.current == change.proposed:
            return "already"
        return "moved" if change.moved_on else ""

    def _label(self, item: QListWidgetItem, change: Any) -> None:
        kind = self._kind(change)
        marks = {"refused": "⚠ refused: changed on the story since", "moved": MOVED_MARK,
                 "already": ALREADY_MARK}
        item.setText(f"{where_text(change)}\n{excerpt(change.proposed)}"
                     + (f"\n{marks[kind]}" if kind else ""))
        item.setToolTip(change.segment_id)
        if kind in ("refused", "moved"):
            item.setForeground(QBrush(QColor(tone("moved"))))
        elif kind == "already":
            item.setForeground(QBrush(QColor(tone("faint"))))

    def _show_change(self, row: int) -> None:
        changes = self.changes()
        if not 0 <= row < len(changes):
            return
        c = changes[row]
        s = self.summary()
        note, kind = "", self._kind(c)
        if kind == "already":
            note = (f"<span style='color:{tone('faint')}'><b>{ALREADY_MARK}</b>: the story "
                    "already reads as proposed (accepted earlier, or written the same way)"
                    + (".</span>" if self.mine else "; nothing to take.</span>"))
        elif kind:
            if c.current is None:
                note = "This segment is no longer in the story."
            else:
                note = (f"<span style='color:{tone('moved')}'><b>{MOVED_MARK}</b> version "
                        f"{s.base_version}. The story now reads:</span> "
                        f"<i>“{html.escape(c.current)}”</i><br>"
                        + ("The owner cannot take this one as it is: pull the newer version "
                           "into your copy and propose it again." if self.mine else
                           "Accepting would overwrite that, so the marketplace refuses it: "
                           f"ask {html.escape(s.author)} to update the proposal."))
        self.diff.show_texts(c.base, c.proposed, note)

    # --- decisions --------------------------------------------------------------------------

    @qasync.asyncSlot()
    async def accept_changes(self, everything: bool = False) -> None:
        if self.detail is None or self.busy:
            return
        s = self.summary()
        chosen = None if everything else self.checked_ids()
        if chosen is not None and not chosen:
            self.status.error("Tick at least one segment to accept.")
            return
        ok, result = await self.run(
            "Accepting…",
            self.service.accept_proposal(self.session.db, self.client(), self.local_story_id,
                                         s.id, chosen, self.changelog.text().strip(),
                                         run_db=self.session.run_db))
        if not ok:
            conflicts = list(getattr(self.last_error, "conflicts", None) or [])
            if conflicts:
                self._refuse(conflicts)
            return
        self.accepted_versions.append(result.version)
        taken = len(result.accepted)
        self.news = html.escape(getattr(result, "message", "") or (
            f"Version {result.version} is published with {taken} change"
            f"{'s' if taken != 1 else ''} by {s.author}, who is credited."))
        self.status.info(self.news)
        self.storyChanged.emit(result.version)
        self.reload()

    def _refuse(self, conflicts: list[str]) -> None:
        """Untick what the server refused and say how to go on."""
        self.refused |= set(conflicts)
        by_id = {c.segment_id: c for c in self.changes()}
        for i in range(self.change_list.count()):
            item = self.change_list.item(i)
            change = by_id.get(item.data(USER))
            if change is not None and change.segment_id in self.refused:
                item.setCheckState(Qt.CheckState.Unchecked)
                self._label(item, change)
        self._show_change(self.change_list.currentRow())
        left = len(self.checked_ids())
        self.status.error(self.status.text() + (
            f"<br>Unticked {len(conflicts)} segment{'s' if len(conflicts) != 1 else ''}: "
            f"“Accept selected” takes the other {left}." if left else
            "<br>Those segments are unticked; nothing else is left to accept."))
        self.update_actions()

    @qasync.asyncSlot()
    async def decline(self) -> None:
        if self.detail is None or self.busy:
            return
        s = self.summary()
        if self.mine:
            await self._withdraw(s)
            return
        if not await self.confirm(
                "Decline a proposal",
                f"Decline “{s.title}” by {s.author}?\n\nNothing of it goes into the story; "
                f"{s.author} sees that it was declined.", "Decline proposal"):
            return
        ok, _ = await self.run("Declining…", self.service.decline_proposal(self.client(), s.id))
        if ok:
            self.news = f"Declined “{html.escape(s.title)}” by {html.escape(s.author)}."
            self.status.info(self.news)
            self.reload()

    async def _withdraw(self, s: Any) -> None:
        if not await self.confirm(
                "Withdraw a proposal",
                f"Withdraw “{s.title}”?\n\nThe owner will no longer see it among the open "
                "proposals; your copy of the story keeps your changes.", "Withdraw proposal"):
            return
        ok, _ = await self.run("Withdrawing…",
                               self.service.withdraw_proposal(self.client(), s.id))
        if ok:
            self.news = f"Withdrew “{html.escape(s.title)}”."
            self.status.info(self.news)
            self.reload()


STATUS_WORDS = {"open": "Open — waiting for the owner", "accepted": "Accepted",
                "partially_accepted": "Partly accepted", "declined": "Declined",
                "withdrawn": "Withdrawn"}
