"""The marketplace panel: browse and search reference stories, read a story's page (versions,
stats, lineage), fork one into the library, like or report it; publish the open story and pull
its source's updates.

Every network call is a coroutine on the Qt loop (qasync): the panel stays responsive, long
downloads show progress and can be cancelled.  Operations that change the marketplace (publish,
like, report, register a fork) go through the outbox, so they work offline and land once.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

import qasync
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMenu, QProgressBar, QPushButton, QSplitter, QTextBrowser, QToolButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.domain.errors import StudioError
from studio.ui.panels.base import Panel
from studio.ui.panels.marketplace_collab import CollaborationActions
from studio.ui.panels.marketplace_own_story import OwnStoryActions, exec_async

SORTS = (("popular", "Popular"), ("recent", "Recent"), ("trending", "Trending"))
REPORT_REASONS = ("spam", "abuse", "copyright", "explicit", "other")


def _stats_line(stats: dict) -> str:
    return (f"♥ {stats.get('likes', 0)} likes · {stats.get('forks', 0)} forks · "
            f"{stats.get('views', 0)} views · {stats.get('downloads', 0)} downloads")


def _names(items, key: str = "name", limit: int = 8) -> list[str]:
    out = []
    for item in items or []:
        value = item.get(key) or item.get("term") or item.get("word") \
            if isinstance(item, dict) else item
        if value:
            out.append(str(value))
    return out[:limit]


def analysis_html(found: dict) -> str:
    if found.get("pending"):
        return ("<h3>Analysis</h3><p style='color:gray'>The marketplace is still analysing "
                "this version; look again in a moment.</p>")
    a = found.get("analysis") or {}
    themes = a.get("themes") or {}
    cast = ", ".join(html.escape(n) for n in _names(a.get("characters"))) or "—"
    keys = ", ".join(html.escape(n) for n in _names(themes.get("keywords"))) or "—"
    return (f"<h3>Analysis</h3><p>{a.get('words', 0):,} words in {a.get('chapters', 0)} "
            f"chapter(s).<br><b>Cast:</b> {cast}<br><b>Themes:</b> {keys}</p>")


class MarketplacePanel(CollaborationActions, OwnStoryActions, Panel):
    title = "Marketplace"
    object_name = "marketplacePanel"
    messageRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = None
        self.window_ = None
        self.current: dict | None = None  # the story page shown
        self.next_cursor: str | None = None
        self._transfer: asyncio.Task | None = None
        self.update_info: dict | None = None  # the open story's source update, if any

        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("mkSearch")
        self.search.setPlaceholderText("Search titles and descriptions…")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.browse)
        self.genre = QComboBox()
        self.genre.setObjectName("mkGenre")
        self.genre.setEditable(True)
        self.genre.addItems(["", "fantasy", "mystery", "romance", "science fiction", "horror",
                             "literary", "thriller", "adventure"])
        self.genre.lineEdit().setPlaceholderText("Any genre")
        self.tags = QLineEdit()
        self.tags.setObjectName("mkTags")
        self.tags.setPlaceholderText("Tags (comma separated)")
        self.tags.returnPressed.connect(self.browse)
        self.sort = QComboBox()
        self.sort.setObjectName("mkSort")
        for key, text in SORTS:
            self.sort.addItem(text, key)
        self.sort.currentIndexChanged.connect(lambda _i: self.browse())
        go = QPushButton("Search")
        go.setObjectName("mkGo")
        go.clicked.connect(self.browse)
        self.account = QToolButton()
        self.account.setObjectName("mkAccount")
        self.account.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.account.setText("Sign in…")
        top.addWidget(self.search, 3)
        top.addWidget(self.genre, 1)
        top.addWidget(self.tags, 1)
        top.addWidget(self.sort)
        top.addWidget(go)
        top.addSpacing(12)
        top.addWidget(self.account)
        lay.addLayout(top)

        own = QHBoxLayout()
        self.own_label = QLabel()
        self.own_label.setObjectName("mkOwnStory")
        self.publish_button = QPushButton("Publish this story…")
        self.publish_button.setObjectName("mkPublish")
        self.publish_button.clicked.connect(self.publish_open_story)
        self.pull_button = QPushButton("Check for source updates")
        self.pull_button.setObjectName("mkPull")
        self.pull_button.clicked.connect(self.pull_updates)
        own.addWidget(self.own_label, 1)
        own.addWidget(self.pull_button)
        own.addWidget(self.publish_button)
        self._build_collaboration(own, top)
        from studio.ui.owner_update_action import install_owner_update
        self.owner_update = install_owner_update(self, own)  # "Update from Collaborators…"
        lay.addLayout(own)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.results = QListWidget()
        self.results.setObjectName("mkResults")
        self.results.setWordWrap(True)
        self.results.setSpacing(2)
        self.results.currentItemChanged.connect(self._result_chosen)
        self.more = QPushButton("More stories")
        self.more.setObjectName("mkMore")
        self.more.clicked.connect(lambda: self.browse(more=True))
        self.more.hide()
        self.result_note = QLabel()
        self.result_note.setObjectName("mkResultNote")
        self.result_note.setWordWrap(True)
        left_lay.addWidget(self.result_note)
        left_lay.addWidget(self.results, 1)
        left_lay.addWidget(self.more)
        split.addWidget(left)

        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(8, 0, 0, 0)
        self.page = QTextBrowser()
        self.page.setObjectName("mkStoryPage")
        self.page.setOpenExternalLinks(False)
        self.page.setHtml(self._welcome_html())
        right_lay.addWidget(self.page, 3)
        lineage_head = QLabel("<b>Lineage</b> — where this story comes from and who remixed it")
        right_lay.addWidget(lineage_head)
        self.lineage = QTreeWidget()
        self.lineage.setObjectName("mkLineage")
        self.lineage.setHeaderHidden(True)
        self.lineage.setMaximumHeight(130)
        self.lineage.itemActivated.connect(self._lineage_activated)
        right_lay.addWidget(self.lineage, 1)
        actions = QHBoxLayout()
        self.fork_button = QPushButton("Fork into my library")
        self.fork_button.setObjectName("mkFork")
        self.fork_button.setToolTip("A local story that refers to this version and stores only "
                                    "your changes (Ctrl+Alt+F)")
        self.fork_button.clicked.connect(self.fork_current)
        QShortcut(QKeySequence("Ctrl+Alt+F"), self, activated=self.fork_button.click)
        self.like_button = QPushButton("♥ Like")
        self.like_button.setObjectName("mkLike")
        self.like_button.clicked.connect(self.like_current)
        self.report_button = QPushButton("Report…")
        self.report_button.setObjectName("mkReport")
        self.report_button.clicked.connect(self.report_current)
        self.progress = QProgressBar()
        self.progress.setObjectName("mkProgress")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("mkCancel")
        self.cancel_button.clicked.connect(self.cancel_transfer)
        self.cancel_button.hide()
        for w in (self.fork_button, self.like_button, self.report_button):
            w.setEnabled(False)
            actions.addWidget(w)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.cancel_button)
        right_lay.addLayout(actions)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        lay.addWidget(split, 1)

    # --- wiring -----------------------------------------------------------------------------

    def attach_marketplace(self, session, window) -> None:
        self.session = session
        self.window_ = window
        session.signedInChanged.connect(self._signed_in_changed)
        session.statusChanged.connect(self.collab_outbox_status)
        self._signed_in_changed(session.username or "")

    def on_reloaded(self) -> None:
        self.update_info = None
        self._show_own_story()
        self.refresh_collaboration_soon()

    def _show_own_story(self) -> None:
        doc = self.document
        if doc is None:
            self.own_label.setText("Open a story to publish it or to pull its source's updates.")
            self.publish_button.setEnabled(False)
            self.pull_button.setEnabled(False)
            return
        title = doc.detail.fields.title or "Untitled"
        self.own_label.setText(f"Open story: <b>{html.escape(title)}</b>")
        self.publish_button.setEnabled(True)
        self.pull_button.setEnabled(True)
        if self.update_info:
            self.pull_button.setText(f"Pull update — v{self.update_info['latest']} available")
            self.pull_button.setStyleSheet("font-weight: bold;")
        else:
            self.pull_button.setText("Check for source updates")
            self.pull_button.setStyleSheet("")

    def _signed_in_changed(self, username: str) -> None:
        menu = QMenu(self.account)
        if username:
            self.account.setText(f"{username} ▾")
            menu.addAction("Sign out", self._sign_out)
        else:
            self.account.setText("Sign in…")
        menu.addAction("Sign in as someone else…" if username else "Sign in…", self.sign_in)
        self._collab_menu(menu, username)
        self.account.setMenu(menu)
        self.refresh_collaboration_soon()

    def _welcome_html(self) -> str:
        return ("<h2>Reference stories</h2><p>Browse what other authors share, read a story's "
                "page, and <b>fork</b> it: your fork refers to their version and keeps only "
                "your changes, so it can follow their updates later.</p><p>Search above, or "
                "press Enter in the search field to see the latest stories.</p>")

    def _error(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, StudioError) else f"Something went wrong: {exc}"
        self.result_note.setText(f"<span style='color:#b3261e'>{html.escape(text)}</span>")
        self.messageRequested.emit(text)

    # --- browse -----------------------------------------------------------------------------

    def _query(self) -> dict[str, Any]:
        tags = [t.strip().lower() for t in self.tags.text().split(",") if t.strip()]
        return {"q": self.search.text().strip() or None,
                "genre": self.genre.currentText().strip() or None, "tags": tags,
                "sort": self.sort.currentData()}

    @qasync.asyncSlot()
    async def browse(self, more: bool = False) -> None:
        if self.session is None:
            return
        cursor = self.next_cursor if more else None
        self.result_note.setText("Searching…")
        try:
            page = await self.session.client().browse(**self._query(), cursor=cursor)
        except Exception as exc:  # noqa: BLE001 - shown to the author in words
            self._error(exc)
            return
        if not more:
            self.results.clear()
        for story in page.get("items", []):
            self._add_result(story)
        self.next_cursor = page.get("next_cursor")
        self.more.setVisible(bool(self.next_cursor))
        total = page.get("total")
        shown = self.results.count()
        if total is not None and page.get("total_is_lower_bound"):
            total = f"{total:,}+"  # the server counts no further than that
        self.result_note.setText(f"{shown} of {total} stories" if total is not None
                                 else f"{shown} stories")
        if not more and self.results.count():
            self.results.setCurrentRow(0)

    def _add_result(self, story: dict) -> None:
        stats = story.get("stats", {})
        tags = ", ".join(story.get("tags", []))
        text = (f"{story.get('title', '')}\n{story.get('owner', '')} · "
                f"{story.get('genre') or 'no genre'} · ♥ {stats.get('likes', 0)} · "
                f"{stats.get('forks', 0)} forks" + (f"\n{tags}" if tags else ""))
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, story)
        self.results.addItem(item)

    def _result_chosen(self, item: QListWidgetItem | None, _old=None) -> None:
        if item is not None:
            self.open_story_page(item.data(Qt.ItemDataRole.UserRole)["id"])

    @qasync.asyncSlot(str)
    async def open_story_page(self, story_id: str) -> None:
        client = self.session.client()
        try:
            detail, versions, lineage = await asyncio.gather(
                client.story(story_id), client.versions(story_id), client.lineage(story_id))
        except Exception as exc:  # noqa: BLE001
            self._error(exc)
            return
        self.current = {"detail": detail, "versions": versions.get("items", [])}
        self.page.setHtml(self._page_html(detail, self.current["versions"]))
        self._fill_lineage(detail, lineage)
        for w in (self.fork_button, self.like_button, self.report_button):
            w.setEnabled(True)
        self.like_button.setText("♥ Liked" if detail.get("liked") else "♥ Like")
        latest = detail.get("latest_version") or 0
        if latest:
            await self._show_analysis(story_id, latest)

    async def _show_analysis(self, story_id: str, number: int) -> None:
        """The shared analysis the server made of this version (characters, themes)."""
        try:
            found = await self.session.client().analysis(story_id, number)
        except Exception:  # noqa: BLE001 - the page stands without it
            return
        if self.current is None or self.current["detail"].get("id") != story_id:
            return
        self.page.append(analysis_html(found))


    def _page_html(self, d: dict, versions: list[dict]) -> str:
        esc = html.escape
        tags = " ".join(f"<span style='background:palette(alternate-base)'>&nbsp;{esc(t)}"
                        "&nbsp;</span>" for t in d.get("tags", []))
        rows = "".join(
            f"<tr><td valign='top'><b>v{v['number']}</b>&nbsp;&nbsp;</td>"
            f"<td>{esc(v.get('changelog') or '—')}<br><span style='color:gray'>"
            f"{esc(str(v.get('created_at', ''))[:10])} · {v.get('segment_count', 0)} "
            f"segments{_made_by(v)}</span></td></tr>" for v in reversed(versions))
        source = d.get("forked_from")
        remix = (f"<p>A remix of version {source.get('version')} of a story by "
                 f"<b>{esc(str(source.get('owner') or 'someone'))}</b>"
                 + ("" if source.get("story_id") else " (no longer listed)") + ".</p>") \
            if isinstance(source, dict) else ""
        return (f"<h2>{esc(d.get('title', ''))}</h2>"
                f"<p>by <b>{esc(d.get('owner', ''))}</b> · {esc(d.get('genre') or 'no genre')}"
                f" · licence <b>{esc(d.get('licence', ''))}</b></p>{remix}"
                f"<p>{tags}</p><p>{esc(d.get('description') or 'No description.')}</p>"
                f"<p style='color:gray'>{_stats_line(d.get('stats', {}))}</p>"
                f"<h3>Versions</h3><table cellspacing='4'>{rows}</table>")

    def _fill_lineage(self, detail: dict, lineage: dict) -> None:
        self.lineage.clear()
        parent = None
        source = lineage.get("forked_from") or detail.get("forked_from")
        if isinstance(source, dict):
            parent = QTreeWidgetItem([f"⟵ forked from v{source.get('version')} of a story by "
                                      f"{source.get('owner') or 'someone'}"])
            parent.setData(0, Qt.ItemDataRole.UserRole, source.get("story_id"))
            self.lineage.addTopLevelItem(parent)
        me = QTreeWidgetItem([f"● {detail.get('title', '')} by {detail.get('owner', '')}"])
        if parent is not None:
            parent.addChild(me)
        else:
            self.lineage.addTopLevelItem(me)
        remixes = lineage.get("forked_by", [])
        for remix in remixes:
            child = QTreeWidgetItem([f"↳ remix: {remix.get('title', '')} "
                                     f"by {remix.get('owner', '')}"])
            child.setData(0, Qt.ItemDataRole.UserRole, remix.get("id"))
            me.addChild(child)
        private = lineage.get("forks", 0) - len(remixes)
        if private > 0:
            me.addChild(QTreeWidgetItem([f"… and {private} private fork(s)"]))
        self.lineage.expandAll()

    def _lineage_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        story_id = item.data(0, Qt.ItemDataRole.UserRole)
        if story_id:
            self.open_story_page(story_id)

    # --- fork, like, report ----------------------------------------------------------------

    def _start_transfer(self, text: str) -> None:
        self.progress.setFormat(text + " %p%")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.fork_button.setEnabled(False)

    def _end_transfer(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.fork_button.setEnabled(self.current is not None)
        self._transfer = None

    def _progress(self, done: int, total: int | None) -> None:
        if total:
            value = int(1000 * done / total)
            if self.progress.maximum() != 1000:
                self.progress.setRange(0, 1000)
            if value != self.progress.value():  # setValue repaints at once
                self.progress.setValue(value)
        elif self.progress.maximum() != 0:
            self.progress.setRange(0, 0)

    def cancel_transfer(self) -> None:
        if self._transfer is not None:
            self._transfer.cancel()

    async def download_version(self, story_id: str, number: int) -> int:
        """Fetch a version's content (progress, cancellable) and cache it locally, once."""
        from studio.services import reference_cache

        client, session = self.session.client(), self.session
        detail = await client.story(story_id)
        await session.run_db(reference_cache.cache_story, session.db, session.url, detail)
        cached = await session.run_db(reference_cache.find_cached_version, session.db,
                                      session.url, story_id, number)
        if cached is not None:
            return cached
        versions = (await client.versions(story_id)).get("items", [])
        changelog = next((v.get("changelog", "") for v in versions
                          if v["number"] == number), "")
        self._start_transfer(f"Downloading v{number}…")
        self._transfer = asyncio.ensure_future(
            client.version_content(story_id, number, progress=self._progress))
        try:
            content = await self._transfer
        finally:
            self._end_transfer()
        body = content.get("content", content)
        return await session.run_db(reference_cache.cache_version, session.db, session.url,
                                    story_id, number, changelog, body)

    @qasync.asyncSlot()
    async def fork_current(self) -> None:
        from studio.services import forking, marketplace_outbox

        if self.current is None:
            return
        d = self.current["detail"]
        number = d.get("latest_version") or max(v["number"] for v in self.current["versions"])
        try:
            ref_id = await self.download_version(d["id"], number)
            story_id = await self.session.run_db(forking.fork_reference, self.session.db,
                                                 ref_id)
            await self.session.run_db(
                marketplace_outbox.enqueue, self.session.db, self.session.url, "register_fork",
                f"Fork of “{d.get('title', '')}”", {"story_id": d["id"], "version": number},
                story_id)
        except asyncio.CancelledError:
            self.result_note.setText("Download cancelled; nothing was forked.")
            return
        except Exception as exc:  # noqa: BLE001
            self._error(exc)
            return
        self.session.wake()
        self.messageRequested.emit(f"Forked “{d.get('title', '')}” v{number} into your library")
        if self.window_ is not None:
            self.window_.refresh_library()
            self.window_.open_story(story_id)

    @qasync.asyncSlot()
    async def like_current(self) -> None:
        from studio.services import marketplace_outbox

        if self.current is None:
            return
        d = self.current["detail"]
        kind = "unlike" if d.get("liked") else "like"
        await self.session.run_db(marketplace_outbox.enqueue, self.session.db, self.session.url,
                                  kind, f"{kind.title()} “{d.get('title', '')}”",
                                  {"story_id": d["id"]}, None)
        d["liked"] = kind == "like"
        self.like_button.setText("♥ Liked" if d["liked"] else "♥ Like")
        self.session.wake()

    @qasync.asyncSlot()
    async def report_current(self) -> None:
        from studio.services import marketplace_outbox

        if self.current is None:
            return
        d = self.current["detail"]
        reason, ok = QInputDialog.getItem(self, "Report this story",
                                          "Why should moderators look at it?",
                                          list(REPORT_REASONS), 0, False)
        if not ok:
            return
        note, ok = QInputDialog.getText(self, "Report this story", "Anything to add? (optional)")
        if not ok:
            return
        await self.session.run_db(
            marketplace_outbox.enqueue, self.session.db, self.session.url, "report",
            f"Report “{d.get('title', '')}”",
            {"item_type": "story", "item_id": d["id"], "reason": reason, "note": note}, None)
        self.session.wake()
        self.messageRequested.emit("Report sent to the moderators (via the outbox)")

    # --- sign in / out ----------------------------------------------------------------------

    @qasync.asyncSlot()
    async def sign_in(self, message: str = "", *_args) -> None:
        message = message if isinstance(message, str) else ""  # a menu passes `checked`
        from studio.services import marketplace_accounts
        from studio.ui.dialogs.sign_in_dialog import SignInDialog

        servers = [s.url for s in await self.session.run_db(marketplace_accounts.servers,
                                                            self.session.db)]
        dialog = SignInDialog(servers, self.session.url, self.session.username or "", message,
                              self)
        self.last_dialog = dialog
        while True:
            if not await exec_async(dialog):
                return
            url, username, password, create = dialog.values()
            try:
                await self.session.sign_in(url, username, password, create)
                self.messageRequested.emit(f"Signed in to {url} as {username}")
                return
            except Exception as exc:  # noqa: BLE001 - stays in the dialog, in words
                dialog.show_error(str(exc))

    def ask_to_sign_in_again(self) -> None:
        """The marketplace no longer accepts the stored sign-in (expired or revoked)."""
        self.messageRequested.emit("Your marketplace sign-in has expired: sign in again to send "
                                   "what waits in the outbox.")
        if getattr(self, "last_dialog", None) is None or not self.last_dialog.isVisible():
            self.sign_in("Your sign-in has expired or was revoked. Sign in again; nothing you "
                         "did is lost — it waits in the outbox.")

    @qasync.asyncSlot()
    async def _sign_out(self, *_args) -> None:
        await self.session.sign_out()
        self.messageRequested.emit("Signed out; your sign-in was removed from the keyring")


def _made_by(version: dict) -> str:
    """" · by ann, with changes by ben" — who published a version and whose accepted
    proposals it holds (servers before co-authoring send neither)."""
    esc = html.escape
    author = version.get("author")
    credits = [c for c in version.get("credits") or [] if isinstance(c, str)]
    text = f" · by {esc(author)}" if isinstance(author, str) and author else ""
    if credits:
        text += f", with changes by {esc(', '.join(credits))}"
    return text
