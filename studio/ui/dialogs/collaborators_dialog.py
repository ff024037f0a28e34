"""Who works on one of my published stories, and the invitations others sent me.

``CollaboratorsDialog`` (the owner's): everyone with a role on the story — the owner first, then
each collaborator with a role to change in place and whether they accepted yet; invite someone
by username with a role (each role explained in one line), remove someone (asked first).
``InvitationsDialog`` (anyone's): the invitations waiting for me, to accept or decline.

Every change is a call to the marketplace, which enforces the roles; the dialogs only ask and
show what it answered.  Keys: Enter in the name field invites, Del removes, Esc closes.
"""

from __future__ import annotations

import html
from typing import Any

import qasync
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.ui.dialogs.collab_common import (
    ROLE_NAMES, ROLES, CollabDialog, plain_button, role_line, tone, when_text,
)

STATUS_WORDS = {"invited": "Invited — no answer yet", "accepted": "Accepted"}
USER = Qt.ItemDataRole.UserRole
ROW_HEIGHT = 30  # room for the role combo box, and the same for every row


class CollaboratorsDialog(CollabDialog):
    """The collaborators of ``story_id`` (a marketplace id of a story I own)."""

    changed = Signal()  # someone was invited, removed or given another role

    def __init__(self, session, story_id: str, story_title: str, service=None,
                 parent: QWidget | None = None):
        super().__init__(session, service, parent)
        self.story_id = story_id
        self.story_title = story_title or "Untitled"
        self.owner = session.username or "you"
        self.collaborators: list[Any] = []
        self._filling = False
        self.setObjectName("collaboratorsDialog")
        self.setWindowTitle(f"Collaborators — {self.story_title}")
        self.resize(760, 520)
        lay = QVBoxLayout(self)
        intro = QLabel(f"<b>Who works on “{html.escape(self.story_title)}”.</b> The marketplace "
                       "enforces each role: a person can do only what their role allows, "
                       "whatever app they use.")
        intro.setWordWrap(True)
        lay.addWidget(intro)

        self.tree = QTreeWidget()
        self.tree.setObjectName("collaboratorList")
        self.tree.setHeaderLabels(["Person", "Role", "Status", "Invited"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 150), (2, 190), (3, 190)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.tree.setColumnWidth(column, width)
        header.setStretchLastSection(False)
        self.tree.currentItemChanged.connect(lambda *_: self.update_actions())
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree,
                  activated=self.remove_selected,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        lay.addWidget(self.tree, 1)

        invite = QGroupBox("Invite someone")
        invite_lay = QVBoxLayout(invite)
        row = QHBoxLayout()
        self.invite_name = QLineEdit()
        self.invite_name.setObjectName("inviteName")
        self.invite_name.setPlaceholderText("Their username on this marketplace")
        self.invite_name.setClearButtonEnabled(True)
        self.invite_name.returnPressed.connect(self.invite)
        self.invite_name.textChanged.connect(lambda _t: self.update_actions())
        self.invite_role = QComboBox()
        self.invite_role.setObjectName("inviteRole")
        for key, name, _duty in ROLES:
            self.invite_role.addItem(name, key)
        self.invite_role.setCurrentIndex(self.invite_role.findData("contributor"))
        self.invite_role.currentIndexChanged.connect(lambda _i: self._show_roles())
        self.invite_button = plain_button("Invite", "inviteButton")
        self.invite_button.setToolTip("Send the invitation (Enter in the name field)")
        self.invite_button.clicked.connect(self.invite)
        row.addWidget(QLabel("Username"))
        row.addWidget(self.invite_name, 1)
        row.addWidget(QLabel("as"))
        row.addWidget(self.invite_role)
        row.addWidget(self.invite_button)
        invite_lay.addLayout(row)
        self.roles_legend = QLabel()
        self.roles_legend.setObjectName("roleLegend")
        self.roles_legend.setWordWrap(True)
        invite_lay.addWidget(self.roles_legend)
        lay.addWidget(invite)

        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        self.remove_button = plain_button("Remove…", "removeCollaborator")
        self.remove_button.setToolTip("Remove the selected person, or withdraw their "
                                      "invitation (Del)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.close_button = plain_button("Close", "closeCollaborators")
        self.close_button.clicked.connect(self.reject)
        foot.addWidget(self.remove_button)
        foot.addWidget(self.close_button)
        lay.addLayout(foot)
        self._show_roles()
        self._fill()
        self.invite_name.setFocus()
        QTimer.singleShot(0, self.reload)

    # --- showing ----------------------------------------------------------------------------

    def _show_roles(self) -> None:
        chosen = self.invite_role.currentData()
        lines = []
        for key, name, duty in ROLES:
            text = f"<b>{name}</b> — {html.escape(duty)}"
            lines.append(f"<span style='color:palette(highlight)'>▸ {text}</span>"
                         if key == chosen else
                         f"<span style='color:{tone('faint')}'>&nbsp;&nbsp;{text}</span>")
        self.roles_legend.setText("<br>".join(lines))

    def _fill(self) -> None:
        """The rows: the owner, then every collaborator (their role as a combo box)."""
        self._filling = True
        keep = self.selected_username()
        self.tree.clear()
        owner = QTreeWidgetItem([f"{self.owner} (you)", "Owner", "—", ""])
        owner.setToolTip(1, "The owner cannot be removed or given another role.")
        owner.setSizeHint(0, QSize(0, ROW_HEIGHT))
        self.tree.addTopLevelItem(owner)
        for person in self.collaborators:
            item = QTreeWidgetItem([person.username, "", STATUS_WORDS.get(person.status,
                                                                          person.status),
                                    self._invited_text(person)])
            item.setData(0, USER, person.username)
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            if person.status != "accepted":
                font = item.font(2)
                font.setItalic(True)
                item.setFont(2, font)
            self.tree.addTopLevelItem(item)
            combo = QComboBox()
            combo.setObjectName(f"role_{person.username}")
            for key, name, _duty in ROLES:
                combo.addItem(name, key)
                combo.setItemData(combo.count() - 1, role_line(key), Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(max(0, combo.findData(person.role)))
            combo.setToolTip(role_line(person.role))
            combo.currentIndexChanged.connect(
                lambda _i, c=combo, name=person.username: self._role_picked(name, c))
            self.tree.setItemWidget(item, 1, combo)
            if person.username == keep:
                self.tree.setCurrentItem(item)
        self._filling = False
        self.update_actions()

    def _invited_text(self, person: Any) -> str:
        by = getattr(person, "invited_by", "") or ""
        when = when_text(getattr(person, "created_at", None))
        by = f"by {by}" if by and by != self.owner else ""  # the owner: said by the row above
        return " · ".join(x for x in (when, by) if x)

    def selected_username(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, USER) if item is not None else None

    def role_combo(self, username: str) -> QComboBox | None:
        return self.findChild(QComboBox, f"role_{username}")

    def update_actions(self) -> None:
        busy = self.busy
        self.invite_button.setEnabled(not busy and bool(self.invite_name.text().strip()))
        self.invite_name.setReadOnly(busy)
        self.invite_role.setEnabled(not busy)
        self.remove_button.setEnabled(not busy and self.selected_username() is not None)
        for combo in self.tree.findChildren(QComboBox):
            combo.setEnabled(not busy)

    # --- calls ------------------------------------------------------------------------------

    @qasync.asyncSlot()
    async def reload(self) -> None:
        ok, found = await self.run("Loading collaborators…",
                                   self.service.list_collaborators(self.client(), self.story_id))
        if ok:
            self.collaborators = list(found)
            self._fill()
            waiting = sum(1 for p in self.collaborators if p.status != "accepted")
            self.status.info(self._summary(waiting) if self.collaborators else
                             "Nobody else works on this story yet: invite someone below.")

    def _summary(self, waiting: int) -> str:
        count = len(self.collaborators)
        text = f"{count} collaborator{'s' if count != 1 else ''}"
        return text + (f", {waiting} not answered yet." if waiting else ".")

    @qasync.asyncSlot()
    async def invite(self) -> None:
        name = self.invite_name.text().strip()
        if self.busy:
            return
        if not name:
            self.status.error("Type the username of the person to invite.")
            self.invite_name.setFocus()
            return
        role = self.invite_role.currentData()
        ok, person = await self.run(
            f"Inviting {name}…", self.service.invite(self.client(), self.story_id, name, role))
        if not ok:
            self.invite_name.setFocus()
            self.invite_name.selectAll()
            return
        self.collaborators = [p for p in self.collaborators if p.username != person.username]
        self.collaborators.append(person)
        self._fill()
        self.invite_name.clear()
        self.invite_name.setFocus()
        self.status.info(f"Invited {html.escape(person.username)} as "
                         f"{ROLE_NAMES.get(person.role, person.role).lower()}: they see the "
                         "invitation in their marketplace panel and accept or decline it.")
        self.changed.emit()

    def _role_picked(self, username: str, combo: QComboBox) -> None:
        if not self._filling:
            self.change_role(username, combo.currentData())

    @qasync.asyncSlot(str, str)
    async def change_role(self, username: str, role: str) -> None:
        person = next((p for p in self.collaborators if p.username == username), None)
        if person is None or person.role == role:
            return
        ok, updated = await self.run(
            f"Making {username} {ROLE_NAMES.get(role, role).lower()}…",
            self.service.change_role(self.client(), self.story_id, username, role))
        if ok:
            self.collaborators = [updated if p.username == username else p
                                  for p in self.collaborators]
            self.status.info(f"{html.escape(username)} is now "
                             f"{html.escape(role_line(updated.role).lower())}.")
            self.changed.emit()
        self._fill()  # on a refusal this puts the combo back to the role they still have

    @qasync.asyncSlot()
    async def remove_selected(self) -> None:
        username = self.selected_username()
        if self.busy or not username:
            return
        person = next(p for p in self.collaborators if p.username == username)
        invited = person.status != "accepted"
        question = (f"Withdraw the invitation to {username}?" if invited else
                    f"Remove {username} from “{self.story_title}”?\n\nThey lose their access "
                    "at once; their earlier work in the story's versions stays.")
        if not await self.confirm("Remove a collaborator", question,
                                  "Withdraw invitation" if invited else "Remove"):
            return
        ok, _ = await self.run(f"Removing {username}…",
                               self.service.remove(self.client(), self.story_id, username))
        if ok:
            self.collaborators = [p for p in self.collaborators if p.username != username]
            self._fill()
            self.status.info(f"{html.escape(username)} was removed."
                             if not invited else
                             f"The invitation to {html.escape(username)} was withdrawn.")
            self.changed.emit()


class InvitationsDialog(CollabDialog):
    """The invitations waiting for me: accept (then fork and work) or decline."""

    storyAccepted = Signal(str, str)  # marketplace story id, role
    changed = Signal()

    def __init__(self, session, service=None, parent: QWidget | None = None):
        super().__init__(session, service, parent)
        self.invitations: list[Any] = []
        self.setObjectName("invitationsDialog")
        self.setWindowTitle("Invitations to co-write")
        self.resize(700, 380)
        lay = QVBoxLayout(self)
        intro = QLabel("Other authors invited you to work on their stories. Accept to get the "
                       "role's rights on the story; decline and the invitation is gone.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setObjectName("invitationList")
        self.tree.setHeaderLabels(["Story", "Role", "Invited by", "When"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for column, width in ((1, 110), (2, 120), (3, 130)):
            self.tree.setColumnWidth(column, width)
        self.tree.currentItemChanged.connect(lambda *_: self._selected())
        self.tree.itemActivated.connect(lambda *_: self.accept_selected())
        lay.addWidget(self.tree, 1)
        self.role_note = QLabel()
        self.role_note.setObjectName("invitationRole")
        self.role_note.setWordWrap(True)
        lay.addWidget(self.role_note)
        foot = QHBoxLayout()
        foot.addWidget(self.status, 1)
        self.accept_button = plain_button("Accept", "acceptInvitation")
        self.accept_button.clicked.connect(self.accept_selected)
        self.decline_button = plain_button("Decline…", "declineInvitation")
        self.decline_button.clicked.connect(self.decline_selected)
        close = plain_button("Close", "closeInvitations")
        close.clicked.connect(self.reject)
        for button in (self.accept_button, self.decline_button, close):
            foot.addWidget(button)
        lay.addLayout(foot)
        self.update_actions()
        QTimer.singleShot(0, self.reload)

    def _selected(self) -> None:
        found = self.selected()
        self.role_note.setText(
            f"As <b>{html.escape(ROLE_NAMES.get(found.role, found.role).lower())}</b> of "
            f"“{html.escape(found.title or 'Untitled')}” you "
            f"{html.escape(role_line(found.role).split(' — ', 1)[1])}." if found else "")
        self.update_actions()

    def selected(self) -> Any | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        story_id = item.data(0, USER)
        return next((i for i in self.invitations if i.story_id == story_id), None)

    def update_actions(self) -> None:
        chosen = self.selected() is not None and not self.busy
        self.accept_button.setEnabled(chosen)
        self.decline_button.setEnabled(chosen)

    def _fill(self) -> None:
        self.tree.clear()
        for inv in self.invitations:
            owner = getattr(inv, "owner", "") or ""
            item = QTreeWidgetItem([f"{inv.title or 'Untitled'}" + (f" — by {owner}"
                                                                      if owner else ""),
                                    ROLE_NAMES.get(inv.role, inv.role), inv.invited_by or "",
                                    when_text(inv.created_at)])
            item.setData(0, USER, inv.story_id)
            item.setToolTip(1, role_line(inv.role))
            self.tree.addTopLevelItem(item)
        if self.invitations:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._selected()

    @qasync.asyncSlot()
    async def reload(self) -> None:
        ok, found = await self.run("Looking for invitations…",
                                   self.service.my_invitations(self.client()))
        if ok:
            self.invitations = list(found)
            self._fill()
            self.status.info("" if self.invitations else "No invitations are waiting for you.")

    @qasync.asyncSlot()
    async def accept_selected(self) -> None:
        inv = self.selected()
        if inv is None or self.busy:
            return
        ok, _ = await self.run(f"Accepting “{inv.title}”…",
                               self.service.accept_invitation(self.client(), inv.story_id))
        if not ok:
            return
        self.invitations = [i for i in self.invitations if i.story_id != inv.story_id]
        self._fill()
        then = {"contributor": "fork it into your library, edit, then “Propose Changes…”",
                "editor": "fork it into your library, edit, then “Publish as Editor…”",
                }.get(inv.role, "read it there")
        self.status.info(f"You are now {ROLE_NAMES.get(inv.role, inv.role).lower()} on "
                         f"“{html.escape(inv.title)}”. Its page opens in the marketplace "
                         f"panel: {then}.")
        self.storyAccepted.emit(inv.story_id, inv.role)
        self.changed.emit()

    @qasync.asyncSlot()
    async def decline_selected(self) -> None:
        inv = self.selected()
        if inv is None or self.busy:
            return
        if not await self.confirm("Decline an invitation",
                                  f"Decline the invitation to “{inv.title}”?\n\n"
                                  f"{inv.invited_by} would have to invite you again.",
                                  "Decline"):
            return
        ok, _ = await self.run("Declining…",
                               self.service.decline_invitation(self.client(), inv.story_id))
        if ok:
            self.invitations = [i for i in self.invitations if i.story_id != inv.story_id]
            self._fill()
            self.status.info(f"Declined the invitation to “{html.escape(inv.title)}”.")
            self.changed.emit()
