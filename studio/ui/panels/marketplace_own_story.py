"""The marketplace panel's actions on the open story: publish it (a fork as a remix), check its
source for a newer version, and pull it through the conflict view.  A mixin of
``MarketplacePanel`` (kept apart so neither module grows past a readable size)."""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtCore import QTimer


async def exec_async(dialog) -> bool:
    """Show a modal dialog without a nested event loop; True when accepted."""
    future = asyncio.get_event_loop().create_future()
    dialog.finished.connect(lambda code: future.done() or future.set_result(code))
    dialog.open()
    return bool(await future)


class OwnStoryActions:
    # --- publish and pull -------------------------------------------------------------------

    @qasync.asyncSlot()
    async def publish_open_story(self) -> None:
        from studio.services import publishing, pulling
        from studio.ui.dialogs.publish_dialog import PublishDialog

        doc = self.document
        if doc is None:
            return
        doc.flush()
        status = await self.session.run_db(pulling.publish_status, doc.db, doc.story_id)
        dialog = PublishDialog(doc.detail.fields.title, doc.detail.fields.genre,
                               first_time=status.remote_story_id is None,
                               remix_of=status.source_title, next_version=status.next_version,
                               parent=self)
        self.last_dialog = dialog
        if not await exec_async(dialog):
            return
        try:
            if status.source_title and status.remote_story_id is None:
                await self.session.run_db(publishing.enqueue_remix, doc.db, doc.story_id,
                                          self.session.url, dialog.meta(),
                                          dialog.changelog_text(), dialog.include())
            else:
                await self.session.run_db(publishing.enqueue_publish, doc.db, doc.story_id,
                                          self.session.url, dialog.meta(),
                                          dialog.changelog_text(), dialog.include())
        except Exception as exc:  # noqa: BLE001
            self._error(exc)
            return
        self.session.wake()
        self.messageRequested.emit("Publishing: waiting in the outbox until the marketplace "
                                   "accepts it")

    @qasync.asyncSlot()
    async def pull_updates(self) -> None:
        from studio.services import pulling

        doc = self.document
        if doc is None:
            return
        session = self.session
        status = await session.run_db(pulling.update_status, doc.db, doc.story_id)
        if status.source_story_id is None:
            self.messageRequested.emit("This story is not a fork: it has no source to pull from.")
            return
        try:
            detail = await session.client().story(status.source_story_id)
            latest = detail.get("latest_version", status.latest)
            if latest <= status.base:
                self.update_info = None
                self._show_own_story()
                self.messageRequested.emit(f"Up to date with the source (v{status.base}).")
                return
            target = await self.download_version(status.source_story_id, latest)
            doc.flush()
            plan = await session.run_db(pulling.plan_pull, doc.db, doc.story_id, target)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001
            self._error(exc)
            return
        resolutions = await self.resolve_conflicts(plan, status.base, latest)
        if resolutions is None:
            self.messageRequested.emit("Pull cancelled; nothing changed.")
            return
        try:
            await session.run_db(pulling.apply_pull, doc.db, doc.story_id, plan, resolutions)
        except Exception as exc:  # noqa: BLE001
            self._error(exc)
            return
        self.update_info = None
        self.messageRequested.emit(f"Pulled v{latest}: a version was saved first, so “Restore” "
                                   "in Versions undoes it")
        if self.window_ is not None:
            self.window_.reload_story()

    async def resolve_conflicts(self, plan, base: int, latest: int) -> dict[str, str] | None:
        """The author's choices (empty when there is no conflict), None when cancelled."""
        from studio.ui.dialogs.conflict_dialog import ConflictDialog, ConflictItem

        conflicts = [ConflictItem(c.segment_id, c.where, c.base or "", c.theirs or "",
                                  c.mine or "") for c in plan.conflicts]
        summary = (f"Source v{base} → v{latest}: {plan.applied_count} change(s) apply on their "
                   f"own. ")
        if not conflicts:
            return {}
        summary += (f"{len(conflicts)} segment(s) were changed both by you and by the source: "
                    "choose what to keep. A version of your story is saved before anything "
                    "is applied.")
        dialog = ConflictDialog(conflicts, summary, self)
        self.last_dialog = dialog
        if not await exec_async(dialog):
            return None
        return dialog.resolutions()

    def check_for_update_soon(self) -> None:
        QTimer.singleShot(0, self._check_update)

    @qasync.asyncSlot()
    async def _check_update(self) -> None:
        from studio.services import pulling

        doc = self.document
        if doc is None or self.session is None:
            return
        try:
            status = await self.session.run_db(pulling.update_status, doc.db, doc.story_id)
            if status.source_story_id is None:
                return
            detail = await self.session.client().story(status.source_story_id)
        except Exception:  # noqa: BLE001 - offline: no badge, no error
            return
        latest = detail.get("latest_version", 0)
        self.update_info = {"latest": latest} if latest > status.base else None
        self._show_own_story()
