"""The narration's paragraphs as a table: where, the text, who speaks it, in which template and
emotion, whether that is the suggestion or the author's choice, and whether it is rendered.

The model holds the service's ``PlanRow`` list as it came (a novel has thousands of
paragraphs: a model reset, never an item per cell).  Voice, template and emotion are edited
with a combo box in the cell; the model does not change its rows itself — it asks for the
change (``choiceRequested``) and the tab makes it an undoable step, then reloads the plan, so
the table always shows what is stored.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import (
    QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPointF, Qt, Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from studio.ui.widgets.analysis_models import emotion_icon
from studio.ui.widgets.voice_common import cap, ListTableModel

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Where", "Text", "Voice", "Template", "Emotion", "Chosen", "Rendered")
VOICE, TEMPLATE, EMOTION = 2, 3, 4
EDITABLE = {VOICE: "voice", TEMPLATE: "template_uid", EMOTION: "emotion"}
EXCERPT = 110
Options = Callable[[str, Any], list[tuple[str, Any]]]


def check_icon(colour: str = "#2f855a", size: int = 14) -> QIcon:
    """A tick drawn with two lines (the app's font has no check-mark glyph)."""
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), 2.0)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.drawPolyline([QPointF(size * 0.2, size * 0.55), QPointF(size * 0.42, size * 0.78),
                    QPointF(size * 0.82, size * 0.25)])
    p.end()
    icon = QIcon(pix)
    icon.addPixmap(pix, QIcon.Mode.Selected)
    return icon


class SegmentsModel(ListTableModel):
    choiceRequested = Signal(str, str, object)  # segment uid, field, value

    columns = COLUMNS

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self._tick: QIcon | None = None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section in EDITABLE:
                return "Double-click a cell to choose (Ctrl+Z undoes)"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() in EDITABLE else base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{r.chapter_title or 'Chapter'} · {r.scene_title or 'Scene'}"
            if col == 1:
                text = " ".join(r.text.split())
                return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"
            if col == VOICE:
                return r.voice_name
            if col == TEMPLATE:
                return r.template_name or "—"
            if col == EMOTION:
                return cap(r.emotion) or "—"
            if col == 5:
                return "Auto" if r.auto else "Author"
            return "" if r.rendered else ("Not yet" if not r.problem else "Cannot")
        if role == Qt.ItemDataRole.EditRole:
            return {VOICE: r.voice, TEMPLATE: r.template_uid or "", EMOTION: r.emotion}.get(col)
        if role == Qt.ItemDataRole.DecorationRole:
            if col == EMOTION:
                return emotion_icon(r.emotion)
            if col == 6 and r.rendered:
                if self._tick is None:
                    self._tick = check_icon()
                return self._tick
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 5 and r.auto or col == 6 and not r.rendered:
                return QColor("#8a8d91")
            if col == 6 and r.problem:
                return QColor("#b3261e")
        if role == Qt.ItemDataRole.FontRole and col == 5 and not r.auto:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 6 and r.problem:
                return r.problem
            if col == 1:
                return r.text
            if col == 5:
                return "Suggested from the scene's emotion and the speaking character" \
                    if r.auto else "Chosen by you (Back to suggestion undoes the choice)"
        return None

    def setData(self, index: Index, value: Any,  # noqa: N802 - Qt API
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() not in EDITABLE:
            return False
        r = self.rows[index.row()]
        if value == self.data(index, Qt.ItemDataRole.EditRole):
            return False
        self.choiceRequested.emit(r.segment_uid, EDITABLE[index.column()], value)
        return True

    def row_of(self, segment_uid: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.segment_uid == segment_uid), -1)


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box per editable cell; ``options(field, row)`` gives its (label, value)s."""

    def __init__(self, options: Options, parent: QWidget | None = None):
        super().__init__(parent)
        self.options = options

    def createEditor(self, parent: QWidget, _option: QStyleOptionViewItem,  # noqa: N802
                     index: Index) -> QWidget:
        combo = QComboBox(parent)
        combo.setObjectName(f"choice_{EDITABLE.get(index.column(), '')}")
        row = index.model().rows[index.row()]
        for label, value in self.options(EDITABLE[index.column()], row):
            combo.addItem(label, value)
            if EDITABLE[index.column()] == "emotion" and value:
                icon = emotion_icon(value)
                if icon is not None:
                    combo.setItemIcon(combo.count() - 1, icon)
        # A pick is a choice made: commit it at once (no extra click elsewhere).
        combo.activated.connect(lambda _i, c=combo: (self.commitData.emit(c),
                                                     self.closeEditor.emit(c)))
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802 - Qt API
        value = index.data(Qt.ItemDataRole.EditRole)
        at = editor.findData(value)
        editor.setCurrentIndex(max(0, at))

    def setModelData(self, editor: QWidget, model: QAbstractTableModel,  # noqa: N802
                     index: Index) -> None:
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)
