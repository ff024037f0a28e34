"""The Plot threads tab of the bible editor (``bible_editor.py``).

A table of threads — the series' first (italic, read-only), then the bible's own — whose
description and keywords are edited in place and whose status (one of the domain's
``THREAD_STATUSES``) is picked in a combo box per row.  Where a thread was opened or resolved
is set from the manuscript, so here it is only shown, in the id's tooltip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QComboBox, QHeaderView, QTableWidgetItem, QVBoxLayout, QWidget

from studio.domain.bible import THREAD_STATUSES, new_thread_id
from studio.ui.widgets.bible_fields import button_row, join_list, put, split_list, tool_button
from studio.ui.widgets.bible_lists import make_table, sync_table

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor


class ThreadsPage(QWidget):
    COLUMNS = ["Id", "Description", "Status", "Keywords (comma-separated)"]

    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        self._loading = False
        self._n_series = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 8)
        self.table = make_table("No plot threads yet — press Add thread to open one.",
                                self.COLUMNS)
        self.table.setObjectName("threadsTable")
        self.table.setAccessibleName("Plot threads")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(2, 120)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(3, 260)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        lay.addWidget(self.table, 1)
        self.add_button = tool_button("Add thread", "Open a new plot thread", self._add)
        self.remove_button = tool_button("Remove", "Remove the selected thread", self._remove)
        lay.addLayout(button_row(self.add_button, self.remove_button))

    def _own(self) -> list[dict[str, Any]]:
        return list(self.host.bible_data.get("plot_threads") or [])

    def _series(self) -> list[dict[str, Any]]:
        own_ids = {t.get("id") for t in self._own()}
        return [t for t in self.host.inherited_data.get("plot_threads") or []
                if t.get("id") not in own_ids]

    def load(self) -> None:
        self._loading = True
        try:
            editable = not self.host.read_only
            series, own = self._series(), self._own()
            self._n_series = len(series)
            both = [(t, True) for t in series] + [(t, False) for t in own]
            sync_table(self.table, [
                ([th.get("id", ""),
                  th.get("description", "") + ("  ·  from series" if from_series else ""),
                  "", join_list(th.get("keywords"))],
                 {1, 3} if editable and not from_series else set(), from_series)
                for th, from_series in both])
            label = self.host.segment_label
            for r, (th, from_series) in enumerate(both):
                can = editable and not from_series
                tip = [th.get("id", "")]
                if th.get("opened_in"):
                    tip.append("Opened in " + label(th["opened_in"]))
                if th.get("resolved_in"):
                    tip.append("Resolved in " + label(th["resolved_in"]))
                self.table.item(r, 0).setToolTip("\n".join(tip))
                combo = self.table.cellWidget(r, 2)
                if not isinstance(combo, QComboBox):
                    combo = QComboBox()
                    combo.addItems(THREAD_STATUSES)
                    combo.setAccessibleName("Thread status")
                    combo.activated.connect(lambda _i, c=combo: self._status(c))
                    self.table.setCellWidget(r, 2, combo)
                status = th.get("status", "active")
                combo.setCurrentIndex(THREAD_STATUSES.index(status)
                                      if status in THREAD_STATUSES else 0)
                combo.setEnabled(can)
            self.add_button.setEnabled(editable)
            self._sync_buttons()
        finally:
            self._loading = False

    def _own_row(self, row: int | None = None) -> int:
        row = self.table.currentRow() if row is None else row
        index = row - self._n_series
        return index if 0 <= index < len(self._own()) else -1

    def _sync_buttons(self) -> None:
        self.remove_button.setEnabled(not self.host.read_only and self._own_row() >= 0)

    def _commit_threads(self, threads: list[dict[str, Any]]) -> None:
        self.host.commit(lambda bible: put(bible, "plot_threads", threads))

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        index = self._own_row(item.row())
        threads = [dict(t) for t in self._own()]
        if index < 0:
            return
        text = item.text().strip()
        if item.column() == 1:
            if not text:
                self.host.reload()  # a thread needs a description
                return
            threads[index]["description"] = text
        elif item.column() == 3:
            put(threads[index], "keywords", split_list(text))
        self._commit_threads(threads)

    def _status(self, combo: QComboBox) -> None:
        for r in range(self.table.rowCount()):
            if self.table.cellWidget(r, 2) is combo:
                index = self._own_row(r)
                if index >= 0 and not self.host.read_only:
                    threads = [dict(t) for t in self._own()]
                    threads[index]["status"] = combo.currentText()
                    self._commit_threads(threads)
                return

    def _add(self) -> None:
        if self.host.read_only:
            return
        threads = self._own()
        ids = [t.get("id", "") for t in threads + self._series()]
        threads.append({"id": new_thread_id(ids), "description": "New thread",
                        "status": "active"})
        self._commit_threads(threads)
        row = self.table.rowCount() - 1
        self.table.setCurrentCell(row, 1)
        self.table.setFocus()
        self.table.editItem(self.table.item(row, 1))

    def _remove(self) -> None:
        i = self._own_row()
        if self.host.read_only or i < 0:
            return
        threads = self._own()
        del threads[i]
        self._commit_threads(threads)

    def flush(self) -> None:
        pass
