"""Qt models over a story analysis result, and the few lookups every analysis tab needs.

A million-word story has thousands of scenes: one ``QTableWidgetItem`` per cell would cost the
UI thread seconds to build and megabytes to hold.  ``RowsModel`` keeps the result's own list of
dicts and answers ``data()`` on demand, so showing an analysis is a model reset, whatever its
size.  Columns are declared once (``Column``), so each tab says *what* it shows, not how.

The result comes from an analyser written separately and stored as JSON (older results stay in
the store): every read here tolerates a missing key or an unexpected type, so a stored result
from another analyser version shows what it has instead of raising in a paint event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from studio.ui.widgets.emotion_arc_chart import EMOTION_COLOURS, NEUTRAL_COLOUR

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
BAR_ROLE = Qt.ItemDataRole.UserRole + 3      # 0–1: how full a bar cell is drawn
SHARES_ROLE = Qt.ItemDataRole.UserRole + 4   # {emotion: share}: a stacked bar cell

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter


# --- defensive reading ---------------------------------------------------------------------

def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def text(value: Any) -> str:
    return "" if value is None else str(value)


# --- formatting ------------------------------------------------------------------------------

def fmt_int(value: Any) -> str:
    """1234 → "1,234"; not a number → "—" (an empty cell reads as a bug)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{round(value):,}"


def fmt_percent(value: Any) -> str:
    """A 0–1 share as a whole percent (0.237 → "24 %"); tiny non-zero shares read "<1 %"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    if 0 < value < 0.005:
        return "<1 %"
    return f"{value * 100:.0f} %"


def fmt_float(value: Any, places: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:,.{places}f}"


def emotion_label(emotion: Any) -> str:
    return text(emotion).capitalize() if emotion else "—"


def emotion_colour(emotion: Any) -> QColor:
    return QColor(EMOTION_COLOURS.get(text(emotion).strip().lower(), NEUTRAL_COLOUR))


_ICONS: dict[str, QIcon] = {}


def emotion_icon(emotion: Any) -> QIcon | None:
    """A small filled circle in the emotion's colour (the font has no symbol glyphs)."""
    if not emotion:
        return None
    key = text(emotion).lower()
    if key not in _ICONS:
        _ICONS[key] = dot_icon(emotion_colour(key))
    return _ICONS[key]


def dot_icon(colour: QColor, size: int = 12) -> QIcon:
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(colour.darker(125))
    p.setBrush(colour)
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    icon = QIcon(pix)
    icon.addPixmap(pix, QIcon.Mode.Selected)  # keep the colour on a selected row
    return icon


# --- lookups across the result ---------------------------------------------------------------

class ResultIndex:
    """Chapter titles, scene titles and scene order, gathered once from the pacing lists
    (which cover every scene), so tabs can name "Chapter 3 · The Ball" instead of uids."""

    def __init__(self, result: dict | None):
        result = as_dict(result)
        pacing = as_dict(result.get("pacing"))
        self.chapters: list[dict] = [c for c in as_list(pacing.get("chapters"))
                                     if isinstance(c, dict)]
        self.scenes: list[dict] = [s for s in as_list(pacing.get("scenes"))
                                   if isinstance(s, dict)]
        if not self.scenes:  # an older result: the emotion list also names every scene
            self.scenes = [s for s in as_list(as_dict(result.get("emotions")).get("scenes"))
                           if isinstance(s, dict)]
        self._chapter_title = {text(c.get("chapter")): text(c.get("title"))
                               for c in self.chapters}
        self._chapter_number = {text(c.get("chapter")): i
                                for i, c in enumerate(self.chapters, 1)}
        self._scene = {text(s.get("scene")): s for s in self.scenes}
        self._first_scene: dict[str, str] = {}
        for s in self.scenes:
            self._first_scene.setdefault(text(s.get("chapter")), text(s.get("scene")))
            key = text(s.get("chapter"))
            if key and key not in self._chapter_number:
                self._chapter_number[key] = len(self._chapter_number) + 1

        # Where each character first appears, by id and by name (insights name either).
        self._character_scene: dict[str, str] = {}
        for c in as_list(result.get("cast")):
            if isinstance(c, dict) and c.get("first_scene"):
                for key in (c.get("id"), c.get("name")):
                    if key:
                        self._character_scene.setdefault(text(key), text(c["first_scene"]))

    def character_scene(self, character: Any) -> str:
        return self._character_scene.get(text(character), "")

    def chapter_title(self, chapter: Any) -> str:
        key = text(chapter)
        title = self._chapter_title.get(key, "")
        if title:
            return title
        number_ = self._chapter_number.get(key)
        return f"Chapter {number_}" if number_ else key

    def chapter_number(self, chapter: Any) -> int:
        return self._chapter_number.get(text(chapter), 0)

    def scene_title(self, scene: Any) -> str:
        row = self._scene.get(text(scene))
        return text(row.get("title")) if row else ""

    def scene_chapter(self, scene: Any) -> str:
        row = self._scene.get(text(scene))
        return text(row.get("chapter")) if row else ""

    def first_scene_of(self, chapter: Any) -> str:
        return self._first_scene.get(text(chapter), "")

    def has_scene(self, scene: Any) -> bool:
        return text(scene) in self._scene


# --- the table model ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One column: its header, the raw value (used to sort), how it reads, and how it looks.

    ``bar`` draws the cell as a bar scaled to the column's largest value (see
    ``analysis_charts.BarDelegate``); ``shares`` reads an {emotion: share} dict for a stacked
    bar; ``icon`` gives a decoration (the dominant emotion's colour dot)."""

    header: str
    value: Callable[[dict], Any]
    display: Callable[[dict], str] | None = None
    align: Qt.AlignmentFlag = LEFT
    tooltip: str = ""
    bar: bool = False
    shares: bool = False
    icon: Callable[[dict], QIcon | None] | None = None
    cell_tooltip: Callable[[dict], str] | None = None
    width: int = 0   # a starting width in pixels (0: fit the header and the first rows)
    stretch: bool = False  # this column takes the table's spare width
    muted: Callable[[dict], bool] | None = field(default=None)


class RowsModel(QAbstractTableModel):
    """A read-only table over a list of dicts (rows of the analysis result)."""

    def __init__(self, columns: list[Column], parent=None):
        super().__init__(parent)
        self.columns = columns
        self.rows: list[dict] = []
        self._natural: list[dict] = []
        self._max: dict[int, float] = {}

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = [r for r in rows if isinstance(r, dict)]
        self._natural = list(self.rows)
        self._max = {}
        for c, col in enumerate(self.columns):
            if col.bar:
                self._max[c] = max((number(col.value(r)) for r in self.rows), default=0.0)
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorted here, in one Python ``list.sort`` (a proxy model would call ``data()`` some
        100 000 times for 5 000 scenes); column -1 is the story's own order."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(self.rows[i.row()], i.column()) for i in persistent]
        if 0 <= column < len(self.columns):
            get = self.columns[column].value

            def key(row: dict) -> tuple:
                value = get(row)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return (0, float(value), "")
                if isinstance(value, str) and value:
                    return (0, 0.0, value.casefold())
                return (1, 0.0, "")

            # Empty values stay last whichever way the column is sorted.
            filled = [r for r in self._natural if key(r)[0] == 0]
            empty = [r for r in self._natural if key(r)[0] != 0]
            filled.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
            self.rows = filled + empty
        else:
            self.rows = list(self._natural)
        where = {id(r): i for i, r in enumerate(self.rows)}
        self.changePersistentIndexList(
            persistent, [self.index(where[id(r)], c) for r, c in held])
        self.layoutChanged.emit()

    def update_row(self, row: int, data: dict) -> None:
        """Replace one row (after a one-click action changed what it says)."""
        old = self.rows[row]
        self._natural = [data if r is old else r for r in self._natural]
        self.rows[row] = data
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    def natural_index(self, row: dict) -> int:
        """Where ``row`` stands in the story's order (whatever the current sort)."""
        return next((i for i, r in enumerate(self._natural) if r is row), -1)

    def row_of(self, predicate: Callable[[dict], bool]) -> int:
        return next((i for i, r in enumerate(self.rows) if predicate(r)), -1)

    # --- Qt API --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        col = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.header
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip or None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(col.align)
        return None

    def data(self, index: Index,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if col.display is not None:
                return col.display(row)
            return text(col.value(row))
        if role == SORT_ROLE:
            value = col.value(row)
            if isinstance(value, str):
                return value.casefold()
            return value if isinstance(value, (int, float)) else -1
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(col.align)
        if role == Qt.ItemDataRole.DecorationRole and col.icon is not None:
            return col.icon(row)
        if role == Qt.ItemDataRole.ToolTipRole and col.cell_tooltip is not None:
            return col.cell_tooltip(row) or None
        if role == Qt.ItemDataRole.ForegroundRole and col.muted is not None and col.muted(row):
            return QColor(NEUTRAL_COLOUR)
        if role == BAR_ROLE and col.bar:
            top = self._max.get(index.column(), 0.0)
            return number(col.value(row)) / top if top > 0 else 0.0
        if role == SHARES_ROLE and col.shares:
            return as_dict(col.value(row))
        if role == ROW_ROLE:
            return row
        return None
