"""The Timeline tab of the bible editor (``bible_editor.py``): the current point and the events.

Events are a table in story-time order: the series' events first (italic, read-only), then the
bible's own, which can be edited in place, added, removed and reordered.  A row maps to an own
event by its offset past the series' rows.  The scene an event is tied to is set from the
manuscript, so here it is only shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHeaderView, QTableWidgetItem, QVBoxLayout, QWidget

from studio.domain.bible import new_event_id
from studio.ui.widgets.bible_fields import (
    CommitLine, button_row, form_layout, form_row, heading, join_list, prune, put, section,
    series_placeholder, split_list, tool_button,
)
from studio.ui.widgets.bible_lists import make_table, sync_table

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor


class TimelinePage(QWidget):
    COLUMNS = ["Event", "Consequences (separate with ;)", "Scene"]

    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        self._loading = False
        self._n_series = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 8)
        form = form_layout()
        self.current = CommitLine("Where the story stands now", 2000)
        self.current.setObjectName("currentPoint")
        form_row(form, "Current point", self.current)
        lay.addLayout(form)
        self.current.committed.connect(self._set_current)
        lay.addWidget(heading("Events, in story-time order"))
        self.table = make_table("No events yet — press Add event to record the first one.",
                                self.COLUMNS)
        self.table.setObjectName("eventsTable")
        self.table.setAccessibleName("Events")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 300)
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        lay.addWidget(self.table, 1)
        self.add_button = tool_button("Add event", "Add an event after the selected one",
                                      self._add)
        self.remove_button = tool_button("Remove", "Remove the selected event", self._remove)
        self.up_button = tool_button("Move up", "Earlier in story time", lambda: self._move(-1))
        self.down_button = tool_button("Move down", "Later in story time", lambda: self._move(1))
        lay.addLayout(button_row(self.add_button, self.remove_button, self.up_button,
                                 self.down_button))

    def _own(self) -> list[dict[str, Any]]:
        return list((self.host.bible_data.get("timeline") or {}).get("events") or [])

    def _series(self) -> list[dict[str, Any]]:
        own_ids = {e.get("id") for e in self._own() if e.get("id")}
        return [e for e in ((self.host.inherited_data.get("timeline") or {}).get("events") or [])
                if not e.get("id") or e.get("id") not in own_ids]

    def load(self) -> None:
        self._loading = True
        try:
            editable = not self.host.read_only
            timeline = self.host.bible_data.get("timeline") or {}
            series_point = (self.host.inherited_data.get("timeline") or {}).get("current_point")
            self.current.load(timeline.get("current_point"))
            self.current.setPlaceholderText(series_placeholder(
                "Where the story stands now", series_point))
            self.current.setReadOnly(not editable)
            series, own = self._series(), self._own()
            self._n_series = len(series)
            both = [(e, True) for e in series] + [(e, False) for e in own]
            sync_table(self.table, [
                ([ev.get("event", "") + ("  ·  from series" if from_series else ""),
                  join_list(ev.get("consequences"), "; "),
                  self.host.segment_label(ev.get("segment")) or "—"],
                 {0, 1} if editable and not from_series else set(), from_series)
                for ev, from_series in both])
            for r, (ev, _from_series) in enumerate(both):
                self.table.item(r, 2).setToolTip(ev.get("segment") or "Not tied to the prose")
            self.add_button.setEnabled(editable)
            self._sync_buttons()
        finally:
            self._loading = False

    def _own_row(self) -> int:
        row = self.table.currentRow()
        index = row - self._n_series
        return index if 0 <= index < len(self._own()) else -1

    def _sync_buttons(self) -> None:
        i = self._own_row()
        editable = not self.host.read_only
        self.remove_button.setEnabled(editable and i >= 0)
        self.up_button.setEnabled(editable and i > 0)
        self.down_button.setEnabled(editable and 0 <= i < len(self._own()) - 1)

    def _commit_events(self, events: list[dict[str, Any]]) -> None:
        def mutate(bible: dict[str, Any]) -> None:
            put(section(bible, "timeline"), "events", events)
            prune(bible, "timeline")
        self.host.commit(mutate)

    def _set_current(self, text: str) -> None:
        def mutate(bible: dict[str, Any]) -> None:
            put(section(bible, "timeline"), "current_point", text.strip())
            prune(bible, "timeline")
        self.host.commit(mutate)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading:
            return
        index = item.row() - self._n_series
        events = [dict(e) for e in self._own()]
        if not 0 <= index < len(events):
            return
        text = item.text().strip()
        if item.column() == 0:
            if not text:
                self.host.reload()  # an event needs words: put the old ones back
                return
            events[index]["event"] = text
        elif item.column() == 1:
            put(events[index], "consequences", split_list(text, ";"))
        self._commit_events(events)

    def _add(self) -> None:
        if self.host.read_only:
            return
        events = self._own()
        at = self._own_row() + 1 if self._own_row() >= 0 else len(events)
        ids = [e.get("id", "") for e in events + self._series()]
        events.insert(at, {"id": new_event_id(ids), "event": "New event"})
        self._commit_events(events)
        row = self._n_series + at
        self.table.setCurrentCell(row, 0)
        self.table.setFocus()
        self.table.editItem(self.table.item(row, 0))

    def _remove(self) -> None:
        i = self._own_row()
        if self.host.read_only or i < 0:
            return
        events = self._own()
        del events[i]
        self._commit_events(events)

    def _move(self, delta: int) -> None:
        i = self._own_row()
        events = self._own()
        j = i + delta
        if self.host.read_only or i < 0 or not 0 <= j < len(events):
            return
        events[i], events[j] = events[j], events[i]
        self._commit_events(events)
        self.table.setCurrentCell(self._n_series + j, max(0, self.table.currentColumn()))

    def flush(self) -> None:
        if self.current.pending():
            self.current.commit()
