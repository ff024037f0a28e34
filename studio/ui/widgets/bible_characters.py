"""The Characters tab of the bible editor (``bible_editor.py``).

A list on the left — the series' characters first (italic, tagged "from series", read-only
here: the host switches scope to edit them), then the bible's own — and the selected
character's form on the right.  The page reads ``host.bible_data`` / ``host.inherited_data`` in
``load()`` (a reload keeps the selection by id, and the scroll position) and writes through
``host.commit(mutator)``.  The form remembers whose data it shows, so a late commit (focus out
after the selection moved) still lands on the right character.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QFrame, QLabel, QListWidgetItem, QScrollArea, QSplitter,
    QStackedWidget, QVBoxLayout, QWidget,
)

from studio.domain.bible import new_character_id
from studio.ui.widgets.bible_fields import (
    CommitLine, CommitText, PathField, SegmentField, button_row, form_layout, form_row, heading,
    italic, join_list, mute, muted_color, put, split_list, tool_button, unique_name,
)
from studio.ui.widgets.bible_lists import KEY_ROLE, PlaceholderList, sync_keyed_list
from studio.ui.widgets.bible_relationships import RelationshipsEditor
from studio.ui.widgets.form import LineEdit

if TYPE_CHECKING:  # pragma: no cover
    from studio.ui.widgets.bible_editor import BibleEditor

NO_CHARACTERS = "No characters yet — press Add to create the first one."
NO_CHARACTERS_READ_ONLY = "No characters in this bible."
NO_MATCH = "No character matches the filter."
PICK_ONE = "Select a character on the left to see their details."
SERIES_NOTE = ("From the series bible — read-only here. "
               "Switch to the series scope to edit this character.")


class CharactersPage(QWidget):
    def __init__(self, host: "BibleEditor"):
        super().__init__()
        self.host = host
        self._char_id: str | None = None      # whose data the form shows
        self._char_series = False
        self._selected: tuple[str, str] | None = None  # ("own" | "series", char id)
        self._loading = False

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.setSpacing(6)
        self.filter = LineEdit()
        self.filter.setPlaceholderText("Filter by name or alias")
        self.filter.setClearButtonEnabled(True)
        self.filter.setAccessibleName("Filter characters")
        self.filter.textChanged.connect(self._apply_filter)
        self.list = PlaceholderList(NO_CHARACTERS)
        self.list.setObjectName("characterList")
        self.list.setAccessibleName("Characters")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.currentItemChanged.connect(self._current_changed)
        self.add_button = tool_button("Add", "Add a character (Ctrl+N in the list)", self.add)
        self.delete_button = tool_button("Delete", "Delete the selected character (Del)",
                                         self.delete_selected)
        lv.addWidget(self.filter)
        lv.addWidget(self.list, 1)
        lv.addLayout(button_row(self.add_button, self.delete_button))
        self.list.addRequested.connect(self.add)
        self.list.deleteRequested.connect(self.delete_selected)

        self.stack = QStackedWidget()
        self.empty = QLabel(NO_CHARACTERS)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        mute(self.empty)
        self.stack.addWidget(self.empty)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self._build_form())
        self.stack.addWidget(self.scroll)
        splitter.addWidget(left)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([190, 750])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(splitter)

    def _build_form(self) -> QWidget:
        form_widget = QWidget()
        outer = QVBoxLayout(form_widget)
        outer.setContentsMargins(12, 0, 12, 12)
        self.series_note = QLabel(SERIES_NOTE)
        self.series_note.setObjectName("bibleSeriesNote")
        self.series_note.setWordWrap(True)
        outer.addWidget(self.series_note)
        form = form_layout()
        self.name = CommitLine("Name (required)", 200)
        self.name.setObjectName("characterName")
        self.aliases = CommitLine("Other names, comma-separated")
        self.aliases.setObjectName("characterAliases")
        self.description = CommitText("Who they are, what they want, how they look…", 4)
        self.description.setObjectName("characterDescription")
        self.traits = CommitLine("Traits, comma-separated — e.g. stubborn, kind")
        self.traits.setObjectName("characterTraits")
        self.active = QCheckBox("Active — still present in the story")
        self.active.setObjectName("characterActive")
        self.active.toggled.connect(self._active_toggled)
        self.inactive_reason = CommitLine("Why they left — e.g. died, emigrated", 200)
        self.inactive_since = SegmentField()
        self.introduced_in = SegmentField()
        self.relationships = RelationshipsEditor()
        self.portrait = PathField("Portrait", "Path of a portrait image")
        self.voice = CommitLine("A voice file path or a provider voice id", 4096)
        self.style_frame = PathField("Style frame", "Path of a style-frame image")

        def row(text: str, widget: QWidget) -> None:
            form_row(form, text, widget)

        row("Name", self.name)
        row("Aliases", self.aliases)
        row("Description", self.description)
        row("Traits", self.traits)
        form.addRow(heading("Presence"))
        form.addRow("", self.active)
        row("Inactive reason", self.inactive_reason)
        row("Inactive since", self.inactive_since)
        row("Introduced in", self.introduced_in)
        form.addRow(heading("Relationships"))
        form.addRow(self.relationships)
        form.addRow(heading("Reference assets"))
        row("Portrait", self.portrait)
        row("Voice anchor", self.voice)
        row("Style frame", self.style_frame)
        outer.addLayout(form)
        outer.addStretch(1)

        self.name.committed.connect(self._name_committed)
        self.aliases.committed.connect(
            lambda t: self._edit(lambda ch: put(ch, "aliases", split_list(t))))
        self.description.committed.connect(
            lambda t: self._edit(lambda ch: put(ch, "description", t if t.strip() else "")))
        self.traits.committed.connect(
            lambda t: self._edit(lambda ch: put(ch, "traits", split_list(t))))
        self.inactive_reason.committed.connect(
            lambda t: self._edit(lambda ch: put(ch, "inactive_reason", t.strip())))
        self.inactive_since.cleared.connect(
            lambda: self._edit(lambda ch: ch.pop("inactive_since", None)))
        self.introduced_in.cleared.connect(
            lambda: self._edit(lambda ch: ch.pop("introduced_in", None)))
        self.relationships.changed.connect(
            lambda rels: self._edit(lambda ch: put(ch, "relationships", rels)))
        self.portrait.committed.connect(lambda t: self._edit_asset("portrait", t))
        self.voice.committed.connect(lambda t: self._edit_asset("voice_anchor", t))
        self.style_frame.committed.connect(lambda t: self._edit_asset("style_frame", t))
        return form_widget

    # -- model access
    def _own(self) -> list[dict[str, Any]]:
        return list(self.host.bible_data.get("characters") or [])

    def _series(self) -> list[dict[str, Any]]:
        own_ids = {c.get("id") for c in self._own()}
        return [c for c in (self.host.inherited_data.get("characters") or [])
                if c.get("id") not in own_ids]

    def _entries(self) -> list[tuple[tuple[str, str], dict[str, Any]]]:
        return ([(("series", c.get("id", "")), c) for c in self._series()]
                + [(("own", c.get("id", "")), c) for c in self._own()])

    def _find(self, key: tuple[str, str] | None) -> dict[str, Any] | None:
        for k, ch in self._entries():
            if k == key:
                return ch
        return None

    # -- loading
    def load(self) -> None:
        self._loading = True
        try:
            self._sync_list()
            self._show_current()
        finally:
            self._loading = False

    def _sync_list(self) -> None:
        self._selected = sync_keyed_list(self.list, self._entries(), self._selected, self._dress)
        self._apply_filter()

    def _dress(self, item: QListWidgetItem, key: tuple[str, str], ch: dict[str, Any]) -> None:
        name = ch.get("name") or "(unnamed)"
        tags = []
        if key[0] == "series":
            tags.append("from series")
        if ch.get("active", True) is False:
            tags.append("inactive")
        item.setText(name + ("  ·  " + ", ".join(tags) if tags else ""))
        tip = [name]
        if ch.get("aliases"):
            tip.append("Also: " + join_list(ch["aliases"]))
        if key[0] == "series":
            tip.append("From the series bible (read-only here)")
        item.setToolTip("\n".join(tip))
        item.setFont(italic(self.list.font()) if key[0] == "series" else self.list.font())
        if key[0] == "series" or ch.get("active", True) is False:
            item.setForeground(muted_color(self.list.palette()))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def _apply_filter(self) -> None:
        needle = " ".join(self.filter.text().split()).casefold()
        records = dict(self._entries()) if needle else {}
        for row in range(self.list.count()):
            item = self.list.item(row)
            ch = records.get(item.data(KEY_ROLE)) or {}
            hay = [ch.get("name", "")] + list(ch.get("aliases") or [])
            item.setHidden(bool(needle) and not any(needle in h.casefold() for h in hay))
        has_any = self.list.count() > 0
        read_only = self.host.read_only
        self.list.placeholder = (NO_MATCH if has_any else
                                 NO_CHARACTERS_READ_ONLY if read_only else NO_CHARACTERS)
        self.list.viewport().update()

    def _show_current(self) -> None:
        read_only = self.host.read_only
        self.add_button.setEnabled(not read_only)
        self.delete_button.setEnabled(not read_only and bool(self._selected)
                                      and self._selected[0] == "own")
        ch = self._find(self._selected)
        if ch is None:
            self._char_id = None
            self.empty.setText(PICK_ONE if self.list.count() else
                               NO_CHARACTERS_READ_ONLY if read_only else NO_CHARACTERS)
            self.stack.setCurrentWidget(self.empty)
            return
        self._char_id = ch.get("id")
        self._char_series = self._selected[0] == "series"
        editable = not read_only and not self._char_series
        self.series_note.setVisible(self._char_series)
        self.stack.setCurrentWidget(self.scroll)
        labels = self.host.segment_label
        self.name.load(ch.get("name"))
        self.aliases.load(join_list(ch.get("aliases")))
        self.description.load(ch.get("description"))
        self.traits.load(join_list(ch.get("traits")))
        active = ch.get("active", True) is not False
        self.active.blockSignals(True)
        self.active.setChecked(active)
        self.active.blockSignals(False)
        self.inactive_reason.load(ch.get("inactive_reason"))
        self.inactive_since.load(ch.get("inactive_since"), labels(ch.get("inactive_since")))
        self.introduced_in.load(ch.get("introduced_in"), labels(ch.get("introduced_in")))
        assets = ch.get("assets") or {}
        self.portrait.load(assets.get("portrait"))
        self.voice.load(assets.get("voice_anchor"))
        self.style_frame.load(assets.get("style_frame"))
        options = [(c.get("id", ""), (c.get("name") or c.get("id", ""))
                    + ("  (series)" if k[0] == "series" else ""))
                   for k, c in self._entries() if c.get("id") != self._char_id]
        self.relationships.load(list(ch.get("relationships") or []), options, editable)
        for w in (self.name, self.aliases, self.traits, self.voice):
            w.setReadOnly(not editable)
        self.description.setReadOnly(not editable)
        self.inactive_reason.setReadOnly(not editable)
        self.inactive_reason.setEnabled(not active)
        self.active.setEnabled(editable)
        for seg in (self.inactive_since, self.introduced_in):
            seg.set_editable(editable)
        self.portrait.set_editable(editable)
        self.style_frame.set_editable(editable)

    # -- user actions
    def _current_changed(self, item: QListWidgetItem | None, _prev) -> None:
        if self._loading:
            return
        self._flush()
        self._selected = item.data(KEY_ROLE) if item is not None else None
        self._loading = True
        try:
            self._show_current()
        finally:
            self._loading = False
        if self._selected:
            self.host.characterSelected.emit(self._selected[1])

    def select(self, char_id: str) -> None:
        for row in range(self.list.count()):
            key = self.list.item(row).data(KEY_ROLE)
            if key[1] == char_id:
                self._flush()
                self._selected = key
                self._loading = True
                try:
                    item = self.list.item(row)
                    if item.isHidden():
                        self.filter.clear()
                    self.list.setCurrentRow(row)
                    self.list.scrollToItem(item)
                    self._show_current()
                finally:
                    self._loading = False
                return

    def _flush(self) -> None:
        for w in (self.name, self.aliases, self.traits, self.inactive_reason, self.voice,
                  self.portrait.edit, self.style_frame.edit, self.description):
            if w.pending():
                w.commit()

    def flush(self) -> None:
        if self._char_id is not None:
            self._flush()

    def _edit(self, change) -> None:
        cid = self._char_id
        if cid is None or self._char_series:
            return

        def mutate(bible: dict[str, Any]) -> None:
            for ch in bible.get("characters") or []:
                if ch.get("id") == cid:
                    change(ch)
                    return
        self.host.commit(mutate)

    def _name_committed(self, text: str) -> None:
        name = " ".join(text.split())
        if name:
            self._edit(lambda ch: ch.__setitem__("name", name))
        else:
            self.host.reload()  # a name is required: show the old one again

    def _edit_asset(self, key: str, value: str) -> None:
        def change(ch: dict[str, Any]) -> None:
            assets = dict(ch.get("assets") or {})
            put(assets, key, value.strip())
            put(ch, "assets", assets)
        self._edit(change)

    def _active_toggled(self, checked: bool) -> None:
        def change(ch: dict[str, Any]) -> None:
            ch["active"] = checked
            if checked:  # back in the story: it no longer "became inactive"
                ch.pop("inactive_since", None)
                ch.pop("inactive_reason", None)
        self._edit(change)

    def add(self) -> None:
        if self.host.read_only:
            return
        self._flush()
        entries = self._entries()
        cid = new_character_id(c.get("id", "") for _k, c in entries)
        taken = [n for _k, c in entries for n in [c.get("name", ""), *(c.get("aliases") or [])]]
        name = unique_name("New character", taken)
        self.filter.clear()
        self._selected = ("own", cid)
        self.host.commit(lambda b: b.setdefault("characters", []).append(
            {"id": cid, "name": name}))
        self.name.setFocus()
        self.name.selectAll()

    def delete_selected(self) -> None:
        if self.host.read_only or not self._selected or self._selected[0] != "own":
            return
        cid = self._selected[1]
        self._char_id = None  # nothing left to flush into
        self.host.commit(lambda b: b.__setitem__(
            "characters", [c for c in b.get("characters") or [] if c.get("id") != cid]))
        self.list.setFocus()
