"""The Usage tab of the AI providers dialog: what the providers were asked for, per month,
provider and capability, with an estimated cost, for the open story or for all stories.

It shows ``services.providers.UsageLine`` rows it is given; the dialog loads them off the UI
thread when the tab is shown or the filter changes (``filterChanged``).
"""

from __future__ import annotations

import calendar
import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from studio.providers.base import Capability

COLUMNS = ("Month", "Provider", "Used for", "Calls", "Tokens in", "Tokens out", "Characters",
           "Images", "Est. cost")
NUMERIC_FROM = 3


def month_label(month: str) -> str:
    """"2026-11" -> "November 2026" (as stored if it is not a month)."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        return f"{calendar.month_name[mon]} {year}"
    except (ValueError, IndexError):
        return month


def capability_label(value: str) -> str:
    try:
        return Capability(value).label
    except ValueError:
        return value


def cost_text(cost: float) -> str:
    """Small costs keep their cents' fractions (a few calls cost 0.0031), big ones do not."""
    if not cost:
        return "0"
    return f"{cost:,.2f}" if cost >= 10 else f"{cost:,.4f}".rstrip("0").rstrip(".")


class UsageView(QWidget):
    filterChanged = Signal()

    def __init__(self, story_title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("usageView")
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        self.filter = QComboBox()
        self.filter.setObjectName("usageFilter")
        if story_title:
            self.filter.addItem(f"This story ({story_title})", "story")
        self.filter.addItem("All stories", "all")
        self.filter.currentIndexChanged.connect(lambda _i: self.filterChanged.emit())
        top.addWidget(self.filter)
        top.addStretch(1)
        lay.addLayout(top)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("usageTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table, 1)
        self.total = QLabel()
        self.total.setObjectName("usageTotal")
        self.total.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.total)
        note = QLabel("Costs are estimates from the prices entered in each provider's settings "
                      "(0 for local servers). Only calls that succeeded are counted.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text); font-size: 9pt;")
        lay.addWidget(note)

    def this_story(self) -> bool:
        return self.filter.currentData() == "story"

    def show_lines(self, lines: list) -> None:
        self.table.setRowCount(len(lines))
        calls = cost = 0
        for row, line in enumerate(lines):
            cells = (month_label(line.month), line.provider, capability_label(line.capability),
                     f"{line.calls:,}", f"{line.input_tokens:,}", f"{line.output_tokens:,}",
                     f"{line.characters:,}", f"{line.images:,}", cost_text(line.cost))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= NUMERIC_FROM:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
            calls += line.calls
            cost += line.cost
        if not lines:
            self.total.setText("Nothing recorded yet: usage appears here after the first "
                               "successful call to a provider.")
        else:
            self.total.setText(f"<b>Total:</b> {calls:,} call{'s' if calls != 1 else ''}, "
                               f"estimated cost {cost_text(cost)}")

    def show_error(self, text: str) -> None:
        self.table.setRowCount(0)
        self.total.setText(f"<span style='color:#b3261e'>{html.escape(text)}</span>")
