"""The scene-bible editor: a form per section and a JSON view with live validation.

The bible is a plain dict shaped by ``resources/schemas/scene_bible.schema.json``.  The editor
keeps its own copy; every user edit produces a whole new dict, which it keeps and reports as
``edited(new_bible)`` (a deep copy) — exactly once per change.  ``set_bible`` shows a dict
without reporting anything (undo and redo reload through it) and keeps the selection and the
scroll positions where the items still exist.

Fields commit on Enter / focus out (one-line) or after a short pause (multi-line); Ctrl+Z and
Ctrl+Shift+Z are never handled by the fields: the host's undo stack owns them.

With ``inherited`` (the series bible) the series' characters, locations, events and threads are
shown too, in italics and tagged "from series", read-only; they never appear in ``bible()`` or
in ``edited``.  Each tab is its own module: ``bible_characters.py``, ``bible_setting.py``,
``bible_timeline.py``, ``bible_threads.py``, ``bible_style.py`` and ``bible_json.py``; the
fields and helpers they share are in ``bible_fields.py`` and ``bible_lists.py``.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from studio.domain.bible import (
    RELATIONSHIP_TYPES, THREAD_STATUSES, new_character_id, new_event_id, new_thread_id,
)
from studio.ui.widgets.bible_characters import CharactersPage
from studio.ui.widgets.bible_fields import error_color, muted_color
from studio.ui.widgets.bible_json import JsonPage
from studio.ui.widgets.bible_setting import SettingPage
from studio.ui.widgets.bible_style import StylePage
from studio.ui.widgets.bible_threads import ThreadsPage
from studio.ui.widgets.bible_timeline import TimelinePage

# The id makers and the vocabularies are the domain's; they are re-exported here for the
# callers that have always imported them from the editor.
__all__ = ["BibleEditor", "JsonPage", "Validator", "new_character_id", "new_event_id",
           "new_thread_id", "SECTIONS", "RELATIONSHIP_TYPES", "THREAD_STATUSES"]

Validator = Callable[[dict], list[tuple[str, str]]]
SECTIONS = ("characters", "setting", "timeline", "threads", "style", "json")
_SECTION_ALIASES = {"plot_threads": "threads", "style_guide": "style"}
READ_ONLY_BANNER = "Read-only view."

_STYLE = """
#bibleBanner {{ background: palette(alternate-base); border-left: 3px solid palette(highlight);
               padding: 7px 10px; }}
#bibleSeriesNote {{ background: palette(alternate-base); padding: 6px 8px; font-style: italic; }}
QLabel[muted="true"] {{ color: {muted}; }}
#jsonErrors {{ color: {error}; }}
#characterList::item, #locationList::item, #worldRules::item {{ padding: 3px 4px; }}
"""


class BibleEditor(QWidget):
    edited = Signal(dict)            # the whole new bible after one user edit (a deep copy)
    characterSelected = Signal(str)  # a character id, when the user selects one in the list

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bible_data: dict[str, Any] = {}
        self.inherited_data: dict[str, Any] = {}
        self.read_only = False
        self.validator: Validator | None = None
        self._labels: dict[str, str] = {}
        self._banner_text: str | None = None
        self._reloading = False
        self._reload_again = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.banner = QLabel()
        self.banner.setObjectName("bibleBanner")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        lay.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("bibleTabs")
        self.tabs.setDocumentMode(True)
        self.characters = CharactersPage(self)
        self.setting = SettingPage(self)
        self.timeline = TimelinePage(self)
        self.threads = ThreadsPage(self)
        self.style_page = StylePage(self)
        self.json_page = JsonPage(self)
        self._pages = {"characters": self.characters, "setting": self.setting,
                       "timeline": self.timeline, "threads": self.threads,
                       "style": self.style_page, "json": self.json_page}
        for title, page in (("Characters", self.characters), ("Setting", self.setting),
                            ("Timeline", self.timeline), ("Plot threads", self.threads),
                            ("Style guide", self.style_page), ("JSON", self.json_page)):
            self.tabs.addTab(page, title)
        self.tabs.currentChanged.connect(self._tab_changed)
        lay.addWidget(self.tabs, 1)
        self._apply_style()
        self.reload()

    # --- the host's API -----------------------------------------------------------------

    def set_bible(self, bible: dict, read_only: bool = False,
                  inherited: dict | None = None) -> None:
        """Show ``bible`` (copied) without emitting ``edited``; selection and scroll stay put."""
        self.bible_data = copy.deepcopy(bible or {})
        self.inherited_data = copy.deepcopy(inherited or {})
        self.read_only = bool(read_only)
        self._sync_banner()
        self.reload()

    def bible(self) -> dict:
        return copy.deepcopy(self.bible_data)

    def select_character(self, char_id: str) -> None:
        """Select a character (own or from the series) without emitting ``characterSelected``."""
        self.characters.select(char_id)

    def selected_character(self) -> str | None:
        key = self.characters._selected
        return key[1] if key else None

    def show_section(self, name: str) -> None:
        name = _SECTION_ALIASES.get(name, name)
        if name not in self._pages:
            raise ValueError(f"unknown bible section {name!r}; one of {', '.join(SECTIONS)}")
        self.tabs.setCurrentWidget(self._pages[name])

    def current_section(self) -> str:
        return SECTIONS[self.tabs.currentIndex()]

    def set_segment_labels(self, labels: dict[str, str]) -> None:
        self._labels = dict(labels or {})
        self.reload()

    def set_validator(self, validate: Validator | None) -> None:
        self.validator = validate
        self.json_page.validate()

    def set_banner(self, text: str | None) -> None:
        self._banner_text = text or None
        self._sync_banner()

    def flush(self) -> None:
        """Commit whatever is typed but not yet reported (e.g. before the host saves)."""
        for page in self._pages.values():
            page.flush()

    # --- for the pages --------------------------------------------------------------------

    def segment_label(self, segment: str | None) -> str:
        if not segment:
            return ""
        return self._labels.get(segment) or segment

    def commit(self, mutate: Callable[[dict[str, Any]], None]) -> bool:
        """Apply one user edit to a copy of the bible; report it if it changed anything."""
        if self.read_only:
            self.reload()
            return False
        new = copy.deepcopy(self.bible_data)
        mutate(new)
        if new == self.bible_data:
            self.reload()  # show the normalised (or refused) value again
            return False
        self.bible_data = new
        self.edited.emit(copy.deepcopy(new))
        self.reload()
        return True

    def reload(self) -> None:
        if self._reloading:
            self._reload_again = True
            return
        self._reloading = True
        try:
            for _ in range(3):
                self._reload_again = False
                for name, page in self._pages.items():
                    if name == "json":
                        if self.tabs.currentWidget() is page:
                            page.refresh()
                    else:
                        page.load()
                if not self._reload_again:
                    break
        finally:
            self._reloading = False

    # --- internals ----------------------------------------------------------------------

    def _tab_changed(self, _index: int) -> None:
        for name, page in self._pages.items():
            if name != "json":
                page.flush()
        if self.tabs.currentWidget() is self.json_page:
            self.json_page.refresh()

    def _sync_banner(self) -> None:
        text = self._banner_text or (READ_ONLY_BANNER if self.read_only else None)
        self.banner.setText(text or "")
        self.banner.setVisible(bool(text))

    def _apply_style(self) -> None:
        self.setStyleSheet(_STYLE.format(muted=muted_color(self.palette()).name(),
                                         error=error_color(self.palette()).name()))

    def changeEvent(self, e: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(e)
        if e.type() == QEvent.Type.PaletteChange and not getattr(self, "_restyling", False):
            self._restyling = True
            try:
                self._apply_style()
                self.reload()
                self.json_page.validate()
            finally:
                self._restyling = False
