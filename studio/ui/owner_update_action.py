"""The Marketplace panel's "Update from Collaborators…" for the story I published.

When an editor publishes, or an accepted proposal makes, a newer version of my story, my next
publish is refused (the outbox says so and keeps it); this button brings their versions into my
story: a three-way merge like a fork's pull (``services.collaboration_owner``), conflicts in the
same conflict view, a version saved first, then an offer to send the refused publish again (or
to publish) on top of their version.

The button sits in the panel's "open story" row, shown only for a story I own on the signed-in
marketplace, enabled (and bold) when the marketplace has a version newer than the one this
studio last published or merged.  It looks again whenever the panel does (story opened or
reloaded, sign-in changed, something left the outbox, panel shown).  ``install_owner_update``
is the one call the panel makes; everything else lives here.
"""

from __future__ import annotations

import asyncio
import itertools

import qasync
import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout, QMessageBox, QProgressBar, QPushButton, QWidget,
)

from studio.domain.errors import StudioError

BUTTON_TEXT = "Update from Collaborators…"
SHORTCUT = "Ctrl+Alt+U"


async def _exec(dialog) -> int:
    """Show a dialog without a nested event loop; its result code (0: rejected)."""
    future = asyncio.get_event_loop().create_future()
    dialog.finished.connect(lambda code: future.done() or future.set_result(code))
    dialog.open()
    return await future


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, StudioError):
        return str(exc)
    return f"Something went wrong: {exc}" if str(exc) else \
        f"Something went wrong ({type(exc).__name__})."


class OwnerUpdateAction(QObject):
    """The button, its busy bar, and what they do; ``last_dialog`` is the dialog or message
    box shown last (tests and screenshots find it there)."""

    def __init__(self, panel: QWidget, row: QHBoxLayout):
        super().__init__(panel)
        self.panel = panel
        self.status = None  # services.collaboration_owner.OwnerUpdateStatus of the open story
        self.busy = False
        self.last_dialog = None
        self._runs = itertools.count(1)
        self._run = 0
        self.button = QPushButton(BUTTON_TEXT)
        self.button.setObjectName("mkOwnerUpdate")
        self.button.clicked.connect(self.update_story)
        # Ctrl+Alt+U while the panel has focus, as Ctrl+Alt+F forks (only when it applies)
        QShortcut(QKeySequence(SHORTCUT), panel,
                  activated=lambda: self.button.isVisible() and self.button.isEnabled()
                  and self.button.click())
        self.button.hide()
        self.bar = QProgressBar()
        self.bar.setObjectName("mkOwnerUpdateBusy")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(70)
        self.bar.setMaximumHeight(12)
        self.bar.hide()
        pull = getattr(panel, "pull_button", None)
        at = row.indexOf(pull) if pull is not None else -1
        at = at if at >= 0 else row.count()
        row.insertWidget(at, self.bar)
        row.insertWidget(at, self.button)
        panel.installEventFilter(self)
        # Look again whenever the panel refreshes its co-authoring buttons (story opened or
        # reloaded, sign-in changed, the outbox sent something): the panel calls that hook,
        # so following it needs no second change to the panel.
        hook = getattr(panel, "refresh_collaboration_soon", None)
        if callable(hook):
            def refresh_both() -> None:
                hook()
                self.refresh_soon()
            panel.refresh_collaboration_soon = refresh_both

    # --- when to look ------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.panel and event.type() == QEvent.Type.Show:
            self.refresh_soon()
        return False

    def refresh_soon(self) -> None:
        QTimer.singleShot(0, self._refresh_if_loop)

    def _refresh_if_loop(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the app is starting or stopping: nothing to do
            return
        self.refresh()

    @qasync.asyncSlot()
    async def refresh(self) -> None:
        """Show the button for a story I own on this marketplace; enable it when there is
        something to bring in (quietly hidden offline or signed out)."""
        from studio.services import collaboration_owner as service

        run = self._run = next(self._runs)
        session, doc = getattr(self.panel, "session", None), self.panel.document
        status = None
        if session is not None and session.username and doc is not None:
            try:
                status = await service.owner_update_status(doc.db, session.client(),
                                                           doc.story_id, run_db=session.run_db)
            except Exception:  # noqa: BLE001 - not published from here, or offline
                status = None
            if status is not None and status.owner != session.username:
                status = None
        if run == self._run and doc is self.panel.document:
            self._show(status)

    def _show(self, status) -> None:
        if not shiboken6.isValid(self.button):
            return  # the panel was closed while the check waited on the network
        self.status = status
        self.button.setVisible(status is not None)
        if status is None:
            return
        self.button.setEnabled(status.update_available and not self.busy)
        self.button.setStyleSheet("font-weight: bold;" if status.update_available else "")
        if status.update_available:
            count = status.latest - status.mine
            since = f"v{status.latest}" if count == 1 else f"v{status.mine + 1}–v{status.latest}"
            self.button.setToolTip(f"{since} was published by your collaborators since your "
                                   f"v{status.mine}: merge it into your story before you "
                                   f"publish again ({SHORTCUT})")
        else:
            self.button.setToolTip(f"Up to date: v{status.latest} is the latest version on the "
                                   "marketplace")

    # --- the action ----------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.bar.setVisible(busy)
        self.button.setText("Updating…" if busy else BUTTON_TEXT)
        self.button.setEnabled(not busy and self.status is not None
                               and self.status.update_available)

    def _tell(self, text: str) -> None:
        self.panel.messageRequested.emit(text)

    async def _show_error(self, text: str) -> None:
        self._tell(text)
        box = QMessageBox(QMessageBox.Icon.Warning, "Update from collaborators", text,
                          QMessageBox.StandardButton.Ok, self.panel)
        box.setObjectName("ownerUpdateError")
        box.setTextFormat(Qt.TextFormat.PlainText)
        self.last_dialog = box
        await _exec(box)

    @qasync.asyncSlot()
    async def update_story(self) -> None:
        from studio.services import collaboration_owner as service

        session, doc = self.panel.session, self.panel.document
        if session is None or doc is None or self.busy:
            return
        doc.flush()  # what is typed is part of "mine"
        self._set_busy(True)
        try:
            plan = await service.plan_owner_update(doc.db, session.client(), doc.story_id,
                                                   progress=self._progress,
                                                   run_db=session.run_db)
        except Exception as exc:  # noqa: BLE001 - said in words
            self._set_busy(False)
            if getattr(exc, "code", "") == "up_to_date":
                self._tell(str(exc))
                self.refresh()
            else:
                await self._show_error(_error_text(exc))
            return
        finally:
            self.bar.setRange(0, 0)
        resolutions = await self._resolve(plan)
        if resolutions is None:
            self._set_busy(False)
            self._tell("Update from collaborators cancelled; nothing changed.")
            return
        try:
            result = await session.run_db(service.apply_owner_update, doc.db, plan, resolutions)
        except Exception as exc:  # noqa: BLE001
            self._set_busy(False)
            await self._show_error(_error_text(exc))
            return
        self._set_busy(False)
        window = getattr(self.panel, "window_", None)
        if window is not None:
            window.reload_story()
        self._tell(f"Updated from collaborators (v{result.latest}); version "
                   f"{result.saved_version} was saved first.")
        self.refresh()
        await self._offer_publish(result)

    def _progress(self, done: int, total: int | None) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))

    async def _resolve(self, plan) -> dict[str, str] | None:
        """The author's choices (empty without conflicts), None when cancelled."""
        from studio.ui.dialogs.conflict_dialog import ConflictDialog, ConflictItem, ConflictLabels

        if not plan.conflicts:
            return {}
        conflicts = [ConflictItem(c.segment_id, c.where, c.base or "", c.theirs or "",
                                  c.mine or "") for c in plan.conflicts]
        what = plan.describe()
        summary = (f"{what} was published since your v{plan.mine}: {plan.applied_count} "
                   f"change(s) apply on their own. {len(conflicts)} paragraph(s) were changed "
                   "both by you and by your collaborators: choose what to keep. Your story is "
                   "saved as a version before anything is applied.")
        if plan.part_conflicts:
            summary += (f" {len(plan.part_conflicts)} setting(s) of the modules, bible or "
                        "chapter graph changed on both sides keep yours.")
        labels = ConflictLabels(
            theirs="Collaborators", theirs_note=f"v{plan.latest} on the marketplace",
            theirs_choice="Use their text", mine="Mine", mine_note="your text now",
            mine_choice="Keep my text",
            both_choice="Keep both (mine as an alternate right after)",
            apply="Apply the update")
        dialog = ConflictDialog(conflicts, summary, self.panel,
                                title=f"Update from collaborators — {what}", labels=labels)
        dialog.setObjectName("ownerUpdateConflicts")
        self.last_dialog = dialog
        if not await _exec(dialog):
            return None
        return dialog.resolutions()

    async def _offer_publish(self, result) -> None:
        """Say what happened (naming the version saved first) and offer the next step: send
        the refused publish again, or publish."""
        from studio.services import marketplace_outbox

        box = QMessageBox(QMessageBox.Icon.Information, "Updated from collaborators",
                          result.message, QMessageBox.StandardButton.NoButton, self.panel)
        box.setObjectName("ownerUpdateDone")
        box.setTextFormat(Qt.TextFormat.PlainText)
        if result.rebased:
            go = box.addButton("Send It Now", QMessageBox.ButtonRole.AcceptRole)
        else:
            go = box.addButton("Publish…", QMessageBox.ButtonRole.AcceptRole)
        later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(go)
        box.setEscapeButton(later)
        self.last_dialog = box
        await _exec(box)
        if box.clickedButton() is not go:
            return
        session, doc = self.panel.session, self.panel.document
        if result.rebased:
            for entry in result.rebased:
                await session.run_db(marketplace_outbox.retry, session.db, entry)
            session.wake()
            self._tell(f"Publishing your merged story as v{result.latest + 1}: it waits in the "
                       "outbox until the marketplace accepts it")
        elif doc is not None:
            self.panel.publish_open_story()


def install_owner_update(panel: QWidget, row: QHBoxLayout) -> OwnerUpdateAction:
    """Add "Update from Collaborators…" to the Marketplace panel's open-story ``row`` (before
    its pull button); the panel keeps the returned action (``panel.owner_update``)."""
    return OwnerUpdateAction(panel, row)
