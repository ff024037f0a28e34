"""The Setting tab of the bible editor (``bible_editor.py``).

The primary location and time period, the world rules and the locations.  Like the Characters
tab, the page reads ``host.bible_data`` / ``host.inherited_data`` in ``load()`` and writes
through ``host.commit(mutator)``.  Locations have no id, so the bible's own are keyed by their
index and the series' (shown first, italic, read-only) by their name; the form remembers which
location it shows, so a late commit still lands on it.  A world rule added with "Add rule" is
only a row until something is typed into it: left empty, it goes away again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QLabel, QListWidgetItem, QSplitter, QStackedWidget, QVBoxLayout, QWidget,
)

from studio.ui.widgets.bible_fields import (
    CommitLine, CommitText, button_row, form_layout, form_row, heading, italic, join_list, mute,
    muted_color, prune, put, section, series_placeholder, split_list, tool_button, unique_name,
)
from studio.ui.widgets.bible_lists import (
    KEY_ROLE, LineEditDelegate, PlaceholderList, sync_keyed_list,
)

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor


class SettingPage(QWidget):
    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        self._loading = False
        self._blank_rule = False  # a row added with Add and not typed into yet
        self._loc_key: tuple[str, Any] | None = None   # ("own", index) | ("series", name)
        self._loc_shown: tuple[str, Any] | None = None  # the location the form edits

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 8)
        form = form_layout()
        self.primary = CommitLine("The main place — e.g. Skerry Light", 200)
        self.primary.setObjectName("primaryLocation")
        self.period = CommitLine("When — e.g. winter 1911", 200)
        self.period.setObjectName("timePeriod")
        form_row(form, "Primary location", self.primary)
        form_row(form, "Time period", self.period)
        lay.addLayout(form)
        self.primary.committed.connect(lambda t: self._set_setting("primary_location", t))
        self.period.committed.connect(lambda t: self._set_setting("time_period", t))

        lay.addWidget(heading("World rules"))
        self.rules = PlaceholderList("No world rules yet — press Add rule to write one.")
        self.rules.setObjectName("worldRules")
        self.rules.setAccessibleName("World rules")
        self.rules.setWordWrap(True)
        self.rules.setAlternatingRowColors(True)
        self.rules.setItemDelegate(LineEditDelegate(self.rules))
        self.rules.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.rules.setMaximumHeight(150)
        self.rules.itemChanged.connect(self._rule_changed)
        self.rules.addRequested.connect(self._add_rule)
        self.rules.deleteRequested.connect(self._remove_rule)
        self.rules.itemDelegate().closeEditor.connect(
            lambda *_: QTimer.singleShot(0, self._drop_blank_rule))
        self.rule_add = tool_button("Add rule", "Add a world rule", self._add_rule)
        self.rule_remove = tool_button("Remove", "Remove the selected rule", self._remove_rule)
        self.rule_up = tool_button("Move up", "Move the selected rule up",
                                   lambda: self._move_rule(-1))
        self.rule_down = tool_button("Move down", "Move the selected rule down",
                                     lambda: self._move_rule(1))
        lay.addWidget(self.rules)
        lay.addLayout(button_row(self.rule_add, self.rule_remove, self.rule_up, self.rule_down))

        lay.addWidget(heading("Locations"))
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        self.locations = PlaceholderList("No locations yet — press Add to create the first one.")
        self.locations.setObjectName("locationList")
        self.locations.setAccessibleName("Locations")
        self.locations.currentItemChanged.connect(self._location_changed)
        self.loc_add = tool_button("Add", "Add a location (Ctrl+N in the list)",
                                   self._add_location)
        self.loc_delete = tool_button("Delete", "Delete the selected location (Del)",
                                      self._delete_location)
        self.locations.addRequested.connect(self._add_location)
        self.locations.deleteRequested.connect(self._delete_location)
        lv.addWidget(self.locations, 1)
        lv.addLayout(button_row(self.loc_add, self.loc_delete))
        self.loc_stack = QStackedWidget()
        self.loc_empty = QLabel("Select a location to edit it.")
        self.loc_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mute(self.loc_empty)
        self.loc_stack.addWidget(self.loc_empty)
        loc_form_widget = QWidget()
        loc_outer = QVBoxLayout(loc_form_widget)
        loc_outer.setContentsMargins(12, 0, 0, 0)
        self.loc_note = QLabel("From the series bible — read-only here.")
        self.loc_note.setObjectName("bibleSeriesNote")
        loc_outer.addWidget(self.loc_note)
        loc_form = form_layout()
        self.loc_name = CommitLine("Name (required)", 200)
        self.loc_name.setObjectName("locationName")
        self.loc_aliases = CommitLine("Other names, comma-separated")
        self.loc_description = CommitText("What it looks, sounds and smells like…", 3)
        form_row(loc_form, "Name", self.loc_name)
        form_row(loc_form, "Aliases", self.loc_aliases)
        form_row(loc_form, "Description", self.loc_description)
        loc_outer.addLayout(loc_form)
        loc_outer.addStretch(1)
        self.loc_stack.addWidget(loc_form_widget)
        self.loc_form_widget = loc_form_widget
        split.addWidget(left)
        split.addWidget(self.loc_stack)
        split.setStretchFactor(1, 1)
        split.setSizes([190, 700])
        lay.addWidget(split, 1)
        self.loc_name.committed.connect(self._location_name)
        self.loc_aliases.committed.connect(
            lambda t: self._edit_location(lambda loc: put(loc, "aliases", split_list(t))))
        self.loc_description.committed.connect(
            lambda t: self._edit_location(
                lambda loc: put(loc, "description", t if t.strip() else "")))

    # -- model
    def _setting(self) -> dict[str, Any]:
        return self.host.bible_data.get("setting") or {}

    def _own_locations(self) -> list[dict[str, Any]]:
        return list(self._setting().get("locations") or [])

    def _entries(self) -> list[tuple[tuple[str, Any], dict[str, Any]]]:
        own = self._own_locations()
        names = {(loc.get("name") or "").casefold() for loc in own}
        series = [loc for loc in ((self.host.inherited_data.get("setting") or {})
                                  .get("locations") or [])
                  if (loc.get("name") or "").casefold() not in names]
        return ([(("series", loc.get("name")), loc) for loc in series]
                + [(("own", i), loc) for i, loc in enumerate(own)])

    def _set_setting(self, key: str, value: str) -> None:
        def mutate(bible: dict[str, Any]) -> None:
            put(section(bible, "setting"), key, value.strip())
            prune(bible, "setting")
        self.host.commit(mutate)

    # -- loading
    def load(self) -> None:
        self._loading = True
        try:
            editable = not self.host.read_only
            setting = self._setting()
            series = self.host.inherited_data.get("setting") or {}
            self.primary.load(setting.get("primary_location"))
            self.primary.setPlaceholderText(series_placeholder(
                "The main place — e.g. Skerry Light", series.get("primary_location")))
            self.period.load(setting.get("time_period"))
            self.period.setPlaceholderText(series_placeholder(
                "When — e.g. winter 1911", series.get("time_period")))
            self.primary.setReadOnly(not editable)
            self.period.setReadOnly(not editable)
            self._load_rules(editable)
            self._load_locations(editable)
        finally:
            self._loading = False

    def _load_rules(self, editable: bool) -> None:
        rules = list(self._setting().get("world_rules") or [])
        shown = [self.rules.item(i).text() for i in range(self.rules.count())]
        if self._blank_rule and shown[:-1] == rules:
            return
        self._blank_rule = False
        self.rules.blockSignals(True)
        if shown != rules:
            row = self.rules.currentRow()
            self.rules.clear()
            for rule in rules:
                self.rules.addItem(QListWidgetItem(rule))
            if rules:
                self.rules.setCurrentRow(max(0, min(row, len(rules) - 1)))
        for i in range(self.rules.count()):
            item = self.rules.item(i)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            item.setFlags(flags | Qt.ItemFlag.ItemIsEditable if editable else flags)
        self.rules.blockSignals(False)
        for b in (self.rule_add, self.rule_remove, self.rule_up, self.rule_down):
            b.setEnabled(editable)

    def _load_locations(self, editable: bool) -> None:
        self._loc_key = sync_keyed_list(self.locations, self._entries(), self._loc_key,
                                        self._dress_location)
        self.loc_add.setEnabled(editable)
        self._show_location(editable)

    def _dress_location(self, item: QListWidgetItem, key: tuple[str, Any],
                        loc: dict[str, Any]) -> None:
        series = key[0] == "series"
        item.setText((loc.get("name") or "(unnamed)") + ("  ·  from series" if series else ""))
        item.setFont(italic(self.locations.font()) if series else self.locations.font())
        if series:
            item.setForeground(muted_color(self.locations.palette()))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
        item.setToolTip("Also: " + join_list(loc["aliases"]) if loc.get("aliases") else "")

    def _show_location(self, editable: bool) -> None:
        loc = dict(self._entries()).get(self._loc_key) if self._loc_key else None
        self.loc_delete.setEnabled(editable and loc is not None and self._loc_key[0] == "own")
        if loc is None:
            self._loc_shown = None
            self.loc_stack.setCurrentWidget(self.loc_empty)
            return
        self._loc_shown = self._loc_key
        series = self._loc_key[0] == "series"
        self.loc_note.setVisible(series)
        self.loc_stack.setCurrentWidget(self.loc_form_widget)
        self.loc_name.load(loc.get("name"))
        self.loc_aliases.load(join_list(loc.get("aliases")))
        self.loc_description.load(loc.get("description"))
        can = editable and not series
        for w in (self.loc_name, self.loc_aliases, self.loc_description):
            w.setReadOnly(not can)

    # -- world rules
    def _commit_rules(self, rules: list[str]) -> None:
        def mutate(bible: dict[str, Any]) -> None:
            put(section(bible, "setting"), "world_rules", rules)
            prune(bible, "setting")
        self.host.commit(mutate)

    def _rule_changed(self, item: QListWidgetItem) -> None:
        if self._loading:
            return
        row = self.rules.row(item)
        rules = list(self._setting().get("world_rules") or [])
        text = item.text().strip()
        if row < len(rules):
            if text:
                rules[row] = text
            else:
                del rules[row]
        elif text:
            rules.append(text)
        self._blank_rule = False
        self._commit_rules(rules)  # reloads, also when nothing changed (a blank row goes)

    def _drop_blank_rule(self) -> None:
        if self._blank_rule:
            self._blank_rule = False
            self.host.reload()

    def _add_rule(self) -> None:
        if self.host.read_only:
            return
        self._blank_rule = True
        item = QListWidgetItem("")
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.rules.blockSignals(True)
        self.rules.addItem(item)
        self.rules.blockSignals(False)
        self.rules.setCurrentItem(item)
        self.rules.setFocus()
        self.rules.editItem(item)

    def _remove_rule(self) -> None:
        rules = list(self._setting().get("world_rules") or [])
        row = self.rules.currentRow()
        if not self.host.read_only and 0 <= row < len(rules):
            self._commit_rules(rules[:row] + rules[row + 1:])

    def _move_rule(self, delta: int) -> None:
        rules = list(self._setting().get("world_rules") or [])
        row = self.rules.currentRow()
        target = row + delta
        if not self.host.read_only and 0 <= row < len(rules) and 0 <= target < len(rules):
            rules[row], rules[target] = rules[target], rules[row]
            self._commit_rules(rules)
            self.rules.setCurrentRow(target)

    # -- locations
    def _location_changed(self, item: QListWidgetItem | None, _prev) -> None:
        if self._loading:
            return
        self.flush()
        self._loc_key = item.data(KEY_ROLE) if item is not None else None
        self._loading = True
        try:
            self._show_location(not self.host.read_only)
        finally:
            self._loading = False

    def flush(self) -> None:
        for w in (self.primary, self.period, self.loc_name, self.loc_aliases,
                  self.loc_description):
            if w.pending():
                w.commit()

    def _edit_location(self, change: Callable[[dict[str, Any]], None]) -> None:
        key = self._loc_shown
        if key is None or key[0] != "own" or self.host.read_only:
            return

        def mutate(bible: dict[str, Any]) -> None:
            locs = (bible.get("setting") or {}).get("locations") or []
            if 0 <= key[1] < len(locs):
                change(locs[key[1]])
        self.host.commit(mutate)

    def _location_name(self, text: str) -> None:
        name = " ".join(text.split())
        if name:
            self._edit_location(lambda loc: loc.__setitem__("name", name))
        else:
            self.host.reload()

    def _add_location(self) -> None:
        if self.host.read_only:
            return
        self.flush()
        own = self._own_locations()
        name = unique_name("New location", [loc.get("name", "") for _k, loc in self._entries()])
        self._loc_key = ("own", len(own))

        def mutate(bible: dict[str, Any]) -> None:
            section(bible, "setting").setdefault("locations", []).append({"name": name})
        self.host.commit(mutate)
        self.loc_name.setFocus()
        self.loc_name.selectAll()

    def _delete_location(self) -> None:
        key = self._loc_key
        if self.host.read_only or key is None or key[0] != "own":
            return
        self._loc_shown = None

        def mutate(bible: dict[str, Any]) -> None:
            locs = section(bible, "setting").get("locations") or []
            if 0 <= key[1] < len(locs):
                del locs[key[1]]
        self.host.commit(mutate)
